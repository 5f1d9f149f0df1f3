"""Randomising a copy of a model's weights, layer by layer (the engine of the MPRT family and of
`kerasviz.randomization_check`). The user's model is never touched."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np
from scipy.stats import spearmanr

from ..backbones import Backbone, as_backbone
from ..checks import check_choice
from ..compiled import cached
from ..errors import ModelError
from ..graph_nodes import find_layer, layer_names
from .memo import digest

__all__ = [
    "clone_backbone",
    "fully_randomised",
    "randomise_layer",
    "randomised_models",
    "rank_correlation",
    "weight_layers",
]

RANDOMISATIONS = ("redraw", "permute")


def rank_correlation(first: Any, second: Any) -> np.ndarray:
    """Spearman rank correlation of paired maps, one value per pair.

    Args:
        first: `(N, H, W)` or `(H, W)` maps.
        second: Maps of the same shape.

    Returns:
        float64 `(N,)` correlations in `[-1, 1]`; a pair with a constant map gives 0.
    """
    a, b = np.asarray(first, np.float64), np.asarray(second, np.float64)
    a, b = a.reshape(-1, a.shape[-2] * a.shape[-1]), b.reshape(-1, b.shape[-2] * b.shape[-1])
    values = np.zeros(len(a))
    for i, (x, y) in enumerate(zip(a, b)):
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            values[i] = spearmanr(x, y)[0]
    return values


def clone_backbone(model: Any) -> Backbone:
    """A Backbone on a weight-for-weight copy of the model (new variables, same values).

    Args:
        model: A `Backbone` or Keras model.

    Returns:
        A `Backbone` whose model can be randomised freely.

    Raises:
        ModelError: The model cannot be cloned (a custom layer without `get_config`).
    """
    backbone = as_backbone(model)
    source = model if isinstance(model, keras.Model) else backbone.model
    try:
        clone = keras.models.clone_model(source, recursive=True)
        clone.set_weights(source.get_weights())
    except Exception as error:  # a custom layer without get_config / from_config
        raise ModelError(
            "Randomisation works on a copy of the model made with keras.models.clone_model, "
            "which failed; give every custom layer get_config() (and register it). Received: "
            f"{type(error).__name__}: {error}"
        ) from error
    if isinstance(model, keras.Model):
        return as_backbone(clone)
    return dataclasses.replace(backbone, model=clone)


def weight_layers(model: keras.Model) -> list[str]:
    """Names of leaf layers that own weights, input side first.

    Args:
        model: A Keras model.

    Returns:
        Layer names.
    """
    names = []
    for name in layer_names(model):
        layer = find_layer(model, name)
        if getattr(layer, "weights", None) and not isinstance(layer, keras.Model):
            names.append(name)
    return names


def randomise_layer(layer: Any, rng: np.random.Generator, how: str = "redraw") -> None:
    """Randomise one layer's weights in place.

    Args:
        layer: A Keras layer.
        rng: Random generator.
        how: `"redraw"`: kernels re-drawn from a normal of the same spread, vectors (biases,
            batch-norm statistics) shuffled so they keep valid values (Adebayo et al.; close to
            Quantus' PyTorch `reset_parameters`); `"permute"`: every weight permuted along its
            first axis (Quantus 0.6.0's TensorFlow backend).
    """
    weights = []
    for w in layer.get_weights():
        if how == "permute":
            weights.append(rng.permutation(w))
        elif w.ndim > 1:
            spread = float(w.std()) or 0.05
            weights.append(rng.normal(0.0, spread, w.shape).astype(w.dtype))
        else:
            weights.append(rng.permutation(w.ravel()).reshape(w.shape).astype(w.dtype))
    layer.set_weights(weights)


def randomised_models(
    model: Any,
    *,
    order: str = "top_down",
    layers: Sequence[str] | None = None,
    how: str = "redraw",
    seed: int = 0,
) -> Iterator[tuple[str, Backbone]]:
    """Yield `(layer, model)` as the layers of one copy are randomised one after another.

    Args:
        model: A `Backbone` or Keras model (never modified).
        order: `"top_down"` (output side first, cumulative), `"bottom_up"` (input side first,
            cumulative) or `"independent"` (one layer at a time, the others original).
        layers: Layer names to randomise (default: every leaf layer with weights).
        how: `"redraw"` or `"permute"` (see `randomise_layer`).
        seed: Seed of the new weights.

    Returns:
        An iterator; the yielded Backbone is the same copy each time, changed in place (its
        compiled functions are reused: weights change, structure does not).

    Raises:
        ModelError: The model cannot be cloned, or a named layer has no weights.
        ParameterError: Bad `order` or `how`.
    """
    check_choice(order, "order", ("top_down", "bottom_up", "independent"))
    check_choice(how, "how", RANDOMISATIONS)
    clone = clone_backbone(model)
    names = weight_layers(clone.model) if layers is None else list(layers)
    for name in names:
        if not getattr(find_layer(clone.model, name), "weights", None):
            raise ModelError(
                f"Layer {name!r} has no weights to randomise; pick layers with weights. "
                f"Received: layers={list(names)}"
            )
    if order == "top_down" and layers is None:
        names = names[::-1]
    saved = clone.model.get_weights()
    rng = np.random.default_rng(seed)
    for name in names:
        if order == "independent":
            clone.model.set_weights(saved)
        randomise_layer(find_layer(clone.model, name), rng, how)
        yield name, clone


def fully_randomised(model: Any, **options: Any) -> tuple[str, Backbone] | None:
    """The last step of `randomised_models`: a copy with every chosen layer randomised.

    The copy is kept with the model (`kerasviz.compiled.cached`) and made again only when the
    model's weights or the options change, so the methods' compiled functions for it are traced
    once, not once per metric call. It is never changed after it is made.

    Args:
        model: A `Backbone` or Keras model (never modified).
        **options: `order`, `layers`, `how`, `seed`, as `randomised_models`.

    Returns:
        `(last layer randomised, Backbone)`, or `None` when there is no layer to randomise.

    Raises:
        ModelError, ParameterError: As `randomised_models`.
    """
    layers = options.get("layers")
    options["layers"] = None if layers is None else tuple(layers)
    source = as_backbone(model).model
    slot = cached(source, ("fully_randomised", tuple(sorted(options.items()))), dict)
    weights = digest(*source.get_weights())
    if slot.get("weights") != weights:
        steps = collections.deque(randomised_models(model, **options), maxlen=1)
        slot.clear()
        slot.update(weights=weights, result=steps[0] if steps else None)
    return slot["result"]
