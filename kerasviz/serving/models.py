"""Model versions under a base path: load the newest, warm it up, swap it in, report every version's state.

A base path holds numeric version folders (`<base>/1/`, `<base>/2/`, ...), each a SavedModel.
Only the newest loadable version is served. A background poller loads a newer version when one
appears, runs its warm-up records, and then swaps it in with one reference assignment, so requests
already running keep the version they started with. A version that fails to load or warm up is
reported as `END` with its error, and the previous version keeps serving.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from .errors import ServingError
from .tensors import proto_to_array, read_signature_defs, validate_inputs

__all__ = ["Servable", "VersionStatus", "ModelManager", "WARMUP_FILE", "list_versions"]

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000  # TF Serving's own cap on warm-up records
_log = logging.getLogger(__name__)


def list_versions(base_path: Path) -> List[int]:
    """Numeric version folders under `base_path` that hold a `saved_model.pb`, newest first.

    Folders being written (other names, or no `saved_model.pb` yet) are ignored.

    Args:
        base_path: The model's base path.

    Returns:
        Version numbers, descending.
    """
    versions = []
    for child in Path(base_path).iterdir() if Path(base_path).is_dir() else []:
        if child.name.isdigit() and child.is_dir() and (child / "saved_model.pb").is_file():
            versions.append(int(child.name))
    return sorted(versions, reverse=True)


@dataclass
class VersionStatus:
    """What GetModelStatus reports for one version: state name and error (code OK when none)."""

    version: int
    state: str
    code: grpc.StatusCode = grpc.StatusCode.OK
    message: str = ""


class Servable:
    """One loaded SavedModel version: its signatures and a validated `predict`."""

    def __init__(self, version: int, path: Path) -> None:
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path)
        self._loaded = tf.saved_model.load(str(path))
        self._functions = {name: self._loaded.signatures[name] for name in self.signature_defs}

    def signature(self, name: str):
        """The `SignatureDef` called `name` (empty = `serving_default`).

        Args:
            name: Signature name.

        Returns:
            `(resolved name, SignatureDef)`.

        Raises:
            ServingError: FAILED_PRECONDITION for a signature the model does not have.
        """
        name = name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
        if name not in self.signature_defs:
            raise ServingError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"Serving signature name: \"{name}\" not found in signature def; the model has "
                f"{sorted(self.signature_defs)}",
            )
        return name, self.signature_defs[name]

    def predict(
        self, signature_name: str, inputs: Mapping[str, np.ndarray], output_filter: Optional[List[str]] = None
    ) -> Dict[str, np.ndarray]:
        """Validate inputs against the signature, run it, and return the (filtered) outputs.

        Args:
            signature_name: Signature to call ("" = `serving_default`).
            inputs: Input name -> array (already decoded).
            output_filter: Output names to return (empty = all).

        Returns:
            Output name -> array.

        Raises:
            ServingError: FAILED_PRECONDITION (signature), INVALID_ARGUMENT (inputs, filter, or
                TensorFlow refusing the values), INTERNAL (anything else TensorFlow raises).
        """
        name, signature = self.signature(signature_name)
        validate_inputs(name, signature, inputs)
        unknown = sorted(set(output_filter or ()) - set(signature.outputs))
        if unknown:
            raise ServingError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"output_filter names {unknown} that signature '{name}' does not have "
                f"({sorted(signature.outputs)})",
            )
        try:
            outputs = self._functions[name](**{k: tf.constant(v) for k, v in inputs.items()})
        except tf.errors.InvalidArgumentError as error:
            raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, _first_line(error.message)) from None
        except (tf.errors.OpError, ValueError, TypeError) as error:
            _log.exception("signature %s of version %s failed", name, self.version)
            raise ServingError(grpc.StatusCode.INTERNAL, _first_line(str(error))) from None
        keep = output_filter or list(signature.outputs)
        return {key: outputs[key].numpy() for key in keep}

    def warm_up(self) -> int:
        """Replay the version's `assets.extra/tf_serving_warmup_requests` Predict records.

        Returns:
            The number of records replayed.

        Raises:
            ServingError: a record fails (the version is then not served).
        """
        path = self.path / WARMUP_FILE
        if not path.is_file():
            return 0
        count = 0
        for record in tf.data.TFRecordDataset(str(path)).take(MAX_WARMUP_RECORDS):
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
            if not log.HasField("predict_log"):
                raise ServingError(grpc.StatusCode.UNIMPLEMENTED, "only Predict warm-up records are supported")
            request = log.predict_log.request
            _, signature = self.signature(request.model_spec.signature_name)
            arrays = {}
            for key, proto in request.inputs.items():
                if key not in signature.inputs:
                    raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, f"warm-up record has unknown input '{key}'")
                arrays[key] = proto_to_array(key, proto, signature.inputs[key])
            self.predict(request.model_spec.signature_name, arrays, list(request.output_filter))
            count += 1
        return count


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["unknown error"])[0][:500]


class ModelManager:
    """Serves the newest version of one model from its base path, loading new versions in the background.

    Args:
        name: The model name clients ask for.
        base_path: Folder of numeric version folders; nothing outside it is ever loaded.
        poll_wait_seconds: Seconds between scans of the base path (0 = scan only at start).
    """

    def __init__(self, name: str, base_path: Path, poll_wait_seconds: float = 1.0) -> None:
        self.name = name
        self.base_path = Path(base_path).resolve()
        self.poll_wait_seconds = poll_wait_seconds
        self._current: Optional[Servable] = None
        self._statuses: Dict[int, VersionStatus] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.on_available: Optional[Callable[[], None]] = None  # called after each swap

    def start(self) -> None:
        """Load the newest loadable version now, then keep polling in a daemon thread."""
        self.poll_once()
        if self.poll_wait_seconds > 0:
            self._thread = threading.Thread(target=self._poll, name=f"kerasviz-poll-{self.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (the served version stays usable until the server drops it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_wait_seconds):
            try:
                self.poll_once()
            except Exception:  # the poller must survive anything the file system throws at it
                _log.exception("polling %s failed", self.base_path)

    def poll_once(self) -> Optional[int]:
        """Try versions newer than the served one, newest first; swap in the first that loads.

        Returns:
            The version swapped in, or None.
        """
        current = self._current.version if self._current else -1
        for version in list_versions(self.base_path):
            if version <= current:
                break
            if version in self._statuses:  # failed before (or loading): do not retry on every scan
                continue
            if self._load(version):
                return version
        return None

    def _load(self, version: int) -> bool:
        self._set_status(VersionStatus(version, "LOADING"))
        try:
            servable = Servable(version, self.base_path / str(version))
            records = servable.warm_up()
        except ServingError as error:
            self._set_status(VersionStatus(version, "END", error.code, f"warm-up failed: {error.message}"))
            return False
        except Exception as error:  # a broken SavedModel can raise nearly anything
            _log.warning("version %s of %s failed to load: %s", version, self.name, error)
            self._set_status(
                VersionStatus(version, "END", grpc.StatusCode.UNKNOWN, f"failed to load: {_first_line(str(error))}")
            )
            return False
        with self._lock:
            previous, self._current = self._current, servable
            self._statuses[version] = VersionStatus(version, "AVAILABLE")
            if previous is not None:
                self._statuses[previous.version] = VersionStatus(previous.version, "END")
        _log.info("serving %s version %s (%d warm-up records)", self.name, version, records)
        if self.on_available is not None:
            self.on_available()
        return True

    def _set_status(self, status: VersionStatus) -> None:
        with self._lock:
            self._statuses[status.version] = status

    def servable(self, version: Optional[int] = None) -> Servable:
        """The served version (or `version`, which must be the one served).

        Args:
            version: A version number, or None for the newest.

        Returns:
            The Servable; callers keep this reference for the whole request.

        Raises:
            ServingError: NOT_FOUND when no version is available or `version` is not served.
        """
        servable = self._current
        if servable is None or (version is not None and version != servable.version):
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
