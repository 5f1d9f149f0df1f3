"""The option records of the gradient-ascent engine (`optimize`), grouped by concern.

- `Ascent`: how the image climbs (update rule, step size, gradient normalization, octave
  ratio, DeepDream tiles).
- `Regularization`: what keeps the image natural (random transforms, periodic blur, clipping
  of small pixels).
- `Execution`: how the run is carried out (seed, early stop, progress bar, XLA, input shape).

Each record checks its fields when it is made (`ParameterError` naming the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ..checks import check_bool, check_choice, check_int, check_number, check_optional_int
from ..errors import ParameterError
from .keywords import set_field
from .optimizers import as_optimizer
from .transforms import Transforms

__all__ = ["MIN_SIZE", "PLAIN", "Ascent", "Regularization", "Execution"]

#: Smallest image side the engine optimizes (feature maps of deep layers vanish below it).
MIN_SIZE = 16

_GRAD_MODES = {True: "mean", False: "none", "sign": "sign"}


@dataclass(frozen=True)
class Ascent:
    """How the image climbs the objective.

    Attributes:
        optimizer: `None` / `"sgd"` (gradient ascent), `"adam"`, an `optimizers.Optimizer`, or a
            `keras.optimizers.Adam` / `SGD` whose hyper-parameters the compiled loop uses
            (stored as the engine's `Optimizer`).
        step_size: Step length (> 0): pixel levels per step of mean |change| for `"pixel"` with
            normalized gradients, else the learning rate in the parameterization's units.
            `None`: the optimizer's learning rate, else the parameterization's default.
        normalize_grad: `True`: divide each image's gradient by its mean |value|; `"sign"`: its
            sign (FGSM / PGD); `False`: the raw gradient.
        octave_scale: Size ratio between octaves, in (1, 8].
        tile_size: Score the image as a batch of tiles of this side (>= 16) after a random roll
            (DeepDream on large images); `None` scores whole images.
    """

    optimizer: Any = None
    step_size: Optional[float] = None
    normalize_grad: Union[bool, str] = True
    octave_scale: float = 1.4
    tile_size: Optional[int] = None

    def __post_init__(self) -> None:
        set_field(self, "optimizer", as_optimizer(self.optimizer))
        if self.step_size is not None:
            set_field(self, "step_size", check_number(self.step_size, "step_size", low=0.0, open_low=True))
        check_choice(self.normalize_grad, "normalize_grad", [True, False, "sign"])
        set_field(self, "octave_scale", check_number(self.octave_scale, "octave_scale", low=1.0, high=8.0, open_low=True))
        set_field(self, "tile_size", check_optional_int(self.tile_size, "tile_size", low=MIN_SIZE))

    @property
    def grad_mode(self) -> str:
        """The compiled loop's gradient normalization: `"mean"`, `"sign"` or `"none"`."""
        return _GRAD_MODES[self.normalize_grad]


@dataclass(frozen=True)
class Regularization:
    """What keeps the optimized image natural (Olah et al. 2017; Yosinski et al. 2015).

    Attributes:
        transforms: Random jitter / zoom / rotation applied inside the tape each step, or `None`.
        blur_every: Blur the image every this many steps (>= 0; 0 = never).
        blur_sigma: Standard deviation of that blur in pixels, in (0, 50].
        clip_percentile: Each step, set pixels whose distance from grey is below this
            percentile (0..100) to grey; 0 disables.
        contribution_percentile: Each step, set pixels whose |(pixel - grey) · gradient| is
            below this percentile (0..100) to grey; 0 disables.
    """

    transforms: Optional[Transforms] = Transforms()
    blur_every: int = 0
    blur_sigma: float = 0.5
    clip_percentile: float = 0.0
    contribution_percentile: float = 0.0

    def __post_init__(self) -> None:
        if self.transforms is not None and not isinstance(self.transforms, Transforms):
            raise ParameterError(
                f"`transforms` must be a Transforms(...) or None. Received: transforms={self.transforms!r}"
            )
        set_field(self, "blur_every", check_int(self.blur_every, "blur_every", low=0))
        set_field(self, "blur_sigma", check_number(self.blur_sigma, "blur_sigma", low=0.0, high=50.0, open_low=True))
        for name in ("clip_percentile", "contribution_percentile"):
            set_field(self, name, check_number(getattr(self, name), name, low=0.0, high=100.0))

    @property
    def transformed(self) -> bool:
        """Whether random transforms change the image each step."""
        return self.transforms is not None and not self.transforms.is_identity

    def transform_values(self) -> np.ndarray:
        """`[jitter, scale_low, scale_high, degrees]` float32 (identity without transforms)."""
        return self.transforms.values() if self.transforms is not None else np.array([0, 1, 1, 0], np.float32)


#: No random transforms, no blur, no clipping: plain ascent (adversarial examples, DeepDream, inversion).
PLAIN = Regularization(transforms=None)


@dataclass(frozen=True)
class Execution:
    """How an `optimize` run is carried out.

    Attributes:
        seed: Seed of the starting noise and of the random transforms, in [0, 2^31 - 1], or `None` (0).
        until: Optional `until(images) -> (N,) bool`, called between compiled calls with the
            current float pixels; images marked `True` stop changing, and the run ends when all
            have stopped.
        progress: Show a progress bar (`None`: the global setting).
        jit_compile: Compile the loop with XLA.
        input_shape: FeatureModel input shape; `(None, None, 3)` runs any image size, `None`
            the model's own. A model with a fixed input size (Flatten -> Dense) gets images
            resized to it inside the step.
        desc: Label of the progress bar.
    """

    seed: Optional[int] = 0
    until: Optional[Callable[[np.ndarray], np.ndarray]] = None
    progress: Optional[bool] = None
    jit_compile: bool = False
    input_shape: Optional[Sequence[Optional[int]]] = (None, None, 3)
    desc: str = "optimize"

    def __post_init__(self) -> None:
        set_field(self, "seed", check_optional_int(self.seed, "seed", low=0, high=2**31 - 1))
        if self.until is not None and not callable(self.until):
            raise ParameterError(f"`until` must be callable or None. Received: until={self.until!r}")
        if self.progress is not None:
            check_bool(self.progress, "progress")
        set_field(self, "jit_compile", check_bool(self.jit_compile, "jit_compile"))
        if self.input_shape is not None:
            set_field(self, "input_shape", tuple(self.input_shape))
        if not isinstance(self.desc, str):
            raise ParameterError(f"`desc` must be a string. Received: desc={self.desc!r}")
