"""Train an AdaIN decoder (Huang & Belongie 2017) for arbitrary styles, with resumable checkpoints.

Loss (the paper's, in its reference implementation's mean-squared form): with
`t = AdaIN(f(c), s)` and `g` the decoder, `content = mean((f(g(t)) − t)²)` at relu4_1 and
`style = Σ_l mean((μ(φ_l(g(t))) − μ_s,l)²) + mean((σ(φ_l(g(t))) − σ_s,l)²)` over relu1_1 ... relu4_1,
`loss = content + style_weight · style`. The encoder `f` / `φ` is the fixed `vgg16_hed`.
With `identity_weight > 0` the decoder also learns to give the photo back when it is its own
style (Park & Lee 2019, SANet's identity loss in feature form): `identity = Σ_l
mean((φ_l(g(f(c))) − φ_l(c))²)` over relu1_1 ... relu4_1 is added with that weight — relu1_1
nearly is the pixels, so this term teaches flat-region colour, which an edge-tuned encoder's
relu4_1 content loss barely carries.

Styles are a *bank*: every style image is expanded into many augmented variants (random scale,
crop, flip, hue rotation and saturation; grey textures get random two-colour palettes) whose
per-channel statistics at the four layers are computed once before training — only μ and σ of a
style enter AdaIN and the loss, so the style never has to be encoded again during training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_int, check_number
from ..errors import ParameterError
from ..images import as_image_batch
from ..progress import progress_bar
from .adain import ADAIN_LAYER, ENCODER_LAYERS, adain, build_decoder, build_encoder, channel_moments
from .checkpoints import restore_newest_readable
from .data import training_dataset
from .train_inputs import CONFIG_FILE, check_checkpoint_config

__all__ = ["ArbitraryTrainingResult", "StyleBank", "style_bank", "style_variants", "train_arbitrary_stylizer"]

_LOSS_NAMES = ("loss", "content", "style", "identity")


@dataclass
class StyleBank:
    """Per-channel statistics of many style images at `ENCODER_LAYERS`.

    Attributes:
        means: layer name -> float32 `(V, C)` means.
        stds: layer name -> float32 `(V, C)` standard deviations.
    """

    means: Dict[str, np.ndarray]
    stds: Dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.means[ENCODER_LAYERS[0]])


def _colourize(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Map a grey image onto a random dark -> light colour ramp."""
    dark, light = rng.uniform(0, 110, 3), rng.uniform(140, 255, 3)
    level = grey[..., :1] / 255.0
    return dark + (light - dark) * level


def style_variants(images: Sequence[np.ndarray], count: int, size: int = 256, seed: int = 0) -> np.ndarray:
    """Augmented square crops of style images: scales, crops, flips, hue / saturation, palettes.

    Args:
        images: Style images `(H, W, 3)` in [0, 255] (grey ones: three equal channels), each at
            least `size // 2` pixels on the shorter side.
        count: Variants to make (image `v % len(images)` for variant `v`), >= 1.
        size: Side of each square variant, >= 32.
        seed: Random seed.

    Returns:
        float32 `(count, size, size, 3)` in [0, 255]. Variant `v < len(images)` is the whole
        image (resized, centre-cropped) with its own colours.

    Raises:
        ParameterError: No images, bad count or size.
    """
    count, size = check_int(count, "count", low=1), check_int(size, "size", low=32)
    if len(images) == 0:
        raise ParameterError("Give at least one style image. Received: images=[]")
    rng = np.random.default_rng(seed)
    out = np.empty((count, size, size, 3), np.float32)
    for v in range(count):
        image = np.asarray(images[v % len(images)], np.float32)
        grey = bool(np.ptp(image - image[..., :1]) < 1e-3)
        first = v < len(images)
        side = size if first else int(rng.integers(size, 2 * size + 1))
        scale = side / min(image.shape[:2])
        shape = (max(size, round(image.shape[0] * scale)), max(size, round(image.shape[1] * scale)))
        resized = tf.image.resize(image, shape, antialias=True).numpy()
        top = (shape[0] - size) // 2 if first else int(rng.integers(0, shape[0] - size + 1))
        left = (shape[1] - size) // 2 if first else int(rng.integers(0, shape[1] - size + 1))
        crop = resized[top : top + size, left : left + size]
        if not first:
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            if grey:
                crop = _colourize(crop, rng)
            elif rng.random() < 0.6:
                unit = tf.image.adjust_hue(crop / 255.0, float(rng.uniform(-0.5, 0.5)))
                crop = tf.image.adjust_saturation(unit, float(rng.uniform(0.6, 1.4))).numpy() * 255.0
        out[v] = np.clip(crop, 0, 255)
    return out


