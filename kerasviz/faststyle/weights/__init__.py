"""The bundled, small 3-style transform network used by the demo (see README.md here for the
exact command that trained it)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Tuple

import keras

from ...errors import WeightsUnavailableError

__all__ = ["DEMO_NETWORK", "load_demo_network"]

#: The committed network (Keras format) and its description next to it (`.json`).
DEMO_NETWORK = Path(__file__).with_name("style_mix3.keras")


@lru_cache(maxsize=1)
def load_demo_network() -> Tuple[keras.Model, Dict[str, Any]]:
    """Load the bundled 3-style network and what it was trained on.

    Returns:
        `(net, info)`: the transform network (`style_weights` input of 3 styles) and a dict with
        `styles` (the `skimage:NAME` style pictures, in style order), `content`, `width`,
        `image_size`, `steps`, `backbone` and `command`.

    Raises:
        WeightsUnavailableError: The files are missing from this installation.
    """
    info_file = DEMO_NETWORK.with_suffix(".json")
    if not DEMO_NETWORK.is_file() or not info_file.is_file():
        raise WeightsUnavailableError(
            f"The bundled fast-style network is missing; retrain it with the command in "
            f"{Path(__file__).with_name('README.md')}. Received: path={str(DEMO_NETWORK)!r}"
        )
    from .. import network  # noqa: F401  (registers the custom layers)

    return keras.models.load_model(DEMO_NETWORK), json.loads(info_file.read_text())
