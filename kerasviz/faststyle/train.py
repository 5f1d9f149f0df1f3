"""Train a transform network on a perceptual loss, with checkpoints, resume and tf.distribute.

The perceptual loss is the synthesis family's objectives applied to the network's output through
the backbone's FeatureModel: `content_weight · content(layer, features of the content crop)
+ style_weight[s] · style(style layers, Gram targets of style s) + tv_weight · total_variation()`,
where `s` is the style drawn for each image. Gram targets are computed once per style; the
content targets come from the same backbone pass as the stylized images' features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import keras
import numpy as np
import tensorflow as tf

from ..backbones import Backbone, as_backbone, load_backbone
from ..checks import check_int, check_number
from ..errors import ParameterError
from ..progress import progress_bar
from ..synthesis.keywords import check_record, moved_keywords
from ..synthesis.perceptual_loss import PerceptualLoss
from .checkpoints import restore_newest_readable
from .data import training_dataset
from .distribute import is_chief, make_strategy, remove_worker_folder, worker_checkpoint_folder
from .loss_view import random_flips, random_window
from .network import build_transform_net, start_from, transform_net_config
from .options import NetworkOptions, TrainingData, TrainingLoss, TrainingRun
from .train_inputs import CONFIG_FILE, check_checkpoint_config, load_style_images, style_weight_vector, use_mixed_precision

__all__ = ["TrainingResult", "train_style_network", "MOVED", "DEFAULT_WEIGHTS"]

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


#: The content, style and TV loss factors where `TrainingLoss.weights` leaves them `None`.
DEFAULT_WEIGHTS = (1.0, 10.0, 1.0)

#: Where `train_style_network`'s keywords went when its options became records.
MOVED = {
    **{name: ("data", name) for name in ("image_size", "batch_size", "augment", "style_size")},
    **{name: ("network", name) for name in ("width", "upsample", "output")},
    **{name: ("loss", name) for name in ("content_layers", "style_layers")},
    **{f"{part}_weight": ("loss", f"weights.{part}") for part in ("content", "style", "tv")},
    "normalized_loss": ("loss", "normalized"),
    "loss_jitter": ("loss", "jitter"),
    "loss_flips": ("loss", "flips"),
    **{name: ("run", name) for name in ("checkpoint_dir", "checkpoint_every", "strategy", "mixed_precision")},
}


@moved_keywords(MOVED)
def train_style_network(
    content_images: Any,
    styles: Any,
    *,
    backbone: Union[str, Backbone, keras.Model] = "efficientnet_lite0",
    steps: int = 2000,
    steps_per_call: int = 10,
    learning_rate: float = 1e-3,
    data: TrainingData = TrainingData(),
    network: NetworkOptions = NetworkOptions(),
    loss: TrainingLoss = TrainingLoss(),
    run: TrainingRun = TrainingRun(),
    seed: int = 0,
    progress: Optional[bool] = None,
) -> TrainingResult:
    """Train a transform network for one or several styles (resuming from a checkpoint if any).

    Args:
        content_images: A folder of JPEG / PNG images (searched recursively), or an array / list
            of same-size images `(N, H, W, 3)` in `[0, 255]`; each is resized to a shorter side
            of `data.image_size` and randomly cropped to `data.image_size²`, shuffled per epoch.
        styles: One style image or a list of them (`(H, W, 3)` arrays in `[0, 255]` or paths);
            several train one conditional-instance-norm network, each image of a batch drawing
            a style at random. Style images are resized to a shorter side of `data.style_size`.
        backbone: Loss network: a backbone name (`"efficientnet_lite0"` works offline;
            `"vgg16"` / `"vgg19"` where their ImageNet weights exist), a `Backbone` or a Keras
            classifier taking pixels.
        steps: Total training steps to reach (a resumed run continues up to this), >= 1.
        steps_per_call: Training steps per compiled call (between progress updates), >= 1.
        learning_rate: Adam's learning rate, > 0.
        data: `TrainingData(image_size=256, batch_size=4, augment=False, style_size=None)`.
        network: `NetworkOptions(width=32, upsample="resize_conv", output="tanh")`.
        loss: `TrainingLoss(content_layers, style_layers, weights=LossWeights(), normalized=False,
            jitter=0, flips=False, style_backbone=None)`; the weights default to `(content 1, style 10, tv 1)`.
        run: `TrainingRun(checkpoint_dir=None, checkpoint_every=100, strategy=None,
            mixed_precision=None, initial_weights=None)`: checkpoints (resume from the newest readable one) and
            devices (each input pipeline, one per worker, reads only its own slice of every
            global batch).
        seed: Seed of the initial weights (through `keras.utils.set_random_seed`, which also
            seeds Python's, NumPy's and TensorFlow's global generators), the data order, crops
            and style draws.
        progress: Show a progress bar with the losses; `None` uses the global setting.

    Returns:
        A `TrainingResult` (trained `net`, `step`, `start_step`, loss `history`, last
        `checkpoint`).

    Raises:
        ImageError: An unreadable content folder or image, invalid style images (or smaller
            than 16×16).
        ParameterError: Zero styles, a style factor of the wrong length, bad sizes, counts or
            weights, mixed precision without a GPU, a batch not divisible by the replicas, a
            checkpoint folder of a different network (or none of its checkpoints readable), or
            a record of the wrong type. Old keywords (`image_size=`, `style_weight=`, ...) are
            folded into their records with a `DeprecationWarning`.
        LayerNotFoundError: A content / style layer is not in the backbone.
    """
    for value, kind, name in ((data, TrainingData, "data"), (network, NetworkOptions, "network"),
                              (loss, TrainingLoss, "loss"), (run, TrainingRun, "run")):
        check_record(value, kind, name)
    image_size, batch_size = data.image_size, data.batch_size
    steps = check_int(steps, "steps", low=1)
    checkpoint_every, checkpoint_dir = run.checkpoint_every, run.checkpoint_dir
    steps_per_call = check_int(steps_per_call, "steps_per_call", low=1)
    seed = check_int(seed, "seed", low=0)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    style_size = image_size if data.style_size is None else data.style_size
    jitter = check_int(loss.jitter, "jitter", low=0, high=image_size // 4)
    flips = loss.flips
    style_images = load_style_images(styles, style_size)
    n_styles = len(style_images)
    factors = loss.weights.resolve(*DEFAULT_WEIGHTS)
    weights = {"content": factors.content, "style": style_weight_vector(factors.style, n_styles), "tv": factors.tv}
    strategy = run.strategy
    strategy = make_strategy(strategy) if isinstance(strategy, str) else strategy or tf.distribute.get_strategy()
    if batch_size % strategy.num_replicas_in_sync:
        raise ParameterError(
            f"`batch_size` must be a multiple of the {strategy.num_replicas_in_sync} replicas. Received: batch_size={batch_size}"
        )
    mixed = use_mixed_precision(run.mixed_precision)
    dataset = training_dataset(content_images, image_size, batch_size, n_styles, 0, seed,
                               augment=data.augment)  # validates early
    model = load_backbone(backbone) if isinstance(backbone, str) else as_backbone(backbone)
    content_layers = list(loss.content_layers or model.content_layers)
    style_model = None if loss.style_backbone is None else load_backbone(loss.style_backbone)
    style_layers = list(loss.style_layers or (style_model or model).style_layers)
    loss_fn = PerceptualLoss(model, content_layers, style_layers, style_images, content_weight=weights["content"],
                             style_weights=weights["style"], tv_weight=weights["tv"],
                             normalized=loss.normalized, style_model=style_model)  # Gram targets once per style

    keras.utils.set_random_seed(seed)
    policy = keras.mixed_precision.dtype_policy()
    with strategy.scope():
        keras.mixed_precision.set_dtype_policy("mixed_float16" if mixed else "float32")
        try:
            net = build_transform_net(n_styles, network.width, network.upsample, output=network.output)
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
    if start == 0 and run.initial_weights is not None:
        start_from(net, run.initial_weights)
    del dataset  # validated above; each input pipeline builds its own slice from `start`
    iterator = iter(strategy.distribute_datasets_from_function(
        lambda context: training_dataset(content_images, image_size, batch_size, n_styles, start, seed, context,
                                         augment=data.augment)))
    conditional = n_styles > 1
    clipped = network.output == "linear"

    def replica_step(crops, style_index):
        with tf.GradientTape() as tape:
            inputs = crops if not conditional else {"images": crops, "style_weights": tf.one_hot(style_index, n_styles)}
            stylized = tf.cast(net(inputs, training=True), tf.float32)
            if clipped:  # the loss sees the clipped pixels the user will see; gradients pass straight through
                stylized = stylized + tf.stop_gradient(tf.clip_by_value(stylized, 0.0, 255.0) - stylized)
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

    # Traced once, here: every call of train_style_network builds a new network, so its step
    # function is new too; tracing it explicitly (not on the first call) keeps TensorFlow's
    # frequent-retracing detector, which counts traces per function *code*, from warning about
    # "triggered tf.function retracing" after a few trainings in one process.
    run_steps = train_steps.get_concrete_function(iterator, tf.TensorSpec([], tf.int32))
    result = TrainingResult(net=net, optimizer=optimizer, step=start, start_step=start,
                            checkpoint=latest if checkpoint_dir is not None else None)
    bar = progress_bar(total=steps, desc="train-style", unit="step", progress=progress)
    bar.update(min(start, steps))
    while result.step < steps:
        boundary = (result.step // checkpoint_every + 1) * checkpoint_every
        count = min(steps_per_call, steps - result.step, boundary - result.step)
        losses = run_steps(iterator, tf.constant(count, tf.int32)).numpy()
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
