"""Progress bars (tqdm) for long work, switchable per call or globally."""

from __future__ import annotations

import contextlib
import os
from typing import Iterable, Iterator, Optional, TypeVar

from tqdm.auto import tqdm

__all__ = ["set_progress", "progress_enabled", "progress_bar", "muted_progress"]

T = TypeVar("T")

_ENABLED = os.environ.get("KERASVIZ_PROGRESS", "1").lower() not in ("0", "false", "no", "off")


def set_progress(enabled: bool) -> None:
    """Turn progress bars on or off for every later call that does not say otherwise.

    Args:
        enabled: `True` to show tqdm bars on long work, `False` to hide them. The environment
            variable `KERASVIZ_PROGRESS=0` sets the same default at import time.
    """
    global _ENABLED
    _ENABLED = bool(enabled)


@contextlib.contextmanager
def muted_progress() -> Iterator[None]:
    """Hide the progress bars of calls that do not say otherwise, inside a `with` block.

    For work that shows its own bar around other kerasviz calls (a metric explaining images
    with a method that would show one bar per batch).
    """
    global _ENABLED
    before, _ENABLED = _ENABLED, False
    try:
        yield
    finally:
        _ENABLED = before


def progress_enabled(progress: Optional[bool] = None) -> bool:
    """Resolve a per-call `progress` argument against the global setting.

    Args:
        progress: `True` / `False` to decide for this call, `None` to use the global setting.

    Returns:
        Whether a bar should be shown.
    """
    return _ENABLED if progress is None else bool(progress)


def progress_bar(
    iterable: Optional[Iterable[T]] = None,
    *,
    total: Optional[int] = None,
    desc: Optional[str] = None,
    progress: Optional[bool] = None,
    unit: str = "it",
) -> "tqdm[T]":
    """Wrap work in a tqdm bar that respects the per-call and global progress settings.

    Args:
        iterable: What to iterate over, or `None` to update the bar by hand (`bar.update(n)`).
        total: Number of steps, when `iterable` has no length.
        desc: Short label shown before the bar.
        progress: `True` / `False` for this call, `None` for the global setting.
        unit: Name of one step.

    Returns:
        A tqdm object (disabled, and silent, when progress is off).
    """
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not progress_enabled(progress),
        leave=False,
        dynamic_ncols=True,
    )
