#!/usr/bin/env python
"""Train a fast style network from a folder (or bundled pictures): `kerasviz train-style` as a script.

Example (the demo's 3-style network, `kerasviz/faststyle/weights/README.md` has the exact command):

    python scripts/train_fast_style.py --content photos/ --style skimage:immunohistochemistry \
        --checkpoint-dir ckpt/ --save net.keras --export models/style

Interrupt it at any time and run the same command again: it resumes from the last checkpoint.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from kerasviz.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["train-style", *sys.argv[1:]]))
