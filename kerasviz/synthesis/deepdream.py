"""DeepDream (Mordvintsev et al., 2015): amplify whatever a few layers already see in a photo.

Gradient ascent on the mean squared activation of the chosen layers, from the photo itself, over
several octaves (small to full size). Between octaves the dreamed image is upscaled and the
detail lost by downscaling the photo is added back, so the result keeps the photo's sharpness.
With `tile_size`, each step scores the image as a batch of tiles after a random roll, so large
images fit in memory and tile borders move every step (no seams).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int, check_number
from ..errors import ParameterError
from ..images import as_image_batch, resize_image, to_uint8
from .activation_objectives import layer_l2
from .ascent_options import MIN_SIZE, PLAIN, Ascent, Execution
from .optimize import optimize
from .style_inputs import refuse_hidden_defaults

__all__ = ["deep_dream"]


def deep_dream(
    model: Any,
    image: Any,
    layers: Union[None, str, Sequence[str]] = None,
    *,
    octaves: int = 3,
    octave_scale: float = 1.4,
    steps: int = 20,
    step_size: float = 2.0,
    tile_size: Optional[int] = None,
    seed: int = 0,
    steps_per_call: int = 10,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Dream on a photo: amplify the patterns the chosen layers respond to.

    Args:
        model: A `Backbone` or a Keras model taking pixels in `[0, 255]`.
        image: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`; any size the convolutional
            part accepts.
        layers: Layer name(s) whose activations are amplified; `None` for the backbone's
            `dream_layers`.
        octaves: Number of scales (>= 1); the smallest is `size / octave_scale^(octaves-1)`.
        octave_scale: Size ratio between octaves (> 1).
        steps: Gradient steps per octave.
        step_size: Mean |change| per step in pixel levels (normalized gradient ascent).
        tile_size: Process the image as tiles of this side (>= 16) with a random roll each step;
            `None` for whole images.
        seed: Seed of the random rolls.
        steps_per_call: Steps per compiled call.
        progress: Show a progress bar (`None`: global setting).

    Returns:
        `uint8` image(s) of the input's shape.

    Raises:
        ImageError: The image is invalid.
        LayerNotFoundError: Unknown layer.
        ModelError: A subclassed model and no `layers` named (its layers are hidden).
        ParameterError: Another argument is invalid (e.g. too many octaves for the image size).
    """
    batch, single = as_image_batch(image, name="image")
    backbone = as_backbone(model)
    refuse_hidden_defaults(backbone, layers, backbone.dream_layers, "layers")
    names = backbone.dream_layers if layers is None else ([layers] if isinstance(layers, str) else list(layers))
    if not names:
        raise ParameterError(f"Give at least one layer to dream with. Received: layers={layers!r}")
    objective = sum(layer_l2(name) for name in names)
    octaves = check_int(octaves, "octaves", low=1, high=16)
    octave_scale = check_number(octave_scale, "octave_scale", low=1.0, high=8.0, open_low=True)
    height, width = batch.shape[1:3]
    shapes = [
        (int(round(height / octave_scale**k)), int(round(width / octave_scale**k))) for k in reversed(range(octaves))
    ]
    if min(min(s) for s in shapes) < MIN_SIZE:
        raise ParameterError(
            f"The smallest octave {shapes[0]} is below {MIN_SIZE} pixels: use fewer octaves or a larger "
            f"image. Received: octaves={octaves}, image size {(height, width)}"
        )
    def at(size):
        return batch if tuple(size) == (height, width) else resize_image(batch, size)

    shrunk = dream = at(shapes[0])
    for k in range(len(shapes)):
        dream = optimize(
            backbone,
            objective,
            images=dream,
            steps=steps,
            steps_per_call=steps_per_call,
            ascent=Ascent(step_size=step_size, tile_size=tile_size),
            regularization=PLAIN,
            execution=Execution(seed=seed + k, progress=progress, desc=f"deep dream {k + 1}/{octaves}"),
        ).images
        if k + 1 < len(shapes):
            # upscale, and add back the detail that shrinking the photo lost at the next size
            following = shapes[k + 1]
            lost = at(following) - resize_image(shrunk, following)
            dream = np.clip(resize_image(dream, following) + lost, 0.0, 255.0)
            shrunk = at(following)
    out = to_uint8(dream)
    return out[0] if single else out
