"""Version folders under a model base path: which exist and are complete, what changed in one,
what state each is in, and which a policy serves (TF Serving's `model_version_policy`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Sequence, Tuple

import grpc

__all__ = [
    "MAX_VERSION",
    "VersionPolicy",
    "VersionStatus",
    "fingerprint",
    "inside_base",
    "last_change",
    "list_versions",
]

MAX_VERSION = 2**63 - 1  # versions are int64 in TF Serving's protos
#: Files a fingerprint looks at, at most.
MAX_FINGERPRINT_FILES = 10_000


def inside_base(path: Path, base: Path) -> bool:
    """Whether `path`'s real path (symlinks followed) lies inside the real path `base`."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(base)
    except (OSError, ValueError):
        return False


def list_versions(base_path: Path) -> List[int]:
    """Version folders under `base_path` that hold a `saved_model.pb`, newest first.

    A folder counts when its name is a positive int64 written in decimal digits and its real path
    (after following symlinks) is inside `base_path`; others (temporary names, `0`, numbers beyond
    int64, links leading elsewhere, folders without `saved_model.pb` yet) are ignored.

    Args:
        base_path: The model's base path.

    Returns:
        Version numbers, descending.
    """
    base = Path(os.path.realpath(base_path))
    versions = []
    for child in base.iterdir() if base.is_dir() else []:
        name = child.name
        if not (name.isascii() and name.isdigit()) or not 0 < int(name) <= MAX_VERSION:
            continue
        if child.is_dir() and inside_base(child, base) and (child / "saved_model.pb").is_file():
            if inside_base(child / "saved_model.pb", base):
                versions.append(int(name))
    return sorted(versions, reverse=True)


def fingerprint(folder: Path) -> Tuple[Tuple[str, int, int], ...]:
    """Names, sizes and modification times of the files in a version folder (changes when a copy goes on).

    Args:
        folder: A version folder.

    Returns:
        A comparable tuple.
    """
    entries = []
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                stat = os.stat(os.path.join(root, name))
            except OSError:
                continue
            entries.append((os.path.relpath(os.path.join(root, name), folder), stat.st_size, stat.st_mtime_ns))
            if len(entries) >= MAX_FINGERPRINT_FILES:
                return tuple(sorted(entries))
    return tuple(sorted(entries))


def last_change(folder: Path) -> float:
    """When anything in a version folder last changed: the newest status-change time (`st_ctime`)
    of the folder, its sub-folders and files. A copy that keeps the original modification times
    (`cp -a`, `rsync -a`) still moves the change times, so a copy in progress looks recent.

    Args:
        folder: A version folder.

    Returns:
        Seconds since the epoch (`time.time()` scale); 0.0 when nothing can be read.
    """
    newest = 0.0
    for count, (root, _, files) in enumerate(os.walk(folder)):
        for path in [root, *(os.path.join(root, name) for name in files)]:
            try:
                newest = max(newest, os.stat(path).st_ctime)
            except OSError:
                continue
        if count >= MAX_FINGERPRINT_FILES:
            break
    return newest


@dataclass
class VersionStatus:
    """What GetModelStatus reports for one version: state name and error (code OK when none)."""

    version: int
    state: str
    code: grpc.StatusCode = grpc.StatusCode.OK
    message: str = ""


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions to serve: TF Serving's `model_version_policy`.

    Attributes:
        kind: "latest" (the `num_versions` newest), "specific" (`versions`), or "all".
        num_versions: For "latest".
        versions: For "specific".
    """

    kind: str = "latest"
    num_versions: int = 1
    versions: Tuple[int, ...] = field(default_factory=tuple)

    def select(self, candidates: Sequence[int]) -> List[int]:
        """The versions to serve out of loadable candidates (newest first).

        Args:
            candidates: Version numbers, descending.

        Returns:
            The chosen ones, descending.
        """
        if self.kind == "all":
            return list(candidates)
        if self.kind == "specific":
            return [v for v in candidates if v in self.versions]
        return list(candidates[: self.num_versions])
