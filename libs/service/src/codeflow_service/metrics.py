"""``GET /metrics``: the service's HTTP requests in Prometheus' text format, for the
platform's scraper (the gateway does not route it from outside).

``http_requests_total`` counts requests and ``http_request_duration_seconds`` (a histogram)
times them, both labelled ``handler`` (the route template, e.g.
``/repositories/{repository_id}``, never the raw path), ``method`` and ``status``. A path no
route matches is counted as ``handler="none"``, so it adds no label value of its own;
``/metrics``, ``/healthz`` and ``/readyz`` are not counted. Each app has its own registry
(prometheus-client's), and one process serves one app: with several worker processes each
would show only its own requests.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
NOT_COUNTED = frozenset({METRICS_PATH, "/healthz", "/readyz"})
UNMATCHED = "none"
LABELS = ("handler", "method", "status")


class HttpMetrics:
    """The request counter and duration histogram of one app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            LABELS,
            registry=self.registry,
        )
        self.durations = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            LABELS,
            registry=self.registry,
        )

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        labels = (handler, method, str(status))
        self.requests.labels(*labels).inc()
        self.durations.labels(*labels).observe(seconds)


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


def install_metrics(app: FastAPI) -> None:
    """Count and time ``app``'s HTTP requests and serve them at ``GET /metrics``."""
    metrics = HttpMetrics()
    router = APIRouter(tags=["metrics"], include_in_schema=False)

    @router.get(METRICS_PATH)
    async def exposition() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
