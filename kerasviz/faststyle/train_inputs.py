"""What `train_style_network` checks and prepares before training: style images, per-style loss
weights, the network configuration stored next to the checkpoints, and mixed precision."""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import tensorflow as tf

from ..checks import check_number
from ..errors import ImageError, ParameterError
from ..images import as_image_batch, resize_image

__all__ = ["CONFIG_FILE", "check_checkpoint_config", "load_style_images", "style_weight_vector", "use_mixed_precision"]

CONFIG_FILE = "transform_net.json"


def load_style_images(styles: Any, size: int) -> List[np.ndarray]:
    """Each style image, resized so its shorter side is `size`.

    Args:
        styles: One image or path, or a sequence of them (float `(H, W, 3)` in `[0, 255]`, >= 16×16).
        size: Shorter side of the resized styles, in pixels.

    Returns:
        float32 `(h, w, 3)` arrays in `[0, 255]`, one per style.

    Raises:
        ParameterError: No style given.
        ImageError: A style is unreadable, not one image, or smaller than 16×16.
    """
    if isinstance(styles, (str, os.PathLike)) or (hasattr(styles, "ndim") and styles.ndim == 3):
        styles = [styles]
    styles = list(styles) if styles is not None else []
    if not styles:
        raise ParameterError("Give at least one style image. Received: styles=[]")
    result = []
    for i, image in enumerate(styles):
        if isinstance(image, (str, os.PathLike)):
            from ..images import load_image

            image = load_image(image)
        batch, single = as_image_batch(image, name=f"styles[{i}]")
        if not single:
            raise ImageError(f"Each style is one image (H, W, 3). Received: styles[{i}] with shape {batch.shape}")
        height, width = batch.shape[1:3]
        if min(height, width) < 16:
            raise ImageError(f"Style images must be at least 16×16. Received: styles[{i}] with shape {batch.shape[1:]}")
        scale = size / min(height, width)
        result.append(resize_image(batch[0], (round(height * scale), round(width * scale))))
    return result


def style_weight_vector(style_weight: Any, n_styles: int) -> np.ndarray:
    """The style loss weight of each style.

    Args:
        style_weight: One number >= 0 for all styles, or one per style.
        n_styles: Number of styles.

    Returns:
        float32 `(n_styles,)`.

    Raises:
        ParameterError: A negative weight, or not one per style.
    """
    if isinstance(style_weight, numbers.Real) and not isinstance(style_weight, (bool, np.bool_)):
        return np.full(n_styles, check_number(style_weight, "style_weight", low=0.0), np.float32)
    values = list(np.asarray(style_weight, dtype=object).reshape(-1))
    if len(values) != n_styles:
        raise ParameterError(
            f"`LossWeights.style` is one number or one per style ({n_styles} styles). Received: style={style_weight!r}"
        )
    return np.array([check_number(v, "style_weight", low=0.0) for v in values], np.float32)


def check_checkpoint_config(checkpoint_dir: Path, config: Dict[str, Any], chief: bool = True) -> None:
    """Write the network's configuration next to the checkpoints (chief only), or check it matches.

    Args:
        checkpoint_dir: The checkpoint folder.
        config: `transform_net_config(net)` of the network being trained.
        chief: Whether this worker writes the file (the others only check).

    Raises:
        ParameterError: The folder holds checkpoints of a different network.
    """
    path = checkpoint_dir / CONFIG_FILE
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved != config:
            raise ParameterError(
                f"The checkpoints in {checkpoint_dir} belong to a different network {saved}; use "
                f"another checkpoint_dir or the same n_styles / width / upsample. Received: {config}"
            )
    elif chief:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config))


def use_mixed_precision(value: Optional[bool]) -> bool:
    """Whether to train in mixed precision: `None` means when a GPU is visible.

    Args:
        value: `True`, `False` or `None`.

    Returns:
        The decision.

    Raises:
        ParameterError: `True` without a visible GPU.
    """
    has_gpu = bool(tf.config.list_logical_devices("GPU"))
    if value is None:
        return has_gpu
    if value and not has_gpu:
        raise ParameterError("Mixed precision only helps on a GPU and none is visible. Received: mixed_precision=True")
    return bool(value)
