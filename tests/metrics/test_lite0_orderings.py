"""Known orderings on EfficientNet-Lite0 (real ImageNet weights) and the bundled photos (slow)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import kerasviz
from kerasviz import metrics as kvm

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "cat", "horse", "coins", "clock")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photos(lite0):
    from kerasviz.images import sample_image

    images = np.stack([sample_image(name, size=224) for name in PHOTOS]).astype(np.float32)
    targets = kvm.inputs.resolve_targets(lite0, images, None)
    return images, targets


def smooth_random(model, images, targets):
    """A smooth random map per image (seeded): a method that knows nothing."""
    rng = np.random.default_rng(0)
    return np.stack([ndimage.gaussian_filter(rng.random(images.shape[1:3]), 16) for _ in images])


def edge_detector(model, images, targets):
    """Sobel edge magnitude of the image: ignores the model and the class."""
    gray = np.asarray(images, np.float64).mean(axis=-1)
    return np.stack([np.hypot(ndimage.sobel(g, 0), ndimage.sobel(g, 1)) for g in gray])


def test_road_prefers_gradcam_to_a_smooth_random_map(lite0, photos):
    images, targets = photos
    settings = kvm.quick_settings("road", 224, 224)
    cam = np.asarray(kerasviz.gradcam(lite0, images, targets))
    ours = kvm.road(cam, model=lite0, images=images, targets=targets, **settings)
    chance = kvm.road(smooth_random(lite0, images, targets), model=lite0, images=images,
                      targets=targets, **settings)
    # Lower is better: removing Grad-CAM's top pixels destroys the prediction sooner.
    assert ours.mean() < chance.mean() - 0.1


def test_input_invariance_separates_saliency_from_gradient_x_input(lite0, photos):
    images, targets = photos[0][:2], photos[1][:2]
    for method, expected in ((kerasviz.saliency, 1.0), (kerasviz.gradient_x_input, 0.0)):
        maps = kvm.inputs.explain(method, lite0, images, targets, metric="test")
        scores = kvm.input_invariance(maps, model=lite0, images=images, targets=targets,
                                      method=method)
        assert np.all(scores == expected), (method.__name__, scores)


def test_random_logit_and_mprt_flag_an_edge_detector(lite0, photos):
    images, targets = photos[0][:3], photos[1][:3]
    edges = edge_detector(lite0, images, targets)
    cam = np.asarray(kerasviz.gradcam(lite0, images, targets))
    common = {"model": lite0, "images": images, "targets": targets}
    edge_logit = kvm.random_logit(edges, **common, method=edge_detector)
    cam_logit = kvm.random_logit(cam, **common, method=kerasviz.gradcam)
    assert np.allclose(edge_logit, 1.0) and cam_logit.max() < 0.9  # same map for any class
    layers = ["predictions", "top_conv", "block7a_project_conv", "block6d_project_conv"]
    edge_mprt = kvm.model_parameter_randomisation(edges, **common, method=edge_detector,
                                                  layers=layers)
    cam_mprt = kvm.model_parameter_randomisation(cam, **common, method=kerasviz.gradcam,
                                                 layers=layers)
    # Edges ignore the weights; Grad-CAM decorrelates (NaN: its map went constant, as Quantus).
    assert np.allclose(edge_mprt, 1.0) and np.nanmax(cam_mprt) < 0.5
    edge_e = kvm.efficient_mprt(edges, **common, method=edge_detector, layers=layers)
    assert np.allclose(edge_e, 0.0)
