"""The `serving/` deployment files: TF Serving's model config parses, compose mounts what exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

FOLDER = Path(__file__).resolve().parents[2] / "serving"


def test_model_config_parses():
    """models.config is a valid ModelServerConfig serving the newest version of `style`."""
    config = text_format.Parse((FOLDER / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert model.name == "style" and model.base_path == "/models/style" and model.model_platform == "tensorflow"
    assert model.model_version_policy.latest.num_versions == 1


def test_batching_parameters_consistent():
    """The largest allowed batch size equals max_batch_size (TF Serving refuses the file otherwise)."""
    text = (FOLDER / "batching_parameters.txt").read_text()
    max_batch = int(re.search(r"max_batch_size \{ value: (\d+) \}", text).group(1))
    allowed = [int(v) for v in re.findall(r"allowed_batch_sizes: (\d+)", text)]
    assert allowed == sorted(allowed) and allowed[-1] == max_batch


def test_compose_file():
    """The compose service runs the GPU image with the config files it mounts, on loopback ports."""
    yaml = pytest.importorskip("yaml")  # PyYAML is not a kerasviz dependency
    compose = yaml.safe_load((FOLDER / "docker-compose.yml").read_text())
    service = compose["services"]["tfserving"]
    import tensorflow as tf

    assert service["image"] == f"tensorflow/serving:{tf.__version__}-gpu"  # pinned to the exporting TF
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    mounted = {volume.split(":")[0].lstrip("./") for volume in service["volumes"][1:]}
    assert all((FOLDER / name).is_file() for name in mounted)
    flags = dict(flag.lstrip("-").split("=", 1) for flag in service["command"])
    assert flags["model_config_file"] == "/config/models.config"
    assert flags["batching_parameters_file"] == "/config/batching_parameters.txt"
    assert flags["monitoring_config_file"] == "/config/monitoring.config"
    assert service["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_monitoring_config_parses():
    """monitoring.config enables Prometheus at TF Serving's path (read by kerasviz's own parser)."""
    from kerasviz.serving.config import read_monitoring_config

    assert read_monitoring_config(str(FOLDER / "monitoring.config")) == "/monitoring/prometheus/metrics"


def test_batching_parameters_parse_with_the_server_parser():
    from kerasviz.serving.config import read_batching_parameters

    parameters = read_batching_parameters(str(FOLDER / "batching_parameters.txt"))
    assert parameters.max_batch_size == 16 and parameters.allowed_batch_sizes[-1] == 16
