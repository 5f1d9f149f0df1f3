"""The option records of `train_style_network`, grouped by concern.

- `TrainingData`: the content crops and style images (crop size, batch, augmentation, style size).
- `NetworkOptions`: the transform network built (width, upsampling, output activation).
- `TrainingLoss`: the perceptual loss (layers, `LossWeights`, normalization, loss-view jitter / flips).
- `TrainingRun`: where training runs and keeps its state (checkpoints, strategy, mixed precision).

Each record checks its fields when it is made (`ParameterError` naming the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import tensorflow as tf

from ..checks import check_bool, check_choice, check_int, check_optional_int
from ..errors import ParameterError
from ..synthesis.keywords import set_field
from ..synthesis.style_inputs import layer_list
from ..synthesis.style_options import LossWeights
from .network import OUTPUTS, UPSAMPLINGS

__all__ = ["TrainingData", "NetworkOptions", "TrainingLoss", "TrainingRun"]


@dataclass(frozen=True)
class TrainingData:
    """The content crops and style images training sees.

    Attributes:
        image_size: Training crop size, >= 32 (256 in the paper). Content images are resized
            to a shorter side of `image_size` and randomly cropped to `image_size²`.
        batch_size: Global batch size (split over the strategy's replicas), >= 1.
        augment: Random scales (shorter side in `[image_size, 2 · image_size]`) and left-right
            flips of the content crops (see `training_dataset`).
        style_size: Shorter side the style images are resized to before their Gram matrices
            are taken, >= 32 (`None`: `image_size`). It sets the size of the painted strokes.
    """

    image_size: int = 256
    batch_size: int = 4
    augment: bool = False
    style_size: Optional[int] = None

    def __post_init__(self) -> None:
        set_field(self, "image_size", check_int(self.image_size, "image_size", low=32))
        set_field(self, "batch_size", check_int(self.batch_size, "batch_size", low=1))
        set_field(self, "augment", check_bool(self.augment, "augment"))
        set_field(self, "style_size", check_optional_int(self.style_size, "style_size", low=32))


@dataclass(frozen=True)
class NetworkOptions:
    """The transform network built (see `build_transform_net`).

    Attributes:
        width: Channels of the first convolution (the paper's 32; 16 is faster), >= 1.
        upsample: `"resize_conv"`, `"bilinear_conv"` or `"transpose"`.
        output: The output activation, `"tanh"` or `"linear"` (clipped to [0, 255] at inference; in
            training the loss sees the clipped pixels, with gradients passed straight through).
    """

    width: int = 32
    upsample: str = "resize_conv"
    output: str = "tanh"

    def __post_init__(self) -> None:
        set_field(self, "width", check_int(self.width, "width", low=1))
        check_choice(self.upsample, "upsample", UPSAMPLINGS)
        check_choice(self.output, "output", OUTPUTS)


@dataclass(frozen=True)
class TrainingLoss:
    """The perceptual loss the network is trained on.

    Attributes:
        content_layers: Layers of the content loss (`None`: the backbone's `content_layers`).
        style_layers: Layers of the Gram loss (`None`: the backbone's `style_layers`).
        weights: `LossWeights(content, style, tv)`: the content factor, the style factor (one
            number, or one per style), the total-variation factor (on pixels in `[0, 1]`);
            default `(1, 10, 1)` (`train.DEFAULT_WEIGHTS`, for each field left `None`).
        normalized: Divide each loss layer's error by its target's mean square (see
            `PerceptualLoss(normalized=True)`), so the weights do not depend on the backbone's
            feature scale (VGG's Caffe-scaled features are ~100× Lite0's).
        jitter: Each step, the stylized batch and its content crops are cropped by the same
            random offset of 0 to `jitter` pixels before the loss network, so its border blind
            spots fall on other output pixels every step. In `[0, image_size / 4]`; 0 feeds
            the whole crop.
        flips: Each step, flip the stylized batch and its content crops (the same way) at
            random before the loss network, so the net cannot keep a blob at a spot the loss
            network is blind to.
        style_backbone: Another loss network for the Gram loss (a backbone name, e.g.
            `"vgg16_hed"` with a Lite0 content loss); `None`: the training backbone.
    """

    content_layers: Optional[Sequence[str]] = None
    style_layers: Optional[Sequence[str]] = None
    weights: LossWeights = LossWeights()
    normalized: bool = False
    jitter: int = 0
    flips: bool = False
    style_backbone: Optional[str] = None

    def __post_init__(self) -> None:
        if self.style_backbone is not None and not isinstance(self.style_backbone, str):
            raise ParameterError(f"`style_backbone` must be a backbone name or None. Received: {self.style_backbone!r}")
        for name in ("content_layers", "style_layers"):
            if getattr(self, name) is not None:
                set_field(self, name, layer_list(getattr(self, name), name))
        if not isinstance(self.weights, LossWeights):
            raise ParameterError(f"`weights` must be a LossWeights(...). Received: weights={self.weights!r}")
        set_field(self, "normalized", check_bool(self.normalized, "normalized"))
        set_field(self, "jitter", check_int(self.jitter, "jitter", low=0))
        set_field(self, "flips", check_bool(self.flips, "flips"))


@dataclass(frozen=True)
class TrainingRun:
    """Where training runs and where it keeps its state.

    Attributes:
        checkpoint_dir: Folder of `tf.train.Checkpoint`s (network, optimizer, step). If it holds
            one, training resumes from the newest readable one (a truncated newest checkpoint is
            skipped with a warning); `None` trains without checkpoints. Under multi-worker
            training only the chief writes here (the other workers save to temporary
            `workertemp_<id>` subfolders); every worker restores from here, so hosts need it on
            shared storage.
        checkpoint_every: Save every this many steps (and at the end), >= 1.
        strategy: A `tf.distribute.Strategy` (e.g. `MirroredStrategy()`,
            `MultiWorkerMirroredStrategy()` configured by `TF_CONFIG`), or a name for
            `make_strategy` (`"default"`, `"mirrored"`, `"multi_worker"`); `None` uses the
            current one (`tf.distribute.get_strategy()`).
        mixed_precision: `mixed_float16` compute with loss scaling; `None` turns it on when a GPU
            is visible. `True` without a GPU raises.
        initial_weights: A saved transform network (`.keras`) of the same architecture to start
            from (fine-tuning), when no checkpoint is restored; `None`: random weights.
    """

    checkpoint_dir: Any = None
    checkpoint_every: int = 100
    strategy: Any = None
    mixed_precision: Optional[bool] = None
    initial_weights: Any = None

    def __post_init__(self) -> None:
        set_field(self, "checkpoint_every", check_int(self.checkpoint_every, "checkpoint_every", low=1))
        if self.strategy is not None and not isinstance(self.strategy, (str, tf.distribute.Strategy)):
            raise ParameterError(
                "`strategy` must be None, a strategy name or a tf.distribute.Strategy. "
                f"Received: strategy of type {type(self.strategy).__name__}"
            )
        if self.mixed_precision is not None:
            set_field(self, "mixed_precision", check_bool(self.mixed_precision, "mixed_precision"))
