"""What one request costs an app in-process: the app called as ASGI, with no server.

``python -m codeflow_bench.asgi_timing [--iterations N] [--rounds R] [PATH]`` times ``PATH``
(``/healthz`` by default) on the bare Starlette app, a plain ``FastAPI()``, an empty app
built by the service kit, and the repositories service, in turns, and prints the best
round's microseconds per request for each: wall time (``perf_counter``) and this process's
CPU time (``process_time``). The best round is the one least disturbed by other work on
the machine; the rounds alternate the apps so each sees the same conditions. No lifespan
runs: the path must answer without the database or Kafka, as ``/healthz`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Scope

REQUEST_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"wrk"),
    (b"accept", b"*/*"),
]
"""What wrk sends the services in the bench's floor step."""


@dataclass(frozen=True)
class Timing:
    """Microseconds per request, by the wall clock and by this process's CPU time."""

    wall_us: float
    cpu_us: float


def request_scope(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    """A ``GET path`` scope as uvicorn builds it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def time_requests(
    app: ASGIApp, path: str, iterations: int, headers: list[tuple[bytes, bytes]] | None = None
) -> Timing:
    """Call ``app`` with ``GET path`` ``iterations`` times; raise unless each answers 200."""
    template = request_scope(path, REQUEST_HEADERS if headers is None else headers)
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(dict(template), receive, send)  # builds the middleware stack, warms caches
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(iterations):
        await app(dict(template, state={}), receive, send)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if set(statuses) != {200}:
        raise RuntimeError(f"{path} answered {sorted(set(statuses))}")
    return Timing(wall / iterations * 1e6, cpu / iterations * 1e6)


def floor_apps() -> dict[str, Callable[[], ASGIApp]]:
    """The floor's points, from the barest to the service, each made when called."""
    from codeflow_bench import bare_app, plain_fastapi_app

    def bare() -> ASGIApp:
        # The bare app reads its database settings at creation; /healthz uses neither.
        os.environ.setdefault("BENCH_DATABASE_URL", "postgresql://unused/bench")
        os.environ.setdefault("BENCH_DASHBOARD_SQL", "SELECT 1")
        return bare_app.create_app()

    def kit() -> ASGIApp:
        from codeflow_service.app import create_service_app
        from codeflow_service.settings import ServiceSettings

        settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
        return create_service_app(name="example", settings=settings, routers=[])

    def repositories() -> ASGIApp:
        from codeflow_repositories.config import RepositoriesSettings
        from codeflow_repositories.main import create_app

        return create_app(RepositoriesSettings(environment="development"))

    return {
        "bare Starlette": bare,
        "plain FastAPI": plain_fastapi_app.create_app,
        "kit, no routes": kit,
        "repositories": repositories,
    }


async def compare(path: str, iterations: int, rounds: int) -> dict[str, Timing]:
    """The best of ``rounds`` rounds for each app, the apps taking turns within a round."""
    apps = {name: make() for name, make in floor_apps().items()}
    best: dict[str, Timing] = {}
    for _ in range(rounds):
        for name, app in apps.items():
            timing = await time_requests(app, path, iterations)
            if name not in best or timing.cpu_us < best[name].cpu_us:
                best[name] = timing
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m codeflow_bench.asgi_timing")
    parser.add_argument("path", nargs="?", default="/healthz")
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    best = asyncio.run(compare(args.path, args.iterations, args.rounds))
    print(f"GET {args.path}, in-process, best of {args.rounds} x {args.iterations}")
    print(f"{'app':<16} {'wall µs':>8} {'CPU µs':>8}")
    for name, timing in best.items():
        print(f"{name:<16} {timing.wall_us:>8.1f} {timing.cpu_us:>8.1f}")


if __name__ == "__main__":
    main()
