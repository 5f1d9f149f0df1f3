"""Fooling images and FGSM / PGD on real Lite0 weights at its 224 input."""

import numpy as np
import pytest

from kerasviz.errors import ImageError, ParameterError, TargetError
from kerasviz.images import sample_image
from kerasviz.synthesis.adversarial import FoolingReport, adversarial_example, fooling_image


def test_fooling_image_reaches_the_target_with_a_tiny_change(lite0, chelsea):
    image, report = fooling_image(lite0, chelsea, 1)
    assert isinstance(report, FoolingReport)
    assert image.shape == chelsea.shape and image.dtype == np.float32
    assert report.original_class[0] == 285 and report.fooled[0] and report.predicted_class[0] == 1
    assert lite0.predict(image).argmax() == 1
    # measured: 8 steps, mean |change| 0.90 pixel levels, L∞ 18.5, target probability 0.99
    assert report.mean_abs_change[0] < 2.0
    np.testing.assert_allclose(report.mean_abs_change[0], np.abs(image - chelsea).mean(), rtol=1e-5)
    assert 0 < report.steps[0] <= 200


def test_fooling_an_image_already_of_the_target_changes_nothing(lite0, chelsea):
    image, report = fooling_image(lite0, chelsea, 285)
    np.testing.assert_array_equal(image, chelsea)
    assert report.steps[0] == 0 and report.linf[0] == 0


@pytest.fixture(scope="module")
def bundled():
    names = ["chelsea", "coffee", "astronaut", "rocket", "brick", "grass", "gravel", "camera"]
    return np.stack([sample_image(name, size=224) for name in names])


@pytest.mark.slow
def test_pgd_at_two_levels_flips_most_bundled_images(lite0, bundled):
    before = lite0.predict(bundled).argmax(axis=1)
    adversarial = adversarial_example(lite0, bundled, 2.0, method="pgd", steps=8)
    assert adversarial.shape == bundled.shape and adversarial.dtype == np.float32
    assert np.abs(adversarial - bundled).max() <= 2.0 + 1e-4
    assert 0 <= adversarial.min() and adversarial.max() <= 255
    flipped = lite0.predict(adversarial).argmax(axis=1) != before
    # measured: PGD (10 steps of 0.5) flips 8 / 8, FGSM flips 8 / 8 too on Lite0
    assert flipped.mean() >= 0.75, flipped


def test_fgsm_is_one_signed_step_of_eps_and_targeted_pgd_reaches_the_target(lite0, chelsea, coffee):
    fgsm = adversarial_example(lite0, chelsea, 1.0, method="fgsm")
    change = np.abs(fgsm - chelsea)
    assert change.max() <= 1.0 + 1e-4 and np.mean(np.isclose(change, 1.0, atol=1e-3)) > 0.95
    targeted = adversarial_example(lite0, np.stack([chelsea, coffee]), 4.0, target=[1, 1], steps=10)
    assert (lite0.predict(targeted).argmax(axis=1) == 1).all()


def test_bad_input(lite0, chelsea):
    with pytest.raises(TargetError):
        fooling_image(lite0, chelsea, 1000)
    with pytest.raises(ParameterError):
        fooling_image(lite0, chelsea, 1, confidence=1.0)
    with pytest.raises(ParameterError):
        fooling_image(lite0, chelsea, 1, step_size=float("nan"))
    with pytest.raises(ImageError):
        fooling_image(lite0, chelsea * 2, 1)
    with pytest.raises(ParameterError):
        adversarial_example(lite0, chelsea, 0.0)
    with pytest.raises(ParameterError):
        adversarial_example(lite0, chelsea, 2.0, method="cw")
    with pytest.raises(ParameterError):
        adversarial_example(lite0, chelsea, 2.0, steps=0)
    with pytest.raises(TargetError):
        adversarial_example(lite0, chelsea, 2.0, target=[1, 2])
