"""Deletion / insertion curves, moved to `kerasviz.metrics.deletion`; re-exported here for the
names `kerasviz.attribution` and the CLI import."""

from __future__ import annotations

from ..metrics.deletion import (
    DeletionInsertion,
    attribution_maps,
    deletion_insertion,
    fit_maps,
)

__all__ = ["DeletionInsertion", "attribution_maps", "deletion_insertion", "fit_maps"]
