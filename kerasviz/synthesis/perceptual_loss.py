"""Johnson et al.'s perceptual loss for training feed-forward style networks, built from the one
style-loss module: `content` (features of the content crop, through the backbone up to the content layers only), `style`
(Gram targets of each style, computed once by `gram_targets`) and `total_variation`."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf

from ..features import FeatureModel
from .feature_transform import softmax_features, transformed
from .objective_inputs import objective_outputs
from .regularizers import total_variation
from .style_losses import content, gram_targets, relative_layer_weights, style

__all__ = ["PerceptualLoss"]

_EPS = 1e-12


class PerceptualLoss:
    """Per-image total, content, style and TV losses of stylized images (Gram targets computed once).

    `total = content_weight · content + style_weights[s] · style_s + tv_weight · tv`, where `s` is
    the style drawn for each image (conditional networks train several styles at once).
    """

    def __init__(
        self,
        model: Any,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        styles: Sequence[np.ndarray],
        *,
        content_weight: float,
        style_weights: Sequence[float],
        tv_weight: float,
        feature_transform: Optional[str] = None,
        temperature: float = 3.0,
        normalized: bool = False,
        style_model: Any = None,
    ) -> None:
        """Compute each style's Gram targets once and build the loss objectives.

        Args:
            model: A `Backbone` or a Keras model taking pixels (the loss network).
            content_layers: Layers of the content loss.
            style_layers: Layers of the Gram loss.
            styles: Style images `(h, w, 3)` in `[0, 255]`, one per style.
            content_weight: Factor of the content loss, >= 0.
            style_weights: Factor of each style's loss `(n_styles,)`, >= 0.
            tv_weight: Factor of the total variation (pixels in `[0, 1]`), >= 0.
            feature_transform: `None` (plain features) or `"softmax"` (see `style_losses`).
            temperature: Softmax temperature.
            normalized: Make every layer count alike, as `style_transfer` does: each style
                layer's Gram error is divided by its target's mean square (once per style) and
                the content error by the content crop's mean square feature (per image), so the
                losses are relative errors (about 1 for a flat grey output) whatever the
                backbone's feature scale. `False`: raw mean squared errors.
            style_model: Another loss network for the Gram loss (e.g. VGG16's Grams with a
                Lite0 content loss); `None`: `model` for both.

        Raises:
            LayerNotFoundError: A layer is not in the model.
        """
        shape = (None, None, 3)
        if style_model is None:
            names = list(dict.fromkeys(list(content_layers) + list(style_layers)))
            self.feature_models = [FeatureModel(model, names, logits=False, input_shape=shape)]
        else:
            self.feature_models = [FeatureModel(model, list(content_layers), logits=False, input_shape=shape),
                                   FeatureModel(style_model, list(style_layers), logits=False, input_shape=shape)]
        # the content crops only go as deep as the content layers (e.g. VGG's block2 of 4)
        self.content_features = FeatureModel(model, list(content_layers), logits=False, input_shape=(None, None, 3))
        options = dict(feature_transform=feature_transform, temperature=temperature)
        grams = [gram_targets(model if style_model is None else style_model, image, list(style_layers), **options)
                 for image in styles]
        placeholder = np.zeros((1, 1, 1, 1), np.float32)  # the real target comes from each batch
        self.content = [transformed(content(layer, placeholder), feature_transform, temperature) for layer in content_layers]
        self.styles = [
            transformed(style(list(style_layers), g, relative_layer_weights(g) if normalized else None), feature_transform, temperature)
            for g in grams
        ]
        self.normalized = bool(normalized)
        self.tv = total_variation()
        self.transform = feature_transform
        self.temperature = tf.constant(temperature, tf.float32)
        self.weights = dict(content=float(content_weight), style=np.asarray(style_weights, np.float32), tv=float(tv_weight))

    def __call__(self, stylized: tf.Tensor, crops: tf.Tensor, style_index: tf.Tensor) -> tf.Tensor:
        """Losses of a batch.

        Args:
            stylized: float32 `(N, H, W, 3)` network outputs in `[0, 255]`.
            crops: float32 `(N, H, W, 3)` content crops in `[0, 255]`.
            style_index: int `(N,)` style drawn for each image.

        Returns:
            float32 `(N, 4)`: total, content, style, tv per image.
        """
        outputs = objective_outputs(None, stylized)
        for features in self.feature_models:
            outputs.update(features(stylized))
        targets = self.content_features(crops)
        parts = []
        for objective in self.content:
            layer = objective.layers[0]
            target = targets[layer]
            if self.transform is not None:
                target = softmax_features(target, self.temperature)
            values = (tf.stop_gradient(target),) if self.transform is None else (self.temperature, tf.stop_gradient(target))
            error = objective.apply(outputs, values)
            if self.normalized:
                error = error / (tf.reduce_mean(tf.square(tf.stop_gradient(target)), axis=[1, 2, 3]) + _EPS)
            parts.append(error)
        content_loss = tf.add_n(parts) / len(parts)
        per_style = tf.stack([s(outputs) for s in self.styles], axis=1)  # (N, n_styles)
        chosen = tf.one_hot(style_index, len(self.styles))
        style_loss = tf.reduce_sum(per_style * chosen, axis=1)
        style_factor = tf.reduce_sum(chosen * self.weights["style"], axis=1)
        tv_loss = self.tv(outputs)
        total = self.weights["content"] * content_loss + style_factor * style_loss + self.weights["tv"] * tv_loss
        return tf.stack([total, content_loss, style_loss, tv_loss], axis=1)
