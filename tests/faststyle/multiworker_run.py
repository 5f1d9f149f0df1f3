"""One process of the multi-worker tests: train a tiny network, print the losses as JSON.

    python multiworker_run.py STRATEGY CHECKPOINT_DIR STEPS   (TF_CONFIG set for multi_worker)

The strategy is created first, before any other TensorFlow work, as multi-worker training needs.
"""

import json
import sys

from kerasviz.faststyle.distribute import make_strategy

strategy = make_strategy(sys.argv[1])

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasviz.faststyle import (  # noqa: E402
    NetworkOptions,
    TrainingData,
    TrainingLoss,
    TrainingRun,
    train_style_network,
)
from kerasviz.images import sample_image  # noqa: E402

GLOBAL_BATCH = 4


def tiny_backbone() -> keras.Model:
    """A 3-conv classifier with fixed random weights: a cheap, deterministic loss network."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="c1")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="c2")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c3")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x))


def train(strategy, checkpoint_dir, steps):
    contents = np.stack([sample_image(name, 40) for name in ("chelsea", "coffee", "astronaut", "rocket")])
    return train_style_network(
        contents, [sample_image("brick", 48)], backbone=tiny_backbone(),
        loss=TrainingLoss(content_layers=["c2"], style_layers=["c1", "c2", "c3"]),
        data=TrainingData(image_size=32, batch_size=GLOBAL_BATCH), network=NetworkOptions(width=4),
        steps=steps, steps_per_call=1, learning_rate=1e-2,
        run=TrainingRun(checkpoint_dir, checkpoint_every=2, strategy=strategy), progress=False)


if __name__ == "__main__":
    result = train(strategy, sys.argv[2], int(sys.argv[3]))
    print(json.dumps({"start": result.start_step, "step": result.step, "replicas": strategy.num_replicas_in_sync,
                      "steps": [h["step"] for h in result.history], "loss": [h["loss"] for h in result.history],
                      "checkpoint": result.checkpoint}), flush=True)
