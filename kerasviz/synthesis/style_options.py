"""The option records of style transfer, texture synthesis and fast-style training.

- `LossWeights`: the factors of the content, style and total-variation losses.
- `LossFeatures`: where the losses are measured (content / style layers, feature transform).
- `Descent`: how the pixels are optimized (L-BFGS or Adam, step, start image).

Each record checks its fields when it is made (`ParameterError` naming the field). The blend of
several style images is not a loss weight: it is the `style_blend` keyword next to `style`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple, Union

from ..checks import check_choice, check_number
from ..errors import ParameterError
from .feature_transform import FEATURE_TRANSFORMS
from .keywords import set_field
from .style_inputs import layer_list, refuse_hidden_defaults

__all__ = ["LossWeights", "LossFeatures", "Descent", "loss_layers"]


@dataclass(frozen=True)
class LossWeights:
    """Factors of the perceptual loss: `content · content loss + style · style loss + tv · TV`.

    A field left `None` takes the default of the function it is given to: style transfer
    `(content 1, style 1000, tv 30)`, fast-style training `(1, 10, 1)`.

    Attributes:
        content: Factor of the content (feature reconstruction) loss, >= 0.
        style: Factor of the style (Gram) loss, >= 0; fast-style training also takes one per
            style image (a sequence).
        tv: Factor of the total-variation smoothness penalty, >= 0.
    """

    content: Optional[float] = None
    style: Union[None, float, Sequence[float]] = None
    tv: Optional[float] = None

    def __post_init__(self) -> None:
        for name in ("content", "tv"):
            if getattr(self, name) is not None:
                set_field(self, name, check_number(getattr(self, name), name, low=0.0))
        if self.style is None:
            return
        if isinstance(self.style, numbers.Real) or isinstance(self.style, (str, bytes)):
            set_field(self, "style", check_number(self.style, "style", low=0.0))
            return
        try:
            values = tuple(self.style)
        except TypeError:
            values = ()
        if not values:
            raise ParameterError(
                f"`style` must be a number or a non-empty sequence of numbers (one per style). Received: style={self.style!r}"
            )
        set_field(self, "style", tuple(check_number(v, f"style[{i}]", low=0.0) for i, v in enumerate(values)))

    def resolve(self, content: float, style: float, tv: float) -> "LossWeights":
        """These weights with each field left `None` set to the given default."""
        return LossWeights(
            content=content if self.content is None else self.content,
            style=style if self.style is None else self.style,
            tv=tv if self.tv is None else self.tv,
        )

    def one_style_factor(self) -> float:
        """The style factor as one number (style transfer and texture synthesis).

        Raises:
            ParameterError: `style` is a sequence (only fast-style training takes one per style).
        """
        if isinstance(self.style, tuple):
            raise ParameterError(
                "`LossWeights.style` must be one number here (one factor per style is for train_style_network; "
                f"blend several styles with `style_blend`). Received: style={self.style!r}"
            )
        return float(self.style)

    def as_tuple(self) -> Tuple[float, float, float]:
        """`(content, style, tv)` with one style factor (after `resolve`)."""
        return float(self.content), self.one_style_factor(), float(self.tv)


@dataclass(frozen=True)
class LossFeatures:
    """Where the perceptual losses are measured.

    Attributes:
        content_layers: Layers whose activations the result keeps; `None`: the backbone's
            `content_layers`.
        style_layers: Layers whose Gram matrices the result matches; `None`: the backbone's
            `style_layers`.
        feature_transform: `"auto"` (the backbone's `feature_transform`; see `style_losses`),
            `"softmax"` (Wang et al. 2021) or `None`.
        temperature: Softmax temperature, in (0, 1e6]; higher is smoother.
    """

    content_layers: Optional[Sequence[str]] = None
    style_layers: Optional[Sequence[str]] = None
    feature_transform: Optional[str] = "auto"
    temperature: float = 3.0

    def __post_init__(self) -> None:
        for name in ("content_layers", "style_layers"):
            value = getattr(self, name)
            if value is not None:
                set_field(self, name, layer_list(value, name))
        check_choice(self.feature_transform, "feature_transform", FEATURE_TRANSFORMS)
        set_field(self, "temperature", check_number(self.temperature, "temperature", low=0.0, high=1e6, open_low=True))


@dataclass(frozen=True)
class Descent:
    """How the pixels of a style transfer or a texture are optimized.

    Attributes:
        optimizer: `"lbfgs"` (SciPy L-BFGS-B, bounded to [0, 255]) or `"adam"`.
        learning_rate: Adam's step in pixel units, in (0, 255]; unused by L-BFGS.
        init: Style transfer's start: the `"content"` image (`None`: the default) or grey
            `"noise"`. Texture synthesis always starts from noise.
    """

    optimizer: str = "lbfgs"
    learning_rate: float = 4.0
    init: Optional[str] = None

    def __post_init__(self) -> None:
        check_choice(self.optimizer, "optimizer", ("lbfgs", "adam"))
        set_field(self, "learning_rate",
             check_number(self.learning_rate, "learning_rate", low=0.0, high=255.0, open_low=True))
        check_choice(self.init, "init", (None, "content", "noise"))


def loss_layers(backbone: Any, features: LossFeatures, content: bool = True) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """The content and style layers of `features`, defaulting to the backbone's.

    Args:
        backbone: The backbone.
        features: The `LossFeatures`.
        content: Whether a content loss is measured (else the content layers are `()`).

    Returns:
        `(content_layers, style_layers)`.

    Raises:
        ModelError: A subclassed model and no layers named.
        ParameterError: Empty or repeated layers.
    """
    c_layers: Tuple[str, ...] = ()
    if content:
        refuse_hidden_defaults(backbone, features.content_layers, backbone.content_layers, "content_layers")
        c_layers = layer_list(features.content_layers, "content_layers", backbone.content_layers)
    refuse_hidden_defaults(backbone, features.style_layers, backbone.style_layers, "style_layers")
    return c_layers, layer_list(features.style_layers, "style_layers", backbone.style_layers)
