"""The model's side of the explorer: predictions, explanations, layers, activation grids and a
neuron's pictures, each through the package's compiled, per-model cached functions."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..attribution.technique_maps import technique_map
from ..checks import check_int, check_number
from ..errors import ParameterError, TargetError
from ..graph_nodes import layer_names
from ..images import COLORMAPS, colorize_map, gradient_image, overlay_heatmap, resize_map
from ..registry import get_technique
from .catalog import parse_options, technique_catalog

__all__ = ["Workbench", "VIEWS"]

#: What `/api/explain` can draw: the heatmap over the image, or the coloured heatmap alone.
VIEWS = ("overlay", "heatmap")


class Workbench:
    """One loaded `Backbone` and what the explorer computes with it (call from one thread at a time)."""

    def __init__(self, backbone: Any) -> None:
        """Keep the backbone; list its layers once.

        Args:
            backbone: A loaded `kerasviz.Backbone`.
        """
        self.backbone = backbone
        self.layers: List[str] = layer_names(backbone)

    # -- model --------------------------------------------------------------------------------
    def model_info(self) -> Dict[str, Any]:
        """The model's name, input size, classes and default layer, as JSON."""
        backbone = self.backbone
        return {
            "name": backbone.name,
            "input_size": list(backbone.input_size) if backbone.input_size else None,
            "has_classifier": bool(backbone.has_classifier),
            "num_classes": int(backbone.num_classes) if backbone.has_classifier else 0,
            "class_names": list(backbone.class_names or []),
            "default_layer": backbone.gradcam_layer,
            "layers": len(self.layers),
        }

    def techniques(self) -> List[Dict[str, Any]]:
        """The registry's techniques, marked available or not for this model."""
        return technique_catalog(bool(self.backbone.has_classifier))

    def predict(self, image: np.ndarray, top: Any = 5) -> List[Dict[str, Any]]:
        """The top classes of one image.

        Args:
            image: float32 `(H, W, 3)` in `[0, 255]`.
            top: How many classes, 1..num_classes.

        Returns:
            `[{"index", "label", "probability"}]`, most probable first.

        Raises:
            ModelError: A headless model.
        """
        self.backbone.require_classifier("predict")
        top = check_int(top, "top", low=1, high=self.backbone.num_classes)
        (ranked,) = self.backbone.decode(self.backbone.predict(image[None]), top=top)
        return [{"index": int(i), "label": str(label), "probability": float(p)} for i, label, p in ranked]

    def _target(self, image: np.ndarray, target: Any) -> int:
        if target is None or target == "":
            return int(self.predict(image, 1)[0]["index"])
        count = self.backbone.num_classes
        try:
            value = int(target)
        except (TypeError, ValueError):
            raise TargetError(f"`target` is a class index. Received: target={target!r}") from None
        if not 0 <= value < count:
            raise TargetError(f"`target` must be a class index in [0, {count}). Received: target={target!r}")
        return value

    # -- explanations -------------------------------------------------------------------------
    def explain(
        self, image: np.ndarray, technique: Any, target: Any = None, options: Any = None
    ) -> Tuple[np.ndarray, Optional[int]]:
        """Run a registry technique on one image.

        Args:
            image: float32 `(H, W, 3)` in `[0, 255]`.
            technique: A registered name (Python or command spelling).
            target: Class index, or None for the top class (ignored by class-agnostic techniques).
            options: `{option: value}` of the technique (see `catalog.parse_options`).

        Returns:
            `(heatmap, target)`: float32 `(H, W)` in `[0, 1]` and the class explained (None when
            class-agnostic).

        Raises:
            ParameterError: Unknown technique or option.
            TargetError: A class index out of range.
            KerasvizError: Whatever the technique refuses.
        """
        entry = get_technique(str(technique))
        kwargs = parse_options(entry.name, options)
        chosen = self._target(image, target) if entry.targeted else None
        heatmap = technique_map(entry.name, self.backbone, image[None], chosen, **kwargs)[0]
        if heatmap.shape != image.shape[:2]:
            heatmap = np.clip(resize_map(heatmap, image.shape[:2]), 0.0, 1.0)
        return np.nan_to_num(heatmap.astype(np.float32)), chosen

    @staticmethod
    def picture(image: np.ndarray, heatmap: np.ndarray, view: Any = "overlay", colormap: Any = "jet",
                alpha: Any = 0.5) -> np.ndarray:
        """Draw a heatmap as the page shows it.

        Args:
            image: float32 `(H, W, 3)` in `[0, 255]`.
            heatmap: `(H, W)` in `[0, 1]`.
            view: `"overlay"` (over the image) or `"heatmap"` (coloured map alone).
            colormap: A name of `kerasviz.images.COLORMAPS`.
            alpha: Heatmap opacity of the overlay, in `[0, 1]`.

        Returns:
            uint8 `(H, W, 3)`.

        Raises:
            ParameterError: Unknown view or colormap, alpha out of range.
        """
        view, colormap = str(view), str(colormap).lower()
        if view not in VIEWS:
            raise ParameterError(f"`view` is one of {list(VIEWS)}. Received: view={view!r}")
        if colormap not in COLORMAPS:
            raise ParameterError(f"`colormap` is one of {sorted(COLORMAPS)}. Received: colormap={colormap!r}")
        if view == "heatmap":
            return colorize_map(heatmap, colormap)
        alpha = check_number(alpha, "alpha", low=0.0, high=1.0)
        return overlay_heatmap(image, heatmap, alpha=alpha, colormap=colormap)

    # -- layers -------------------------------------------------------------------------------
    def check_layer(self, layer: Any) -> str:
        """A layer name of this model.

        Raises:
            ParameterError: Not one of `self.layers`.
        """
        if layer is None or str(layer) == "":
            return str(self.backbone.gradcam_layer)
        if str(layer) not in self.layers:
            raise ParameterError(f"Unknown layer {str(layer)[:80]!r}; GET /api/layers lists them. Received: layer={str(layer)[:80]!r}")
        return str(layer)

    def activation_grid(self, image: np.ndarray, layer: Any, max_tiles: Any = 64) -> Tuple[np.ndarray, List[int], int]:
        """The activation grid of a layer, strongest channels first.

        Args:
            image: float32 `(H, W, 3)`.
            layer: A layer name (None: the default Grad-CAM layer).
            max_tiles: Tiles shown, 1..256.

        Returns:
            `(grid, channels, ncols)`: uint8 picture, the channel of each tile (row by row) and
            the number of columns.
        """
        from ..inspect.activations import activation_maps

        layer = self.check_layer(layer)
        max_tiles = check_int(max_tiles, "max_tiles", low=1, high=256)
        count = self.channel_count(layer)
        ncols = int(np.ceil(np.sqrt(min(max_tiles, count))))
        # the picture shows the strongest channels, ranked as `activation_maps` ranks them
        maps, grid = activation_maps(self.backbone, image, layer, max_tiles=max_tiles, tile_size=64, ncols=ncols)
        shown = np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:max_tiles]
        return grid, [int(c) for c in shown], ncols

    def channel_count(self, layer: str) -> int:
        """Channels of a layer's feature map (or tokens)."""
        from ..inspect.layer_outputs import layer_map

        shape, _ = layer_map(self.backbone, layer)
        return int(shape[-1])

    def neuron_map(self, image: np.ndarray, layer: Any, channel: Any, alpha: float = 0.6) -> np.ndarray:
        """One channel's activation map over the image.

        Returns:
            uint8 `(H, W, 3)`.
        """
        from ..images import normalize_map
        from ..inspect.activations import activation_maps

        layer = self.check_layer(layer)
        maps, _ = activation_maps(self.backbone, image, layer, channels=[check_int(channel, "channel", low=0)], tile_size=8)
        heatmap = np.clip(resize_map(normalize_map(maps[0]), image.shape[:2]), 0.0, 1.0)
        return overlay_heatmap(image, heatmap, alpha=alpha, colormap="viridis")

    def neuron_guided_backprop(self, image: np.ndarray, layer: Any, channel: Any) -> np.ndarray:
        """Guided backpropagation of one channel of a layer (Springenberg et al.).

        Returns:
            uint8 `(H, W, 3)` gradient picture.
        """
        from ..attribution.guided_backprop import guided_backprop

        layer = self.check_layer(layer)
        gradients = guided_backprop(self.backbone, image[None], layer=layer, channel=check_int(channel, "channel", low=0))
        return gradient_image(gradients[0])
