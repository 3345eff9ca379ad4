"""Path tricks at the gateway: dot segments, encoded slashes and dots, doubled slashes, case.
Each either reaches the one service its plain path names, after the session check, or is
refused by the gateway itself; none reaches another service, nor any route unchecked."""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import AsyncIterator
from urllib.parse import unquote

import pytest
from gateway_support import GOOD_COOKIE, Gateway, running_gateway

from codeflow_infra import gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

REFUSED = "refused"

TRICKS = [
    ("/api/profiles/../repositories", REFUSED),
    ("/api/profiles/../repositories/1", REFUSED),
    ("/api/profiles/./me", REFUSED),
    ("/api/profiles/%2e%2e/repositories", REFUSED),
    ("/api/profiles/%2E%2E/janitor/sweeps", REFUSED),
    ("/api/profiles/.%2e/janitor/sweeps", REFUSED),
    ("/api/%2e%2e/auth/verify", REFUSED),
    ("/api/%2e%2e/auth/session", REFUSED),
    ("/api/../auth/session", REFUSED),
    ("/api/profiles%2f..%2fjanitor", REFUSED),
    ("/api/profiles%2F..%2Fjanitor/sweeps", REFUSED),
    ("/api/profiles%2fme", REFUSED),
    ("/api/profiles/%5c..%5cjanitor", REFUSED),
    ("/api/profiles/..;/janitor", REFUSED),
    ("/api/profiles/me%00", REFUSED),
    ("/api/docs/../profiles/me", REFUSED),
    ("/api/docs/%2e%2e/janitor/sweeps", REFUSED),
    ("/auth/../api/profiles/me", REFUSED),
    ("/auth/%2e%2e/api/janitor/sweeps", REFUSED),
    ("/auth/session/..%2f..%2fapi/janitor", REFUSED),
    ("/auth/signin/..%2fsession", REFUSED),
    ("/API/profiles/me", REFUSED),
    ("/api/Profiles/me", REFUSED),
    ("/Api/janitor/sweeps", REFUSED),
    ("/api/janitors", REFUSED),
    ("/api/profilesx/me", REFUSED),
    ("/metrics", REFUSED),
    ("/api/metrics", REFUSED),
    ("/api/profiles/../../metrics", REFUSED),
    ("/auth/../metrics", REFUSED),
    ("/api/docs/../../readyz", REFUSED),
    ("/api/profiles/metrics", "profiles"),  # the service's own /profiles/metrics, not /metrics
    ("//api/profiles/me", "profiles"),
    ("/api//profiles/me", "profiles"),
    ("/api/profiles//me", "profiles"),
    ("/api/profiles/me?next=/../janitor", "profiles"),
    ("/api/profiles/me?next=%2e%2e%2fjanitor", "profiles"),
    ("/api/repositories", "repositories"),
    ("/api/janitor/sweeps", "janitor"),
]


@pytest.fixture(scope="module")
async def gw(nginx: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    # No reuse of session checks: every /api/ request must show its own.
    prefix = tmp_path_factory.mktemp("gateway")
    async with running_gateway(nginx, prefix, up=gateway.UPSTREAMS, auth_cache_seconds=0) as gw:
        yield gw


@pytest.mark.parametrize(("path", "expected"), TRICKS)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_path_trick_reaches_only_its_own_service_and_only_after_the_session_check(
    gw: Gateway, method: str, path: str, expected: str
) -> None:
    request_id = f"trick-{uuid.uuid4().hex}"

    answer = await gw.request(method, path, {"Cookie": GOOD_COOKIE, "X-Request-Id": request_id})

    seen = {
        name: [s for s in stub.seen if s.get("x-request-id") == request_id]
        for name, stub in gw.stubs.items()
    }
    checks = [s for s in seen.pop("auth") if s["path"] == "/auth/verify"]
    reached = {name: requests for name, requests in seen.items() if requests}
    for check in checks:
        assert check["x-original-uri"] == path  # a check, made by the gateway, for this
    if expected == REFUSED:
        assert answer.status in (400, 404), answer.body
        assert answer.headers["content-type"] == "application/problem+json"
        assert reached == {}
        unchecked_auth = [s for s in gw.stubs["auth"].seen if s.get("x-request-id") == request_id]
        assert unchecked_auth == checks
    else:
        assert answer.status == 200, answer.body
        assert list(reached) == [expected]
        [request] = reached[expected]
        assert request["path"].startswith(f"/{expected}")
        assert ".." not in request["path"]
        assert len(checks) == 1


INTERNAL = "/internal/github/users/u1/repos"
INTERNAL_TRICKS = [
    INTERNAL,
    "/internal/github/users/u1/repositories/1",
    "//internal/github/users/u1/repos",
    "/Internal/github/users/u1/repos",
    "/%69nternal/github/users/u1/repos",
    f"/auth/..{INTERNAL}",
    f"/auth/%2e%2e{INTERNAL}",
    f"/auth/%2E%2E{INTERNAL}",
    f"/auth/..%2f{INTERNAL[1:]}",
    f"/auth/..%2F{INTERNAL[1:]}",
    f"/auth/%2e%2e%2f{INTERNAL[1:]}",
    f"/auth/signin/../..{INTERNAL}",
    f"/auth/signin/..%2f..%2f{INTERNAL[1:]}",
    f"/auth/callback/%2e%2e/%2e%2e{INTERNAL}",
    f"/auth/%5c..%5c{INTERNAL[1:]}",
    f"/auth/..;{INTERNAL}",
    f"/auth//..{INTERNAL}",
    f"/api/..{INTERNAL}",
    f"/api/%2e%2e{INTERNAL}",
    f"/api/repositories/../..{INTERNAL}",
    f"/api/repositories/..%2f..%2f{INTERNAL[1:]}",
    f"/api/docs/..{INTERNAL}",
    f"/api/docs/auth.json/..{INTERNAL}",
]


def reaches_internal(path: str) -> bool:
    """Whether ``path``, however a server decodes and resolves it, is under /internal."""
    for form in (path, unquote(path), unquote(unquote(path))):
        resolved = posixpath.normpath("/" + form.replace("\\", "/").lstrip("/"))
        if resolved.lower().startswith("/internal"):
            return True
    return False


@pytest.mark.parametrize("path", INTERNAL_TRICKS)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_spelling_of_auths_internal_routes_reaches_them_through_the_gateway(
    gw: Gateway, method: str, path: str
) -> None:
    request_id = f"internal-{uuid.uuid4().hex}"
    headers = {
        "Cookie": GOOD_COOKIE,
        "X-Request-Id": request_id,
        "Authorization": "Bearer development-internal-token-do-not-use-in-production",
    }

    answer = await gw.request(method, path, headers)

    assert answer.status >= 400, (path, answer.status, answer.body)
    seen = [
        s for stub in gw.stubs.values() for s in stub.seen if s.get("x-request-id") == request_id
    ]
    assert not [s for s in seen if reaches_internal(s["path"]) or reaches_internal(s["raw_path"])]


async def test_plain_paths_with_dots_in_a_segment_still_pass(gw: Gateway) -> None:
    keys = await gw.get("/auth/.well-known/jwks.json")
    dotted = await gw.get("/api/profiles/some.name", {"Cookie": GOOD_COOKIE})

    assert keys.json()["path"] == "/auth/.well-known/jwks.json"
    assert dotted.json()["path"] == "/profiles/some.name"
