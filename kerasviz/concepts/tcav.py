"""TCAV (Kim et al. 2018): how much a human concept drives a class, with a significance test.

A *concept activation vector* (CAV) is the normal of a linear classifier (scikit-learn logistic
regression) separating a layer's activations of concept images from those of random images; the
TCAV score of a class is the fraction of its images whose class logit *increases* along the CAV
(directional derivative `grad_layer logit . cav > 0`). As in the paper, this is repeated `runs`
times against different random sets, and the concept's scores are compared with those of CAVs
between two random sets by a two-sided t-test: a concept matters when its p-value is small.
Activations are the whole layer, flattened (`pooled=True` averages over positions instead).
The gradients of the class images are computed once (they do not depend on the CAV).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_bool, check_int
from ..errors import ParameterError
from ..images import as_image_batch

__all__ = ["TCAVResult", "concept_activation_vector", "tcav"]


class TCAVResult(NamedTuple):
    """What `tcav` returns.

    Attributes:
        score: Mean TCAV score of the concept over the runs, in `[0, 1]`.
        p_value: Two-sided t-test of the concept's scores against the random CAVs' scores.
        scores: float `(runs,)` the concept's TCAV score in each run.
        random_scores: float `(runs,)` TCAV scores of random-vs-random CAVs.
        accuracies: float `(runs,)` held-in accuracy of each concept CAV's classifier.
        cavs: float32 `(runs, D)` unit concept activation vectors.
    """

    score: float
    p_value: float
    scores: np.ndarray
    random_scores: np.ndarray
    accuracies: np.ndarray
    cavs: np.ndarray


def concept_activation_vector(positive: np.ndarray, negative: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, float]:
    """The unit normal of a linear classifier separating `positive` from `negative` activations.

    Args:
        positive: float `(n, D)` activations of the concept.
        negative: float `(m, D)` activations of the counterpart.
        seed: Seed of the classifier.

    Returns:
        `(cav (D,), accuracy)`: the vector points towards `positive`; accuracy on the data.
    """
    from sklearn.linear_model import SGDClassifier

    data = np.concatenate([positive, negative]).astype(np.float64)
    labels = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))])
    scale = max(float(np.abs(data).max()), 1e-12)  # one global scale keeps the direction
    classifier = SGDClassifier(alpha=0.01, max_iter=1000, tol=1e-3, random_state=seed)
    classifier.fit(data / scale, labels)
    vector = classifier.coef_[0]
    norm = max(float(np.linalg.norm(vector)), 1e-12)
    return (vector / norm).astype(np.float32), float(classifier.score(data / scale, labels))


def _layer_codes(model: Any, images: np.ndarray, layer: str, pooled: bool, batch_size: int, target=None):
    """Flattened (or pooled) activations, and, with a target, the logit gradients there."""
    from ..attribution.layer_gradients import feature_gradients

    indices = np.zeros(len(images), np.int32) if target is None else np.full(len(images), target, np.int32)
    acts, grads = [], []
    for _, activations, gradients in feature_gradients(model, layer, images, indices, batch_size=batch_size):
        if pooled:
            activations = activations.mean(axis=(1, 2))
            gradients = gradients.mean(axis=(1, 2))
        acts.append(activations.reshape(len(activations), -1))
        grads.append(gradients.reshape(len(gradients), -1))
    return np.concatenate(acts), np.concatenate(grads)


def tcav(
    model: Any,
    layer: str,
    concept_images: Any,
    random_images: Any,
    target: int,
    *,
    runs: int = 20,
    images: Any = None,
    pooled: bool = False,
    batch_size: int = 32,
    seed: int = 0,
) -> TCAVResult:
    """TCAV score of a concept for a class, and its significance against random concepts.

    Args:
        model: A classifier `Backbone` or Keras model taking pixels in `[0, 255]`.
        layer: A feature-map `(N, h, w, C)` or token layer.
        concept_images: `(n, H, W, 3)` pixels showing the concept (n >= 2).
        random_images: `(m, H, W, 3)` random pixels / photos, m >= n: each run draws a
            counterpart set and a "random concept" of n / 2 images each from them.
        target: The class whose sensitivity to the concept is measured.
        runs: Number of CAVs (each against a different random set), >= 2.
        images: `(k, H, W, 3)` images of the class `target` (the paper's X_k); `None` uses
            `random_images`.
        pooled: Average activations over positions instead of flattening the layer.
        batch_size: Images per gradient call.
        seed: Seed of the random draws and the classifiers.

    Returns:
        A `TCAVResult` `(score, p_value, scores, random_scores, accuracies, cavs)`.

    Raises:
        ImageError: Invalid images or image sets of different sizes.
        ParameterError: Too few images, bad `runs` / `target`.
        ModelError / LayerNotFoundError: A headless model or an unusable layer.
    """
    from scipy import stats

    from ..backbones import as_backbone

    backbone = as_backbone(model)
    backbone.require_classifier("tcav")
    target = check_int(target, "target", low=0, high=backbone.num_classes - 1)
    runs = check_int(runs, "runs", low=2)
    pooled = check_bool(pooled, "pooled")
    concept, _ = as_image_batch(concept_images, name="concept_images")
    randoms, _ = as_image_batch(random_images, name="random_images")
    inputs = randoms if images is None else as_image_batch(images, name="images")[0]
    if len(concept) < 2 or len(randoms) < 4:
        raise ParameterError(
            "TCAV needs at least 2 concept images and 4 random images (a CAV per run is a "
            f"classifier). Received: {len(concept)} concept, {len(randoms)} random images"
        )
    concept_codes, _ = _layer_codes(backbone, concept, layer, pooled, batch_size)
    random_codes, _ = _layer_codes(backbone, randoms, layer, pooled, batch_size)
    _, gradients = _layer_codes(backbone, inputs, layer, pooled, batch_size, target)
    # Each run: a random half of the concept images against a fresh random counterpart set; the
    # null CAV of the run separates another fresh random set (a "random concept") from the same
    # counterpart, so both score samples carry the sampling variation of their sets.
    size = max(2, min(len(concept_codes) // 2, len(random_codes) // 2))
    rng = np.random.default_rng(seed)
    scores, random_scores, accuracies, cavs = [], [], [], []
    for run in range(runs):
        chosen = concept_codes[rng.permutation(len(concept_codes))[:size]]
        order = rng.permutation(len(random_codes))
        counterpart, random_concept = random_codes[order[:size]], random_codes[order[size : 2 * size]]
        cav, accuracy = concept_activation_vector(chosen, counterpart, seed=seed + run)
        null, _ = concept_activation_vector(random_concept, counterpart, seed=seed + run)
        scores.append(float(np.mean(gradients @ cav > 0)))
        random_scores.append(float(np.mean(gradients @ null > 0)))
        accuracies.append(accuracy)
        cavs.append(cav)
    scores_array, random_array = np.array(scores), np.array(random_scores)
    if np.allclose(scores_array, scores_array[0]) and np.allclose(random_array, random_array[0]):
        p_value = 1.0 if scores_array[0] == random_array[0] else 0.0
    else:
        p_value = float(stats.ttest_ind(scores_array, random_array).pvalue)
    return TCAVResult(
        float(scores_array.mean()), p_value, scores_array, random_array, np.array(accuracies), np.stack(cavs)
    )
