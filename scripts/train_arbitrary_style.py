#!/usr/bin/env python
"""Train the shipped AdaIN decoder (`kerasviz/faststyle/weights/adain_decoder.keras`) offline.

Content: every colour / grey photo that ships with scikit-image, scikit-learn's sample images and
matplotlib's `grace_hopper.jpg`, except the held-out `astronaut`, `rocket` and `camera`. Styles:
the shipped paintings except the held-out `udnie.jpg`, scikit-image textures (brick, grass, gravel)
and colourful photos used as styles, each expanded into augmented variants (`style_variants`).
Interrupt it and run the same command again: it resumes from the newest checkpoint (the style
bank is cached in the checkpoint folder). `kerasviz/faststyle/weights/ADAIN.md` has the command.

    python scripts/train_arbitrary_style.py --work /tmp/kv/adain/run --steps 2000 \
        --save kerasviz/faststyle/weights/adain_decoder.keras
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402

#: Held out of training: the evaluation photos and the "never seen" painting.
HELD_OUT_PHOTOS = ("astronaut", "rocket", "camera")
HELD_OUT_PAINTINGS = ("udnie.jpg",)
CONTENT_SKIMAGE = ("chelsea", "coffee", "immunohistochemistry", "hubble_deep_field", "retina", "coins",
                   "clock", "moon", "page", "text", "brick", "grass", "gravel", "colorwheel")
STYLE_PAINTINGS = ("starry_night.jpg", "great_wave.jpg")
STYLE_SKIMAGE = ("brick", "grass", "gravel", "immunohistochemistry", "hubble_deep_field", "coffee",
                 "chelsea", "colorwheel", "retina")


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.asarray(image[..., :3], np.float32)


def content_photos() -> dict:
    """name -> `(H, W, 3)` float32 training photo (held-out ones excluded)."""
    import matplotlib.cbook
    import skimage.data
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = {name: _rgb(getattr(skimage.data, name)()) for name in CONTENT_SKIMAGE}
    sample = load_sample_images()
    for name, image in zip(sample.filenames, sample.images):
        photos[Path(name).stem] = _rgb(image)
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        photos["grace_hopper"] = _rgb(np.asarray(Image.open(file).convert("RGB")))
    assert not set(photos) & set(HELD_OUT_PHOTOS)
    return photos


def style_sources() -> dict:
    """name -> `(H, W, 3)` float32 style source (the held-out painting excluded)."""
    import skimage.data

    from kerasviz.images import load_image

    folder = Path(__file__).resolve().parents[1] / "kerasviz" / "data" / "styles"
    styles = {name: _rgb(load_image(folder / name)) for name in STYLE_PAINTINGS}
    styles.update({name: _rgb(getattr(skimage.data, name)()) for name in STYLE_SKIMAGE})
    assert not set(styles) & set(HELD_OUT_PAINTINGS)
    return styles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="folder for the content copies, style bank and checkpoints")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--style-weight", type=float, default=10.0)
    parser.add_argument("--identity-weight", type=float, default=0.0,
                        help="weight of the identity loss (the photo as its own style gives it back)")
    parser.add_argument("--variants", type=int, default=240, help="augmented style variants in the bank")
    parser.add_argument("--style-size", type=int, default=256)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--save", help="write the trained decoder (.keras) here, and a .json recipe beside it")
    args = parser.parse_args()

    from PIL import Image

    from kerasviz.faststyle.train_arbitrary import StyleBank, style_bank, style_variants, train_arbitrary_stylizer

    work = Path(args.work)
    content = work / "content"
    if not content.is_dir():
        content.mkdir(parents=True)
        for name, photo in content_photos().items():
            Image.fromarray(photo.astype(np.uint8)).save(content / f"{name}.png")
    bank_file = work / f"style_bank_{args.variants}_{args.style_size}.npz"
    if bank_file.is_file():
        data = np.load(bank_file)
        bank = StyleBank({k[5:]: data[k] for k in data if k.startswith("mean_")},
                         {k[4:]: data[k] for k in data if k.startswith("std_")})
    else:
        started = time.time()
        variants = style_variants(list(style_sources().values()), args.variants, args.style_size)
        bank = style_bank(variants)
        np.savez(bank_file, **{f"mean_{k}": v for k, v in bank.means.items()},
                 **{f"std_{k}": v for k, v in bank.stds.items()})
        Image.fromarray(np.concatenate(list(variants[:48:4]), axis=1).astype(np.uint8)).save(work / "style_variants.png")
        print(f"style bank: {len(bank)} variants in {time.time() - started:.0f} s", flush=True)
    started = time.time()
    result = train_arbitrary_stylizer(
        str(content), bank, steps=args.steps, image_size=args.image_size, batch_size=args.batch_size,
        width=args.width, learning_rate=args.learning_rate, style_weight=args.style_weight, identity_weight=args.identity_weight,
        checkpoint_dir=work / "ckpt", checkpoint_every=args.checkpoint_every)
    done = result.step - result.start_step
    seconds = time.time() - started
    print(f"trained steps {result.start_step}..{result.step} in {seconds:.0f} s "
          f"({seconds / max(done, 1):.2f} s/step); last: {result.history[-1] if result.history else None}", flush=True)
    if args.save:
        result.decoder.save(args.save)
        recipe = {**vars(args), "steps_done": result.step, "content": sorted(p.stem for p in content.iterdir()),
                  "styles": sorted(style_sources()), "held_out_photos": HELD_OUT_PHOTOS,
                  "held_out_paintings": HELD_OUT_PAINTINGS, "last_losses": result.history[-1:] or None}
        Path(args.save).with_suffix(".json").write_text(json.dumps(recipe, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
