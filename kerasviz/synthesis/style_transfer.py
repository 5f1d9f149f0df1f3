"""Gatys neural style transfer: pixels optimized so their features match a content image and the
Gram statistics of one or several style images.

The content features and the (blended) style Gram matrices are computed once. The compiled step
(`StyleProblem`) then runs the backbone once per step on the one image being optimized, and the
optimizer is either SciPy's L-BFGS-B (box constraint [0, 255], the classic choice, which drives
the compiled value-and-gradient function) or Adam on the synthesis engine (`optimize`, several
steps per compiled call). The losses are the synthesis objectives (`content`, `style` with
`gram_matrix`, `total_variation`), each layer's error divided by its target's mean square.

Non-VGG backbones (residual networks such as EfficientNet-Lite0) have peaky, low-entropy
activations and plain Gram matching through them gives poor stylization. Following Wang, Li &
Vasconcelos, "Rethinking and Improving the Robustness of Image Style Transfer" (CVPR 2021), the
features can pass through a softmax before the content and Gram losses (`feature_transform=
"softmax"`): a softmax over all of a layer's activations (every position and channel) of
`features / temperature`, multiplied by their count so values average 1 whatever the image size.
A softmax per channel over positions only was tried and rejected by eye: it normalizes away each
channel's mean, so colours stop transferring. The rule for `feature_transform="auto"` (the
default): no transform for VGG backbones (`vgg16`, `vgg19`, which is how Gatys et al. designed the
method), the softmax transform for every other backbone. Defaults (`style_weight=1000`,
`tv_weight=30`, `temperature=3`, Lite0's early style layers) were chosen by eye on Lite0 with
chelsea and three paintings.
"""

from __future__ import annotations

import numbers
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..backbones import Backbone, as_backbone
from ..errors import ParameterError
from ..features import FeatureModel
from ..images import as_image_batch, resize_image, to_uint8
from ..progress import progress_bar
from . import objectives
from .objectives import Objective
from .optimize import optimize

__all__ = ["style_transfer", "style_transfer_losses", "StyleProblem", "FEATURE_TRANSFORMS"]

#: Accepted values of `feature_transform` ("auto" picks per backbone, see the module docstring).
FEATURE_TRANSFORMS = ("auto", "softmax", None)

#: Smallest and largest image side style transfer accepts, in pixels.
MIN_SIDE, MAX_SIDE = 32, 2048

_VGG_NAMES = ("vgg16", "vgg19")
_EPS = 1e-12


def _softmax_features(features: tf.Tensor, temperature: tf.Tensor) -> tf.Tensor:
    """Wang et al.'s softmax over all of a layer's activations (positions and channels) of
    `features / temperature`, times their count so values average 1 whatever the image size."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], -1])
    count = tf.cast(tf.shape(flat)[1], features.dtype)
    return tf.reshape(tf.nn.softmax(flat / temperature, axis=1) * count, shape)


def _transform_outputs(
    outputs: Dict[str, tf.Tensor], layers: Sequence[str], transform: Optional[str], temperature: tf.Tensor
) -> Dict[str, tf.Tensor]:
    """`outputs` with the named layers' features transformed (pixels and others untouched)."""
    if transform != "softmax":
        return outputs
    mapped = dict(outputs)
    for name in layers:
        mapped[name] = _softmax_features(outputs[name], temperature)
    return mapped


def transformed_objective(objective: Objective, transform: Optional[str], temperature: float) -> Objective:
    """An objective that reads softmax-transformed features (identity for `transform=None`).

    The temperature is one of the objective's values, so the synthesis engine's compiled loop
    (cached by the objective's structure) serves every temperature and target.

    Args:
        objective: Any objective of layer features (and pixels).
        transform: `"softmax"` or `None`.
        temperature: Softmax temperature (> 0).

    Returns:
        The wrapped objective.
    """
    if transform is None:
        return objective
    inner, layers = objective, objective.layers

    def apply(outputs, values):
        return inner.apply(_transform_outputs(outputs, layers, transform, values[0]), values[1:])

    # Objective._make keeps structure (key) apart from numbers (values); see objectives.py.
    return Objective._make(
        apply,
        (np.float32(temperature),) + inner.values,
        (transform, inner.key),
        inner.requires,
        f"{transform}({inner.name})",
        inner.n_images,
        inner.checks,
    )


