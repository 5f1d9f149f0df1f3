"""Keras callbacks that show what a model looks at while it trains.

`AttributionCallback` logs attribution overlays (any CAM, saliency, integrated gradients, or any
`fn(model, images, target)`) and activation grids of fixed validation images to TensorBoard
every `every` epochs; `AttributionPNGCallback` writes the same pictures as PNG files. The
attribution functions cache their compiled graphs per model, and the activation grid's forward
pass is one cached `tf.function`, so epochs after the first retrace nothing: weights change,
structure does not. A disabled callback returns at once (no writer, no graph, no work).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_bool, check_int, check_names
from ..compiled import cached
from ..errors import ParameterError
from ..features import FeatureModel
from ..images import (
    as_image_batch,
    image_grid,
    normalize_map,
    overlay_heatmap,
    save_image,
)
from .metrics import attribution_maps

__all__ = [
    "AttributionCallback",
    "AttributionPNGCallback",
    "attribution_pictures",
    "write_image_summary",
]

Method = Callable[..., Any]
Methods = Union[str, Sequence[str], Mapping[str, Method]]


def _resolve_methods(methods: Methods) -> Dict[str, Method]:
    """`{name: fn}` from attribution function names (e.g. `"gradcam"`) or a `{name: fn}` dict."""
    from .. import attribution

    if isinstance(methods, Mapping):
        resolved = dict(methods)
        bad = [name for name, fn in resolved.items() if not callable(fn)]
        if not resolved or bad:
            raise ParameterError(
                "`methods` must map names to attribution functions fn(model, images, target). "
                f"Received: methods={methods!r}"
            )
        return resolved
    names = check_names(methods, "methods")
    resolved = {}
    for name in names:
        fn = getattr(attribution, name, None)
        if name not in attribution.__all__ or not callable(fn) or isinstance(fn, type):
            raise ParameterError(
                f"Unknown attribution method {name!r}; use a function name from "
                "kerasviz.attribution (e.g. 'gradcam', 'saliency', 'integrated_gradients') or "
                f"a dict {{name: fn(model, images, target)}}. Received: methods={methods!r}"
            )
        resolved[name] = fn
    return resolved


def _activation_function(model: keras.Model, layers: tuple) -> Any:
    """The cached compiled forward pass `pixels -> {layer: activations}` of a model."""

    def build():
        features = FeatureModel(model, list(layers), logits=False).model
        shape = tuple(model.inputs[0].shape[1:])

        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def activations(images):
            return features(images, training=False)

        return activations

    return cached(model, ("callback_activations", layers), build)


def _channel_grid(activations: np.ndarray, max_channels: int, tile: int) -> np.ndarray:
    """The first `max_channels` channels of one image's `(h, w, K)` (or token) activations."""
    if activations.ndim != 3:  # dense / token outputs: one row of values
        activations = activations.reshape(1, -1, 1) if activations.ndim == 1 else activations[None]
    channels = np.moveaxis(activations[..., :max_channels], -1, 0)
    labels = [str(k) for k in range(len(channels))]
    return image_grid(normalize_map(channels) * 255.0, labels=labels, tile_size=tile)


