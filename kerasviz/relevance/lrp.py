"""Layer-wise relevance propagation (Bach et al. 2015) for Keras 3, equal to Zennit 0.5.1.

`lrp` runs one compiled backward pass of the relevance clone (`clone.py`): the relevance of
the target logit travels down as the gradient, each layer's rule (`rules.py`) mapping it to its
input. The compiled function is cached per (model, composite, rules, parameters), takes any
batch and any class without retracing.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from ..attribution.inputs import AttributionInputs, prepare_inputs, squeeze, target_indices
from ..checks import check_int, check_number
from ..compiled import batch_slices, cached
from ..errors import ParameterError, TargetError
from ..targets import TargetLike
from .clone import relevance_model
from .composites import Composite, RulesLike, check_rules

__all__ = ["RelevanceFunction", "check_lrp_options", "lrp", "relevance_batches"]


class RelevanceFunction:
    """Compiled LRP pass of one relevance clone.

    Attributes:
        function: `tf.function` `(images (B, H, W, 3), indices (B,)[, mask (B, C)]) -> (logits of
            the targets (B,), relevance (B, H, W))`; traced once.
        rules: The rule of each node, by name.
    """

    def __init__(self, clone: keras.Model, rules: Dict[str, str], masked: bool) -> None:
        self.rules = rules
        height, width = clone.inputs[0].shape[1:3]
        signature = [
            tf.TensorSpec((None, height, width, 3), tf.float32, name="images"),
            tf.TensorSpec((None,), tf.int32, name="indices"),
        ]
        if masked:
            signature.append(tf.TensorSpec((None, clone.inputs[1].shape[-1]), tf.float32))

        def relevance(images, indices, *mask):
            with tf.GradientTape() as tape:
                tape.watch(images)
                logits = clone([images, *mask] if mask else images, training=False)
            start = tf.one_hot(indices, tf.shape(logits)[-1], dtype=logits.dtype) * logits
            pixels = tape.gradient(logits, images, output_gradients=start)
            return tf.reduce_sum(start, axis=-1), tf.reduce_sum(pixels, axis=-1)

        self.function = tf.function(relevance, input_signature=signature)

    def __call__(self, images: np.ndarray, indices: np.ndarray, mask: Optional[np.ndarray] = None):
        """`(target logits (B,), relevance (B, H, W))` as NumPy."""
        extra = () if mask is None else (tf.constant(mask, tf.float32),)
        scores, maps = self.function(tf.constant(images, tf.float32),
                                     tf.constant(indices, tf.int32), *extra)
        return scores.numpy(), maps.numpy()


def check_lrp_options(composite: str, rules: RulesLike, epsilon: Any, gamma: Any, low: Any,
                      high: Any, batch_size: Any) -> Dict[str, Any]:
    """Validate the options shared by `lrp` and `concept_relevance`.

    Returns:
        Dict with `composite` (a `Composite`), `epsilon`, `gamma`, `low`, `high`, `batch_size`.

    Raises:
        ParameterError: Unknown composite or rule name, a negative epsilon / gamma, `low >= high`,
            a bad batch size.
    """
    chosen = Composite(composite, check_rules(rules))
    low = check_number(low, "low")
    high = check_number(high, "high")
    if low >= high:
        raise ParameterError(
            f"The zbox pixel bounds need `low < high`. Received: low={low}, high={high}"
        )
    return dict(
        composite=chosen,
        epsilon=check_number(epsilon, "epsilon", low=0.0),
        gamma=check_number(gamma, "gamma", low=0.0),
        low=low,
        high=high,
        batch_size=check_int(batch_size, "batch_size", low=1),
    )


def _check_bounds(options: Dict[str, Any], images: np.ndarray) -> None:
    composite = options["composite"]
    uses_box = composite.first == "zbox" or "zbox" in composite.overrides.values()
    if uses_box and (images.min() < options["low"] or images.max() > options["high"]):
        raise ParameterError(
            "The zbox rule needs every pixel inside [low, high] (its bounds of the input "
            f"space); these images range over [{images.min():g}, {images.max():g}]. Pass "
            "bounds that contain them (pixels are in [0, 255] by default). Received: "
            f"low={options['low']}, high={options['high']}"
        )


def relevance_batches(inputs: AttributionInputs, options: Dict[str, Any],
                      concept_layer: Optional[str] = None,
                      mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Relevance maps of validated inputs, in batches through the cached compiled pass.

    Args:
        inputs: Validated inputs with class indices.
        options: From `check_lrp_options`.
        concept_layer: Condition on channels of this layer (needs `mask`).
        mask: float32 `(N, C)` channel mask of `concept_layer`.

    Returns:
        float32 `(N, H, W)` relevance.
    """
    if inputs.target.fn is not None:
        raise TargetError(
            "LRP starts from one class logit per image: give class indices (or None for the "
            "predicted class), not a callable. Received: target=<callable>"
        )
    _check_bounds(options, inputs.images)
    model = inputs.backbone.model
    clone, rules = relevance_model(
        model, options["composite"], epsilon=options["epsilon"], gamma=options["gamma"],
        low=options["low"], high=options["high"], concept_layer=concept_layer,
    )
    function = cached(clone, ("lrp_function", mask is not None),
                      lambda: RelevanceFunction(clone, rules, mask is not None))
    indices = target_indices(inputs)
    parts = []
    for part in batch_slices(len(inputs.images), options["batch_size"]):
        chunk = None if mask is None else mask[part]
        parts.append(function(inputs.images[part], indices[part], chunk)[1])
    return np.concatenate(parts).astype(np.float32)