def resolve_feature_transform(backbone: Backbone, feature_transform: Optional[str]) -> Optional[str]:
    """The feature transform actually used: `"auto"` is `None` for VGG, `"softmax"` otherwise.

    Args:
        backbone: The backbone the features come from.
        feature_transform: `"auto"`, `"softmax"` or `None`.

    Returns:
        `"softmax"` or `None`.

    Raises:
        ParameterError: Any other value.
    """
    if feature_transform not in FEATURE_TRANSFORMS:
        raise ParameterError(
            f"`feature_transform` must be one of {list(FEATURE_TRANSFORMS)}. Received: "
            f"feature_transform={feature_transform!r}"
        )
    if feature_transform == "auto":
        return None if backbone.name.lower() in _VGG_NAMES else "softmax"
    return feature_transform


def style_objectives(
    content_targets: Dict[str, np.ndarray], gram_targets: Dict[str, np.ndarray]
) -> Tuple[Optional[Objective], Optional[Objective], Objective]:
    """The three losses of style transfer, built from the synthesis objectives.

    Each layer's error is divided by its target's mean square (computed once), so every layer
    counts alike whatever its activation scale and the losses are relative errors (0 = perfect).

    Args:
        content_targets: Layer -> `(1, h, w, c)` (transformed) content activations.
        gram_targets: Layer -> `(c, c)` (blended) Gram matrices of the (transformed) styles.

    Returns:
        `(content, style, tv)` objectives (`None` for a part without layers); all are losses.
    """
    content_loss = None
    for layer, target in content_targets.items():
        scale = 1.0 / (len(content_targets) * (float(np.mean(np.square(target))) + _EPS))
        part = objectives.content(layer, target) * scale
        content_loss = part if content_loss is None else content_loss + part
    style_loss = None
    if gram_targets:
        weights = [
            1.0 / (len(gram_targets) * (float(np.mean(np.square(g))) + _EPS))
            for g in gram_targets.values()
        ]
        style_loss = objectives.style(list(gram_targets), list(gram_targets.values()), weights)
    return content_loss, style_loss, objectives.total_variation(power=1.0)


