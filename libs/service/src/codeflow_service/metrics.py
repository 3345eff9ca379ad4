"""``GET /metrics``: what the service measures, in Prometheus' text format, for the
platform's scraper (the gateway does not route it from outside).

``http_requests_total`` counts requests and ``http_request_duration_seconds`` (a histogram)
times them, both labelled ``handler`` (the route template, e.g.
``/repositories/{repository_id}``, never the raw path), ``method`` and ``status``. A path no
route matches is counted as ``handler="none"``, so it adds no label value of its own;
``/metrics``, ``/healthz`` and ``/readyz`` are not counted. Each app has its own registry
(prometheus-client's), and one process serves one app: with several worker processes each
would show only its own requests.

The same registry holds the consumers' and the outbox's metrics
(:mod:`codeflow_messaging.metrics`) and a service's own (:meth:`ServiceMetrics.own`).
Numbers that live in a database table are read when Prometheus asks
(:meth:`ServiceMetrics.measured_at_scrape`), each reading bounded by
``SCRAPE_READING_TIMEOUT``.

The database pool's state is read from the pool when Prometheus asks
(:class:`PoolCollector`): ``db_pool_size``, ``db_pool_connections_in_use``,
``db_pool_waiting_requests``, and two counters, ``db_pool_waits_total`` (requests that found
no connection free and waited) and ``db_pool_wait_seconds_total`` (how long they waited in
all). Their ratio is the mean wait; a pool that is too small for the load shows both rising.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codeflow_messaging.metrics import MessagingMetrics
from codeflow_messaging.pool import FairPool, HandingOnQueue

logger = logging.getLogger("codeflow.metrics")

METRICS_PATH = "/metrics"
NOT_COUNTED = frozenset({METRICS_PATH, "/healthz", "/readyz"})
UNMATCHED = "none"
LABELS = ("handler", "method", "status")
SCRAPE_READING_TIMEOUT = 3.0
"""Seconds a reading at scrape time may take; Prometheus gives a scrape 10 by default."""

Reading = Callable[[], Awaitable[None]]
Own = TypeVar("Own")


class HttpMetrics:
    """The request counter and duration histogram of one app.

    Each series' pair of children is looked up once and kept: prometheus-client's
    ``labels()`` checks and joins the values under a lock, about 2 µs a request that a
    dictionary lookup saves. There are as many pairs as series, which the labels bound.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            LABELS,
            registry=registry,
        )
        self.durations = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            LABELS,
            registry=registry,
        )

        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        key = (handler, method, status)
        series = self._series.get(key)
        if series is None:
            labels = (handler, method, str(status))
            series = self._series[key] = (
                self.requests.labels(*labels),
                self.durations.labels(*labels),
            )
        requests, durations = series
        requests.inc()
        durations.observe(seconds)


class ServiceMetrics:
    """Everything one app measures, in one registry: its HTTP requests, its consumers and
    outbox, what the service adds, and what is read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http = HttpMetrics(self.registry)
        self.messaging = MessagingMetrics(self.registry)
        self.pool = PoolCollector()
        self.registry.register(self.pool)
        self._readings: list[Reading] = []
        self._own: dict[Callable[[CollectorRegistry], Any], Any] = {}

    def own(self, make: Callable[[CollectorRegistry], Own]) -> Own:
        """A service's own metrics, made by ``make`` in this registry the first time asked."""
        if make not in self._own:
            self._own[make] = make(self.registry)
        return cast("Own", self._own[make])

    @contextmanager
    def measured_at_scrape(self, reading: Reading) -> Iterator[None]:
        """Run ``reading`` (which sets gauges) before each exposition, while the block runs."""
        self._readings.append(reading)
        try:
            yield
        finally:
            self._readings.remove(reading)

    @contextmanager
    def pool_of(self, engine: AsyncEngine) -> Iterator[None]:
        """Show ``engine``'s pool (:class:`PoolCollector`) while the block runs."""
        self.pool.engine = engine
        try:
            yield
        finally:
            self.pool.engine = None

    async def exposition(self) -> bytes:
        """The registry in Prometheus' text format, once every reading has been taken. A
        reading that fails is logged and its gauges keep their last values."""
        for reading in tuple(self._readings):
            try:
                await asyncio.wait_for(reading(), timeout=SCRAPE_READING_TIMEOUT)
            except Exception as exc:  # the scrape still answers with the rest
                logger.warning("metrics: a reading at scrape time failed: %r", exc)
        return generate_latest(self.registry)


_POOL_SERIES: tuple[tuple[type[GaugeMetricFamily | CounterMetricFamily], str, str], ...] = (
    (GaugeMetricFamily, "db_pool_size", "Connections the database pool keeps."),
    (GaugeMetricFamily, "db_pool_connections_in_use", "Pool connections checked out right now."),
    (
        GaugeMetricFamily,
        "db_pool_waiting_requests",
        "Requests waiting for a pool connection right now.",
    ),
    (
        CounterMetricFamily,
        "db_pool_waits",
        "Requests that found no pool connection free and waited for one.",
    ),
    (
        CounterMetricFamily,
        "db_pool_wait_seconds",
        "Seconds requests spent waiting for a pool connection, in all.",
    ),
)


class PoolCollector(Collector):
    """The state of an engine's pool, read from it at each scrape (nothing per checkout).

    Its series are described from the start, with no samples until an engine is given (the
    service's, once it has started), so what reads ``/metrics`` knows them. It reads the
    engine's pool of the moment, so a pool SQLAlchemy replaces (on ``dispose()``) is
    followed; the counters then start again from zero, as a restarted process's do.
    """

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        pool = None if self.engine is None else self.engine.pool
        if not isinstance(pool, FairPool):
            return self.describe()
        queue = pool._pool
        assert isinstance(queue, HandingOnQueue)
        return self._families(
            (pool.size(), pool.checkedout(), queue.waiting(), queue.waits, queue.seconds_waited)
        )

    @staticmethod
    def _families(values: Sequence[float] | None) -> Iterator[Metric]:
        """Each of ``_POOL_SERIES``, with its value from ``values`` when there are values."""
        for index, (family_type, name, documentation) in enumerate(_POOL_SERIES):
            family = family_type(name, documentation)
            if values is not None:
                family.add_metric([], values[index])
            yield family


class HttpMetricsMiddleware:
    """Times every HTTP request and records it under the template of the route it matched."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an exception is answered as a 500
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            handler = getattr(route, "path", None) or UNMATCHED
            if handler not in NOT_COUNTED:
                elapsed = time.perf_counter() - started
                self.metrics.observe(handler, scope["method"], status, elapsed)


def install_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Count and time ``app``'s HTTP requests and serve ``metrics`` at ``GET /metrics``."""

    @app.get(METRICS_PATH, tags=["metrics"], include_in_schema=False)
    async def exposition() -> Response:
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(HttpMetricsMiddleware, metrics=metrics.http)
