#!/usr/bin/env python
"""Draw the README's fast-style picture (docs/fast_style.jpg) from the bundled networks.

Row 1: a held-out photo, then the bundled 3-style network's Starry Night, Great Wave and Udnie.
Row 2: the arbitrary (AdaIN) stylizer with Udnie (never seen in its training), scikit-learn's
flower photo as a style, and Udnie at alpha 0.5. Every picture is 256 x 256.

Usage: `python scripts/readme_fast_style.py docs/fast_style.jpg`
"""

import sys

import numpy as np
from PIL import Image

PAINTINGS = ("starry_night", "great_wave", "udnie")


def main(out: str) -> None:
    """Stylize, tile and save as JPEG."""
    from sklearn.datasets import load_sample_images

    import kerasviz as kv
    from kerasviz.faststyle.weights import load_demo_network

    photo = kv.load_image("skimage:astronaut", size=(256, 256))
    net, _ = load_demo_network()
    mixes = np.eye(3, dtype=np.float32)
    first = [photo, *kv.stylize(net, np.repeat(photo[None], 3, axis=0), mixes)]
    udnie = kv.load_image("painting:udnie")
    flower = load_sample_images().images[1].astype(np.float32)
    second = [kv.stylize_arbitrary(photo, udnie), kv.stylize_arbitrary(photo, flower),
              kv.stylize_arbitrary(photo, udnie, alpha=0.5), kv.load_image("painting:udnie", size=(256, 256))]
    rows = [np.concatenate([np.clip(np.asarray(p, np.float32), 0, 255) for p in row], axis=1) for row in (first, second)]
    Image.fromarray(np.concatenate(rows, axis=0).astype(np.uint8)).save(out, quality=88)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/fast_style.jpg")
