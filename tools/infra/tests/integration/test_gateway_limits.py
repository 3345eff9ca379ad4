"""The gateway's limits, through the real nginx in front of stand-in services: whose address
a limit counts (the trusted proxy), writes, connections, bodies and slow clients."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from gateway_support import Gateway, assert_problem, running_gateway, session_cookie

from codeflow_infra import gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TWO_SIGN_INS = {"signin_rate": "1r/m", "signin_burst": 1}
"""Two sign-in requests per client address, then one a minute (nginx wants a burst of 1+)."""
OTHER_PEER = "127.0.0.2"
"""A second client on this machine: loopback is all of 127.0.0.0/8."""


async def sign_in(gw: Gateway, forwarded_for: str, source: str | None = None) -> int:
    answer = await gw.request(
        "GET", "/auth/signin/github", {"X-Forwarded-For": forwarded_for}, source=source
    )
    return answer.status


async def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth",), trusted_proxies=("127.0.0.1",), **TWO_SIGN_INS
    ) as gw:
        first = [await sign_in(gw, "203.0.113.1") for _ in range(3)]
        second = await sign_in(gw, "203.0.113.2")
        # The proxy appends the address it saw; what the client wrote before it is its own.
        chained = await sign_in(gw, "198.51.100.9, 203.0.113.3")
        seen = gw.stubs["auth"].seen

    assert first == [200, 200, 429]
    assert second == 200
    assert chained == 200
    # The service is told the client's address the gateway settled on, and only that.
    assert [s["x-forwarded-for"] for s in seen] == [
        *["203.0.113.1"] * 2,
        "203.0.113.2",
        "203.0.113.3",
    ]


async def test_an_untrusted_peer_s_forwarded_for_is_ignored(nginx: str, tmp_path: Path) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth",), trusted_proxies=("127.0.0.1",), **TWO_SIGN_INS
    ) as gw:
        statuses = [
            await sign_in(gw, forged, source=OTHER_PEER)
            for forged in ("10.1.1.1", "10.2.2.2", "10.3.3.3")
        ]
        seen = gw.stubs["auth"].seen

    assert statuses == [200, 200, 429]
    assert [s["x-forwarded-for"] for s in seen] == [OTHER_PEER] * 2


async def test_by_default_no_proxy_is_trusted(nginx: str, tmp_path: Path) -> None:
    async with running_gateway(nginx, tmp_path, up=("auth",), **TWO_SIGN_INS) as gw:
        statuses = [await sign_in(gw, forged) for forged in ("10.1.1.1", "10.2.2.2", "10.3.3.3")]
        seen = gw.stubs["auth"].seen

    assert statuses == [200, 200, 429]
    assert [s["x-forwarded-for"] for s in seen] == ["127.0.0.1"] * 2


async def test_too_many_writes_from_one_address_get_a_429_problem(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth", "repositories"), write_rate="1r/m", write_burst=2
    ) as gw:
        writes = [
            await gw.request(method, path, session_cookie())
            for method, path in [
                ("POST", "/api/repositories"),
                ("DELETE", "/auth/me"),
                ("PATCH", "/api/repositories/1"),
                ("POST", "/api/repositories"),
                ("POST", "/auth/signout"),
            ]
        ]
        read = await gw.get("/api/repositories", session_cookie())
        elsewhere = await gw.request(
            "POST", "/api/repositories", session_cookie(), source=OTHER_PEER
        )
        reached = [s for s in gw.stubs["repositories"].seen if s["method"] != "GET"]

    assert [w.status for w in writes] == [200, 200, 200, 429, 429]
    for refused in writes[3:]:
        assert_problem(refused, 429, "rate-limited")
        assert refused.headers["retry-after"] == "1"
    assert read.status == 200  # reads are the services' call
    assert elsewhere.status == 200  # another address has its own
    assert len(reached) == 3


async def test_too_many_requests_at_once_from_one_address_get_a_429_problem(
    nginx: str, tmp_path: Path
) -> None:
    # auth takes a second over each check, so the requests overlap.
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), connection_limit=2, verify_delay=1.0
    ) as gw:
        answers = await asyncio.gather(
            *(gw.get("/api/profiles/me", session_cookie()) for _ in range(6))
        )
        other = await gw.request("GET", "/api/profiles/me", session_cookie(), source=OTHER_PEER)

    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(200) >= 1
    assert statuses.count(429) >= 3, statuses
    assert_problem(next(a for a in answers if a.status == 429), 429, "rate-limited")
    assert other.status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/repositories"), ("PUT", "/api/profiles/me"), ("POST", "/auth/signout")],
)
async def test_a_body_over_1_mb_gets_a_413_problem_and_reaches_no_one(
    nginx: str, tmp_path: Path, method: str, path: str
) -> None:
    async with running_gateway(nginx, tmp_path, up=gateway.UPSTREAMS) as gw:
        answer = await gw.request(method, path, session_cookie(), body=b"x" * (1024 * 1024 + 1))
        seen = {name: stub.seen for name, stub in gw.stubs.items()}

    assert_problem(answer, 413, "payload-too-large")
    assert seen == {name: [] for name in gateway.UPSTREAMS}


async def test_a_client_that_sends_its_headers_slowly_is_cut_off(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(nginx, tmp_path, up=()) as gw:
        cut_off = await asyncio.to_thread(
            _slow_headers, gw.port, bound=gateway.CLIENT_TIMEOUT_SECONDS + 5
        )

    assert cut_off <= gateway.CLIENT_TIMEOUT_SECONDS + 2


def _slow_headers(port: int, *, bound: float) -> float:
    """Start a request and never finish its headers; seconds until nginx closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=bound) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        try:
            while sock.recv(4096):
                pass  # a 408, if nginx says anything before closing
        except TimeoutError:
            raise AssertionError(f"nginx still waits for the headers after {bound} s") from None
        return time.monotonic() - started