class StyleProblem:
    """Compiled content + style + TV loss of one image, for one (model, layers, transform).

    Built once per combination and cached (`StyleProblem.get`); its `tf.function`s have fixed
    input signatures (targets and weights are inputs), so new images and targets of any size
    never retrace them. Each step runs the backbone once, on the one image being optimized.

    Attributes:
        backbone: The backbone the features come from.
        content_layers: Layers whose (transformed) activations the result must keep.
        style_layers: Layers whose (transformed) Gram matrices the result must match.
        transform: `"softmax"` or `None`.
        features: The `FeatureModel` (all layers, no logits, any image size).
    """

    _CACHE: "weakref.WeakKeyDictionary[Any, Dict[tuple, StyleProblem]]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(
        self,
        backbone: Backbone,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        transform: Optional[str],
    ) -> None:
        self.backbone = backbone
        self.content_layers = tuple(content_layers)
        self.style_layers = tuple(style_layers)
        self.transform = transform
        names = tuple(dict.fromkeys(self.content_layers + self.style_layers))
        self.features = FeatureModel(backbone, names, logits=False, input_shape=(None, None, 3))
        # The objectives' structure, built from placeholder targets of the right rank: the real
        # targets are `values` fed to the compiled functions.
        content, style, tv = style_objectives(
            {n: np.ones((1, 1, 1, 1), np.float32) for n in self.content_layers},
            {n: np.ones((1, 1), np.float32) for n in self.style_layers},
        )
        self._parts = (content, style, tv)
        image = tf.TensorSpec((1, None, None, 3), tf.float32)
        values = tuple(() if o is None else o.value_specs for o in self._parts)
        scalar = tf.TensorSpec((), tf.float32)
        weights = tf.TensorSpec((3,), tf.float32)
        self.targets_fn = tf.function(self._targets, input_signature=[image, scalar])
        self.value_and_gradient = tf.function(
            self._value_and_gradient, input_signature=[image, values, weights, scalar]
        )

    @classmethod
    def get(
        cls,
        backbone: Backbone,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        transform: Optional[str],
    ) -> "StyleProblem":
        """The cached problem for these layers and transform (built on first use).

        Args:
            backbone: The backbone.
            content_layers: Content layer names (may be empty, e.g. for texture synthesis).
            style_layers: Style layer names.
            transform: `"softmax"` or `None` (already resolved).

        Returns:
            The `StyleProblem`.

        Raises:
            LayerNotFoundError: A layer name is not in the model.
        """
        per_model = cls._CACHE.setdefault(backbone.model, {})
        key = (tuple(content_layers), tuple(style_layers), transform)
        if key not in per_model:
            per_model[key] = cls(backbone, content_layers, style_layers, transform)
        return per_model[key]

    def _outputs(self, image: tf.Tensor, temperature: tf.Tensor) -> Dict[str, tf.Tensor]:
        outputs = objectives.objective_outputs(self.features, image)
        return _transform_outputs(outputs, self.features.layer_names, self.transform, temperature)

    def _targets(self, image, temperature):
        outputs = self._outputs(image, temperature)
        contents = tuple(outputs[name] for name in self.content_layers)
        grams = tuple(objectives.gram_matrix(outputs[name])[0] for name in self.style_layers)
        return contents, grams

    def _value_and_gradient(self, image, values, weights, temperature):
        with tf.GradientTape() as tape:
            tape.watch(image)
            outputs = self._outputs(image, temperature)
            parts = tf.stack(
                [
                    tf.constant(0.0) if o is None else o.apply(outputs, v)[0]
                    for o, v in zip(self._parts, values)
                ]
            )
            loss = tf.reduce_sum(weights * parts)
        return loss, tape.gradient(loss, image), parts

    def targets(
        self,
        content: Optional[np.ndarray],
        styles: Sequence[np.ndarray],
        style_weights: np.ndarray,
        temperature: float,
    ) -> Tuple[Optional[Objective], Optional[Objective], Objective]:
        """The content, style and TV objectives with their targets, computed once.

        Args:
            content: `(H, W, 3)` float32 pixels, or `None` when there are no content layers.
            styles: Style images `(h, w, 3)` float32 pixels (sizes may differ).
            style_weights: One weight per style, summing to 1.
            temperature: Softmax temperature (ignored without the transform).

        Returns:
            `(content, style, tv)` objectives from `style_objectives` (`None` for a part without
            layers); `values_of` turns them into `value_and_gradient`'s input.
        """
        temp = tf.constant(temperature, tf.float32)
        contents: Dict[str, np.ndarray] = {}
        if self.content_layers:
            found, _ = self.targets_fn(tf.constant(content[None], tf.float32), temp)
            contents = {n: t.numpy() for n, t in zip(self.content_layers, found)}
        grams: Dict[str, np.ndarray] = {n: 0.0 for n in self.style_layers}
        for style, weight in zip(styles, style_weights):
            _, found = self.targets_fn(tf.constant(style[None], tf.float32), temp)
            for name, gram in zip(self.style_layers, found):
                grams[name] = grams[name] + float(weight) * gram.numpy()
        return style_objectives(contents, grams if styles else {})

    @staticmethod
    def values_of(parts: Sequence[Optional[Objective]]) -> tuple:
        """The parts' target values as tensors, in `value_and_gradient`'s input structure."""
        return tuple(() if o is None else tuple(tf.constant(x) for x in o.values) for o in parts)


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _check_number(value: Any, name: str, low: float, high: float = float("inf"), *, open_low=False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ParameterError(
            f"`{name}` must be a finite number in {bracket}{low:g}, {high:g}]. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _check_steps(steps: Any, low: int = 1) -> int:
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or not low <= steps <= 100_000:
        raise ParameterError(f"`steps` must be an integer in [{low}, 100000]. Received: steps={steps!r}")
    return int(steps)


def _check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ParameterError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def _check_side(size: Tuple[int, int], name: str) -> None:
    height, width = size
    if min(height, width) < MIN_SIDE or max(height, width) > MAX_SIDE:
        raise ParameterError(
            f"`{name}` must be between {MIN_SIDE} and {MAX_SIDE} pixels on each side (the deepest "
            f"style layers need room, and memory is finite); resize it. Received: {name} of "
            f"size {(height, width)}"
        )


def _layer_list(layers: Any, default: Sequence[str], name: str) -> List[str]:
    chosen = list(default) if layers is None else ([layers] if isinstance(layers, str) else list(layers))
    if not chosen or not all(isinstance(n, str) for n in chosen):
        raise ParameterError(
            f"`{name}` must be a non-empty list of layer names (see `kerasviz.layer_names`). "
            f"Received: {name}={layers!r}"
        )
    return chosen


def _style_images(style: Any) -> List[np.ndarray]:
    """One or several style images (sizes may differ) as float32 `(h, w, 3)` arrays."""
    if not isinstance(style, (list, tuple)):
        return list(as_image_batch(style, name="style")[0])
    if not style:
        raise ParameterError("`style` is an empty list; pass at least one style image. Received: style=[]")
    images = []
    for index, one in enumerate(style):
        batch, single = as_image_batch(one, name=f"style[{index}]")
        if not single:
            raise ParameterError(
                f"Each style image in a list must be one (h, w, 3) image. Received: "
                f"style[{index}] with shape {batch.shape}"
            )
        images.append(batch[0])
    return images


def _style_weights(weights: Any, count: int) -> np.ndarray:
    if weights is None:
        return np.full(count, 1.0 / count)
    values = np.asarray(weights, dtype=np.float64).ravel() if np.ndim(weights) <= 1 else None
    if values is None or values.size != count:
        raise ParameterError(
            f"`style_weights` must have one weight per style image ({count}). Received: "
            f"style_weights={weights!r}"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0) or abs(values.sum() - 1.0) > 1e-4:
        raise ParameterError(
            "`style_weights` must be non-negative and sum to 1 (a convex blend of the styles). "
            f"Received: style_weights={weights!r}"
        )
    return values


def _rescale_style(style: np.ndarray, content_shape: Tuple[int, int], scale: float) -> np.ndarray:
    """The style image resized so its longer side is `scale` times the content's longer side."""
    factor = scale * max(content_shape) / max(style.shape[:2])
    size = (max(1, round(style.shape[0] * factor)), max(1, round(style.shape[1] * factor)))
    return resize_image(style, size) if size != style.shape[:2] else style


def noise_image(shape: Tuple[int, int], seed: Optional[int]) -> np.ndarray:
    """Mid-grey Gaussian noise `(H, W, 3)` float32 in [0, 255], the `init="noise"` start.

    Args:
        shape: `(height, width)`.
        seed: Random seed.

    Returns:
        float32 pixels.
    """
    rng = np.random.default_rng(seed)
    return np.clip(127.5 + 40.0 * rng.standard_normal((*shape, 3)), 0.0, 255.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Colour preservation (Gatys et al. 2017, "Controlling perceptual factors in neural style
# transfer", luminance-only transfer): the styles are transferred as they are, then the result
# keeps only its luminance, shifted and scaled to the content's luminance mean and spread, on the
# content's chrominance (YIQ). Two other recipes were measured through Lite0 and rejected: optimizing
# grey images barely stylized (grey Grams are so alike that the style loss starts 10x lower), and
# recolouring the style to the content's colour statistics first left almost no strokes (a
# cat-coloured style is low in contrast, so its Gram targets are close to the content's own).
# ---------------------------------------------------------------------------------------------

# ITU-R BT.601 RGB -> YIQ.
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]], np.float32
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ).astype(np.float32)


def _with_content_colour(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The result's luminance, matched to the content's mean and spread, on the content's I and Q."""
    yiq = np.asarray(content, np.float32) @ _RGB_TO_YIQ.T
    luminance = np.asarray(result, np.float32) @ _RGB_TO_YIQ[0]
    content_luminance = yiq[..., 0]
    spread = content_luminance.std() / max(float(luminance.std()), 1e-6)
    yiq[..., 0] = (luminance - luminance.mean()) * spread + content_luminance.mean()
    return np.clip(yiq @ _YIQ_TO_RGB.T, 0.0, 255.0)


# ---------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------


def _run_lbfgs(problem, start, values, weights, temperature, steps, progress, desc):
    """SciPy L-BFGS-B over pixels / 255 in [0, 1]: its first step has unit norm, which in pixel
    units would move a whole image by one grey level and stall in float32 round-off."""
    from scipy.optimize import minimize

    shape = (1, *start.shape)
    temp = tf.constant(temperature, tf.float32)

    def value_and_gradient(flat: np.ndarray):
        image = tf.constant(255.0 * flat.reshape(shape), tf.float32)
        loss, gradient, _ = problem.value_and_gradient(image, values, weights, temp)
        return float(loss), 255.0 * gradient.numpy().astype(np.float64).ravel()

    bar = progress_bar(total=steps, desc=desc, progress=progress, unit="step")
    with bar:
        result = minimize(
            value_and_gradient,
            start.astype(np.float64).ravel() / 255.0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * start.size,
            callback=lambda _: bar.update(1),
            options=dict(maxiter=steps, maxfun=2 * steps + 10, ftol=0.0, gtol=0.0, maxcor=20),
        )
    return 255.0 * result.x.reshape(start.shape).astype(np.float32)


def optimize_pixels(
    problem: StyleProblem,
    start: np.ndarray,
    parts: Sequence[Optional[Objective]],
    loss_weights: Tuple[float, float, float],
    *,
    temperature: float,
    steps: int,
    optimizer: str,
    learning_rate: float,
    seed: Optional[int],
    progress: Optional[bool],
    desc: str,
) -> np.ndarray:
    """Minimize the weighted loss over the pixels of `start` (shared with texture synthesis).

    L-BFGS drives `problem.value_and_gradient`; Adam is the synthesis engine (`optimize`, no
    transforms, raw gradients, several steps per compiled call) on the same objectives.

    Args:
        problem: The compiled `StyleProblem`.
        start: `(H, W, 3)` float32 starting pixels in [0, 255].
        parts: `(content, style, tv)` objectives from `StyleProblem.targets`.
        loss_weights: `(content, style, tv)` weights.
        temperature: Softmax temperature.
        steps: L-BFGS iterations or Adam steps.
        optimizer: `"lbfgs"` or `"adam"`.
        learning_rate: Adam's step in pixel units.
        seed: Seed passed to the engine.
        progress: Progress bar switch.
        desc: Progress bar label.

    Returns:
        `(H, W, 3)` float32 pixels in [0, 255].
    """
    if optimizer == "lbfgs":
        values = problem.values_of(parts)
        weights = tf.constant(loss_weights, tf.float32)
        return _run_lbfgs(problem, start, values, weights, temperature, steps, progress, desc)
    loss = sum(w * o for w, o in zip(loss_weights, parts) if o is not None and w > 0)
    result = optimize(
        problem.backbone,
        -transformed_objective(loss, problem.transform, temperature),
        images=start,
        steps=steps,
        step_size=learning_rate,
        transforms=None,
        normalize_grad=False,
        optimizer="adam",
        seed=seed,
        progress=progress,
        desc=desc,
    )
    return result.images[0]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def style_transfer(
    model: Any,
    content: Any,
    style: Any,
    *,
    content_layers: Optional[Sequence[str]] = None,
    style_layers: Optional[Sequence[str]] = None,
    content_weight: float = 1.0,
    style_weight: float = 1000.0,
    tv_weight: float = 30.0,
    style_weights: Optional[Sequence[float]] = None,
    steps: int = 100,
    optimizer: str = "lbfgs",
    learning_rate: float = 4.0,
    init: str = "content",
    preserve_color: bool = False,
    style_scale: float = 1.0,
    feature_transform: Optional[str] = "auto",
    temperature: float = 3.0,
    seed: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Repaint a content image in the style of one or several style images (Gatys et al.).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels. VGG19 with ImageNet weights is
            the classic choice; offline, `load_backbone("efficientnet_lite0")` (with the softmax
            feature transform) works well.
        content: Content image `(H, W, 3)`, or a batch `(N, H, W, 3)` stylized one by one,
            uint8 or float in [0, 255], each side in [32, 2048].
        style: A style image `(h, w, 3)` or a list of them (sizes may differ), [0, 255].
        content_layers: Layers whose activations the result keeps; default the backbone's
            `content_layers`.
        style_layers: Layers whose Gram matrices the result matches; default the backbone's
            `style_layers`.
        content_weight: Weight of the content loss (relative squared feature error), >= 0.
        style_weight: Weight of the style loss (relative squared Gram error), >= 0; the two
            weights must not both be 0.
        tv_weight: Weight of the total variation (mean |neighbour difference| / 255), >= 0.
        style_weights: One weight per style image, non-negative and summing to 1, blending
            their Gram targets; default equal weights.
        steps: L-BFGS iterations or Adam steps, in [1, 100000].
        optimizer: `"lbfgs"` (SciPy L-BFGS-B, bounded to [0, 255]) or `"adam"`.
        learning_rate: Adam's step size in pixel units (> 0); unused by L-BFGS.
        init: Start from the `"content"` image or from grey `"noise"`.
        preserve_color: Keep the content's colours (luminance-only transfer): the result keeps
            only its luminance, matched to the content's luminance mean and spread, on the
            content's chrominance (YIQ).
        style_scale: The style image is resized so its longer side is `style_scale` times the
            content's longer side (> 0); bigger values give bigger brush strokes.
        feature_transform: `"auto"` (no transform for VGG, softmax otherwise), `"softmax"`
            (Wang et al. 2021) or `None`.
        temperature: Softmax temperature (> 0); higher is smoother.
        seed: Seed of the noise start.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        uint8 `(H, W, 3)` (or `(N, H, W, 3)` for a batch) stylized image(s).

    Raises:
        ImageError: `content` or a style image is not a valid pixel image.
        ParameterError: Unusable sizes, no style image, bad `style_weights`, or any option out of
            range.
        LayerNotFoundError: A layer name is not in the model.
        ModelError: `model` is not a Backbone or Keras model.
    """
    backbone = as_backbone(model)
    contents_batch, single = as_image_batch(content, name="content")
    styles = _style_images(style)
    blend = _style_weights(style_weights, len(styles))
    c_layers = _layer_list(content_layers, backbone.content_layers, "content_layers")
    s_layers = _layer_list(style_layers, backbone.style_layers, "style_layers")
    loss_weights = (
        _check_number(content_weight, "content_weight", 0.0),
        _check_number(style_weight, "style_weight", 0.0),
        _check_number(tv_weight, "tv_weight", 0.0),
    )
    if loss_weights[0] + loss_weights[1] == 0.0:
        raise ParameterError(
            "`content_weight` and `style_weight` are both 0: there is nothing to optimize. "
            f"Received: content_weight={content_weight!r}, style_weight={style_weight!r}"
        )
    steps = _check_steps(steps)
    _check_choice(optimizer, "optimizer", ("lbfgs", "adam"))
    _check_choice(init, "init", ("content", "noise"))
    rate = _check_number(learning_rate, "learning_rate", 0.0, 255.0, open_low=True)
    scale = _check_number(style_scale, "style_scale", 0.0, 16.0, open_low=True)
    temp = _check_number(temperature, "temperature", 0.0, 1e6, open_low=True)
    transform = resolve_feature_transform(backbone, feature_transform)
    for image in contents_batch:
        _check_side(image.shape[:2], "content")
    scaled = [_rescale_style(s, contents_batch.shape[1:3], scale) for s in styles]
    for index, image in enumerate(scaled):
        _check_side(image.shape[:2], "style" if len(scaled) == 1 else f"style[{index}] (after style_scale)")
    problem = StyleProblem.get(backbone, c_layers, s_layers, transform)

    results = []
    for index, image in enumerate(contents_batch):
        parts = problem.targets(image, scaled, blend, temp)
        start = image if init == "content" else noise_image(image.shape[:2], seed)
        out = optimize_pixels(
            problem, start, parts, loss_weights, temperature=temp, steps=steps,
            optimizer=optimizer, learning_rate=rate, seed=seed, progress=progress,
            desc="style transfer",
        )
        results.append(_with_content_colour(out, image) if preserve_color else out)
    stacked = to_uint8(np.stack(results))
    return stacked[0] if single else stacked


def style_transfer_losses(
    model: Any,
    image: Any,
    *,
    content: Any = None,
    style: Any = None,
    content_layers: Optional[Sequence[str]] = None,
    style_layers: Optional[Sequence[str]] = None,
    style_weights: Optional[Sequence[float]] = None,
    style_scale: Optional[float] = None,
    feature_transform: Optional[str] = "auto",
    temperature: float = 3.0,
) -> Dict[str, float]:
    """The unweighted content, style and TV losses of an image, as `style_transfer` measures them.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels.
        image: The image to score, `(H, W, 3)` in [0, 255], each side in [32, 2048].
        content: Content image of the same size, or `None` to skip the content loss.
        style: A style image or a list of them, or `None` to skip the style loss.
        content_layers: Default the backbone's `content_layers`.
        style_layers: Default the backbone's `style_layers`.
        style_weights: Blend of several styles (non-negative, summing to 1).
        style_scale: Resize the styles as `style_transfer` does (`None`: keep their size, as
            texture synthesis does).
        feature_transform: `"auto"`, `"softmax"` or `None` (see `style_transfer`).
        temperature: Softmax temperature (> 0).

    Returns:
        `{"content": float, "style": float, "tv": float}` (0 for a part that was skipped).

    Raises:
        ImageError: An image is not valid.
        ParameterError: Sizes that differ or are unusable, bad weights or options.
        LayerNotFoundError: A layer name is not in the model.
    """
    backbone = as_backbone(model)
    batch, _ = as_image_batch(image, name="image")
    if batch.shape[0] != 1:
        raise ParameterError(f"Score one image at a time. Received: image with {batch.shape[0]} images")
    scored = batch[0]
    _check_side(scored.shape[:2], "image")
    temp = _check_number(temperature, "temperature", 0.0, 1e6, open_low=True)
    transform = resolve_feature_transform(backbone, feature_transform)
    c_layers: List[str] = []
    content_image = None
    if content is not None:
        content_image = as_image_batch(content, name="content")[0][0]
        if content_image.shape != scored.shape:
            raise ParameterError(
                f"`content` must have the image's shape {scored.shape}. Received: content with "
                f"shape {content_image.shape}"
            )
        c_layers = _layer_list(content_layers, backbone.content_layers, "content_layers")
    s_layers: List[str] = []
    styles: List[np.ndarray] = []
    blend = np.ones(0)
    if style is not None:
        styles = _style_images(style)
        blend = _style_weights(style_weights, len(styles))
        if style_scale is not None:
            scale = _check_number(style_scale, "style_scale", 0.0, 16.0, open_low=True)
            styles = [_rescale_style(s, scored.shape[:2], scale) for s in styles]
        for s in styles:
            _check_side(s.shape[:2], "style")
        s_layers = _layer_list(style_layers, backbone.style_layers, "style_layers")
    problem = StyleProblem.get(backbone, c_layers, s_layers, transform)
    values = problem.values_of(problem.targets(content_image, styles, blend, temp))
    _, _, losses = problem.value_and_gradient(
        tf.constant(scored[None]), values, tf.ones(3), tf.constant(temp, tf.float32)
    )
    content_loss, style_loss, tv = (float(p) for p in losses.numpy())
    return {"content": content_loss, "style": style_loss, "tv": tv}
