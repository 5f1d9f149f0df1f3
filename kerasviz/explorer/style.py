"""The Style tab: the bundled 3-style fast-style network, loaded on first use."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..errors import ParameterError

__all__ = ["StyleStudio"]


class StyleStudio:
    """Stylizes images with `kerasviz.faststyle.weights.DEMO_NETWORK` (a style mix per request)."""

    def __init__(self) -> None:
        """Nothing loads until the first request."""
        self._network: Optional[Tuple[Any, Dict[str, Any]]] = None
        self._lock = threading.Lock()

    def _load(self) -> Tuple[Any, Dict[str, Any]]:
        with self._lock:
            if self._network is None:
                from ..faststyle.weights import load_demo_network

                self._network = load_demo_network()
            return self._network

    def styles(self) -> List[str]:
        """The network's styles (`skimage:` / `painting:` names), in style-weight order."""
        return [str(name) for name in self._load()[1]["styles"]]

    def stylize(self, image: np.ndarray, weights: Any = None) -> np.ndarray:
        """Stylize one image with a style mix.

        Args:
            image: float32 `(H, W, 3)` in `[0, 255]`.
            weights: One non-negative number per style (normalized to sum to 1), or None for
                style 0.

        Returns:
            uint8 `(H, W, 3)`.

        Raises:
            ParameterError: Wrong count, negative or all-zero weights.
        """
        from ..faststyle import stylize

        net, info = self._load()
        count = len(info["styles"])
        if weights is not None:
            try:
                mix = np.asarray(weights, np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise ParameterError(f"`weights` are numbers, one per style. Received: weights={weights!r}") from None
            if mix.shape != (count,) or not np.all(np.isfinite(mix)) or (mix < 0).any() or mix.sum() <= 0:
                raise ParameterError(
                    f"`weights` are {count} non-negative numbers (one per style), not all zero. Received: weights={weights!r}"
                )
            weights = (mix / mix.sum()).astype(np.float32)
        return stylize(net, image, weights)
