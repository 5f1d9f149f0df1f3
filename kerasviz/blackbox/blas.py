"""Small linear algebra on one BLAS thread.

The regressions of LIME and Kernel SHAP are a few hundred columns by a few thousand rows: far
too small for BLAS threads to pay. Measured on a busy 2-core machine, OpenBLAS's threads turned a
2 ms normal-equation solve (2050 x 99) into 200-1900 ms; one thread is never slower here.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

__all__ = ["one_blas_thread"]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (threadpoolctl, a scikit-learn dependency).

    Yields:
        Nothing; the previous thread counts are restored on exit. Without threadpoolctl the
        block runs unchanged.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
