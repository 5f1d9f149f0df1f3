"""Atlas cells drawn as Lucid draws them: feature visualization of a direction in a layer.

Each cell of an activation atlas (Carter et al. 2019) is the image whose activation at the layer
points along the cell's average activation vector. The objective is Lucid's
`direction_neuron_cossim`: the dot product with the direction times the cosine similarity
raised to `cos_power` (so the image is pushed along the direction, not just to large
activations); the image is Fourier-parameterized with decorrelated colour and climbs by Adam
under random jitter, zoom and rotation (Olah et al. 2017's transformation robustness). All of
it is `kerasviz.synthesis.optimize`: every chunk of cells is one batch of the same compiled loop
(traced once per model: the batch size is not part of the trace).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..checks import check_int, check_number
from ..errors import ParameterError
from ..synthesis.transforms import Transforms

__all__ = ["ATLAS_TRANSFORMS", "direction_objective", "render_directions"]


#: Random transforms each step (for 96-pixel cells; `render_directions` scales the jitter with
#: the cell size): shifts of up to 8 pixels, zoom 0.8-1.1, rotations of up to 15 degrees,
#: reflection at the borders (Lucid's atlas recipe pads, jitters, zooms 0.67-1.03, rotates +-20).
ATLAS_TRANSFORMS = Transforms(jitter=8.0, scale=(0.8, 1.1), degrees=15.0)


def direction_objective(layer: str, directions: np.ndarray, cos_power: float = 1.0) -> Any:
    """Objective: each image's mean activation at `layer` along its own direction, times cos^p.

    `dot(a, d) * max(cos(a, d), 0.1) ** cos_power` with `a` the image's activation averaged
    over positions (Lucid's `direction_neuron_cossim`, pooled).

    Args:
        layer: Layer name (a feature map `(N, H, W, C)` or tokens `(N, T, C)`, or vectors `(N, C)`).
        directions: float32 `(N, C)`, one direction per image of the batch.
        cos_power: Exponent of the cosine factor (Lucid's `cossim_pow`, 1 to 4), >= 0.

    Returns:
        An `Objective` with `n_images = N`.

    Raises:
        ParameterError: `directions` not 2-D, or a bad `cos_power`.
    """
    import tensorflow as tf

    from ..synthesis.objective_type import objective

    directions = np.asarray(directions, np.float32)
    if directions.ndim != 2 or not len(directions):
        raise ParameterError(f"`directions` must be (N, C) vectors. Received: shape {directions.shape}")
    cos_power = check_number(cos_power, "cos_power", low=0.0)

    def direction_score(outputs, values):
        maps = outputs[layer]
        pooled = tf.reduce_mean(maps, axis=list(range(1, maps.shape.rank - 1))) if maps.shape.rank > 2 else maps
        target = values[0]
        dot = tf.reduce_sum(pooled * target, axis=-1)
        cos = dot / (tf.norm(pooled, axis=-1) * tf.norm(target, axis=-1) + 1e-6)
        return dot * tf.pow(tf.maximum(cos, 0.1), values[1])

    return objective(
        score=direction_score,
        requires={layer},
        values=(directions, np.float32(cos_power)),
        key=("atlas_direction", layer),
        name=f"direction({layer})",
        n_images=len(directions),
    )


def render_directions(
    model: Any,
    layer: str,
    directions: np.ndarray,
    *,
    size: int = 96,
    steps: int = 256,
    step_size: float = 0.02,
    cos_power: float = 1.0,
    batch: int = 64,
    seed: int = 0,
    transforms: Optional[Transforms] = ATLAS_TRANSFORMS,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Feature visualizations of directions in a layer (the cells of an atlas), batched.

    Args:
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        layer: The layer the directions live in.
        directions: float32 `(K, C)`: one picture per row.
        size: Picture side in pixels (>= 32).
        steps: Adam steps (>= 1); Lucid's atlases use 512 at learning rate 0.05 on a spectrum
            scaled by 1/4 (`step_size=0.02` here moves the pixels about as fast).
        step_size: Adam's learning rate in the Fourier parameterization's units (> 0).
        cos_power: Exponent of the cosine factor of the objective.
        batch: Pictures optimized together per compiled call (>= 1); the chunks share one trace.
        seed: Seed of the starting spectra and the random transforms.
        transforms: `Transforms` for 96-pixel pictures (the jitter
            is scaled by `size / 96`), or `None` for none.
        progress: Show a progress bar (`None`: the global setting).

    Returns:
        uint8 `(K, size, size, 3)`.

    Raises:
        ParameterError: A bad number or `directions` not `(K, C)`.
        LayerNotFoundError: Unknown layer.
        ModelError: The model cannot run at `size`.
    """
    from dataclasses import replace

    from ..synthesis.ascent_options import Ascent, Execution, Regularization
    from ..synthesis.optimize import optimize

    size = check_int(size, "size", low=32)
    steps = check_int(steps, "steps", low=1)
    batch = check_int(batch, "batch", low=1)
    step_size = check_number(step_size, "step_size", low=0.0, open_low=True)
    directions = np.asarray(directions, np.float32)
    if transforms is not None:
        transforms = replace(transforms, jitter=float(transforms.jitter) * size / 96.0)
    chunks = max(1, -(-len(directions) // batch))
    pictures = []
    for part in np.array_split(directions, chunks) if len(directions) else [directions]:
        result = optimize(
            model, direction_objective(layer, part, cos_power), param="fourier", size=size, batch=len(part),
            steps=steps, steps_per_call=min(steps, 64),
            ascent=Ascent(optimizer="adam", step_size=step_size),
            regularization=Regularization(transforms=transforms),
            execution=Execution(seed=seed, progress=progress, desc=f"atlas cells ({layer})"),
        )
        pictures.append(result.uint8())
    return np.concatenate(pictures)
