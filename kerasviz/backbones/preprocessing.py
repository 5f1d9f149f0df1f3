"""Pixel preprocessing as a Keras layer, so gradients are taken with respect to pixels."""

from __future__ import annotations

from typing import Sequence, Union

import keras
from keras import ops

from ..errors import ParameterError

__all__ = ["PixelPreprocessing", "PREPROCESSING_MODES"]

Number = Union[float, Sequence[float]]

#: Keras Applications' preprocessing conventions, as (scale, mean, std, bgr).
PREPROCESSING_MODES = {
    "caffe": (1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0), True),  # VGG16 / VGG19
    "tf": (1.0, (127.5, 127.5, 127.5), (127.5, 127.5, 127.5), False),  # InceptionV3: [-1, 1]
    "torch": (1 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), False),
    "none": (1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), False),
}


def _triple(value: Number, name: str) -> tuple:
    values = (float(value),) * 3 if isinstance(value, (int, float)) else tuple(map(float, value))
    if len(values) != 3:
        raise ParameterError(f"`{name}` must be a number or 3 numbers (R, G, B). Received: {name}={value!r}")
    return values


@keras.saving.register_keras_serializable(package="kerasviz")
class PixelPreprocessing(keras.layers.Layer):
    """Maps RGB pixels in `[0, 255]` to a network's input space: `(x * scale - mean) / std`.

    With `bgr=True` the channels are reversed first (Caffe-style VGG). Use `mode` for the Keras
    Applications conventions (`"caffe"`, `"tf"`, `"torch"`, `"none"`) or give `mean` / `std`.
    """

    def __init__(
        self,
        mode: str | None = None,
        *,
        scale: float = 1.0,
        mean: Number = 0.0,
        std: Number = 1.0,
        bgr: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if mode is not None:
            if mode not in PREPROCESSING_MODES:
                raise ParameterError(
                    f"Unknown preprocessing mode; use one of {sorted(PREPROCESSING_MODES)} or pass "
                    f"mean= and std=. Received: mode={mode!r}"
                )
            scale, mean, std, bgr = PREPROCESSING_MODES[mode]
        self.mode = mode
        self.scale = float(scale)
        self.mean = _triple(mean, "mean")
        self.std = _triple(std, "std")
        if min(self.std) <= 0:
            raise ParameterError(f"`std` must be positive. Received: std={std!r}")
        self.bgr = bool(bgr)

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.bgr:
            x = ops.flip(x, axis=-1)
        mean = ops.convert_to_tensor(self.mean, dtype=x.dtype)
        std = ops.convert_to_tensor(self.std, dtype=x.dtype)
        return (x * self.scale - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(mode=None, scale=self.scale, mean=self.mean, std=self.std, bgr=self.bgr)
        return config
