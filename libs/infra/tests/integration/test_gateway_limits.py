"""The gateway's limits, through the real nginx in front of stand-in services: whose address
a limit counts (the trusted proxy), writes, connections, bodies and slow clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_support import Gateway, running_gateway

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
