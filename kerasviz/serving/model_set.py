"""The set of served models: one `ModelManager` per configured model, kept in step with a
`--model_config_file` that is re-read every `--model_config_file_poll_wait_seconds`.

A reload adds new models, drops removed ones, and hands changed version policies and labels to the
existing managers (which keep serving what they have meanwhile). A config file that fails to parse
is logged and the previous configuration stays in force, as in TF Serving.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Dict, List, Optional

from ..errors import ParameterError
from .config import ModelSpecConfig, read_model_config
from .models import ModelManager

__all__ = ["ModelSet"]

_log = logging.getLogger(__name__)


class ModelSet(dict):
    """Model name -> `ModelManager`; lookups by the request path see changes at once.

    Args:
        specs: The models to serve.
        file_system_poll_wait_seconds: Seconds between scans of each base path.
        config_file: The model config file to re-read (None = fixed set).
        config_poll_seconds: Seconds between re-reads (0 = never).
        on_change: Called after any model's served versions or the set itself changed.
    """

    def __init__(
        self,
        specs: List[ModelSpecConfig],
        file_system_poll_wait_seconds: float,
        config_file: Optional[str] = None,
        config_poll_seconds: float = 0.0,
        on_change: Optional[Callable[[], None]] = None,
    ) -> None:
        super().__init__()
        self._specs: Dict[str, ModelSpecConfig] = {}
        self._poll = file_system_poll_wait_seconds
        self._config_file = config_file
        self._config_poll = config_poll_seconds
        self.on_change = on_change
        self._initial = specs
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Load every model's versions, then re-read the config file in the background if asked."""
        self.apply(self._initial)
        if self._config_file is not None and self._config_poll > 0:
            self._thread = threading.Thread(target=self._watch, name="kerasviz-model-config", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop re-reading the config and every model's polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for manager in list(self.values()):
            manager.stop()

    def _watch(self) -> None:
        while not self._stop.wait(self._config_poll):
            self.reload()

    def reload(self) -> bool:
        """Re-read the config file and apply it.

        Returns:
            True when the file parsed and was applied; False (old config kept) otherwise.
        """
        try:
            specs = read_model_config(self._config_file)
        except ParameterError as error:
            _log.error("keeping the previous model config: %s", error)
            return False
        self.apply(specs)
        return True

    def apply(self, specs: List[ModelSpecConfig]) -> None:
        """Serve exactly these models (new managers load before old ones are dropped).

        Args:
            specs: The models.
        """
        with self._lock:
            wanted = {spec.name: spec for spec in specs}
            for name, spec in wanted.items():
                old = self._specs.get(name)
                manager = self.get(name)
                if manager is not None and old is not None and old.base_path == spec.base_path:
                    if old != spec:
                        manager.reconfigure(spec.policy, spec.label_map)
                else:
                    fresh = ModelManager(name, spec.base_path, self._poll, spec.policy, spec.label_map)
                    fresh.on_available = self._changed
                    fresh.start()
                    self[name] = fresh
                    if manager is not None:
                        manager.stop()
                self._specs[name] = spec
            for name in [n for n in self if n not in wanted]:
                self.pop(name).stop()
                self._specs.pop(name, None)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
