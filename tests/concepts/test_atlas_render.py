"""Atlas cells look like Lucid's: each rendering points along its own direction, in colour, not noise.

The measures (`atlas_quality`): fed back through the model, a cell's picture has a higher cosine
with its own direction than with the others' and than a random image; colourfulness
(Hasler-Süsstrunk) and the share of high-frequency energy tell saturated, smooth renderings
from grey noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.concepts.atlas_quality import colorfulness, direction_cosines, high_frequency_ratio
from kerasviz.concepts.atlas_render import ATLAS_TRANSFORMS, direction_objective, render_directions
from kerasviz.errors import ParameterError


def test_colourfulness_and_high_frequency_tell_grey_noise_from_smooth_colour():
    grey = np.full((32, 32, 3), 128.0)
    assert colorfulness(grey)[0] == 0.0 and high_frequency_ratio(grey)[0] == 0.0
    halves = np.zeros((32, 32, 3))
    halves[:, :16] = (255, 0, 0)
    halves[:, 16:] = (0, 0, 255)
    assert colorfulness(halves)[0] > 100  # Hasler-Süsstrunk: "extremely colourful" beyond 109
    checker = np.indices((32, 32)).sum(axis=0) % 2 * 255.0
    checker = np.repeat(checker[..., None], 3, axis=-1)
    assert colorfulness(checker)[0] == 0.0 and high_frequency_ratio(checker)[0] > 0.99
    wave = 127.5 + 100 * np.cos(2 * np.pi * 2 * np.arange(32) / 32)  # 2 cycles: 1/16 cycles per pixel
    wave = np.broadcast_to(wave[None, :, None], (32, 32, 3))
    assert high_frequency_ratio(wave)[0] < 1e-6
    with pytest.raises(ParameterError, match="cutoff"):
        high_frequency_ratio(wave, cutoff=0.9)


def test_direction_cosines_of_an_image_with_its_own_activation_is_one(cnn, digit_images):
    import tensorflow as tf

    from kerasviz.features import FeatureModel

    maps = FeatureModel(cnn, ["conv3"], logits=False)(tf.constant(digit_images[:5]))["conv3"].numpy()
    cos = direction_cosines(cnn, "conv3", digit_images[:5], maps.mean(axis=(1, 2)))
    assert cos.shape == (5, 5) and np.allclose(np.diag(cos), 1.0, atol=1e-5)
    with pytest.raises(ParameterError, match=r"\(K, 16\)"):
        direction_cosines(cnn, "conv3", digit_images[:2], np.ones((2, 3)))
    with pytest.raises(ParameterError, match="directions"):
        direction_objective("conv3", np.ones(16))


def _own_vs_others(cos: np.ndarray) -> tuple[float, float]:
    return float(np.diag(cos).mean()), float(cos[~np.eye(len(cos), dtype=bool)].mean())


def test_rendered_cells_point_along_their_own_direction_with_one_trace(trained_cnn, zoo_digits):
    from kerasviz.synthesis.ascent_options import Ascent, Execution, Regularization
    from kerasviz.synthesis.optimize import optimize

    # the digit CNN's mean activations all point one way (cosine ~0.98); its six liveliest
    # channels are directions far apart
    images = zoo_digits[0][600:700].astype(np.float32)
    pooled = direction_cosines(trained_cnn, "conv3", images, np.eye(16))
    directions = np.eye(16, dtype=np.float32)[np.argsort(-pooled.mean(axis=0))[:6]]
    pictures = render_directions(trained_cnn, "conv3", directions, size=32, steps=96, batch=4, progress=False)
    assert pictures.shape == (6, 32, 32, 3) and pictures.dtype == np.uint8
    own, others = _own_vs_others(direction_cosines(trained_cnn, "conv3", pictures, directions))
    noise = np.random.default_rng(0).uniform(0, 255, (6, 32, 32, 3))
    own_noise, _ = _own_vs_others(direction_cosines(trained_cnn, "conv3", noise, directions))
    assert own > others + 0.1 and own > own_noise + 0.1, (own, others, own_noise)
    # chunks of 4 and 2 cells ran through one compiled loop, traced once
    again = optimize(trained_cnn, direction_objective("conv3", directions[:3]), param="fourier", size=32, steps=1,
                     ascent=Ascent(optimizer="adam", step_size=0.02), regularization=Regularization(ATLAS_TRANSFORMS),
                     execution=Execution(progress=False))
    assert again.function.experimental_get_tracing_count() == 1
    with pytest.raises(ParameterError, match="size"):
        render_directions(trained_cnn, "conv3", directions, size=16)


@pytest.mark.slow
def test_lite0_cells_are_on_direction_colourful_and_smooth_unlike_the_grey_renderer():
    """Lite0 (ImageNet weights): the Lucid recipe vs the former decorrelated-pixel, 48-step renderer."""
    from sklearn.cluster import KMeans

    from kerasviz.backbones import load_backbone
    from kerasviz.concepts.pictures import bundled_crops
    from kerasviz.synthesis.ascent_options import Execution
    from kerasviz.synthesis.optimize import optimize

    backbone = load_backbone("efficientnet_lite0")
    layer = backbone.gradcam_layer
    crops = bundled_crops(24, 160)
    pooled = direction_cosines(backbone, layer, crops, np.eye(1280))
    directions = KMeans(6, random_state=0, n_init=4).fit(pooled).cluster_centers_.astype(np.float32)
    new = render_directions(backbone, layer, directions, size=64, steps=160, progress=False)
    old = optimize(backbone, direction_objective(layer, directions, 2.0), param="decorrelated", steps=48, size=64,
                   batch=6, execution=Execution(progress=False)).uint8()
    own, others = _own_vs_others(direction_cosines(backbone, layer, new, directions))
    assert own > 0.5 and own > others + 0.2, (own, others)
    assert np.mean(np.argmax(direction_cosines(backbone, layer, new, directions), axis=1) == np.arange(6)) >= 5 / 6
    assert colorfulness(new).mean() > 40 and colorfulness(new).mean() > 3 * colorfulness(old).mean()
    assert high_frequency_ratio(new).mean() < 0.5 * high_frequency_ratio(old).mean()
