"""How the fast-style networks' pictures measure on held-out photos: style strength and blobs.

For each 3-style network given (default: the bundled `DEMO_NETWORK`), the held-out photos
`astronaut`, `rocket` and `camera` (in no training set) are stylized at 256² with each pure style
and scored with `kerasviz.faststyle.style_strength` (the output's `vgg16_hed` Gram distance to its
painting relative to the photo's; every output should be nearest its own painting) and
`blob_artefact_score` (per mille of the image in compact blobs where the photo is smooth; on the
three pure styles and the 1/3 mix, as the bundled network's test scores it). This is a quality
report, not a timing: the numbers go into `kerasviz/faststyle/weights/README.md`.

Run: `python -m benchmarks.bench_style_quality [--network OLD.keras NEW.keras] [--grid DIR]`
(an older network: `git show REV:kerasviz/faststyle/weights/style_mix3.keras > old.keras`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

PAINTINGS = ("starry_night", "great_wave", "udnie")
HELD_OUT = ("astronaut", "rocket", "camera")
MIXES = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3]], np.float32)


def network_quality(net: Any, grid: Optional[Path] = None) -> Dict[str, Any]:
    """Style strength (per style and photo), nearest painting and blob score of one network.

    Args:
        net: A 3-style transform network (styles in `PAINTINGS` order).
        grid: Write the 3 x 3 grid of outputs (rows: styles, columns: photos) here as a PNG.

    Returns:
        `{"strength": (3 styles, 3 photos), "nearest_own": bool, "blobs": per mille}`.
    """
    from kerasviz.faststyle import blob_artefact_score, stylize
    from kerasviz.faststyle.style_strength import style_strength
    from kerasviz.images import load_image, save_image

    photos = np.stack([load_image(f"skimage:{name}", (256, 256)) for name in HELD_OUT])
    paintings = [load_image(f"painting:{name}") for name in PAINTINGS]
    outputs = [stylize(net, photos, np.repeat(mix[None], len(photos), axis=0)) for mix in MIXES]
    pure = np.concatenate(outputs[:3])
    result = style_strength(pure, np.concatenate([photos] * 3), paintings, np.repeat(np.arange(3), len(photos)))
    blobs = [blob_artefact_score(np.stack([o[i] for o in outputs]), np.repeat(photos[i : i + 1], len(MIXES), axis=0))
             for i in range(len(photos))]
    if grid is not None:
        rows = [np.concatenate(list(o), axis=1) for o in outputs[:3]]
        save_image(grid, np.concatenate(rows, axis=0))
    return {"strength": result.strength.reshape(3, len(photos)), "nearest_own": bool(result.nearest_own.all()),
            "blobs": float(np.mean(blobs))}


def run(networks: Sequence[str] = (), grid: Optional[str] = None) -> List[Dict[str, Any]]:
    """One row per network (default: the bundled one)."""
    import keras

    from kerasviz.faststyle import network  # noqa: F401  (registers the custom layers)
    from kerasviz.faststyle.weights import DEMO_NETWORK

    rows = []
    for index, path in enumerate(networks or [str(DEMO_NETWORK)]):
        net = keras.models.load_model(path, compile=False)
        picture = None if grid is None else Path(grid) / f"quality_{index}.png"
        quality = network_quality(net, picture)
        strength = quality["strength"]
        rows.append({"network": path, **{f"strength {name}": float(strength[i].mean()) for i, name in enumerate(PAINTINGS)},
                     "strength mean": float(strength.mean()), "strength max": float(strength.max()),
                     "nearest own": quality["nearest_own"], "blobs (per mille)": quality["blobs"]})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", nargs="*", default=[], help=".keras 3-style networks (default: the bundled one)")
    parser.add_argument("--grid", default=None, help="folder for a 3 x 3 picture of each network's outputs")
    args = parser.parse_args()
    for row in run(args.network, args.grid):
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
