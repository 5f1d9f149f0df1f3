"""Johnson et al.'s feed-forward transform network, with conditional instance norm for N styles.

Architecture (Johnson, Alahi & Fei-Fei, 2016, with Ulyanov's instance normalization and Odena's
resize-convolution): a 9×9 convolution, two stride-2 3×3 convolutions, five residual blocks, two
upsamplings (nearest-neighbour ×2 then a 3×3 convolution, so no checkerboard artefacts; one
`ResizeConv2D` layer that computes both at the low resolution) and a 9×9 output convolution;
every convolution but the last is followed by instance normalization and a ReLU. With
`n_styles > 1` each normalization is *conditional* (Dumoulin, Shlens & Kudlur, 2017): one γ / β
pair per style, mixed by a `style_weights` input `(N, n_styles)`, so any convex mix of the
learned styles is one forward pass.

Pixels in and out are in `[0, 255]`: the input is centred to `[-1, 1]` inside the model and the
output is `127.5 · (1 + tanh(x))` (a scaled tanh, i.e. `255 · sigmoid(2x)`), always in range.
Any height and width of at least 4 pixels works: the model reflects-pads the bottom / right edge
to a multiple of 4 and crops the result back to the input size.

Convolutions pad their borders by reflection (`padding="reflect"`, the default for new networks,
as in Johnson et al.'s released code: no dark frame or edge streaks from zero padding) or with
zeros (`padding="zero"`, Keras `"same"`, which networks saved before the option keep). The choice
is part of the layer graph (`ReflectionPad` layers before `"valid"` convolutions), so a saved
network rebuilds as it was trained, and `transform_net_config` reads it back.
"""

from __future__ import annotations

from typing import Any, Dict

import keras

from ..checks import check_choice, check_int
from ..errors import ModelError
from .layers import (
    BilinearUpsampling,
    ClipPixels,
    ConditionalInstanceNormalization,
    CropToInput,
    InstanceNormalization,
    PadToMultiple,
    ReflectionPad,
)
from .phase_conv import PhaseConv2D
from .resize_conv import ResizeConv2D

__all__ = [
    "IMAGES",
    "STYLE_WEIGHTS",
    "MIN_SIZE",
    "PADDINGS",
    "OUTPUTS",
    "UPSAMPLINGS",
    "build_transform_net",
    "transform_net_config",
    "extract_style",
    "start_from",
]

#: Name of the image input (pixels `[0, 255]`).
IMAGES = "images"
#: Name of the style-mix input `(N, n_styles)` of multi-style networks.
STYLE_WEIGHTS = "style_weights"
#: Smallest height / width the network takes.
MIN_SIZE = 4
_MULTIPLE = 4  # two stride-2 downsamplings
_N_RESIDUAL = 5
UPSAMPLINGS = ("resize_conv", "bilinear_conv", "transpose")
#: Border padding of the convolutions: reflection (default) or zeros (Keras "same").
PADDINGS = ("reflect", "zero")
#: Output activations: a scaled tanh (default) or linear, clipped at inference only.
OUTPUTS = ("tanh", "linear")


