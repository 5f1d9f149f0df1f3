"""Model versions under a base path: load the versions a policy asks for, warm them up, swap them in,
report every version's state.

A base path holds numeric version folders (`<base>/1/`, `<base>/2/`, ...), each a SavedModel. A
folder counts only when its name is a positive int64 and its real path (symlinks resolved) lies
inside the base path. The version policy picks which of them are served (TF Serving's `latest`
(default: the newest one), `specific` or `all`). A background poller loads newly wanted versions,
runs their warm-up records, and then swaps the served set in with one reference assignment, so
requests already running keep the version they started with. A version that fails to load or warm
up is reported as `END` with its error and is tried again on a later poll once its files change
(e.g. when the copy that was still running finishes).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import grpc

from .errors import ServingError
from .servable import Servable, first_line
from .versions import VersionPolicy, VersionStatus, fingerprint, last_change, list_versions

__all__ = ["ModelManager"]

_log = logging.getLogger(__name__)
#: A new version folder is loaded only once nothing in it changed for this long: a version copied
#: in place (not renamed in) is not loaded half-copied, e.g. before its warm-up file is complete.
SETTLE_SECONDS = 0.5
#: Longest `start()` waits for a version folder that is still changing.
MAX_START_WAIT_SECONDS = 30.0


class ModelManager:
    """Serves the versions of one model that its policy picks, loading new versions in the background.

    Args:
        name: The model name clients ask for.
        base_path: Folder of numeric version folders; nothing outside it is ever loaded.
        poll_wait_seconds: Seconds between scans of the base path (0 = scan only at start).
        policy: Which versions to serve (default: the newest).
        labels: Version labels (e.g. `{"stable": 1, "canary": 2}`) for `model_spec.version_label`.
    """

    def __init__(
        self,
        name: str,
        base_path: Path,
        poll_wait_seconds: float = 1.0,
        policy: Optional[VersionPolicy] = None,
        labels: Optional[Dict[str, int]] = None,
    ) -> None:
        self.name = name
        self.base_path = Path(base_path).resolve()
        self.poll_wait_seconds = poll_wait_seconds
        self.policy = policy or VersionPolicy()
        self.labels: Dict[str, int] = dict(labels or {})
        self._served: Dict[int, Servable] = {}
        self._statuses: Dict[int, VersionStatus] = {}
        self._failed: Dict[int, tuple] = {}  # version -> fingerprint of the files that failed
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.on_available: Optional[Callable[[], None]] = None  # called after each change

    def start(self) -> None:
        """Load the wanted versions now (waiting for folders still being copied, up to
        `MAX_START_WAIT_SECONDS`), then keep polling in a daemon thread."""
        self.poll_once(wait=True)
        if self.poll_wait_seconds > 0:
            self._thread = threading.Thread(target=self._poll, name=f"kerasviz-poll-{self.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (the served versions stay usable until the server drops them)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_wait_seconds):
            try:
                self.poll_once()
            except Exception:  # the poller must survive anything the file system throws at it
                _log.exception("polling %s failed", self.base_path)

    def reconfigure(self, policy: VersionPolicy, labels: Dict[str, int]) -> None:
        """Apply a new version policy and labels (from a reloaded model config), then poll.

        Args:
            policy: The new policy.
            labels: The new labels.
        """
        self.policy = policy
        self.labels = dict(labels)
        self.poll_once()

    def poll_once(self, wait: bool = False) -> List[int]:
        """Load the versions the policy wants that are not loaded yet; unload those it no longer wants.

        Failed versions are retried only when their files changed since the failure. A version
        folder that changed within the last `SETTLE_SECONDS` (still being copied) is left for the
        next poll, and the policy picks among the others meanwhile.

        Args:
            wait: Wait (up to `MAX_START_WAIT_SECONDS`) for changing folders instead of leaving them.

        Returns:
            The versions newly swapped in.
        """
        with self._poll_lock:
            on_disk = list_versions(self.base_path)
            for version in [v for v in self._failed if v in on_disk]:
                if fingerprint(self.base_path / str(version)) != self._failed[version]:
                    del self._failed[version]  # the files changed: worth another try
            loaded, changing = [], set()
            while True:  # a failed or changing version drops out of the candidates; the policy picks again
                wanted = self.policy.select([v for v in on_disk if v not in self._failed and v not in changing])
                todo = [v for v in wanted if v not in self._served]
                if not todo:
                    break
                for version in todo:
                    if not self._settled(self.base_path / str(version), wait):
                        changing.add(version)
                    elif self._load(version):
                        loaded.append(version)
            wanted = set(wanted)
            with self._lock:
                served = {v: s for v, s in self._served.items() if v in wanted}
                if not served and self._served and self.policy.kind == "latest":
                    served = dict(self._served)  # never drop the last version before a new one works
                dropped = set(self._served) - set(served)
                self._served = served
                for version in dropped:
                    self._statuses[version] = VersionStatus(version, "END")
        if (loaded or dropped) and self.on_available is not None:
            self.on_available()
        return loaded

    @staticmethod
    def _settled(folder: Path, wait: bool) -> bool:
        """Whether nothing in `folder` changed for `SETTLE_SECONDS` (waiting for it with `wait`)."""
        deadline = time.monotonic() + (MAX_START_WAIT_SECONDS if wait else 0.0)
        while True:
            quiet = time.time() - last_change(folder)
            if quiet >= SETTLE_SECONDS or quiet < -60.0:  # far in the future: a skewed clock, cannot tell
                return True
            pause = SETTLE_SECONDS - max(quiet, 0.0)
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)

    def _load(self, version: int) -> bool:
        folder = self.base_path / str(version)
        self._set_status(VersionStatus(version, "LOADING"))
        files = fingerprint(folder)
        try:
            servable = Servable(version, folder)
            records = servable.warm_up()
        except ServingError as error:
            self._failed[version] = files
            self._set_status(VersionStatus(version, "END", error.code, f"warm-up failed: {error.message}"))
            return False
        except Exception as error:  # a broken SavedModel can raise nearly anything
            _log.warning("version %s of %s failed to load: %s", version, self.name, error)
            self._failed[version] = files
            self._set_status(
                VersionStatus(version, "END", grpc.StatusCode.UNKNOWN, f"failed to load: {first_line(str(error))}")
            )
            return False
        with self._lock:
            self._served = {**self._served, version: servable}
            self._statuses[version] = VersionStatus(version, "AVAILABLE")
        _log.info("serving %s version %s (%d warm-up records)", self.name, version, records)
        return True

    def _set_status(self, status: VersionStatus) -> None:
        with self._lock:
            self._statuses[status.version] = status

    def resolve_label(self, label: str) -> int:
        """The version a label points to.

        Args:
            label: A version label.

        Returns:
            Its version.

        Raises:
            ServingError: INVALID_ARGUMENT for a label the config does not define (as TF Serving).
        """
        if label not in self.labels:
            raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, f"Unrecognized servable version label: {label}")
        return self.labels[label]

    def served_versions(self) -> List[int]:
        """Versions being served now, newest first."""
        return sorted(self._served, reverse=True)

    def servable(self, version: Optional[int] = None) -> Servable:
        """The newest served version (or `version`, which must be served).

        Args:
            version: A version number, or None for the newest.

        Returns:
            The Servable; callers keep this reference for the whole request.

        Raises:
            ServingError: NOT_FOUND when no version is available or `version` is not served.
        """
        served = self._served  # one read: a swap in between cannot mix two sets
        servable = served.get(version) if version is not None else (served[max(served)] if served else None)
        if servable is None:
            what = "latest version" if version is None else f"version {version}"
            raise ServingError(
                grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {what} of model '{self.name}'"
            )
        return servable

    def statuses(self, version: Optional[int] = None) -> List[VersionStatus]:
        """Every version seen so far (or just `version`), newest first.

        Args:
            version: Restrict to this version.

        Returns:
            The statuses.

        Raises:
            ServingError: NOT_FOUND when nothing is known about the model or that version.
        """
        with self._lock:
            statuses = sorted(self._statuses.values(), key=lambda s: -s.version)
        if version is not None:
            statuses = [s for s in statuses if s.version == version]
        if not statuses:
            what = f"version {version} of " if version is not None else ""
            raise ServingError(grpc.StatusCode.NOT_FOUND, f"Could not find any versions of {what}model '{self.name}'")
        return statuses
