"""The gateway's security controls, through the real nginx in front of stand-in services:
what reaches a service, what stays internal, cross-site writes, and the response headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from gateway_support import GOOD_COOKIE, Gateway, assert_problem, running_gateway, session_cookie

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
async def gw(nginx: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    prefix = tmp_path_factory.mktemp("gateway")
    async with running_gateway(
        nginx, prefix, up=("auth", "profiles", "repositories", "janitor")
    ) as running:
        yield running


async def test_the_session_cookie_reaches_auth_s_check_but_no_service_behind_api(
    gw: Gateway,
) -> None:
    cookie = session_cookie()
    answers = [
        await gw.get("/api/profiles/me", cookie),
        await gw.request("POST", "/api/repositories", cookie),
        await gw.request("POST", "/api/janitor/sweeps", cookie),
        await gw.get("/api/docs/profiles.json", cookie),
    ]

    assert [answer.status for answer in answers] == [200] * 4
    for answer in answers:
        assert "cookie" not in answer.json(), answer.json()["service"]
    checks = [s for s in gw.stubs["auth"].seen if s.get("x-original-uri", "").startswith("/api/")]
    assert checks and all(check["cookie"] == cookie["Cookie"] for check in checks[-3:])


async def test_auth_routes_still_get_the_cookie(gw: Gateway) -> None:
    answer = await gw.get("/auth/session", {"Cookie": GOOD_COOKIE})

    assert answer.json()["cookie"] == GOOD_COOKIE


@pytest.mark.parametrize(
    "path",
    [
        "/auth/verify",
        "/auth/verify/",
        "/auth/verify?next=1",
        "/auth//verify",
        "/auth/./verify",
        "/auth/session/../verify",
        "/auth/%76erify",
        "/auth/%76%65%72%69%66%79",
        "/auth/VERIFY",
        "/auth/Verify",
        "/AUTH/verify",
        "/auth/verify;x=1",
    ],
)
async def test_auth_verify_is_never_reached_from_outside(gw: Gateway, path: str) -> None:
    before = len(gw.stubs["auth"].seen)

    for method in ("GET", "POST"):
        answer = await gw.request(method, path, {"Cookie": GOOD_COOKIE})
        assert_problem(answer, 404, "not-found")

    assert gw.stubs["auth"].seen[before:] == []