def lrp(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    composite: str = "epsilon_plus_flat",
    rules: RulesLike = None,
    epsilon: float = 1e-6,
    gamma: float = 0.25,
    low: float = 0.0,
    high: float = 255.0,
    batch_size: int = 32,
) -> np.ndarray:
    """Layer-wise relevance propagation with Zennit's rules and composites.

    Propagation starts from the target class's **logit** (relevance `logit` on the target,
    zero elsewhere; a final softmax is removed), so for a conservative composite on a bias-free
    network the map sums to that logit. BatchNorm layers after a convolution or dense layer
    are merged into it, residual sums split relevance by each input's share, squeeze-excitation
    gates pass it all to the features; the user's model is never modified (the rules live on a
    cached clone). The map is signed and not normalized: draw it with `relevance_picture`.

    Composites (Zennit's): `"epsilon"` (Epsilon everywhere), `"epsilon_plus"` (ZPlus on
    convolutions, Epsilon on dense layers), `"epsilon_plus_flat"` (the same, Flat on the first
    layer), `"epsilon_gamma_box"` (ZBox first, Gamma on convolutions), `"epsilon_alpha2_beta1"`
    and `"epsilon_alpha2_beta1_flat"` (AlphaBeta 2/1 on convolutions).

    Args:
        model: A `Backbone` or a functional / Sequential `keras.Model` taking pixels in
            `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, or `None` for each image's predicted class.
        composite: A composite name (above).
        rules: Overrides `{layer name or layer class: rule}`; rules are `"epsilon"`, `"zplus"`,
            `"gamma"`, `"alpha2beta1"`, `"alpha1beta0"`, `"flat"`, `"wsquare"`, `"zbox"` (layers
            with weights) and `"pass"`, `"norm"`, `"gradient"` (layers without).
        epsilon: Stabilizer of the Epsilon rule, `>= 0` (`0` is LRP-0).
        gamma: Weight of the Gamma rule's positive parameters, `>= 0`.
        low: Lowest pixel value, for the ZBox rule.
        high: Highest pixel value, for the ZBox rule (`low < high`, and every pixel inside).
        batch_size: Images per compiled call, `>= 1`.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) signed relevance, summed over colours.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target, or a callable target.
        ModelError: Subclassed model, headless model, or a node without an LRP rule (named).
        ParameterError: Unknown composite or rule (the valid names are listed), a rule that
            does not fit its layer, bad numbers, pixels outside the ZBox bounds.
    """
    options = check_lrp_options(composite, rules, epsilon, gamma, low, high, batch_size)
    inputs = prepare_inputs(model, images, target, options["batch_size"], technique="lrp")
    return squeeze(relevance_batches(inputs, options), inputs.single)
