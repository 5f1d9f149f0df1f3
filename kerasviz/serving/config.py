"""TF Serving's configuration files in their text protobuf formats.

- `--model_config_file`: `ModelServerConfig` (`model_config_list { config { name base_path
  model_version_policy version_labels } }`), parsed with tensorflow-serving-api's own classes.
- `--batching_parameters_file`: `BatchingParameters` (`max_batch_size { value: 16 }`, ...).
- `--monitoring_config_file`: `MonitoringConfig` (`prometheus_config { enable: true path: "..." }`).

The last two messages are not shipped in tensorflow-serving-api, so they are declared here with
TF Serving's field names and numbers and parsed with protobuf's text format all the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, wrappers_pb2
from tensorflow_serving.config import model_server_config_pb2

from ..errors import ParameterError
from .batching import BatchingParameters
from .metrics import DEFAULT_METRICS_PATH
from .versions import MAX_VERSION, VersionPolicy

__all__ = ["ModelSpecConfig", "read_model_config", "read_batching_parameters", "read_monitoring_config"]


@dataclass(frozen=True)
class ModelSpecConfig:
    """One served model: name, base path, version policy and labels."""

    name: str
    base_path: Path
    policy: VersionPolicy = field(default_factory=VersionPolicy)
    labels: Tuple[Tuple[str, int], ...] = ()

    @property
    def label_map(self) -> Dict[str, int]:
        """Labels as a dict."""
        return dict(self.labels)


def _messages():
    """`BatchingParameters` and `MonitoringConfig` message classes (TF Serving's field numbers)."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.FileDescriptorProto.FromString(wrappers_pb2.DESCRIPTOR.serialized_pb).SerializeToString())
    proto = descriptor_pb2.FileDescriptorProto(name="kerasviz_serving_config.proto", package="tensorflow.serving")
    proto.dependency.append("google/protobuf/wrappers.proto")
    batching = proto.message_type.add(name="BatchingParameters")
    for name, number, kind in (
        ("max_batch_size", 1, "Int64Value"),
        ("batch_timeout_micros", 2, "Int64Value"),
        ("max_enqueued_batches", 3, "Int64Value"),
        ("num_batch_threads", 4, "Int64Value"),
        ("thread_pool_name", 5, "StringValue"),
        ("pad_variable_length_inputs", 7, "BoolValue"),
        ("enable_large_batch_splitting", 9, "BoolValue"),
    ):
        batching.field.add(name=name, number=number, label=1, type=11, type_name=f".google.protobuf.{kind}")
    batching.field.add(name="allowed_batch_sizes", number=6, label=3, type=3)
    prometheus = proto.message_type.add(name="PrometheusConfig")
    prometheus.field.add(name="enable", number=1, label=1, type=8)
    prometheus.field.add(name="path", number=2, label=1, type=9)
    monitoring = proto.message_type.add(name="MonitoringConfig")
    monitoring.field.add(name="prometheus_config", number=1, label=1, type=11, type_name=".tensorflow.serving.PrometheusConfig")
    pool.Add(proto)
    get = message_factory.GetMessageClass
    return (
        get(pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters")),
        get(pool.FindMessageTypeByName("tensorflow.serving.MonitoringConfig")),
    )


_BATCHING, _MONITORING = _messages()


def _parse(path: str, message, flag: str):
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(f"Cannot read the --{flag} file: {error}. Received: {flag}={path!r}") from None
    try:
        return text_format.Parse(text, message)
    except text_format.ParseError as error:
        raise ParameterError(f"The --{flag} file is not valid text protobuf: {error}. Received: {flag}={path!r}") from None


def _policy(config) -> VersionPolicy:
    which = config.model_version_policy.WhichOneof("policy_choice")
    if which == "all":
        return VersionPolicy("all")
    if which == "specific":
        versions = tuple(int(v) for v in config.model_version_policy.specific.versions)
        if not versions or any(not 0 < v <= MAX_VERSION for v in versions):
            raise ParameterError(
                f"Model '{config.name}': model_version_policy.specific needs positive versions. "
                f"Received: versions={list(versions)}"
            )
        return VersionPolicy("specific", versions=versions)
    if which == "latest":
        return VersionPolicy("latest", num_versions=max(1, int(config.model_version_policy.latest.num_versions)))
    return VersionPolicy()


def read_model_config(path: str) -> List[ModelSpecConfig]:
    """The models of a `--model_config_file` (TF Serving's `ModelServerConfig` text format).

    Relative base paths are taken relative to the config file's folder.

    Args:
        path: The file.

    Returns:
        One `ModelSpecConfig` per `config` entry.

    Raises:
        ParameterError: unreadable or invalid file, no models, a duplicate or bad name, a
            missing base path folder, a `custom_model_config`, a bad policy or label.
    """
    config = _parse(path, model_server_config_pb2.ModelServerConfig(), "model_config_file")
    if config.WhichOneof("config") != "model_config_list" or not config.model_config_list.config:
        raise ParameterError(f"--model_config_file must hold a non-empty model_config_list. Received: model_config_file={path!r}")
    models, seen = [], set()
    for entry in config.model_config_list.config:
        if not entry.name or "/" in entry.name or ":" in entry.name or entry.name in seen:
            raise ParameterError(f"Each model needs a unique name without '/' or ':'. Received: name={entry.name!r}")
        seen.add(entry.name)
        if entry.model_platform not in ("", "tensorflow"):
            raise ParameterError(f"Only model_platform 'tensorflow' is served. Received: model_platform={entry.model_platform!r}")
        base = Path(os.path.expanduser(entry.base_path))
        base = base if base.is_absolute() else Path(path).resolve().parent / base
        if not entry.base_path or not base.is_dir():
            raise ParameterError(f"Model '{entry.name}': base_path must be an existing folder. Received: base_path={entry.base_path!r}")
        labels = tuple(sorted((str(k), int(v)) for k, v in entry.version_labels.items()))
        if any(not 0 < v <= MAX_VERSION for _, v in labels):
            raise ParameterError(f"Model '{entry.name}': version labels need positive versions. Received: version_labels={dict(labels)}")
        models.append(ModelSpecConfig(entry.name, base, _policy(entry), labels))
    return models


def read_batching_parameters(path: Optional[str]) -> BatchingParameters:
    """`--batching_parameters_file` as `BatchingParameters` (None: TF Serving's defaults).

    Args:
        path: The file, or None.

    Returns:
        The parameters.

    Raises:
        ParameterError: unreadable or invalid file, non-positive values, `allowed_batch_sizes`
            not increasing or not ending at `max_batch_size` (TF Serving's own rule).
    """
    if path is None:
        return BatchingParameters()
    message = _parse(path, _BATCHING(), "batching_parameters_file")
    defaults = BatchingParameters()
    values = {
        name: int(getattr(message, name).value) if message.HasField(name) else getattr(defaults, name)
        for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads")
    }
    allowed = tuple(int(v) for v in message.allowed_batch_sizes)
    if any(values[n] < 1 for n in ("max_batch_size", "max_enqueued_batches", "num_batch_threads")) or values["batch_timeout_micros"] < 0:
        raise ParameterError(f"Batching parameters must be positive (batch_timeout_micros >= 0). Received: {values}")
    if allowed and (list(allowed) != sorted(set(allowed)) or allowed[0] < 1 or allowed[-1] != values["max_batch_size"]):
        raise ParameterError(
            "allowed_batch_sizes must increase and end at max_batch_size. Received: "
            f"allowed_batch_sizes={list(allowed)}, max_batch_size={values['max_batch_size']}"
        )
    return BatchingParameters(allowed_batch_sizes=allowed, **values)


def read_monitoring_config(path: Optional[str]) -> Optional[str]:
    """The Prometheus path a `--monitoring_config_file` enables, or None.

    Args:
        path: The file, or None.

    Returns:
        The metrics path (default `/monitoring/prometheus/metrics`) when enabled, else None.

    Raises:
        ParameterError: unreadable or invalid file, or a path not starting with '/'.
    """
    if path is None:
        return None
    message = _parse(path, _MONITORING(), "monitoring_config_file")
    if not message.prometheus_config.enable:
        return None
    metrics_path = message.prometheus_config.path or DEFAULT_METRICS_PATH
    if not metrics_path.startswith("/") or metrics_path.startswith("/v1/"):
        raise ParameterError(f"prometheus_config.path must start with '/' and not '/v1/'. Received: path={metrics_path!r}")
    return metrics_path