def style_bank(variants: Any, batch_size: int = 8) -> StyleBank:
    """Encode style images once and keep their per-channel statistics.

    Args:
        variants: `(V, H, W, 3)` style images in [0, 255] (e.g. from `style_variants`).
        batch_size: Images per encoder call.

    Returns:
        A `StyleBank` of `V` styles.

    Raises:
        ImageError: Invalid images.
    """
    batch, _ = as_image_batch(variants, name="variants")
    encoder = build_encoder(ENCODER_LAYERS)
    means: Dict[str, List[np.ndarray]] = {name: [] for name in ENCODER_LAYERS}
    stds: Dict[str, List[np.ndarray]] = {name: [] for name in ENCODER_LAYERS}
    for start in range(0, len(batch), batch_size):
        features = encoder(tf.constant(batch[start : start + batch_size]))
        for name in ENCODER_LAYERS:
            mean, std = channel_moments(features[name])
            means[name].append(mean.numpy())
            stds[name].append(std.numpy())
    return StyleBank({k: np.concatenate(v) for k, v in means.items()}, {k: np.concatenate(v) for k, v in stds.items()})


@dataclass
class ArbitraryTrainingResult:
    """What `train_arbitrary_stylizer` returns.

    Attributes:
        decoder: The trained decoder.
        step: Steps done in all (restored ones included).
        start_step: The step this call started from.
        history: One dict per compiled call: `step`, `loss`, `content`, `style` of its last step.
        checkpoint: Prefix of the last checkpoint written, or `None`.
    """

    decoder: keras.Model
    step: int
    start_step: int
    history: List[Dict[str, float]] = field(default_factory=list)
    checkpoint: Optional[str] = None