def attribution_pictures(
    model: keras.Model,
    images: np.ndarray,
    methods: Mapping[str, Method],
    target: Any = None,
    *,
    activation_layers: Sequence[str] = (),
    max_channels: int = 16,
    tile_size: int = 96,
) -> Dict[str, np.ndarray]:
    """One picture per method (overlays of every image) and per activation layer.

    Args:
        model: A pixels-in `keras.Model` (or `Backbone`).
        images: float32 `(N, H, W, 3)` pixels in `[0, 255]`.
        methods: `{name: fn(model, images, target)}`; outputs as `attribution_maps` takes them
            (per-colour attributions are shown as their absolute value summed over colours).
        target: Class index, one per image, callable, or `None` (predicted classes).
        activation_layers: Layers whose channels of the first image to show.
        max_channels: Channels per activation grid.
        tile_size: Side of each tile in pixels.

    Returns:
        `{"attribution/NAME": uint8 (H, W, 3), "activations/LAYER": uint8 (H, W, 3)}`.
    """
    pictures = {}
    for name, fn in methods.items():
        result = fn(model, images, target)
        raw = np.asarray(getattr(result, "attributions", result))
        maps = attribution_maps(np.abs(raw) if raw.ndim == 4 else raw)
        maps = normalize_map(np.abs(maps[None] if maps.ndim == 2 else maps))
        overlays = overlay_heatmap(images, maps)
        pictures[f"attribution/{name}"] = image_grid(
            list(overlays), ncols=len(images), tile_size=tile_size
        )
    if activation_layers:
        keras_model = getattr(model, "model", model)
        outputs = _activation_function(keras_model, tuple(activation_layers))(
            tf.constant(images[:1], tf.float32)
        )
        for layer in activation_layers:
            pictures[f"activations/{layer}"] = _channel_grid(
                outputs[layer].numpy()[0], max_channels, max(tile_size // 2, 16)
            )
    return pictures


def write_image_summary(tag: str, picture: np.ndarray, step: int) -> None:
    """Write one uint8 `(H, W, 3)` picture as a TensorBoard image summary to the default writer.

    The summary is what `tf.summary.image` writes (plugin `"images"`, tensor `[width, height,
    PNG]`), built with core TensorFlow so that the `tensorboard` package is not needed to log.

    Args:
        tag: Summary tag, e.g. `"attribution/gradcam"`.
        picture: uint8 `(H, W, 3)`.
        step: Step (epoch) of the summary.
    """
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = "images"
    height, width = picture.shape[:2]
    png = tf.io.encode_png(tf.constant(picture, tf.uint8))
    tensor = tf.stack([tf.as_string(width), tf.as_string(height), png])
    tf.summary.write(tag, tensor, step=step, metadata=metadata)


class _PictureCallback(keras.callbacks.Callback):
    """Shared settings and rendering of the two callbacks."""

    def __init__(
        self,
        images: Any,
        methods: Methods,
        target: Any,
        every: int,
        activation_layers: Sequence[str],
        max_channels: int,
        tile_size: int,
        enabled: bool,
    ) -> None:
        super().__init__()
        self.enabled = check_bool(enabled, "enabled")
        self.every = check_int(every, "every", low=1)
        self.max_channels = check_int(max_channels, "max_channels", low=1)
        self.tile_size = check_int(tile_size, "tile_size", low=8, high=2048)
        self.images = np.ascontiguousarray(as_image_batch(images)[0], np.float32)
        self.methods = _resolve_methods(methods)
        self.target = target
        self.activation_layers = (
            check_names(activation_layers, "activation_layers") if activation_layers else ()
        )
        self.rendered_epochs: List[int] = []

    def _due(self, epoch: int) -> bool:
        return self.enabled and (epoch + 1) % self.every == 0

    def _pictures(self, epoch: int) -> Dict[str, np.ndarray]:
        self.rendered_epochs.append(epoch)
        return attribution_pictures(
            self.model,
            self.images,
            self.methods,
            self.target,
            activation_layers=self.activation_layers,
            max_channels=self.max_channels,
            tile_size=self.tile_size,
        )

    def activation_tracing_count(self) -> int:
        """How often the activation grid's compiled forward pass was traced (1 after use).

        Returns:
            The tracing count, 0 before the first grid.
        """
        if not self.activation_layers:
            return 0
        fn = _activation_function(self.model, tuple(self.activation_layers))
        return int(fn.experimental_get_tracing_count())


class AttributionCallback(_PictureCallback):
    """Log attribution overlays and activation grids of fixed images to TensorBoard.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[kerasviz.AttributionCallback(
        ...     "logs/run1", x_val[:4], methods=["gradcam", "saliency"], target=y_val[:4],
        ...     activation_layers=["conv1"])])
    """

    def __init__(
        self,
        log_dir: Union[str, Path],
        images: Any,
        methods: Methods = ("gradcam",),
        target: Any = None,
        *,
        every: int = 1,
        activation_layers: Sequence[str] = (),
        max_channels: int = 16,
        tile_size: int = 96,
        enabled: bool = True,
    ) -> None:
        """Configure the callback (nothing is built before the first logged epoch).

        Args:
            log_dir: TensorBoard folder; images go to `log_dir/attribution`.
            images: Fixed validation images `(N, H, W, 3)` pixels in `[0, 255]` at the model's
                input size (a few: every logged epoch runs each method on all of them).
            methods: Names of kerasviz attribution functions (`"gradcam"`, `"score_cam"`,
                `"saliency"`, `"integrated_gradients"`, ...) or `{name: fn(model, images,
                target)}`.
            target: Class index, one per image (e.g. the labels), callable, or `None` for the
                model's prediction at that epoch.
            every: Log every `every` epochs (`>= 1`).
            activation_layers: Layers whose first channels (for the first image) to log.
            max_channels: Channels per activation grid.
            tile_size: Tile side in pixels.
            enabled: `False` makes the callback a no-op.

        Raises:
            ImageError: Invalid images.
            ParameterError: Unknown method, or a bad `every`, `max_channels`, `tile_size`,
                `enabled`.
        """
        super().__init__(
            images, methods, target, every, activation_layers, max_channels, tile_size, enabled
        )
        self.log_dir = Path(log_dir) / "attribution"
        self._writer: Optional[Any] = None

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Render and log the pictures when the epoch is due."""
        if not self._due(epoch):
            return
        pictures = self._pictures(epoch)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        with self._writer.as_default():
            for tag, picture in pictures.items():
                write_image_summary(tag, picture, epoch)
        self._writer.flush()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        """Close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class AttributionPNGCallback(_PictureCallback):
    """Write attribution overlays and activation grids of fixed images as PNGs every N epochs.

    Files are `out_dir/<attribution|activations>_<name>_epoch<NNN>.png` (epochs from 1).
    """

    def __init__(
        self,
        out_dir: Union[str, Path],
        images: Any,
        methods: Methods = ("gradcam",),
        target: Any = None,
        *,
        every: int = 1,
        activation_layers: Sequence[str] = (),
        max_channels: int = 16,
        tile_size: int = 96,
        enabled: bool = True,
    ) -> None:
        """Configure the callback; arguments as `AttributionCallback`, with `out_dir` the
        folder for the PNGs (created on the first write).

        Raises:
            ImageError: Invalid images.
            ParameterError: Unknown method or bad settings.
        """
        super().__init__(
            images, methods, target, every, activation_layers, max_channels, tile_size, enabled
        )
        self.out_dir = Path(out_dir)
        self.written: List[Path] = []

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Render and save the pictures when the epoch is due."""
        if not self._due(epoch):
            return
        for tag, picture in self._pictures(epoch).items():
            name = tag.replace("/", "_")
            self.written.append(save_image(self.out_dir / f"{name}_epoch{epoch + 1:03d}.png", picture))
