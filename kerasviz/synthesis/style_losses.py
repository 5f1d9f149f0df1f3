"""The one style-loss module: feature transform, content / style objectives and their targets.

Used by style transfer (L-BFGS and Adam), texture synthesis and fast-style training.

* `content(layer, target)`: mean squared distance of a layer's activations to a target.
* `style(layers, grams)`: weighted mean squared distance of Gram matrices (`gram_matrix`,
  normalized by positions, so Grams of images of any size compare and blend).
* `content_targets` / `gram_targets`: the targets, computed once by one cached compiled pass.
* `normalized_losses`: content + style + TV objectives whose layers each count alike (each error
  divided by its target's mean square), what style transfer and texture synthesis minimize.

The feature transform (`feature_transform.py`) is re-exported here.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..checks import check_choice, check_number
from ..compiled import cached
from ..errors import ImageError, ParameterError
from ..features import FeatureModel
from ..images import as_image_batch
from .feature_transform import (
    transform_outputs,
)
from .objective_inputs import layer_argument, per_image_mean
from .objective_type import Objective, objective
from .regularizers import total_variation
from .style_inputs import layer_list, style_images, style_weights

__all__ = [
    "gram_matrix",
    "content",
    "style",
    "content_targets",
    "gram_targets",
    "normalized_losses",
    "relative_layer_weights",
]

_EPS = 1e-12


def gram_matrix(features: Any) -> tf.Tensor:
    """Gram matrices of feature maps, normalized by the number of positions h·w (batched).

    Args:
        features: `(N, h, w, c)` (or `(h, w, c)`) activations, tensor or array.

    Returns:
        `(N, c, c)` (or `(c, c)`) float32 `G[n] = F[n]ᵀ F[n] / (h·w)`, `F[n]` the `(h·w, c)`
        activations of image n: independent of the image size.

    Raises:
        ParameterError: The features are not 3-D or 4-D.
    """
    maps = tf.cast(tf.convert_to_tensor(features), tf.float32)
    rank = maps.shape.rank
    if rank not in (3, 4):
        raise ParameterError(
            f"gram_matrix needs feature maps (N, h, w, c) or (h, w, c). Received: shape {tuple(maps.shape)}"
        )
    batched = maps if rank == 4 else maps[None]
    shape = tf.shape(batched)
    flat = tf.reshape(batched, (shape[0], shape[1] * shape[2], shape[3]))
    grams = tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], tf.float32)
    return grams if rank == 4 else grams[0]


def _target_array(target: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(target.numpy() if hasattr(target, "numpy") else target, np.float32)
    except (TypeError, ValueError) as error:
        raise ParameterError(f"The {what} target must be a numeric array. Received: {target!r}") from error
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"The {what} target must be finite. Received: a target with non-finite values")
    return array


def content(layer: str, target: Any) -> Objective:
    """Mean squared distance of a layer's activations to target activations (a loss: >= 0).

    Args:
        layer: Layer name.
        target: Target activations `(h, w, c)` or `(1 | N, h, w, c)` (e.g. from
            `content_targets`), broadcast over the batch; the images must be its size.

    Returns:
        An objective, scores `(N,)` = mean of (activation - target)²; subtract it to minimize.

    Raises:
        ParameterError: Bad layer name, or a target that is not a finite 3-D / 4-D array.
    """
    layer = layer_argument(layer)
    array = _target_array(target, "content")
    array = array[None] if array.ndim == 3 else array
    if array.ndim != 4:
        raise ParameterError(
            f"A content target is a feature map (h, w, c) or (N, h, w, c). Received: target with shape {array.shape}"
        )

    def content_score(outputs, values):
        return per_image_mean(tf.square(tf.cast(outputs[layer], tf.float32) - values[0]))

    return objective(score=content_score, requires={layer}, values=(array,), key=("content", layer), name=f"content({layer})")


def _layer_weights(weights: Any, layers: Tuple[str, ...]) -> np.ndarray:
    if weights is None:
        return np.full(len(layers), 1.0 / len(layers), np.float32)
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(layers)
        if unknown:
            raise ParameterError(
                f"Layer weights name layers {sorted(unknown)} that are not among {list(layers)}. Received: weights={dict(weights)}"
            )
        values = [weights.get(name, 0.0) for name in layers]
    else:
        values = list(np.asarray(weights, dtype=object).reshape(-1))
        if len(values) != len(layers):
            raise ParameterError(f"Give one weight per layer ({len(layers)} layers). Received: weights={weights!r}")
    return np.asarray([check_number(v, "weight", low=0.0) for v in values], np.float32)


def style(layers: Any, gram_targets: Any, weights: Any = None) -> Objective:
    """Weighted Gram-matrix distance to target Grams over several layers (a loss: >= 0).

    Args:
        layers: One layer name or a sequence of them.
        gram_targets: Dict layer -> `(c, c)` or `(1 | N, c, c)` array (e.g. from `gram_targets`),
            or a sequence aligned with `layers`.
        weights: Per-layer weights (sequence or dict layer -> weight), >= 0; `None`: `1/len`.

    Returns:
        An objective, scores `(N,)` = Σ_layers weight · mean over (c, c) of (G - G_target)².

    Raises:
        ParameterError: Bad layer names, missing / malformed targets, or bad weights.
    """
    names = layer_list(layers, "layers")
    if isinstance(gram_targets, Mapping):
        missing = [n for n in names if n not in gram_targets]
        if missing:
            raise ParameterError(f"No Gram target for style layers {missing}. Received: targets for {sorted(gram_targets)}")
        targets_list = [gram_targets[n] for n in names]
    else:
        targets_list = list(gram_targets) if gram_targets is not None else []
        if len(targets_list) != len(names):
            raise ParameterError(
                f"Give one Gram target per style layer ({len(names)} layers). Received: {len(targets_list)} targets"
            )
    targets = []
    for name, target in zip(names, targets_list):
        array = _target_array(target, "style")
        array = array[None] if array.ndim == 2 else array
        if array.ndim != 3 or array.shape[-1] != array.shape[-2]:
            raise ParameterError(
                f"A Gram target is a square matrix (c, c) or (N, c, c). Received: target for {name!r} with shape {array.shape}"
            )
        targets.append(array)

    def style_score(outputs, values):
        *grams, weight = values
        total = 0.0
        for i, (name, target) in enumerate(zip(names, grams)):
            total += weight[i] * per_image_mean(tf.square(gram_matrix(outputs[name]) - target))
        return total

    return objective(
        score=style_score, requires=set(names), values=tuple(targets) + (_layer_weights(weights, names),),
        key=("style", names), name=f"style({', '.join(names)})",
    )


# -- targets, computed once by one cached compiled pass ----------------------------------------------
def _features(model: Any, layers: Any, default: str) -> FeatureModel:
    if isinstance(model, FeatureModel):
        names = model.layer_names if layers is None else layer_list(layers, "layers")
        return FeatureModel(model.source, names, logits=False, input_shape=(None, None, 3))
    names = layer_list(layers, "layers", getattr(model, f"{default}_layers", ()))
    return FeatureModel(model, names, logits=False, input_shape=(None, None, 3))


def _target_function(features: FeatureModel, transform: Optional[str]):
    names = features.layer_names

    def build():
        @tf.function(input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32), tf.TensorSpec((), tf.float32)])
        def targets(image, temperature):
            outputs = transform_outputs(features(image), names, transform, temperature)
            return {n: outputs[n] for n in names}, {n: gram_matrix(outputs[n])[0] for n in names}

        return targets

    return cached(features.model, ("style_targets", transform), build)


def content_targets(
    model: Any, image: Any, layers: Any = None, *, feature_transform: Optional[str] = None, temperature: float = 3.0
) -> Dict[str, np.ndarray]:
    """Activations of an image at content layers, computed once (targets for `content`).

    Args:
        model: A `Backbone`, a Keras model taking pixels, or a `FeatureModel` (its layers are
            used when `layers` is None).
        image: `(H, W, 3)` or `(1, H, W, 3)` pixels in `[0, 255]`.
        layers: Layer name(s); `None` for the FeatureModel's layers or `backbone.content_layers`.
        feature_transform: `None` (raw activations) or `"softmax"` (see the module docstring).
        temperature: Softmax temperature (> 0).

    Returns:
        Dict layer -> float32 array `(1, h, w, c)`.

    Raises:
        ImageError: The image is invalid or a batch of several images.
        LayerNotFoundError: A layer does not exist.
        ParameterError: No layers given, or a bad transform / temperature.
    """
    batch, _ = as_image_batch(image, name="image")
    if len(batch) != 1:
        raise ImageError(f"content_targets takes one image. Received: {len(batch)} images")
    check_choice(feature_transform, "feature_transform", ("softmax", None))
    temperature = check_number(temperature, "temperature", low=0.0, open_low=True)
    features = _features(model, layers, "content")
    found, _ = _target_function(features, feature_transform)(tf.constant(batch), tf.constant(temperature, tf.float32))
    return {name: found[name].numpy() for name in features.layer_names}


def gram_targets(
    model: Any, images: Any, layers: Any = None, weights: Optional[Sequence[float]] = None, *,
    feature_transform: Optional[str] = None, temperature: float = 3.0,
) -> Dict[str, np.ndarray]:
    """Gram matrices of one or several style images, blended by weights, computed once.

    Args:
        model: A `Backbone`, a Keras model taking pixels, or a `FeatureModel` (its layers are
            used when `layers` is None).
        images: One style image `(H, W, 3)`, a batch `(K, H, W, 3)`, or a list of K images of
            any sizes, pixels in `[0, 255]`.
        layers: Layer name(s); `None` for the FeatureModel's layers or `backbone.style_layers`.
        weights: K non-negative blend weights summing to 1 (`None`: equal weights).
        feature_transform: `None` or `"softmax"` (see the module docstring).
        temperature: Softmax temperature (> 0).

    Returns:
        Dict layer -> float32 `(c, c)`: Σ_k weights[k] · gram_matrix(features of image k).

    Raises:
        ImageError: An image is invalid.
        LayerNotFoundError: A layer does not exist.
        ParameterError: No layers, bad weights, transform or temperature.
    """
    singles = style_images(images, name="images")
    blend = style_weights(weights, len(singles), name="weights")
    check_choice(feature_transform, "feature_transform", ("softmax", None))
    temp = tf.constant(check_number(temperature, "temperature", low=0.0, open_low=True), tf.float32)
    features = _features(model, layers, "style")
    function = _target_function(features, feature_transform)
    result: Dict[str, Any] = {name: 0.0 for name in features.layer_names}
    for single, weight in zip(singles, blend):
        _, grams = function(tf.constant(single[None]), temp)
        for name in features.layer_names:
            result[name] = result[name] + float(weight) * grams[name].numpy()
    return {name: np.asarray(value, np.float32) for name, value in result.items()}


def relative_layer_weights(targets: Mapping[str, np.ndarray]) -> List[float]:
    """Per-layer weights that make each layer's squared error relative: `1 / (L · mean(target²))`.

    Args:
        targets: Layer -> target array (Gram matrices or activations), `L` layers.

    Returns:
        One weight per layer, in the mapping's order.
    """
    return [1.0 / (len(targets) * (float(np.mean(np.square(t))) + _EPS)) for t in targets.values()]


def normalized_losses(
    content_targets: Mapping[str, np.ndarray], gram_targets: Mapping[str, np.ndarray]
) -> Tuple[Optional[Objective], Optional[Objective], Objective]:
    """Content, style and TV losses whose layers count alike: each layer's error is divided by its
    target's mean square (computed once), so the losses are relative errors (0 = perfect).

    Args:
        content_targets: Layer -> `(1, h, w, c)` (transformed) content activations.
        gram_targets: Layer -> `(c, c)` (blended) Gram matrices of the (transformed) styles.

    Returns:
        `(content, style, tv)` objectives (`None` for a part without layers); all are losses, the
        TV is `total_variation(power=1)`.
    """
    content_loss = None
    for (layer, target), scale in zip(content_targets.items(), relative_layer_weights(content_targets)):
        part = content(layer, target) * scale
        content_loss = part if content_loss is None else content_loss + part
    style_loss = None
    if gram_targets:
        style_loss = style(list(gram_targets), list(gram_targets.values()), relative_layer_weights(gram_targets))
    return content_loss, style_loss, total_variation(power=1.0)
