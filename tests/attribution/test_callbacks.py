"""Training callbacks: a two-epoch fit on scikit-learn digits logs attributions, no retracing."""

from __future__ import annotations

import glob

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasviz.attribution import AttributionCallback, AttributionPNGCallback
from kerasviz.attribution.core import score_gradient
from kerasviz.attribution.layer_gradients import feature_gradient_function
from kerasviz.backbones import as_backbone
from kerasviz.errors import ParameterError
from kerasviz.images import load_image
from kerasviz.targets import resolve_target


def digits():
    """scikit-learn digits as (N, 16, 16, 3) pixels in [0, 255], and labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.kron(data.images, np.ones((2, 2))) / 16.0 * 255.0
    return np.repeat(images[..., None], 3, axis=-1).astype(np.float32), data.target


def small_cnn() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class TraceCounts(keras.callbacks.Callback):
    """Records the tracing counts of the compiled functions the attributions use, per epoch."""

    def __init__(self, attribution_callback, labels):
        super().__init__()
        self.attribution_callback, self.labels, self.counts = attribution_callback, labels, []

    def on_epoch_end(self, epoch, logs=None):
        backbone = as_backbone(self.model)
        target = resolve_target(self.labels, len(self.labels), 10)
        self.counts.append(
            (
                feature_gradient_function(backbone, "conv2", target).function
                .experimental_get_tracing_count(),
                score_gradient(backbone, target).function.experimental_get_tracing_count(),
                self.attribution_callback.activation_tracing_count(),
            )
        )


def _events(folder):
    """`{tag: [steps]}` of the image summaries in a TensorBoard folder."""
    tags = {}
    for path in glob.glob(f"{folder}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
                image = tf.io.decode_png(tf.make_ndarray(value.tensor)[2])
                assert image.shape[-1] == 3 and image.shape[0] > 16
    return tags


def test_two_epoch_fit_logs_tensorboard_events_and_pngs_without_retracing(tmp_path):
    images, labels = digits()
    shown, shown_labels = images[1500:1503], labels[1500:1503]
    model = small_cnn()
    board = AttributionCallback(
        tmp_path / "logs", shown, ["gradcam", "saliency"], shown_labels,
        activation_layers=["conv1"],
    )
    pngs = AttributionPNGCallback(tmp_path / "pngs", shown, ["gradcam"], shown_labels)
    counts = TraceCounts(board, shown_labels)
    model.fit(images[:600], labels[:600], epochs=2, batch_size=64, verbose=0,
              callbacks=[board, pngs, counts])

    tags = _events(tmp_path / "logs" / "attribution")
    assert tags == {
        "attribution/gradcam": [0, 1],
        "attribution/saliency": [0, 1],
        "activations/conv1": [0, 1],
    }
    names = sorted(p.name for p in pngs.written)
    assert names == ["attribution_gradcam_epoch001.png", "attribution_gradcam_epoch002.png"]
    picture = load_image(pngs.written[0])
    assert picture.shape == (96 + 4, 3 * 96 + 4 * 2, 3)  # three overlays in a row, padded
    assert not np.array_equal(picture, load_image(pngs.written[1]))  # the model learned
    # The second epoch retraced nothing: same counts as after the first.
    assert counts.counts[0] == counts.counts[1]
    assert counts.counts[0][2] == 1


def test_disabled_and_every(tmp_path):
    images, labels = digits()
    calls = []

    def method(model, x, target):
        calls.append(1)
        return np.ones(x.shape[:3], np.float32)

    model = small_cnn()
    off = AttributionCallback(tmp_path / "off", images[:2], {"m": method}, enabled=False)
    every = AttributionPNGCallback(tmp_path / "every", images[:2], {"m": method}, every=2)
    model.fit(images[:64], labels[:64], epochs=3, verbose=0, callbacks=[off, every])
    assert not (tmp_path / "off").exists() and off.rendered_epochs == []
    assert every.rendered_epochs == [1] and len(calls) == 1  # only epoch 2 of 3 is due


def test_errors():
    images = np.zeros((2, 16, 16, 3), np.float32)
    with pytest.raises(ParameterError, match="Unknown attribution method"):
        AttributionCallback("logs", images, ["gradcamm"])
    with pytest.raises(ParameterError, match="Unknown attribution method"):
        AttributionCallback("logs", images, ["AttributionCallback"])
    with pytest.raises(ParameterError, match="every"):
        AttributionPNGCallback("out", images, every=0)
    with pytest.raises(ParameterError, match="methods"):
        AttributionCallback("logs", images, {"m": 3})
