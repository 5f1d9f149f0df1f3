"""The error a black-box explanation raises when its predictor misbehaves or fails midway."""

from __future__ import annotations

from ..errors import ModelError

__all__ = ["PredictorError"]


class PredictorError(ModelError):
    """A predictor returned something that is not a batch of probabilities, or failed midway.

    Attributes:
        queries_done: Perturbed images answered (and checked) before the failure.
        queries_total: Perturbed images the explanation needed.
    """

    def __init__(self, message: str, queries_done: int = 0, queries_total: int = 0) -> None:
        super().__init__(message)
        self.queries_done = queries_done
        self.queries_total = queries_total
