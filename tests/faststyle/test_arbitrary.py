"""`stylize_arbitrary` with the shipped AdaIN network: shapes, interpolation, colour, bad input."""

import numpy as np
import pytest

from kerasviz.errors import ImageError, KerasvizError, ModelError, ParameterError, WeightsUnavailableError
from kerasviz.faststyle.arbitrary import (
    ARBITRARY_DECODER_PATH,
    MAX_STYLE_PIXELS,
    load_arbitrary_decoder,
    load_arbitrary_stylizer,
    match_colour,
    prepare_style,
    stylize_arbitrary,
)
from kerasviz.images import load_image

#: Style side of the quick tests (the encoder's cost grows with it; the default is 256).
SMALL = 48


@pytest.fixture(scope="session")
def stylizer():
    """The shipped network (offline: the decoder file ships in the package)."""
    return load_arbitrary_stylizer()


@pytest.fixture(scope="session")
def photo():
    return load_image("skimage:astronaut", 64)


@pytest.fixture(scope="session")
def paintings():
    return [load_image(f"painting:{name}", 96) for name in ("udnie", "great_wave")]


def test_shipped_decoder_is_small_and_loads_offline(stylizer):
    assert ARBITRARY_DECODER_PATH.is_file() and ARBITRARY_DECODER_PATH.stat().st_size < 8e6
    assert stylizer is load_arbitrary_stylizer()  # cached
    assert sorted(t.name for t in stylizer.inputs) == ["alpha", "content", "style"]


def test_shapes_range_and_any_size(stylizer, photo, paintings):
    out = stylize_arbitrary(photo[:45, :61], paintings[0], stylizer=stylizer, style_size=SMALL)
    assert out.shape == (45, 61, 3) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    batch = stylize_arbitrary(np.stack([photo, photo[::-1]]), paintings[0], stylizer=stylizer, style_size=SMALL)
    assert batch.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(batch[0], stylize_arbitrary(photo, paintings[0], stylizer=stylizer, style_size=SMALL), atol=0.05)


def test_agrees_with_the_one_keras_model(stylizer, photo, paintings):
    style = prepare_style(paintings[0], SMALL)  # what stylize_arbitrary feeds the encoder
    model_out = stylizer({"content": photo[None], "style": style[None], "alpha": np.full(1, 0.7, "float32")})
    ours = stylize_arbitrary(photo, paintings[0], alpha=0.7, stylizer=stylizer, style_size=SMALL)
    np.testing.assert_allclose(ours, np.clip(model_out.numpy()[0], 0, 255), atol=0.05)


def test_alpha_moves_from_the_reconstruction_to_the_style(stylizer, photo, paintings):
    outs = [stylize_arbitrary(photo, paintings[1], alpha=a, stylizer=stylizer, style_size=SMALL) for a in (0.0, 0.5, 1.0)]
    other = stylize_arbitrary(photo, paintings[0], alpha=0.0, stylizer=stylizer, style_size=SMALL)
    np.testing.assert_allclose(outs[0], other, atol=0.05)  # alpha 0: the style does not matter
    assert np.abs(outs[2] - outs[0]).mean() > np.abs(outs[1] - outs[0]).mean() > 1.0


def test_interpolation_mixes_the_adain_targets(stylizer, photo, paintings):
    single = [stylize_arbitrary(photo, p, stylizer=stylizer, style_size=SMALL) for p in paintings]
    ends = [stylize_arbitrary(photo, paintings, style_weights=w, stylizer=stylizer, style_size=SMALL) for w in ([1, 0], [0, 1])]
    np.testing.assert_allclose(ends[0], single[0], atol=0.05)
    np.testing.assert_allclose(ends[1], single[1], atol=0.05)
    middle = stylize_arbitrary(photo, paintings, stylizer=stylizer, style_size=SMALL)  # equal weights by default
    assert np.abs(middle - single[0]).mean() > 1 and np.abs(middle - single[1]).mean() > 1


def test_match_colour_gives_the_content_colour_statistics():
    rng = np.random.default_rng(0)
    style = (rng.uniform(0, 1, (40, 50, 3)) @ np.array([[120, 10, 0], [0, 60, 0], [20, 0, 90]])).astype("float32")
    content = rng.uniform(60, 200, (30, 30, 3)).astype("float32")
    out = match_colour(style, content)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), content.reshape(-1, 3).mean(axis=0), atol=0.5)
    np.testing.assert_allclose(np.cov(out.reshape(-1, 3), rowvar=False), np.cov(content.reshape(-1, 3), rowvar=False),
                               atol=3.0)


def test_preserve_color_keeps_the_photo_colours(stylizer, photo, paintings):
    plain = stylize_arbitrary(photo, paintings[1], stylizer=stylizer, style_size=SMALL)
    kept = stylize_arbitrary(photo, paintings[1], preserve_color=True, stylizer=stylizer, style_size=SMALL)
    photo_mean = photo.reshape(-1, 3).mean(axis=0)
    assert np.abs(kept.reshape(-1, 3).mean(axis=0) - photo_mean).sum() < np.abs(
        plain.reshape(-1, 3).mean(axis=0) - photo_mean).sum()


