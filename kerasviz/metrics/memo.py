"""Work one `kerasviz.evaluate` call shares between its metrics and methods.

Inside `shared_work()`, results that do not depend on the maps being scored are computed once
and reused: the model's scores of the unperturbed images, a method's explanation of them (so
continuity and efficient MPRT do not explain them again), faithfulness correlation's perturbed
copies (the same random subsets for every method on a seed) and SLIC segments. (Copies of the
model that live longer, the randomised one and the input-shifted one, are kept with the model by
`kerasviz.compiled.cached` instead.) Outside the block every call computes afresh. Keys name the model
and method by `identity(obj)`, which keeps the object alive for the whole block (so a method made
afresh by a later `evaluate` call in the same block can never take a dropped one's id), and the
arrays by a digest of their bytes, so a different image batch never hits another's entry.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np

__all__ = ["digest", "identity", "remembered", "shared_work"]

_PINNED = object()  # the store's entry of objects named in keys
_STORE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("kerasviz_metrics_memo",
                                                                     default=None)


@contextlib.contextmanager
def shared_work() -> Iterator[None]:
    """Reuse map-independent work across the metric calls made inside the block.

    Returns:
        A context manager; nested blocks share the outer block's store.
    """
    if _STORE.get() is not None:
        yield
        return
    token = _STORE.set({})
    try:
        yield
    finally:
        _STORE.reset(token)


def digest(*arrays: Any) -> str:
    """A short fingerprint of arrays' shapes, dtypes and bytes.

    Args:
        *arrays: NumPy arrays (or anything `np.asarray` takes).

    Returns:
        A hex string.
    """
    hasher = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.ascontiguousarray(array)
        hasher.update(f"{array.shape}{array.dtype}".encode())
        hasher.update(array.view(np.uint8).reshape(-1) if array.size else b"")
    return hasher.hexdigest()


def identity(obj: Any) -> int:
    """`id(obj)` for a key, with `obj` kept alive until the `shared_work()` block ends.

    Args:
        obj: A model, method or any object named in a key.

    Returns:
        Its id (unique among live objects, and `obj` stays live inside the block).
    """
    store = _STORE.get()
    if store is not None:
        store.setdefault(_PINNED, {})[id(obj)] = obj
    return id(obj)


def remembered(key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()`, or its earlier result under `key` inside `shared_work()`.

    Arrays that are remembered are made read-only, so no caller can change another's result.

    Args:
        key: What the result depends on (hashable).
        compute: Makes the result.

    Returns:
        The result.
    """
    store = _STORE.get()
    if store is None:
        return compute()
    if key not in store:
        value = compute()
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        store[key] = value
    return store[key]