def train_arbitrary_stylizer(
    content_images: Any,
    bank: StyleBank,
    *,
    steps: int = 1000,
    steps_per_call: int = 10,
    image_size: int = 128,
    batch_size: int = 4,
    width: int = 128,
    learning_rate: float = 1e-4,
    style_weight: float = 10.0,
    identity_weight: float = 0.0,
    checkpoint_dir: Union[str, Path, None] = None,
    checkpoint_every: int = 100,
    seed: int = 0,
    progress: Optional[bool] = None,
) -> ArbitraryTrainingResult:
    """Train (or resume training) an AdaIN decoder on content crops and a style bank.

    Args:
        content_images: A folder of JPEG / PNG images or same-size arrays `(N, H, W, 3)` in
            [0, 255]; random scales (shorter side in `[image_size, 2 · image_size]`), crops
            `image_size²` and left-right flips (`training_dataset(augment=True)`).
        bank: The styles (`style_bank(style_variants(...))`); each crop draws one at random.
        steps: Total steps to reach (a resumed run continues up to this), >= 1.
        steps_per_call: Steps per compiled call, >= 1.
        image_size: Content crop side, a multiple of 8 >= 32.
        batch_size: Crops per step, >= 1.
        width: Decoder width (`build_decoder`), >= 8.
        learning_rate: Adam's learning rate, > 0.
        style_weight: λ, the style loss factor, >= 0.
        identity_weight: Factor of the identity loss (module docstring), >= 0; 0 leaves it out
            (and its extra decoder pass).
        checkpoint_dir: Folder of resumable `tf.train.Checkpoint`s (decoder, optimizer, step);
            the newest readable one is restored. `None`: no checkpoints.
        checkpoint_every: Steps between checkpoints, >= 1.
        seed: Seed of the decoder's initial weights, the crops and the style draws.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        An `ArbitraryTrainingResult`.

    Raises:
        ImageError: Unreadable content images.
        ParameterError: Bad numbers, a checkpoint folder of another decoder, or a diverged loss.
    """
    steps, steps_per_call = check_int(steps, "steps", low=1), check_int(steps_per_call, "steps_per_call", low=1)
    image_size, batch_size = check_int(image_size, "image_size", low=32), check_int(batch_size, "batch_size", low=1)
    if image_size % 8:
        raise ParameterError(f"`image_size` must be a multiple of 8. Received: image_size={image_size}")
    width, checkpoint_every = check_int(width, "width", low=8), check_int(checkpoint_every, "checkpoint_every", low=1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    style_weight = check_number(style_weight, "style_weight", low=0.0)
    identity_weight = check_number(identity_weight, "identity_weight", low=0.0)
    seed = check_int(seed, "seed", low=0)
    if not isinstance(bank, StyleBank) or len(bank) == 0:
        raise ParameterError(f"`bank` must be a non-empty StyleBank (see style_bank). Received: {type(bank).__name__}")
    encoder = build_encoder(ENCODER_LAYERS)
    means = {k: tf.constant(v) for k, v in bank.means.items()}
    stds = {k: tf.constant(v) for k, v in bank.stds.items()}
    keras.utils.set_random_seed(seed)
    decoder = build_decoder(width)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(decoder.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    checkpoint = tf.train.Checkpoint(decoder=decoder, optimizer=optimizer, step=step)
    manager, latest = None, None
    if checkpoint_dir is not None:
        folder = Path(checkpoint_dir)
        check_checkpoint_config(folder, {"kind": "adain_decoder", "width": width})
        manager = tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=50, checkpoint_name="ckpt")
        latest = restore_newest_readable(checkpoint, folder, CONFIG_FILE)
    start = int(step.numpy())
    iterator = iter(training_dataset(content_images, image_size, batch_size, len(bank), start, seed, augment=True))

    def one_step(crops, index):
        photo = encoder(crops)
        content = photo[ADAIN_LAYER]
        target = adain(content, tf.gather(means[ADAIN_LAYER], index), tf.gather(stds[ADAIN_LAYER], index))
        with tf.GradientTape() as tape:
            features = encoder(decoder(target, training=True))
            content_loss = tf.reduce_mean(tf.square(features[ADAIN_LAYER] - target))
            style_loss = 0.0
            for name in ENCODER_LAYERS:
                mean, std = channel_moments(features[name])
                style_loss += tf.reduce_mean(tf.square(mean - tf.gather(means[name], index)))
                style_loss += tf.reduce_mean(tf.square(std - tf.gather(stds[name], index)))
            identity_loss = tf.constant(0.0)
            if identity_weight > 0:
                rebuilt = encoder(decoder(content, training=True))
                identity_loss = tf.add_n([tf.reduce_mean(tf.square(rebuilt[name] - photo[name]))
                                          for name in ENCODER_LAYERS])
            loss = content_loss + style_weight * style_loss + identity_weight * identity_loss
        gradients = tape.gradient(loss, decoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, decoder.trainable_variables))
        return tf.stack([loss, content_loss, style_loss, identity_loss])

    @tf.function
    def train_steps(iterator, count):
        losses = tf.zeros((len(_LOSS_NAMES),))
        for _ in tf.range(count):
            crops, index = next(iterator)
            losses = one_step(crops, index)
            step.assign_add(1)
        return losses

    run_steps = train_steps.get_concrete_function(iterator, tf.TensorSpec([], tf.int32))  # traced once
    result = ArbitraryTrainingResult(decoder=decoder, step=start, start_step=start, checkpoint=latest)
    bar = progress_bar(total=steps, desc="train-adain", unit="step", progress=progress)
    bar.update(min(start, steps))
    while result.step < steps:
        boundary = (result.step // checkpoint_every + 1) * checkpoint_every
        count = min(steps_per_call, steps - result.step, boundary - result.step)
        losses = run_steps(iterator, tf.constant(count, tf.int32)).numpy()
        result.step = int(step.numpy())
        if not np.all(np.isfinite(losses)):
            raise ParameterError(
                f"Training diverged at step {result.step} (non-finite loss); lower learning_rate or "
                f"style_weight. Received: learning_rate={learning_rate}, style_weight={style_weight}"
            )
        record = {"step": result.step, **{k: float(v) for k, v in zip(_LOSS_NAMES, losses)}}
        result.history.append(record)
        bar.update(count)
        bar.set_postfix({k: f"{record[k]:.4g}" for k in _LOSS_NAMES})
        if manager is not None and (result.step % checkpoint_every == 0 or result.step == steps):
            result.checkpoint = manager.save(checkpoint_number=result.step)
            with open(Path(checkpoint_dir) / "history.jsonl", "a") as log:
                log.write(json.dumps(record) + "\n")
    bar.close()
    return result
