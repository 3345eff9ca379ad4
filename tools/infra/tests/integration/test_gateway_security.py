"""The gateway's security controls, through the real nginx in front of stand-in services:
what reaches a service, what stays internal, cross-site writes, and the response headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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
    checked = {
        s["x-original-uri"] for s in gw.stubs["auth"].seen if s.get("cookie") == cookie["Cookie"]
    }
    assert {"/api/profiles/me", "/api/repositories", "/api/janitor/sweeps"} <= checked


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
        # 404, or a 400 for a path with dot segments (test_gateway_paths).
        assert answer.status in (400, 404), answer.body
        assert answer.headers["content-type"] == "application/problem+json"

    assert gw.stubs["auth"].seen[before:] == []


FOREIGN = "https://evil.example"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1"},  # the public origin's host on another port
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_cross_site_write_under_api_is_refused_before_anything_sees_it(
    gw: Gateway, headers: dict[str, str]
) -> None:
    before = {name: len(stub.seen) for name, stub in gw.stubs.items()}

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        answer = await gw.request(method, "/api/repositories", {**session_cookie(), **headers})
        assert_problem(answer, 403, "cross-site-request")
        assert answer.json()["request_id"] == answer.headers["x-request-id"]

    assert {name: len(stub.seen) for name, stub in gw.stubs.items()} == before


async def test_writes_from_the_public_origin_or_no_browser_pass(gw: Gateway) -> None:
    public = f"http://127.0.0.1:{gw.port}"
    allowed = [
        {},
        {"Origin": public},
        {"Origin": public, "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar, a bookmark
    ]

    for headers in allowed:
        answer = await gw.request("POST", "/api/repositories", {**session_cookie(), **headers})
        assert answer.status == 200, (headers, answer.body)


async def test_reads_and_auth_s_own_routes_are_not_judged_by_their_origin(gw: Gateway) -> None:
    # Auth checks the origin and a CSRF token of its own writes itself.
    foreign = {"Origin": FOREIGN, "Sec-Fetch-Site": "cross-site"}

    read = await gw.get("/api/profiles/me", {**session_cookie(), **foreign})
    head = await gw.request("HEAD", "/api/profiles/me", {**session_cookie(), **foreign})
    options = await gw.request("OPTIONS", "/api/profiles/me", {**session_cookie(), **foreign})
    sign_out = await gw.request("POST", "/auth/signout", {**session_cookie(), **foreign})

    assert [read.status, head.status, options.status, sign_out.status] == [200] * 4


EVERY_KIND_OF_ANSWER = [
    ("GET", "/healthz", {}, 200),
    ("GET", "/api/docs/", {}, 200),
    ("GET", "/auth/session", {}, 200),
    ("GET", "/api/profiles/me", {"Cookie": GOOD_COOKIE}, 200),
    ("GET", "/api/profiles/me", {}, 401),
    ("POST", "/api/repositories", {"Origin": FOREIGN}, 403),
    ("GET", "/nothing/here", {}, 404),
    ("GET", "/auth/verify", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), EVERY_KIND_OF_ANSWER)
async def test_every_answer_carries_the_security_headers_and_no_hsts_over_http(
    gw: Gateway, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    answer = await gw.request(method, path, headers)

    assert answer.status == status, answer.body
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in answer.headers  # the public URL is http


async def test_a_gateway_whose_public_url_is_https_sends_hsts_on_every_answer(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), public_url="https://codeflow.example.com"
    ) as https:
        answers = [
            await https.request(method, path, headers)
            for method, path, headers, _ in EVERY_KIND_OF_ANSWER
        ]

    assert [a.status for a in answers] == [status for *_, status in EVERY_KIND_OF_ANSWER]
    for answer in answers:
        assert answer.headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains"
        )
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/auth/session", "/auth/csrf", "/auth/session?fresh=1"])
async def test_the_session_and_its_csrf_token_are_never_stored_by_a_cache(
    gw: Gateway, path: str
) -> None:
    answer = await gw.get(path, {"Cookie": GOOD_COOKIE})

    assert answer.status == 200
    assert answer.headers["cache-control"] == "no-store"
