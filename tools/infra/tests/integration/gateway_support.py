"""The gateway under test: the real template rendered into a temporary prefix and run by
nginx from the distribution's package, in front of stand-in services on loopback ports that
answer every request with what they saw (auth's also answers the session check).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeflow_infra import gateway
from codeflow_testing.asgi import reserve_port, serve

TEMPLATE = Path(__file__).resolve().parents[4] / "deploy" / "gateway" / "nginx.conf.template"
WEB_ROOT = Path(__file__).resolve().parents[4] / "web"
GOOD_COOKIE = "authjs.session-token=good"
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Stub:
    """An ASGI app answering every request with what it saw; auth's also answers verify."""

    name: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    verify_delay: float = 0.0
    """Seconds auth's stub takes to answer a session check."""
    ended: set[str] = field(default_factory=set)
    """Cookie headers whose session has ended: auth's stub refuses a check carrying one."""
    failing: bool = False
    """Auth's stub answers every session check with a 500, as an auth that lost its database."""

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode(),
            **headers,
        }
        self.seen.append(request)
        status, extra = 200, []
        if scope["path"] == "/auth/verify":
            await asyncio.sleep(self.verify_delay)
            cookie = headers.get("cookie", "")
            if self.failing:
                status = 500
            elif GOOD_COOKIE in cookie and cookie not in self.ended:
                extra = [(b"x-user-id", b"user-1"), (b"x-auth-token", b"jwt-of-user-1")]
            else:
                status = 401
        body = json.dumps({"service": self.name, **request}).encode()
        start_headers = [(b"content-type", b"application/json"), *extra]
        await send({"type": "http.response.start", "status": status, "headers": start_headers})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gateway:
    port: int
    prefix: Path
    stubs: dict[str, Stub]

    async def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        return await self.request("GET", path, headers)

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 10,
        body: bytes | None = None,
        source: str | None = None,
    ) -> Answer:
        """``source``: the loopback address to send from (another client than 127.0.0.1)."""
        return await asyncio.to_thread(
            self._request, method, path, dict(headers or {}), timeout, body, source
        )

    def end_session(self, cookie: Mapping[str, str]) -> None:
        """From now on auth refuses ``cookie`` (a :func:`session_cookie`), as after a sign-out."""
        self.stubs["auth"].ended.add(cookie["Cookie"])

    def verifications(self) -> int:
        """How many session checks reached auth so far."""
        return sum(1 for seen in self.stubs["auth"].seen if seen["path"] == "/auth/verify")

    def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        timeout: float,
        body: bytes | None,
        source: str | None,
    ) -> Answer:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(source, 0) if source else None
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, answer_headers, response.read())
        finally:
            connection.close()

    def access_log(self) -> list[dict[str, Any]]:
        lines = (self.prefix / "logs" / "access.log").read_text().splitlines()
        return [json.loads(line) for line in lines]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def hung_port() -> Iterator[int]:
    """A port whose connections are accepted by the kernel and never answered, as those of
    a process that is stopped (SIGSTOP) or stuck."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


@asynccontextmanager
async def running_gateway(
    nginx: str,
    prefix: Path,
    up: tuple[str, ...],
    auth_cache_seconds: int = gateway.DEFAULT_AUTH_CACHE_SECONDS,
    hung: Mapping[str, int | Sequence[int]] | None = None,
    verify_delay: float = 0.0,
    **settings: Any,
) -> AsyncIterator[Gateway]:
    """A gateway whose services in `up` are stubs; the others' ports are closed. A service
    in `hung` has first replicas on those ports, which never answer. ``settings``: more
    of the gateway's settings (``GatewaySettings``)."""
    stubs = {name: Stub(name, verify_delay=verify_delay) for name in up}
    upstreams: dict[str, str | list[str]] = {
        name: f"127.0.0.1:{closed_port()}" for name in gateway.UPSTREAMS
    }
    async with _stubs_served(stubs) as ports:
        upstreams |= {name: f"127.0.0.1:{port}" for name, port in ports.items()}
        for name, stuck in (hung or {}).items():
            live = [upstreams[name]] if name in ports else []
            stuck_ports = [stuck] if isinstance(stuck, int) else list(stuck)
            upstreams[name] = [*(f"127.0.0.1:{p}" for p in stuck_ports), *live]  # type: ignore[misc]
        port = closed_port()
        settings = gateway.GatewaySettings(
            prefix=prefix,
            port=port,
            upstreams=upstreams,
            auth_cache_seconds=auth_cache_seconds,
            worker_user=gateway.worker_user(),
            **{"web_root": WEB_ROOT, **settings},
        )
        gateway.write_config(prefix, gateway.render(TEMPLATE.read_text(), settings))
        component = gateway.gateway_component(
            nginx=nginx, prefix=prefix, port=port, run_dir=prefix, logs_dir=prefix / "logs"
        )
        component.start()
        try:
            await asyncio.to_thread(component.wait_ready, 15)
            yield Gateway(port, prefix, stubs)
        finally:
            await asyncio.to_thread(component.stop)


@asynccontextmanager
async def _stubs_served(stubs: dict[str, Stub]) -> AsyncIterator[dict[str, int]]:
    ports: dict[str, int] = {}
    async with _serve_all(list(stubs.items()), ports):
        yield ports


@asynccontextmanager
async def _serve_all(items: list[tuple[str, Stub]], ports: dict[str, int]) -> AsyncIterator[None]:
    if not items:
        yield
        return
    (name, stub), rest = items[0], items[1:]
    sock = reserve_port()
    ports[name] = sock.getsockname()[1]
    async with serve(stub, sock=sock), _serve_all(rest, ports):
        yield


def assert_problem(answer: Answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:codeflow:problem:{kind}"


def session_cookie(good: bool = True) -> dict[str, str]:
    """A Cookie header of its own (an extra cookie), so no other test's check is reused."""
    session = GOOD_COOKIE if good else "authjs.session-token=bad"
    return {"Cookie": f"{session}; probe={uuid.uuid4().hex}"}
