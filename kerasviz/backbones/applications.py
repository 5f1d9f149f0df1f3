"""VGG16, VGG19 and InceptionV3 from Keras Applications, with an offline-friendly weights check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import keras

from ..errors import ModelError, WeightsUnavailableError

__all__ = ["APPLICATIONS", "build_application", "download_failure", "keras_models_dir", "vgg_application"]

_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"

def vgg_application(depth: int, build: Any) -> Dict[str, Any]:
    """The `APPLICATIONS` entry of VGG16 or VGG19: same files, layers and preprocessing but for
    the number of convolutions in blocks 3-5 (3 or 4).

    Args:
        depth: 16 or 19.
        build: The `keras.applications` constructor.

    Returns:
        The entry (constructor, size, mode, weights files, default layers).
    """
    last = 3 if depth == 16 else 4
    files = f"vgg{depth}/vgg{depth}_weights_tf_dim_ordering_tf_kernels"
    return dict(
        build=build,
        size=(224, 224),
        mode="caffe",
        file=f"{files}.h5",
        notop_file=f"{files}_notop.h5",
        layers=dict(
            gradcam_layer=f"block5_conv{last}",
            content_layers=["block4_conv2"],
            style_layers=["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"],
            dream_layers=[f"block4_conv{last}", "block5_conv2"],
            first_conv_layer="block1_conv1",
        ),
    )


#: name -> (constructor, input size, preprocessing mode, weights files (with / without the
#: classifier, as Keras downloads them), default layers)
APPLICATIONS: Dict[str, Dict[str, Any]] = {
    "vgg16": vgg_application(16, keras.applications.VGG16),
    "vgg19": vgg_application(19, keras.applications.VGG19),
    "inception_v3": dict(
        build=keras.applications.InceptionV3,
        size=(299, 299),
        mode="tf",
        file="inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        notop_file="inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        layers=dict(
            gradcam_layer="mixed10",
            content_layers=["mixed3"],
            style_layers=["mixed0", "mixed1", "mixed2", "mixed4", "mixed7"],
            dream_layers=["mixed4", "mixed5", "mixed6", "mixed7"],
        ),
    ),
}


def keras_models_dir() -> Path:
    """The folder where Keras caches downloaded weights: `$KERAS_HOME/models` or `~/.keras/models`.

    Returns:
        The folder path (not created).
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def download_failure(error: BaseException) -> str:
    """Why a download failed, in a few words: the error's first line (Keras's `get_file` raises
    a bare `Exception` whose message names the URL and the network error).

    Args:
        error: The exception raised by the download.

    Returns:
        At most ~160 characters, never just the exception's class name when it has a message.
    """
    text = " ".join(str(error).split())
    if not text:
        return f"{error.__class__.__name__}, no message"
    return text if len(text) <= 160 else text[:157] + "..."


def _imagenet_weights(name: str, include_top: bool = True) -> str:
    """Path of the cached ImageNet weights, downloading them if the network allows."""
    remote = APPLICATIONS[name]["file" if include_top else "notop_file"]
    filename = remote.rsplit("/", 1)[1]
    local = keras_models_dir() / filename
    if local.exists():
        return str(local)
    try:
        return keras.utils.get_file(filename, _URL + remote, cache_subdir="models")
    except Exception as error:  # get_file raises a bare Exception on network failure
        raise WeightsUnavailableError(
            f"ImageNet weights for {name} are not on this machine and could not be downloaded "
            f"({download_failure(error)}). Download {_URL + remote} on a machine with internet "
            f"access and copy it to {local} (the folder is $KERAS_HOME/models, default "
            f"~/.keras/models), or use weights=None or a local weights file. "
            f"Received: weights='imagenet', include_top={include_top}"
        ) from error


def build_application(name: str, weights: Optional[str], include_top: bool = True) -> keras.Model:
    """Build a Keras Applications classifier that outputs logits, taking preprocessed input.

    Args:
        name: `"vgg16"`, `"vgg19"` or `"inception_v3"`.
        weights: `"imagenet"`, `None` (random) or a path to a weights file.
        include_top: `False` builds the headless ("notop") network, which outputs the last
            feature map and runs at any image size; its ImageNet weights are Keras's
            `..._notop.h5` file.

    Returns:
        The Keras model (no softmax), input size fixed to the application's (free when
        headless).

    Raises:
        WeightsUnavailableError: ImageNet weights are neither cached nor downloadable.
        ModelError: A weights file does not fit the architecture.
    """
    spec = APPLICATIONS[name]
    build: Callable[..., keras.Model] = spec["build"]
    path = _imagenet_weights(name, include_top) if weights == "imagenet" else weights
    if include_top:
        model = build(weights=None, classifier_activation=None, input_shape=(*spec["size"], 3))
    else:
        model = build(weights=None, include_top=False, input_shape=(None, None, 3))
    if path is not None:
        try:
            model.load_weights(path)
        except Exception as error:
            raise ModelError(
                f"Could not load weights into {name}: {error}. Pass the "
                f"{'full (include_top)' if include_top else 'notop (include_top=False)'} "
                f"weights file of that architecture. Received: weights={weights!r}"
            ) from error
    return model
