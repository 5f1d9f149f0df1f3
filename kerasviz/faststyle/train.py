"""Train a transform network on a perceptual loss, with checkpoints, resume and tf.distribute.

The perceptual loss is the synthesis family's objectives applied to the network's output through
the backbone's FeatureModel: `content_weight · content(layer, features of the content crop)
+ style_weight[s] · style(style layers, Gram targets of style s) + tv_weight · total_variation()`,
where `s` is the style drawn for each image. Gram targets are computed once per style; the
content targets come from the same backbone pass as the stylized images' features.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from ..backbones import Backbone, as_backbone, load_backbone
from ..checks import check_bool, check_choice, check_int, check_number
from ..errors import ParameterError
from ..progress import progress_bar
from ..synthesis.perceptual_loss import PerceptualLoss
from .checkpoints import restore_newest_readable
from .data import training_dataset
from .distribute import is_chief, make_strategy, remove_worker_folder, worker_checkpoint_folder
from .loss_view import random_flips, random_window
from .network import OUTPUTS, UPSAMPLINGS, build_transform_net, transform_net_config
from .train_inputs import CONFIG_FILE, check_checkpoint_config, load_style_images, style_weight_vector, use_mixed_precision

__all__ = ["TrainingResult", "train_style_network"]

_LOSS_NAMES = ("loss", "content", "style", "tv")


@dataclass
class TrainingResult:
    """What `train_style_network` returns.

    Attributes:
        net: The trained transform network (float32 variables).
        optimizer: Its Adam optimizer (`optimizer.iterations` counts restored steps too).
        step: Steps done in all (including those restored from a checkpoint).
        start_step: The step this call started from (0, or the restored checkpoint's step).
        history: One dict per compiled call: `step` and the losses of its last step —
            `loss` (weighted total), `content`, `style`, `tv` (unweighted, batch means).
        checkpoint: Path prefix of the last checkpoint written, or `None`.
    """

    net: keras.Model
    optimizer: keras.optimizers.Optimizer
    step: int
    start_step: int
    history: List[Dict[str, float]] = field(default_factory=list)
    checkpoint: Optional[str] = None


def train_style_network(
    content_images: Any,
    styles: Any,
    *,
    backbone: Union[str, Backbone, keras.Model] = "efficientnet_lite0",
    image_size: int = 256,
    batch_size: int = 4,
    steps: int = 2000,
    width: int = 32,
    upsample: str = "resize_conv",
    content_layers: Optional[Sequence[str]] = None,
    style_layers: Optional[Sequence[str]] = None,
    content_weight: float = 1.0,
    style_weight: Union[float, Sequence[float]] = 10.0,
    tv_weight: float = 1.0,
    learning_rate: float = 1e-3,
    checkpoint_dir: Optional[Union[str, os.PathLike]] = None,
    checkpoint_every: int = 100,
    steps_per_call: int = 10,
    strategy: Optional[Union[str, tf.distribute.Strategy]] = None,
    mixed_precision: Optional[bool] = None,
    seed: int = 0,
    progress: Optional[bool] = None,
    augment: bool = False,
    normalized_loss: bool = False,
    style_size: Optional[int] = None,
    output: str = "tanh",
    loss_jitter: int = 0,
    loss_flips: bool = False,
) -> TrainingResult:
    """Train a transform network for one or several styles (resuming from a checkpoint if any).

    Args:
        content_images: A folder of JPEG / PNG images (searched recursively), or an array / list
            of same-size images `(N, H, W, 3)` in `[0, 255]`; each is resized to a shorter side
            of `image_size` and randomly cropped to `image_size²`, shuffled per epoch.
        styles: One style image or a list of them (`(H, W, 3)` arrays in `[0, 255]` or paths);
            several train one conditional-instance-norm network, each image of a batch drawing
            a style at random. Style images are resized to a shorter side of `style_size`.
        backbone: Loss network: a backbone name (`"efficientnet_lite0"` works offline;
            `"vgg16"` / `"vgg19"` where their ImageNet weights exist), a `Backbone` or a Keras
            classifier taking pixels.
        image_size: Training crop size, >= 32 (256 in the paper).
        batch_size: Global batch size (split over the strategy's replicas), >= 1.
        steps: Total training steps to reach (a resumed run continues up to this), >= 1.
        width: Transform-net width (see `build_transform_net`).
        upsample: `"resize_conv"`, `"bilinear_conv"` or `"transpose"` (see `build_transform_net`).
        content_layers: Layers of the content loss (default: the backbone's `content_layers`).
        style_layers: Layers of the Gram loss (default: the backbone's `style_layers`).
        content_weight: Factor of the content loss, >= 0.
        style_weight: Factor of the style loss, one number or one per style, >= 0.
        tv_weight: Factor of the total-variation penalty (on pixels in `[0, 1]`), >= 0.
        learning_rate: Adam's learning rate, > 0.
        checkpoint_dir: Folder of `tf.train.Checkpoint`s (network, optimizer, step). If it holds
            one, training resumes from the newest (a truncated or corrupt newest checkpoint is
            skipped with a warning for the one before); `None` trains without checkpoints. Under
            multi-worker training only the chief writes here (the other workers save to
            temporary `workertemp_<id>` subfolders, deleted after each save); every worker
            restores from here, so hosts need it on shared storage.
        checkpoint_every: Save every this many steps (and at the end), >= 1.
        steps_per_call: Training steps per compiled call (between progress updates), >= 1.
        strategy: A `tf.distribute.Strategy` (e.g. `MirroredStrategy()` on several GPUs,
            `MultiWorkerMirroredStrategy()` configured by `TF_CONFIG` on several hosts), or a
            name for `make_strategy` (`"default"`, `"mirrored"`, `"multi_worker"`; create a
            multi-worker strategy at program start instead where TensorFlow has already run);
            `None` uses the current one (`tf.distribute.get_strategy()`). Each input pipeline
            (one per worker) reads only its own slice of every global batch.
        mixed_precision: `mixed_float16` compute with loss scaling; `None` turns it on when a GPU
            is visible. `True` without a GPU raises.
        seed: Seed of the initial weights (through `keras.utils.set_random_seed`, which also
            seeds Python's, NumPy's and TensorFlow's global generators), the data order, crops
            and style draws.
        progress: Show a progress bar with the losses; `None` uses the global setting.
        augment: Random scales (shorter side in `[image_size, 2 · image_size]`) and left-right
            flips of the content crops (see `training_dataset`).
        normalized_loss: Divide each loss layer's error by its target's mean square (see
            `PerceptualLoss(normalized=True)`), so the weights do not depend on the backbone's
            feature scale (VGG's Caffe-scaled features are ~100× Lite0's).
        style_size: Shorter side the style images are resized to before their Gram matrices
            are taken, >= 32 (`None`: `image_size`). It sets the size of the painted strokes:
            twice the crop size paints strokes as large, relative to the crop, as the
            painting's own at that size.
        output: The network's output activation, `"tanh"` or `"linear"` (see
            `build_transform_net`).
        loss_jitter: Each step, the stylized batch and its content crops are cropped by the same
            random offset of 0 to `loss_jitter` pixels (`image_size − loss_jitter` square)
            before the loss network, so its border blind spots (stride-2 "same" padding) fall on
            other output pixels every step and the transform net cannot park style energy there
            as fixed blobs. In `[0, image_size / 4]`; 0 (default) feeds the whole crop.
        loss_flips: Each step, flip the stylized batch and its content crops (the same way)
            up-down and left-right at random before the loss network, so a spot the loss
            network is blind to maps to a different output corner each time: the net cannot
            keep a blob there (the bundled network's top-right corner blob went away).

    Returns:
        A `TrainingResult` (trained `net`, `step`, `start_step`, loss `history`, last
        `checkpoint`).

    Raises:
        ImageError: An unreadable content folder or image, invalid style images (or smaller
            than 16×16).
        ParameterError: Zero styles, `style_weight` of the wrong length, bad sizes, counts or
            weights, mixed precision without a GPU, a batch not divisible by the replicas, or a
            checkpoint folder of a different network.
        LayerNotFoundError: A content / style layer is not in the backbone.
    """
    image_size = check_int(image_size, "image_size", low=32)
    batch_size = check_int(batch_size, "batch_size", low=1)
    steps = check_int(steps, "steps", low=1)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", low=1)
    steps_per_call = check_int(steps_per_call, "steps_per_call", low=1)
    seed = check_int(seed, "seed", low=0)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    style_size = image_size if style_size is None else check_int(style_size, "style_size", low=32)
    check_choice(output, "output", OUTPUTS)  # before the backbone and Gram targets are built
    check_choice(upsample, "upsample", UPSAMPLINGS)
    jitter = check_int(loss_jitter, "loss_jitter", low=0, high=image_size // 4)
    flips = check_bool(loss_flips, "loss_flips")
    style_images = load_style_images(styles, style_size)
    n_styles = len(style_images)
    weights = {
        "content": check_number(content_weight, "content_weight", low=0.0),
        "style": style_weight_vector(style_weight, n_styles),
        "tv": check_number(tv_weight, "tv_weight", low=0.0),
    }
    strategy = make_strategy(strategy) if isinstance(strategy, str) else strategy or tf.distribute.get_strategy()
    if batch_size % strategy.num_replicas_in_sync:
        raise ParameterError(
            f"`batch_size` must be a multiple of the {strategy.num_replicas_in_sync} replicas. Received: batch_size={batch_size}"
        )
    mixed = use_mixed_precision(mixed_precision)
    dataset = training_dataset(content_images, image_size, batch_size, n_styles, 0, seed,
                               augment=augment)  # validates early
    model = load_backbone(backbone) if isinstance(backbone, str) else as_backbone(backbone)
    content_layers = list(content_layers or model.content_layers)
    style_layers = list(style_layers or model.style_layers)
    loss_fn = PerceptualLoss(model, content_layers, style_layers, style_images, content_weight=weights["content"],
                             style_weights=weights["style"], tv_weight=weights["tv"],
                             normalized=check_bool(normalized_loss, "normalized_loss"))  # Gram targets once per style

    keras.utils.set_random_seed(seed)
    policy = keras.mixed_precision.dtype_policy()
    with strategy.scope():
        keras.mixed_precision.set_dtype_policy("mixed_float16" if mixed else "float32")
        try:
            net = build_transform_net(n_styles, width, upsample, output=output)
        finally:
            keras.mixed_precision.set_dtype_policy(policy)
        optimizer = keras.optimizers.Adam(learning_rate)
        if mixed:
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(net.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                           aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
    checkpoint = tf.train.Checkpoint(net=net, optimizer=optimizer, step=step)
    manager = None
    chief = is_chief(strategy)
    if checkpoint_dir is not None:
        folder = Path(checkpoint_dir)
        check_checkpoint_config(folder, transform_net_config(net), chief)
        write_folder = worker_checkpoint_folder(folder, strategy)  # the folder itself on the chief
        manager = tf.train.CheckpointManager(checkpoint, str(write_folder), max_to_keep=3, checkpoint_name="ckpt")
        latest = restore_newest_readable(checkpoint, folder, CONFIG_FILE)  # every worker: the chief's newest
    start = int(step.numpy())
    del dataset  # validated above; each input pipeline builds its own slice from `start`
    iterator = iter(strategy.distribute_datasets_from_function(
        lambda context: training_dataset(content_images, image_size, batch_size, n_styles, start, seed, context,
                                         augment=augment)))
    conditional = n_styles > 1

    def replica_step(crops, style_index):
        with tf.GradientTape() as tape:
            inputs = crops if not conditional else {"images": crops, "style_weights": tf.one_hot(style_index, n_styles)}
            stylized = tf.cast(net(inputs, training=True), tf.float32)
            if jitter or flips:  # stateless draws keyed by the step: a resumed run draws the same
                view_seed = tf.stack([tf.constant(seed, tf.int64), step.read_value()])
            if jitter:  # the same random window of both: the loss network's borders move
                stylized, crops = random_window(jitter, stylized, crops, seed=view_seed)
            if flips:  # the same random flips of both: a fixed spot of the output moves in the loss view
                stylized, crops = random_flips(stylized, crops, seed=view_seed + [0, 1 << 40])
            per_image = loss_fn(stylized, crops, style_index)
            losses = tf.reduce_sum(per_image, axis=0) / batch_size  # global-batch mean
            scaled = optimizer.scale_loss(losses[0]) if mixed else losses[0]
        gradients = tape.gradient(scaled, net.trainable_variables)
        optimizer.apply_gradients(zip(gradients, net.trainable_variables))
        return losses

    @tf.function
    def train_steps(iterator, count):
        losses = tf.zeros((len(_LOSS_NAMES),))
        for _ in tf.range(count):
            crops, style_index = next(iterator)
            losses = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, (crops, style_index)), axis=None)
            step.assign_add(1)
        return losses

    result = TrainingResult(net=net, optimizer=optimizer, step=start, start_step=start,
                            checkpoint=latest if checkpoint_dir is not None else None)
    bar = progress_bar(total=steps, desc="train-style", unit="step", progress=progress)
    bar.update(min(start, steps))
    while result.step < steps:
        boundary = (result.step // checkpoint_every + 1) * checkpoint_every
        count = min(steps_per_call, steps - result.step, boundary - result.step)
        losses = train_steps(iterator, tf.constant(count, tf.int32)).numpy()
        result.step = int(step.numpy())
        if not np.all(np.isfinite(losses)):
            raise ParameterError(
                f"Training diverged at step {result.step} (non-finite loss); lower learning_rate or "
                f"the loss weights. Received: learning_rate={learning_rate}"
            )
        record = {"step": result.step, **{k: float(v) for k, v in zip(_LOSS_NAMES, losses)}}
        result.history.append(record)
        bar.update(count)
        bar.set_postfix({k: f"{record[k]:.3g}" for k in _LOSS_NAMES})
        if manager is not None and (result.step % checkpoint_every == 0 or result.step == steps):
            saved = manager.save(checkpoint_number=result.step)  # every worker saves; the chief's counts
            if chief:
                result.checkpoint = saved
            else:
                remove_worker_folder(write_folder, folder)
                result.checkpoint = str(folder / Path(saved).name)
    bar.close()
    return result
