"""Prometheus metrics under TF Serving's names, exposed at TF Serving's path when the monitoring
config enables them (`prometheus_config { enable: true }`).

Names, labels and units follow `tensorflow_model_server`:

- `:tensorflow:serving:request_count{model_name, status}`: requests handled ("OK" or the error
  code name); requests naming a model that is not served count under `model_name="__unknown__"`
  (`UNKNOWN_MODEL`), so clients cannot grow the page by inventing names. Written with TF
  Serving's exact name (the Prometheus client library would append `_total` to a counter, so it
  is exposed as an untyped sample of the library's counter value);
- `:tensorflow:serving:request_latency{model_name, API, entrypoint}`: histogram of the whole
  request in microseconds (`API` = predict / metadata / status, `entrypoint` = GRPC / REST);
- `:tensorflow:serving:runtime_latency{model_name, API, runtime}`: histogram of the model run
  alone in microseconds (`runtime` = TF1/TF2 there; here "TF2");
- `:tensorflow:serving:batching_session:queuing_latency{thread_pool_name}`: microseconds a
  request waited for its batch (with `--enable_batching`).
"""

from __future__ import annotations

from typing import Container, Iterable, Optional

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric

__all__ = [
    "DEFAULT_METRICS_PATH",
    "QUEUING_LATENCY",
    "REQUEST_COUNT",
    "REQUEST_LATENCY",
    "RUNTIME_LATENCY",
    "UNKNOWN_MODEL",
    "Metrics",
]

DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"
REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"
QUEUING_LATENCY = ":tensorflow:serving:batching_session:queuing_latency"
#: The one `model_name` label of every request naming a model that is not served (or none).
UNKNOWN_MODEL = "__unknown__"
# TF Serving's latency buckets: 10 us growing by 1.8x (about 33 buckets up to ~2 hours).
_BUCKETS = tuple(round(10.0 * 1.8**i, 1) for i in range(33))


class _ExactNameCounter:
    """Exposes a counter's samples under the counter's own name (no `_total` suffix)."""

    def __init__(self, counter: Counter, name: str, documentation: str) -> None:
        self._counter, self._name, self._doc = counter, name, documentation

    def collect(self) -> Iterable[Metric]:
        """One untyped metric family holding the counter's current values."""
        metric = Metric(self._name, self._doc, "unknown")
        for family in self._counter.collect():
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    metric.add_sample(self._name, sample.labels, sample.value)
        yield metric


class Metrics:
    """The server's metrics in their own registry (several servers in one process stay apart).

    Args:
        served_models: The names served now (looked up at each request, so a reloaded model
            config counts); other names are labelled `UNKNOWN_MODEL`. None labels every name as
            given.
    """

    def __init__(self, served_models: Optional[Container[str]] = None) -> None:
        self._served = served_models
        self.registry = CollectorRegistry(auto_describe=True)
        hidden = CollectorRegistry()  # the counter's own `_total` exposition stays out of sight
        self._requests = Counter(
            REQUEST_COUNT.lstrip(":").replace(":", "_"), "requests", ["model_name", "status"], registry=hidden
        )
        self.registry.register(_ExactNameCounter(self._requests, REQUEST_COUNT, "The total number of requests."))
        self._latency = Histogram(
            REQUEST_LATENCY, "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ["model_name", "API", "entrypoint"], buckets=_BUCKETS, registry=self.registry,
        )
        self._runtime = Histogram(
            RUNTIME_LATENCY, "Distribution of wall time (in microseconds) for Tensorflow runtime.",
            ["model_name", "API", "runtime"], buckets=_BUCKETS, registry=self.registry,
        )
        self._queuing = Histogram(
            QUEUING_LATENCY, "Distribution of wall time (in microseconds) a request waited for its batch.",
            ["thread_pool_name"], buckets=_BUCKETS, registry=self.registry,
        )

    def observe(self, model: str, api: str, entrypoint: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count one request and record its latency.

        Args:
            model: Model name as requested ("" when the request named none); a name that is not
                served is counted as `UNKNOWN_MODEL`.
            api: "predict", "metadata" or "status".
            entrypoint: "GRPC" or "REST".
            code: The request's status code.
            seconds: Wall time of the whole request.
        """
        status = "OK" if code == grpc.StatusCode.OK else code.name
        if self._served is not None and model not in self._served:
            model = UNKNOWN_MODEL
        self._requests.labels(model, status).inc()
        self._latency.labels(model, api, entrypoint).observe(seconds * 1e6)

    def observe_runtime(self, model: str, seconds: float) -> None:
        """Record one model run's wall time.

        Args:
            model: Model name.
            seconds: Seconds the signature ran.
        """
        self._runtime.labels(model, "predict", "TF2").observe(seconds * 1e6)

    def observe_queuing(self, seconds: float, pool: Optional[str] = None) -> None:
        """Record how long a request waited for its batch.

        Args:
            seconds: Seconds between submission and the batch starting.
            pool: Thread pool name (default TF Serving's "shared_batch_scheduler").
        """
        self._queuing.labels(pool or "shared_batch_scheduler").observe(seconds * 1e6)

    def text(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
