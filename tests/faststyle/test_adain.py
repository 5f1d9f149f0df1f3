"""AdaIN building blocks: the AdaIN formula, the decoder, the one-model stylizer, and training."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ParameterError
from kerasviz.faststyle.adain import (
    ADAIN_LAYER,
    ENCODER_LAYERS,
    EPSILON,
    AdaptiveInstanceNormalization,
    adain,
    build_arbitrary_stylizer,
    build_decoder,
    build_encoder,
    channel_moments,
)
from kerasviz.faststyle.train_arbitrary import style_bank, style_variants, train_arbitrary_stylizer


@pytest.fixture(scope="session")
def small_decoder():
    """A narrow decoder with random weights (width 16)."""
    tf.keras.utils.set_random_seed(5)
    return build_decoder(16)


@pytest.fixture(scope="session")
def small_stylizer(small_decoder):
    return build_arbitrary_stylizer(small_decoder)


def test_adain_matches_the_formula_and_blends_with_alpha():
    rng = np.random.default_rng(0)
    content = rng.normal(2.0, 3.0, (2, 5, 6, 4)).astype("float32")
    mean = rng.normal(size=(2, 4)).astype("float32")
    std = rng.uniform(0.5, 2, (2, 4)).astype("float32")
    mu = content.mean(axis=(1, 2), keepdims=True)
    sigma = np.sqrt(content.var(axis=(1, 2), keepdims=True) + EPSILON)
    expected = (content - mu) / sigma * std[:, None, None] + mean[:, None, None]
    np.testing.assert_allclose(adain(content, mean, std).numpy(), expected, rtol=1e-4, atol=1e-4)
    alpha = np.array([0.0, 0.25], "float32")
    blended = adain(content, mean, std, alpha).numpy()
    np.testing.assert_allclose(blended[0], content[0], atol=1e-5)
    np.testing.assert_allclose(blended[1], 0.25 * expected[1] + 0.75 * content[1], rtol=1e-4, atol=1e-4)
    out_mean, out_std = channel_moments(tf.constant(expected))
    np.testing.assert_allclose(out_mean.numpy(), mean, atol=1e-4)
    np.testing.assert_allclose(out_std.numpy(), std, rtol=1e-3)


def test_adain_layer_takes_the_style_features_moments():
    rng = np.random.default_rng(1)
    content = rng.normal(size=(1, 4, 4, 3)).astype("float32")
    style = rng.normal(5, 2, (1, 7, 3, 3)).astype("float32")
    layer = AdaptiveInstanceNormalization()
    mean, std = channel_moments(tf.constant(style))
    np.testing.assert_allclose(layer([content, style, np.ones(1, "float32")]).numpy(),
                               adain(content, mean, std).numpy(), rtol=1e-5, atol=1e-5)


def test_decoder_upsamples_8x_and_stays_small():
    decoder = build_decoder(128)
    assert decoder(np.zeros((1, 2, 3, 512), "float32")).shape == (1, 16, 24, 3)
    assert decoder.count_params() < 1.5e6  # about 4.7 MB in float32
    assert decoder.name == "adain_decoder"


def test_stylizer_is_one_model_with_the_exported_interface(small_stylizer):
    names = sorted(t.name for t in small_stylizer.inputs)
    assert names == ["alpha", "content", "style"]
    rng = np.random.default_rng(2)
    content = rng.uniform(0, 255, (2, 37, 50, 3)).astype("float32")  # not multiples of 8
    style = rng.uniform(0, 255, (2, 40, 33, 3)).astype("float32")
    out = small_stylizer({"content": content, "style": style, "alpha": np.ones(2, "float32")})
    assert out.shape == (2, 37, 50, 3)
    assert np.isfinite(out.numpy()).all()


def test_stylizer_ignores_the_style_at_alpha_0_only(small_stylizer):
    rng = np.random.default_rng(3)
    content = rng.uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    style_a = rng.uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    style_b = (rng.uniform(0, 60, (1, 48, 40, 3)) + np.array([190, 0, 0])).astype("float32")

    def run(style, alpha):
        return small_stylizer({"content": content, "style": style, "alpha": np.full(1, alpha, "float32")}).numpy()

    np.testing.assert_allclose(run(style_a, 0.0), run(style_b, 0.0), atol=1e-3)
    assert np.abs(run(style_a, 1.0) - run(style_b, 1.0)).max() > 1e-2


def test_style_variants_are_augmented_and_grey_textures_coloured():
    rng = np.random.default_rng(4)
    colour = rng.uniform(0, 255, (80, 100, 3)).astype("float32")
    grey = np.repeat(rng.uniform(0, 255, (64, 64, 1)), 3, axis=-1).astype("float32")
    variants = style_variants([colour, grey], 6, size=32, seed=0)
    assert variants.shape == (6, 32, 32, 3) and variants.min() >= 0 and variants.max() <= 255
    expected = tf.image.resize(colour, (32, 40), antialias=True).numpy()[:, 4:36]
    np.testing.assert_allclose(variants[0], np.clip(expected, 0, 255), atol=1e-3)  # first: whole, own colours
    assert np.ptp(variants[3] - variants[3][..., :1]) > 1  # a later grey variant got a palette
    assert len({v.tobytes() for v in variants}) == 6
    with pytest.raises(ParameterError, match="at least one"):
        style_variants([], 2)


@pytest.fixture(scope="session")
def tiny_bank():
    rng = np.random.default_rng(5)
    return style_bank(style_variants([rng.uniform(0, 255, (48, 48, 3)).astype("float32")], 2, size=32))


def test_training_checks_its_arguments(tiny_bank, tmp_path):
    assert len(tiny_bank) == 2 and tiny_bank.means[ADAIN_LAYER].shape == (2, 512)
    photos = np.zeros((2, 40, 40, 3), "float32")
    with pytest.raises(ParameterError, match="multiple of 8"):
        train_arbitrary_stylizer(photos, tiny_bank, steps=1, image_size=36)
    with pytest.raises(ParameterError, match="StyleBank"):
        train_arbitrary_stylizer(photos, "starry_night.jpg", steps=1)
    (tmp_path / "transform_net.json").write_text('{"kind": "adain_decoder", "width": 8}')
    with pytest.raises(ParameterError, match="different network"):
        train_arbitrary_stylizer(photos, tiny_bank, steps=1, width=16, checkpoint_dir=tmp_path)


def test_training_resumes_from_its_checkpoint(tiny_bank, tmp_path):
    rng = np.random.default_rng(5)
    photos = rng.uniform(0, 255, (3, 40, 40, 3)).astype("float32")
    kwargs = dict(image_size=32, batch_size=2, width=8, checkpoint_dir=tmp_path, checkpoint_every=2, progress=False)
    first = train_arbitrary_stylizer(photos, tiny_bank, steps=2, **kwargs)
    assert first.step == 2 and first.checkpoint is not None
    resumed = train_arbitrary_stylizer(photos, tiny_bank, steps=3, **kwargs)
    assert resumed.start_step == 2 and resumed.step == 3
    assert set(resumed.history[-1]) == {"step", "loss", "content", "style", "identity"}
    assert resumed.history[-1]["identity"] == 0.0  # identity_weight 0: the term is left out
    restored = resumed.decoder.get_layer("dec1_2").get_weights()[0]
    again = train_arbitrary_stylizer(photos, tiny_bank, steps=3, **kwargs)  # nothing left to do
    assert again.start_step == 3 and again.history == []
    np.testing.assert_array_equal(again.decoder.get_layer("dec1_2").get_weights()[0], restored)


def test_identity_loss_is_the_photo_given_back_through_the_decoder(tiny_bank):
    photos = np.broadcast_to(np.float32([120, 80, 200]), (2, 40, 40, 3))  # every crop the same
    result = train_arbitrary_stylizer(photos, tiny_bank, steps=1, image_size=32, batch_size=2, width=8,
                                      learning_rate=1e-12, identity_weight=2.0, seed=3, progress=False)
    record = result.history[-1]
    tf.keras.utils.set_random_seed(3)
    decoder = build_decoder(8)  # the same initial weights
    encoder = build_encoder(ENCODER_LAYERS)
    photo = encoder(photos[:, :32, :32])
    rebuilt = encoder(decoder(photo[ADAIN_LAYER]))
    expected = sum(float(np.mean(np.square(rebuilt[name] - photo[name]))) for name in ENCODER_LAYERS)
    assert record["identity"] == pytest.approx(expected, rel=1e-3)
    assert record["loss"] == pytest.approx(record["content"] + 10 * record["style"] + 2 * expected, rel=1e-3)


@pytest.mark.slow
def test_training_lowers_the_loss():
    rng = np.random.default_rng(6)
    photos = rng.uniform(0, 255, (4, 48, 48, 3)).astype("float32")
    bank = style_bank(style_variants([np.full((48, 48, 3), (200.0, 60.0, 30.0)) + rng.normal(0, 20, (48, 48, 3))],
                                     1, size=32))
    result = train_arbitrary_stylizer(photos, bank, steps=60, image_size=32, batch_size=2, width=16,
                                      learning_rate=1e-3, progress=False)
    losses = [h["loss"] for h in result.history]
    assert np.mean(losses[-2:]) < 0.5 * np.mean(losses[:2])
