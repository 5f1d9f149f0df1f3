"""Errors raised on purpose by kerasviz.

Every error derives from `KerasvizError` and its message says what was wrong and what to do,
ending, where useful, with the offending value as `Received: x=...` (the Keras convention).
"""

from __future__ import annotations

__all__ = [
    "KerasvizError",
    "ImageError",
    "WeightsUnavailableError",
    "LayerNotFoundError",
    "TargetError",
    "ModelError",
    "ParameterError",
    "ExportError",
]


class KerasvizError(Exception):
    """Base class of every error kerasviz raises on purpose."""


class ImageError(KerasvizError, ValueError):
    """An image could not be read, or an array is not a usable image."""


class WeightsUnavailableError(KerasvizError, RuntimeError):
    """Pretrained weights are not on this machine and cannot be downloaded."""


class LayerNotFoundError(KerasvizError, KeyError):
    """A layer name does not exist in the model."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message.
        return str(self.args[0]) if self.args else ""


class TargetError(KerasvizError, ValueError):
    """A target (class index, list of indices, or callable) does not fit the model or images."""


class ModelError(KerasvizError, ValueError):
    """A model cannot be used for the requested technique (wrong inputs, outputs or layers)."""


class ParameterError(KerasvizError, ValueError):
    """A numeric or categorical argument is outside its valid range."""


class ExportError(KerasvizError, OSError):
    """An export could not be written (disk full, quota, no free version after many tries)."""