def _padded_conv(x, filters: int, kernel: int, name: str, padding: str, strides: int = 1, conv=keras.layers.Conv2D):
    if padding == "zero":
        return keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(x)
    x = ReflectionPad(kernel // 2, name=f"{name}_pad")(x)
    return conv(filters, kernel, strides=strides, padding="valid", name=f"{name}_conv")(x)


def _norm(x, name: str, n_styles: int, weights):
    if n_styles == 1:
        return InstanceNormalization(name=name)(x)
    return ConditionalInstanceNormalization(n_styles, name=name)([x, weights])


def _conv(x, filters: int, kernel: int, name: str, n_styles: int, weights, padding: str, strides: int = 1,
          relu: bool = True):
    x = _padded_conv(x, filters, kernel, name, padding, strides)
    x = _norm(x, f"{name}_norm", n_styles, weights)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def build_transform_net(
    n_styles: int = 1, width: int = 32, upsample: str = "resize_conv", padding: str = "reflect",
    output: str = "tanh",
) -> keras.Model:
    """Build Johnson et al.'s transform network (one style, or N styles with conditional IN).

    Args:
        n_styles: Number of styles; `> 1` adds the `style_weights` input and conditional
            instance normalization (one γ / β per style).
        width: Channels of the first convolution (32 in the paper; 16 for a small, fast net);
            the downsampled layers have 2× and 4× as many.
        upsample: `"resize_conv"` (nearest ×2 then a 3×3 convolution: no checkerboard
            artefacts), `"bilinear_conv"` (bilinear ×2 then a 3×3 convolution: smoother, no
            period-4 blocks) or `"transpose"` (the paper's stride-2 transposed convolutions).
        padding: Border padding of the convolutions: `"reflect"` (reflection padding, no dark
            frame or border streaks) or `"zero"` (Keras `"same"`, as in networks saved before
            this option). Transposed convolutions always use `"same"`.
        output: `"tanh"` (`127.5 · (1 + tanh(x))`, always in range) or `"linear"`
            (`127.5 · (1 + x)`, clipped to `[0, 255]` only at inference, so out-of-range regions
            keep their gradient while training: no saturated blobs that cannot recover).

    Returns:
        A `keras.Model` named `transform_net`: input `images` float32 `(N, H, W, 3)` in
        `[0, 255]` (plus `style_weights` float32 `(N, n_styles)` when `n_styles > 1`, fed as a
        dict or a list `[images, style_weights]`), output float32 `(N, H, W, 3)` in `[0, 255]`
        for any `H, W >= 4`. Built under the current Keras dtype policy (mixed precision keeps
        the normalization statistics and the output in float32).

    Raises:
        ParameterError: `n_styles` or `width` not a positive integer, or an unknown `upsample`,
            `padding` or `output`.
    """
    n_styles = check_int(n_styles, "n_styles", low=1, high=1024)
    width = check_int(width, "width", low=1, high=1024)
    upsample = check_choice(upsample, "upsample", UPSAMPLINGS)
    padding = check_choice(padding, "padding", PADDINGS)
    output = check_choice(output, "output", OUTPUTS)
    images = keras.Input(shape=(None, None, 3), name=IMAGES)
    weights = keras.Input(shape=(n_styles,), name=STYLE_WEIGHTS) if n_styles > 1 else None
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="centre")(images)
    x = PadToMultiple(_MULTIPLE, name="pad")(x)
    x = _conv(x, width, 9, "in", n_styles, weights, padding)
    x = _conv(x, 2 * width, 3, "down1", n_styles, weights, padding, strides=2)
    x = _conv(x, 4 * width, 3, "down2", n_styles, weights, padding, strides=2)
    for i in range(1, _N_RESIDUAL + 1):
        y = _conv(x, 4 * width, 3, f"res{i}a", n_styles, weights, padding)
        y = _conv(y, 4 * width, 3, f"res{i}b", n_styles, weights, padding, relu=False)
        x = keras.layers.Add(name=f"res{i}_add")([x, y])
    for i, filters in ((1, 2 * width), (2, width)):
        if upsample == "resize_conv":  # upsampling and convolution in one layer, at low resolution
            x = ResizeConv2D(filters, border=padding, name=f"up{i}_conv")(x)
            x = keras.layers.ReLU(name=f"up{i}_relu")(_norm(x, f"up{i}_norm", n_styles, weights))
        elif upsample == "bilinear_conv":
            x = BilinearUpsampling(name=f"up{i}_resize")(x)
            x = _conv(x, filters, 3, f"up{i}", n_styles, weights, padding)
        else:
            x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name=f"up{i}_conv")(x)
            x = keras.layers.ReLU(name=f"up{i}_relu")(_norm(x, f"up{i}_norm", n_styles, weights))
    x = _padded_conv(x, 3, 9, "out", padding, conv=PhaseConv2D)  # 3 outputs: polyphase at inference
    if output == "tanh":
        x = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    x = keras.layers.Rescaling(127.5, offset=127.5, dtype="float32", name="to_pixels")(x)
    if output == "linear":
        x = ClipPixels(dtype="float32", name="clip")(x)
    x = CropToInput(dtype="float32", name="crop")([x, images])
    inputs = images if weights is None else {IMAGES: images, STYLE_WEIGHTS: weights}
    return keras.Model(inputs, x, name="transform_net")


