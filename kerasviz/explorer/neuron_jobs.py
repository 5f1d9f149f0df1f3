"""A neuron's long work, cached on disk: its feature visualization, and its top patches from the
images folder (the folder decoded once into an index file)."""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_int
from .image_store import ImageStore
from .jobs import Report
from .pictures import png_bytes
from .workbench import Workbench

__all__ = ["NeuronCache", "FEATURE_STEPS", "FEATURE_SIZE"]

#: Gradient-ascent steps and picture size of a neuron's feature visualization.
FEATURE_STEPS = 128
FEATURE_SIZE = 128
_STEPS_PER_CALL = 8
_INDEX_CHUNK = 16


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]


def _run_options(until: Any) -> dict:
    """`until` and a silent progress bar, in the form `optimize` takes them (its `Execution`
    record where the package has one)."""
    try:
        from ..synthesis import Execution
    except ImportError:  # older layout: flat keyword options
        return {"until": until, "progress": False}
    return {"execution": Execution(until=until, progress=False)}


class NeuronCache:
    """Disk cache of feature visualizations and top patches for one model."""

    def __init__(self, workbench: Workbench, store: ImageStore, root: str | os.PathLike) -> None:
        """Choose the model's cache folder (created on first write).

        Args:
            workbench: The loaded model.
            store: The images (its folder feeds the patch index).
            root: Cache root, e.g. `~/.cache/kerasviz/explorer`.
        """
        self.workbench, self.store = workbench, store
        model = workbench.backbone.model
        key = f"{workbench.backbone.name}-{model.count_params()}-{len(workbench.layers)}"
        self.folder = Path(root) / _safe(key)

    def _path(self, kind: str, layer: str, channel: int) -> Path:
        return self.folder / kind / _safe(layer) / f"{channel}.png"

    def feature(self, layer: Any, channel: Any, report: Report) -> bytes:
        """The feature visualization of a channel (computed once, then read from disk).

        Args:
            layer: Layer name.
            channel: Channel index.
            report: Progress callback (raises `JobCancelled` to stop).

        Returns:
            PNG bytes.
        """
        from ..synthesis.visualize import visualize_feature

        layer = self.workbench.check_layer(layer)
        channel = check_int(channel, "channel", low=0, high=self.workbench.channel_count(layer) - 1)
        path = self._path("feature", layer, channel)
        if path.is_file():
            return path.read_bytes()
        calls = {"done": 0}
        total = math.ceil(FEATURE_STEPS / _STEPS_PER_CALL)

        def until(images: np.ndarray) -> np.ndarray:
            calls["done"] += 1
            report(calls["done"] / total, f"feature visualization: step {calls['done'] * _STEPS_PER_CALL}/{FEATURE_STEPS}")
            return np.zeros(len(images), bool)

        picture = visualize_feature(
            self.workbench.backbone, layer, channel, size=FEATURE_SIZE, steps=FEATURE_STEPS,
            steps_per_call=_STEPS_PER_CALL, **_run_options(until),
        )
        data = png_bytes(picture)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def _index(self, report: Report) -> np.ndarray:
        """Every folder image at the model's size, decoded once and kept in `index-*.npy`."""
        count = self.store.folder_count
        height, width = self.store.size
        path = self.folder / f"index-{count}-{height}x{width}-{_safe(''.join(self.store.folder_names()))}.npy"
        if path.is_file():
            return np.load(path)
        parts = []
        for start in range(0, count, _INDEX_CHUNK):
            report(0.5 * start / count, f"indexing the images folder: {start}/{count}")
            parts.append(self.store.folder_batch(start, start + _INDEX_CHUNK).astype(np.uint8))
        array = np.concatenate(parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array)
        return array

    def patches(self, layer: Any, channel: Any, report: Report, k: int = 9) -> bytes:
        """The `k` folder patches that drive a channel most (index and result cached on disk).

        Returns:
            PNG bytes of the labelled patch grid.

        Raises:
            ParameterError: No images folder.
        """
        from ..inspect.patches import max_activating_patches

        layer = self.workbench.check_layer(layer)
        channel = check_int(channel, "channel", low=0, high=self.workbench.channel_count(layer) - 1)
        self.store.folder_path(0)  # refuses when there is no folder
        path = self._path(f"patches{k}-{self.store.folder_count}", layer, channel)
        if path.is_file():
            return path.read_bytes()
        images = self._index(report)
        report(0.5, "finding the top patches")
        result = max_activating_patches(
            self.workbench.backbone, images, layer, channel, k=min(k, len(images)), progress=False
        )
        report(0.95, "drawing")
        data = png_bytes(result.grid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data
