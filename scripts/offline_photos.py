#!/usr/bin/env python
"""Write every photo that ships offline with scikit-image, scikit-learn and matplotlib to a folder:
the content set of the bundled fast-style network (`kerasviz/faststyle/weights/README.md`).

    python scripts/offline_photos.py photos/          # 17 PNGs; astronaut, rocket, camera held out

`astronaut`, `rocket` and `camera` are left out: they are the held-out photos the style-strength
and blob measures are computed on. Pictures that scikit-image would download (or that are not
photographs: masks, phantoms, 3-D stacks) are skipped.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

HELD_OUT = ("astronaut", "rocket", "camera")
SKIMAGE = ("brick", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel", "hubble_deep_field",
           "immunohistochemistry", "moon", "page", "retina", "text")


def _as_rgb8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.dtype != np.uint8:
        image = (255 * (image - image.min()) / max(float(image.max() - image.min()), 1e-9)).astype(np.uint8)
    return image[..., :3]


def main(out: str) -> None:
    """Write the photos as PNGs into `out`."""
    import matplotlib.cbook
    import skimage.data
    from sklearn.datasets import load_sample_images

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in SKIMAGE:
            Image.fromarray(_as_rgb8(getattr(skimage.data, name)())).save(folder / f"skimage_{name}.png")
    for index, image in enumerate(load_sample_images().images):  # china, flower
        Image.fromarray(image).save(folder / f"sklearn_{index}.png")
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as hopper:
        hopper.convert("RGB").save(folder / "matplotlib_grace_hopper.png")
    print(f"wrote {len(list(folder.glob('*.png')))} photos to {folder}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "photos")
