"""Feature inversion on real Lite0 weights: early layers reconstruct better than late ones."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from kerasviz.errors import ImageError, LayerNotFoundError, ParameterError
from kerasviz.images import sample_image
from kerasviz.synthesis.inversion import invert_features


@pytest.fixture(scope="module")
def photo():
    return sample_image("chelsea", size=128)


def _quality(photo, image):
    image = image.astype(np.float32)
    return (
        peak_signal_noise_ratio(photo, image, data_range=255),
        structural_similarity(photo, image, channel_axis=-1, data_range=255),
    )


@pytest.mark.slow
def test_early_layers_reconstruct_better_than_late_ones(lite0, photo):
    early = invert_features(lite0, photo, "block2b_add", steps=100)
    late = invert_features(lite0, photo, "block6d_add", steps=100)
    assert early.shape == photo.shape and early.dtype == np.uint8
    psnr_early, ssim_early = _quality(photo, early)
    psnr_late, ssim_late = _quality(photo, late)
    # measured at 150 steps: block2b_add PSNR 19.9 dB / SSIM 0.58; block6d_add 14.8 dB / 0.11
    assert psnr_early > 18.0 and ssim_early > 0.45
    assert psnr_early > psnr_late + 2.0 and ssim_early > ssim_late + 0.2


def test_bad_input(lite0, photo):
    with pytest.raises(LayerNotFoundError):
        invert_features(lite0, photo, "nope", steps=1)
    with pytest.raises(ParameterError):
        invert_features(lite0, photo, "block2b_add", steps=1, tv_weight=-1)
    with pytest.raises(ParameterError):
        invert_features(lite0, photo, "block2b_add", steps=0)
    with pytest.raises(ImageError):
        invert_features(lite0, np.stack([photo, photo]), "block2b_add", steps=1)
