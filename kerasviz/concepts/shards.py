"""Sharded Parquet output: shard names, the settings record, atomic shard writes, resuming.

An output folder holds `part-00000.parquet`, `part-00001.parquet`, ... (shard k covers the
images `[k * shard_size, (k + 1) * shard_size)` of the source's order) and one bookkeeping file,
`collection.json`, with the settings of the run. Only finished shards end in `.parquet`: a shard
is written to a uniquely named `*.tmp` file and renamed when complete, so a killed run leaves no
partial shard, a rerun recomputes only the missing ones, and two workers racing on the same shard
(a Beam retry) produce the same file once.
"""

from __future__ import annotations

import json
import os
import pathlib
import uuid
from collections.abc import Iterable
from typing import Any, Self

from ..errors import ParameterError

__all__ = [
    "SETTINGS_FILE",
    "ShardWriter",
    "check_settings",
    "finished_shards",
    "remove_stale_temporaries",
    "shard_path",
    "shard_skipped",
]

#: The bookkeeping file of an output folder (not a shard, so not `.parquet`).
SETTINGS_FILE = "collection.json"

PathLike = str | os.PathLike


def shard_path(out: PathLike, shard: int) -> pathlib.Path:
    """The path of shard `shard` in `out`.

    Args:
        out: The output folder.
        shard: Shard number (>= 0).

    Returns:
        `out / "part-NNNNN.parquet"`.
    """
    return pathlib.Path(out) / f"part-{shard:05d}.parquet"


def finished_shards(out: PathLike) -> list[int]:
    """The numbers of the shards already written in `out`.

    Args:
        out: The output folder.

    Returns:
        Sorted shard numbers.
    """
    folder = pathlib.Path(out)
    if not folder.is_dir():
        return []
    numbers = []
    for path in folder.glob("part-*.parquet"):
        digits = path.stem.split("-", 1)[1]
        if digits.isdigit():
            numbers.append(int(digits))
    return sorted(numbers)


def check_settings(out: PathLike, settings: dict[str, Any], *, what: str = "collection") -> None:
    """Record a run's settings in `out`, or check that they equal the recorded ones.

    Args:
        out: The output folder (created if missing).
        settings: JSON-serialisable description of everything that changes the shards' content.
        what: The kind of run, for messages.

    Raises:
        ParameterError: `out` holds shards of a run with other settings (nothing is changed on
            disk), or shards but no settings record (not a kerasviz output folder).
    """
    folder = pathlib.Path(out)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"`out` must be a folder. Received: out={os.fspath(out)!r}")
    record = folder / SETTINGS_FILE
    normalized = json.loads(json.dumps(settings))
    if record.exists():
        try:
            previous = json.loads(record.read_text())
        except ValueError as error:
            raise ParameterError(
                f"{record} is not a readable settings record ({error}); pass a new `out` folder. "
                f"Received: out={os.fspath(out)!r}"
            ) from None
        if previous != normalized:
            changed = sorted(
                k for k in set(previous) | set(normalized) if previous.get(k) != normalized.get(k)
            )
            detail = ", ".join(
                f"{k}: {previous.get(k)!r} -> {normalized.get(k)!r}" for k in changed
            )
            raise ParameterError(
                f"{os.fspath(out)!r} holds a {what} made with other settings ({detail}); nothing "
                "was overwritten. Resume with the same settings, or pass a new `out` folder. "
                f"Received: out={os.fspath(out)!r}"
            )
        return
    if finished_shards(folder):
        raise ParameterError(
            f"{os.fspath(out)!r} holds Parquet shards but no {SETTINGS_FILE}, so they were not "
            "written by this run; nothing was overwritten. Pass a new `out` folder. "
            f"Received: out={os.fspath(out)!r}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{SETTINGS_FILE}.{uuid.uuid4().hex}.tmp"
    temporary.write_text(json.dumps(normalized, indent=1, sort_keys=True))
    os.replace(temporary, record)


class ShardWriter:
    """Writes one shard batch by batch (bounded memory) and publishes it atomically on `close`.

    Example:
        >>> with ShardWriter(out, 3, schema) as writer:
        ...     writer.write(record_batch)
    """

    def __init__(self, out: PathLike, shard: int, schema: Any, skipped: Iterable[str] = ()) -> None:
        """Open the temporary file of shard `shard`.

        Args:
            out: The output folder (exists).
            shard: Shard number.
            schema: The `pyarrow.Schema` of the rows.
            skipped: Ids already known to be unreadable (more can be added with `skip`).
        """
        import pyarrow.parquet as pq

        self.path = shard_path(out, shard)
        self.temporary = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex}.tmp")
        self.schema = schema
        self.skipped: list[str] = list(skipped)
        self.rows = 0
        self._writer: Any | None = pq.ParquetWriter(str(self.temporary), schema)

    def write(self, batch: Any) -> None:
        """Append a `pyarrow.RecordBatch` (as one row group); `None` is ignored."""
        if batch is not None and batch.num_rows:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def skip(self, ids: Iterable[str]) -> None:
        """Record ids that could not be read (kept in the shard's metadata)."""
        self.skipped.extend(ids)

    def close(self) -> pathlib.Path:
        """Finish the file, store the skipped ids in its metadata and rename it into place.

        Returns:
            The shard's path.
        """
        import pyarrow.parquet as pq

        self._writer.close()
        self._writer = None
        if self.skipped:  # rewrite only when there is something to record (rare)
            table = pq.read_table(str(self.temporary))
            metadata = dict(table.schema.metadata or {})
            metadata[b"kerasviz.skipped"] = json.dumps(self.skipped).encode()
            pq.write_table(table.replace_schema_metadata(metadata), str(self.temporary))
        os.replace(self.temporary, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file (on error)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def remove_stale_temporaries(out: PathLike) -> int:
    """Delete the temporary files a killed run left (call before a run starts, never during).

    Args:
        out: The output folder.

    Returns:
        How many were removed.
    """
    stale = list(pathlib.Path(out).glob(".part-*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def shard_skipped(path: PathLike) -> list[str]:
    """The ids a shard records as unreadable.

    Args:
        path: A shard file.

    Returns:
        The skipped ids (empty when none).
    """
    import pyarrow.parquet as pq

    metadata = pq.read_schema(str(path)).metadata or {}
    return json.loads(metadata.get(b"kerasviz.skipped", b"[]"))
