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
from typing import Any, Dict, List, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_bool, check_int, check_names
from ..images import (
    as_image_batch,
    save_image,
)
from .pictures import (
    Methods,
    activation_grid_function,
    attribution_pictures,
    resolve_methods,
    write_image_summary,
)

__all__ = [
    "AttributionCallback",
    "AttributionPNGCallback",
]

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
        self.methods = resolve_methods(methods)
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
        fn = activation_grid_function(self.model, tuple(self.activation_layers))
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
