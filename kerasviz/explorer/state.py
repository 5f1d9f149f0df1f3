"""What one explorer process holds: the model (loaded on a thread after start-up), the images,
the jobs, the style network and the one compute thread requests share."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import numpy as np
from aiohttp import web

from ..errors import KerasvizError
from .jobs import JobBoard
from .style import StyleStudio

__all__ = ["ExplorerState", "ModelNotReady", "STATE_KEY"]

_log = logging.getLogger(__name__)


class ModelNotReady(Exception):
    """The model is still loading (HTTP 503), or failed to load (HTTP 500)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ExplorerState:
    """The explorer's long-lived objects (one per application)."""

    def __init__(
        self,
        load_model: Callable[[], Any],
        images_folder: Optional[str] = None,
        cache_dir: Optional[str] = None,
        warm_up: bool = True,
    ) -> None:
        """Keep how to load the model; nothing heavy happens until `start`.

        Args:
            load_model: Returns a `kerasviz.Backbone` (or a Keras model / `.keras` path accepted by
                `load_backbone`); called once on a background thread.
            images_folder: The `--images` folder, or None.
            cache_dir: Disk cache of feature visualizations and the patch index (default
                `~/.cache/kerasviz/explorer`).
            warm_up: Run Grad-CAM and an activation grid once after loading, so that the first
                request does not pay for tracing.
        """
        self.load_model = load_model
        self.images_folder = images_folder
        self.cache_dir = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "kerasviz", "explorer")
        self.warm_up = warm_up
        self.workbench: Any = None
        self.store: Any = None
        self.neurons: Any = None
        self.load_error: Optional[str] = None
        self.loaded_in: Optional[float] = None
        self.jobs = JobBoard()
        self.style = StyleStudio()
        self.compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerasviz-explorer")
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Load the model on a background thread (`/api/health` answers 503 until it is ready)."""
        self._thread = threading.Thread(target=self._load, name="kerasviz-explorer-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            from ..backbones import load_backbone
            from .image_store import ImageStore
            from .neuron_jobs import NeuronCache
            from .workbench import Workbench

            model = self.load_model()
            backbone = load_backbone(model) if not hasattr(model, "gradcam_layer") else model
            workbench = Workbench(backbone)
            store = ImageStore(backbone.input_size, self.images_folder)
            if self.warm_up:
                self.compute.submit(self._warm, workbench, store).result()
            self.store, self.neurons = store, NeuronCache(workbench, store, self.cache_dir)
            self.workbench = workbench
            self.loaded_in = time.perf_counter() - started
            _log.info("explorer: %s ready in %.1f s", backbone.name, self.loaded_in)
        except KerasvizError as error:
            self.load_error = str(error)
        except Exception as error:  # reported by /api/health
            _log.exception("explorer: the model failed to load")
            self.load_error = f"{type(error).__name__}: {error}"

    @staticmethod
    def _warm(workbench: Any, store: Any) -> None:
        image = np.full(tuple(store.size) + (3,), 128.0, np.float32)
        if workbench.backbone.has_classifier and workbench.backbone.gradcam_layer:
            workbench.predict(image)
            workbench.explain(image, "gradcam", 0)
        if workbench.backbone.gradcam_layer:
            workbench.activation_grid(image, workbench.backbone.gradcam_layer)

    def ready(self) -> Any:
        """The workbench, once loaded.

        Raises:
            ModelNotReady: Still loading (503) or failed (500).
        """
        if self.workbench is not None:
            return self.workbench
        if self.load_error is not None:
            raise ModelNotReady(f"The model failed to load: {self.load_error}", 500)
        raise ModelNotReady("The model is still loading; retry in a few seconds (GET /api/health answers 200 when ready).", 503)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run model work on the compute thread (one request at a time) without blocking the loop."""
        return await asyncio.get_running_loop().run_in_executor(self.compute, function, *args)

    def close(self) -> None:
        """Stop the job and compute threads."""
        self.jobs.shutdown()
        self.compute.shutdown(wait=False, cancel_futures=True)


#: Where an application keeps its `ExplorerState` (`app[STATE_KEY]`).
STATE_KEY = web.AppKey("explorer", ExplorerState)