def test_grey_and_opaque_rgba_styles_are_accepted(stylizer, photo, paintings):
    grey = paintings[0].mean(axis=-1)
    as_rgb = stylize_arbitrary(photo, np.repeat(grey[..., None], 3, axis=-1), stylizer=stylizer, style_size=SMALL)
    np.testing.assert_allclose(stylize_arbitrary(photo, grey, stylizer=stylizer, style_size=SMALL), as_rgb, atol=0.05)
    np.testing.assert_allclose(stylize_arbitrary(photo, grey[..., None], stylizer=stylizer, style_size=SMALL), as_rgb, atol=0.05)
    opaque = np.concatenate([paintings[0], np.full(paintings[0].shape[:2] + (1,), 255.0, "float32")], axis=-1)
    np.testing.assert_allclose(stylize_arbitrary(photo, opaque, stylizer=stylizer, style_size=SMALL),
                               stylize_arbitrary(photo, paintings[0], stylizer=stylizer, style_size=SMALL), atol=0.05)


@pytest.mark.parametrize(
    "style, match",
    [
        (np.zeros((20, 64, 3)), "at least 32"),
        (np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (8000, 6000, 3)), "larger than"),
        (np.concatenate([np.zeros((40, 40, 3)), np.full((40, 40, 1), 128.0)], axis=-1), "transparent"),
        (np.zeros((40, 40, 2)), "one image"),
        (np.zeros((2, 40, 40, 3)), "one image"),
        (np.full((40, 40, 3), 300.0), r"\[0, 255\]"),
    ],
    ids=["tiny", "huge", "transparent", "two-channels", "batch", "out-of-range"],
)
def test_bad_style_images_are_refused(photo, style, match):
    with pytest.raises(ImageError, match=match):
        stylize_arbitrary(photo, style)


def test_bad_parameters_are_refused(photo, paintings):
    assert MAX_STYLE_PIXELS == 40_000_000
    for alpha in (-0.1, 1.5, float("nan")):
        with pytest.raises(ParameterError, match="alpha"):
            stylize_arbitrary(photo, paintings[0], alpha=alpha)
    for weights in ([0.5], [0.5, 0.6], [-0.5, 1.5], [0.5, float("nan")]):
        with pytest.raises(ParameterError, match="style_weights"):
            stylize_arbitrary(photo, paintings, style_weights=weights)
    with pytest.raises(ImageError, match="at least one"):
        stylize_arbitrary(photo, [])
    with pytest.raises(ImageError, match="16"):
        stylize_arbitrary(photo[:10], paintings[0])
    with pytest.raises(ImageError):
        stylize_arbitrary(photo[..., 0], paintings[0])  # grey content: use kv.load_image
    with pytest.raises(ParameterError, match="preserve_color"):
        stylize_arbitrary(photo, paintings[0], preserve_color="yes")
    with pytest.raises(ModelError, match="load_arbitrary_stylizer"):
        stylize_arbitrary(photo, paintings[0], stylizer=object())


def test_missing_or_wrong_decoder_files(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="No AdaIN decoder"):
        load_arbitrary_decoder(tmp_path / "none.keras")
    (tmp_path / "bad.keras").write_bytes(b"not a keras file")
    with pytest.raises(KerasvizError, match="not a saved AdaIN decoder"):
        load_arbitrary_decoder(tmp_path / "bad.keras")


@pytest.mark.slow
def test_style_strength_on_held_out_photos(stylizer):
    """Measured bounds of the shipped CPU-trained decoder (weights/ADAIN.md): a seen painting pulls
    the held-out photos' Grams well towards it (measured 0.30, 0.39, 0.50); the held-out painting
    udnie does NOT reach the issue's 0.5 target (measured 0.56, 0.59, 0.93): this guards
    against regressions only."""
    from kerasviz.faststyle.style_strength import style_strength

    photos = np.stack([load_image(f"skimage:{name}", 256) for name in ("astronaut", "rocket", "camera")])
    paintings = [load_image("painting:great_wave"), load_image("painting:udnie")]  # udnie: held out of training
    seen = style_strength(stylize_arbitrary(photos, paintings[0], stylizer=stylizer), photos, paintings, 0)
    assert seen.strength.max() < 0.65, seen.strength
    unseen = style_strength(stylize_arbitrary(photos, paintings[1], stylizer=stylizer), photos, paintings, 1)
    assert unseen.strength.max() < 1.3, unseen.strength

@pytest.mark.slow
def test_demo_panel_renders(tmp_path):
    from kerasviz.demo import DemoContext
    from kerasviz.demo.arbitrary_style import PANELS, render_arbitrary_style

    picture, details = render_arbitrary_style(DemoContext(out=tmp_path, quick=True))
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[1] >= 5 * 128
    assert "udnie" in details and "held out of training" in details
    assert PANELS[0].family == "style" and PANELS[0].name == "arbitrary_style"