def transform_net_config(net: Any) -> Dict[str, Any]:
    """Read `n_styles`, `width`, `upsample`, `padding` and `output` back from a network built by `build_transform_net`.

    Args:
        net: The transform network (networks saved before the padding option read as `"zero"`).

    Returns:
        `{"n_styles": int, "width": int, "upsample": str, "padding": str, "output": str}`.

    Raises:
        ModelError: `net` is not a transform network.
    """
    try:
        names = {layer.name for layer in net.layers}
        width = int(net.get_layer("in_conv").filters)
        norm = net.get_layer("in_norm")
        up = net.get_layer("up1_conv")
    except (AttributeError, ValueError) as error:
        raise ModelError(
            "Expected a network built by kerasviz.build_transform_net. Received: "
            f"net of type {type(net).__name__}"
        ) from error
    n_styles = norm.n_styles if isinstance(norm, ConditionalInstanceNormalization) else 1
    upsample = "transpose"
    if isinstance(up, ResizeConv2D):
        upsample = "resize_conv"
    elif "up1_resize" in names:  # networks saved before ResizeConv2D upsample in a layer of their own
        bilinear = net.get_layer("up1_resize").interpolation == "bilinear"
        upsample = "bilinear_conv" if bilinear else "resize_conv"
    padding = "reflect" if "in_pad" in names else "zero"
    output = "tanh" if "out_tanh" in names else "linear"
    return {"n_styles": n_styles, "width": width, "upsample": upsample, "padding": padding, "output": output}


def extract_style(net: keras.Model, index: int) -> keras.Model:
    """A single-style network equal to a multi-style network with one-hot weights on `index`.

    Args:
        net: A network from `build_transform_net(n_styles > 1)`.
        index: The style to keep, in `[0, n_styles)`.

    Returns:
        A new single-style network (no `style_weights` input) with copied weights.

    Raises:
        ModelError: `net` is not a transform network.
        ParameterError: `index` out of range.
    """
    config = transform_net_config(net)
    index = check_int(index, "index", low=0, high=config["n_styles"] - 1)
    single = build_transform_net(1, config["width"], config["upsample"], config["padding"], config["output"])
    for layer in single.layers:
        source = net.get_layer(layer.name)
        weights = source.get_weights()
        if isinstance(source, ConditionalInstanceNormalization):
            weights = [w[index] for w in weights]
        layer.set_weights(weights)
    return single


def start_from(net: keras.Model, path: Any) -> None:
    """Copy the weights of a saved transform network into `net` (fine-tuning starts from them).

    Args:
        net: A network from `build_transform_net`.
        path: A `.keras` file saved from a network of the same configuration.

    Raises:
        ModelError: No such file, not a transform network, or another configuration.
    """
    try:
        saved = keras.models.load_model(str(path), compile=False)
    except (ValueError, OSError, TypeError) as error:
        raise ModelError(f"Cannot load the initial network ({error}). Received: initial_weights={str(path)!r}") from None
    if transform_net_config(saved) != transform_net_config(net):
        raise ModelError(
            f"The initial network must have the trained network's configuration {transform_net_config(net)}. "
            f"Received: {transform_net_config(saved)} from {str(path)!r}"
        )
    net.set_weights(saved.get_weights())
