"""Send perturbed images to a predictor in batches, keep the explained classes' probabilities.

Perturbed images are built batch by batch by the caller's `make_batch`, so only one batch of
full-resolution images exists at a time (two for a remote predictor: the next one is built in a
thread while the server answers); a remote predictor's batches are capped at its message-size
limit; a progress bar counts the queries. A failure midway becomes one
`PredictorError` saying how far the work got.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from ..checks import check_int
from ..compiled import batch_slices
from ..errors import KerasvizError, TargetError
from ..progress import progress_bar
from ..targets import resolve_target
from .errors import PredictorError
from .predictors import Predictor

__all__ = ["effective_batch", "query_scores", "top_classes"]


def effective_batch(predictor: Predictor, batch_size: int) -> int:
    """`batch_size` capped by the predictor's own limit (a server's message size).

    Args:
        predictor: The predictor.
        batch_size: Requested images per call, >= 1.

    Returns:
        Images per call.

    Raises:
        ParameterError: `batch_size` is not a positive int.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    return min(batch_size, predictor.max_batch) if predictor.max_batch else batch_size


def query_scores(
    predictor: Predictor,
    make_batch: Callable[[slice], np.ndarray],
    total: int,
    classes: Sequence[int],
    batch_size: int,
    *,
    desc: str,
    progress: Optional[bool] = None,
    consume: Optional[Callable[[slice, np.ndarray], None]] = None,
) -> np.ndarray:
    """Probabilities of `classes` for `total` perturbed images built `batch_size` at a time.

    Args:
        predictor: The predictor.
        make_batch: `make_batch(slice) -> (B, H, W, 3)` float32, the perturbed images of that
            slice of `range(total)`.
        total: Number of perturbed images.
        classes: Class columns to keep.
        batch_size: Images per predictor call.
        desc: Progress-bar label.
        progress: Show a bar (None: global setting).
        consume: Called as `consume(slice, scores (B, len(classes)))` after each batch (e.g. to
            accumulate a map while the batch's masks still exist).

    Returns:
        float64 `(total, len(classes))`.

    Raises:
        PredictorError: the predictor failed or answered badly; the message says after how
            many of the `total` queries.
    """
    columns = np.asarray(classes, np.int64)
    out = np.empty((total, len(columns)), np.float64)
    done = 0
    parts = list(batch_slices(total, effective_batch(predictor, batch_size)))
    # A remote predictor waits on its server: the next batch is made meanwhile, in a thread.
    maker = ThreadPoolExecutor(max_workers=1) if predictor.remote else None
    submit = maker.submit if maker else _made_now
    with progress_bar(total=total, desc=desc, progress=progress, unit="query") as bar, _closing(maker):
        upcoming = submit(make_batch, parts[0]) if parts else None
        for position, part in enumerate(parts):
            images = upcoming.result()
            upcoming = submit(make_batch, parts[position + 1]) if position + 1 < len(parts) else None
            try:
                probabilities = predictor(images)
                if columns.size and columns.max() >= probabilities.shape[1]:
                    raise PredictorError(
                        f"{predictor.describe} returned {probabilities.shape[1]} classes; class "
                        f"{int(columns.max())} cannot be explained. Received: shape {probabilities.shape}"
                    )
            except KerasvizError as error:
                if upcoming is not None:
                    upcoming.cancel()
                raise PredictorError(
                    f"{error} (the predictor failed after {done} of {total} queries; "
                    "nothing was explained)",
                    done,
                    total,
                ) from error
            out[part] = probabilities[:, columns]
            if consume is not None:
                consume(part, out[part])
            done = part.stop
            bar.update(part.stop - part.start)
    return out


@contextlib.contextmanager
def _closing(maker: Optional[ThreadPoolExecutor]) -> Iterator[None]:
    try:
        yield
    finally:
        if maker is not None:
            maker.shutdown(cancel_futures=True)


def _made_now(make_batch: Callable[[slice], np.ndarray], part: slice) -> Future:
    made: Future = Future()
    made.set_result(make_batch(part))
    return made


def top_classes(predictor: Predictor, images: np.ndarray, target: object) -> np.ndarray:
    """Class index per image: the target as given, or the predictor's top class.

    Args:
        predictor: The predictor.
        images: float32 `(N, H, W, 3)`.
        target: None, one class index, or one per image.

    Returns:
        int64 `(N,)`.

    Raises:
        TargetError: a bad target.
        PredictorError: the predictor failed on the unperturbed images.
    """
    if target is None or predictor.num_classes is None:
        step = predictor.max_batch or len(images)
        try:
            probabilities = np.concatenate([predictor(images[part]) for part in batch_slices(len(images), step)])
        except PredictorError:
            raise
        except KerasvizError as error:
            raise PredictorError(f"{error} (on the unperturbed images, before any query)") from error
        if target is None:
            return probabilities.argmax(axis=1)
    if callable(target):
        raise TargetError("Black-box explanations take class indices, not callables. Received: target=<callable>")
    return resolve_target(target, len(images), predictor.num_classes).indices.astype(np.int64)
