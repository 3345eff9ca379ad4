"""The nginx gateway in front of stub services: routing, the session check, problems, limits.

The stubs are tiny ASGI apps on loopback ports (gateway_support); the gateway runs from the
real template with nginx from the distribution's package, on a free port, in a temporary
prefix.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import (
    GOOD_COOKIE,
    Gateway,
    assert_problem,
    hung_port,
    running_gateway,
    session_cookie,
)

from codeflow_infra import gateway
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

EXPIRED = 2.1
"""Seconds after which a check kept for 1 s has surely expired: nginx keeps whole seconds."""


@pytest.fixture(scope="module")
async def gw(nginx: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    prefix = tmp_path_factory.mktemp("gateway")
    async with running_gateway(nginx, prefix, up=("auth", "profiles", "janitor")) as running:
        yield running


async def test_an_api_call_without_a_session_gets_a_401_problem(gw: Gateway) -> None:
    answer = await gw.get("/api/profiles/me")

    assert_problem(answer, 401, "not-signed-in")
    assert not any(seen["path"].startswith("/profiles") for seen in gw.stubs["profiles"].seen)


async def test_a_signed_in_call_reaches_the_service_with_the_gateway_s_identity(
    gw: Gateway,
) -> None:
    answer = await gw.get(
        "/api/profiles/me?fields=all",
        {"Cookie": GOOD_COOKIE, "Authorization": "Bearer forged", "X-User-Id": "someone-else"},
    )

    assert answer.status == 200, answer.body
    seen = answer.json()
    assert seen["service"] == "profiles"
    assert (seen["path"], seen["query"]) == ("/profiles/me", "fields=all")
    assert seen["authorization"] == "Bearer jwt-of-user-1"
    assert seen["x-user-id"] == "user-1"
    # The check may have been made by an earlier test's request (it is reused for seconds).
    verify = [seen for seen in gw.stubs["auth"].seen if seen["path"] == "/auth/verify"][-1]
    assert verify["cookie"] == GOOD_COOKIE
    assert "authorization" not in verify


async def test_each_api_prefix_goes_to_its_own_service(gw: Gateway) -> None:
    cookie = {"Cookie": GOOD_COOKIE}
    janitor = await gw.get("/api/janitor/sweeps", cookie)
    bare = await gw.get("/api/profiles", cookie)

    assert (janitor.json()["service"], janitor.json()["path"]) == ("janitor", "/janitor/sweeps")
    assert (bare.json()["service"], bare.json()["path"]) == ("profiles", "/profiles")


async def test_auth_routes_pass_without_a_session_check_and_drop_forged_identity(
    gw: Gateway,
) -> None:
    answer = await gw.get("/auth/session", {"Cookie": "a=b", "X-User-Id": "forged"})

    seen = answer.json()
    assert (seen["service"], seen["path"], seen["cookie"]) == ("auth", "/auth/session", "a=b")
    assert "x-user-id" not in seen


async def test_a_sane_request_id_is_kept_and_an_odd_one_replaced(gw: Gateway) -> None:
    kept = await gw.get("/auth/session", {"X-Request-Id": "req-123.abc"})
    replaced = await gw.get("/auth/session", {"X-Request-Id": "<script>"})

    assert kept.headers["x-request-id"] == "req-123.abc"
    assert kept.json()["x-request-id"] == "req-123.abc"
    assert replaced.headers["x-request-id"] != "<script>"
    assert replaced.json()["x-request-id"] == replaced.headers["x-request-id"]


async def test_a_service_that_is_down_answers_a_502_problem(gw: Gateway) -> None:
    answer = await gw.get("/api/repositories?page=1", {"Cookie": GOOD_COOKIE})

    assert_problem(answer, 502, "service-unavailable")
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


async def test_a_read_sent_to_a_replica_that_hangs_is_answered_by_another_in_time(
    nginx: str, tmp_path: Path
) -> None:
    with hung_port() as stuck:
        async with running_gateway(
            nginx, tmp_path, up=("auth", "profiles"), hung={"profiles": stuck}
        ) as gw:
            # Round robin: one of two reads goes to the stuck replica first.
            answers = [await gw.get("/api/profiles/me", session_cookie()) for _ in range(2)]
            log = gw.access_log()

    assert [a.status for a in answers] == [200, 200]
    assert [a.json()["service"] for a in answers] == ["profiles", "profiles"]
    slowest = max(float(line["request_time"]) for line in log if "profiles" in line["uri"])
    assert slowest < gateway.UPSTREAM_DEADLINE_SECONDS


async def test_a_write_sent_to_a_replica_that_hangs_is_answered_with_a_504_problem_in_time(
    nginx: str, tmp_path: Path
) -> None:
    with hung_port() as stuck:
        async with running_gateway(
            nginx, tmp_path, up=("auth",), hung={"repositories": stuck}
        ) as gw:
            headers = {**session_cookie(), "X-Request-Id": "hung-write"}
            answer = await gw.request("POST", "/api/repositories", headers)
            line = await _eventually_logged(gw, "hung-write")

    assert_problem(answer, 504, "service-timeout")
    assert float(line["request_time"]) < gateway.UPSTREAM_DEADLINE_SECONDS


async def test_a_write_that_timed_out_is_never_sent_again_to_another_replica(
    nginx: str, tmp_path: Path
) -> None:
    # It may have been carried out. nginx would send a DELETE once more (HTTP calls it
    # idempotent), and auth's DELETE /auth/me would then answer as for someone not signed in.
    with hung_port() as stuck:
        async with running_gateway(nginx, tmp_path, up=("auth",), hung={"auth": stuck}) as gw:
            # Round robin: one of the two goes to the stuck replica first.
            answers = [await gw.request("DELETE", "/auth/me", session_cookie()) for _ in range(2)]
            deletes = [seen for seen in gw.stubs["auth"].seen if seen["path"] == "/auth/me"]

    assert sorted(a.status for a in answers) == [200, 504]
    assert_problem(max(answers, key=lambda a: a.status), 504, "service-timeout")
    assert len(deletes) == 1


async def test_a_write_to_auth_that_is_down_answers_a_502_problem(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(nginx, tmp_path, up=()) as without_auth:
        answer = await without_auth.request("POST", "/auth/signout", session_cookie())

    assert_problem(answer, 502, "service-unavailable")


async def test_a_slow_session_check_and_a_service_that_hangs_are_answered_within_the_bound(
    nginx: str, tmp_path: Path
) -> None:
    # The worst that stays unanswered longest: auth answers the check just in time, then
    # each of the service's replicas hangs.
    with hung_port() as first, hung_port() as second:
        async with running_gateway(
            nginx,
            tmp_path,
            up=("auth",),
            hung={"profiles": (first, second)},
            verify_delay=gateway.VERIFY_TIMEOUT_SECONDS - 0.5,
        ) as gw:
            started = time.monotonic()
            answer = await gw.request("GET", "/api/profiles/me", session_cookie(), timeout=60)
            took = time.monotonic() - started

    assert_problem(answer, 504, "service-timeout")
    assert took < gateway.UPSTREAM_DEADLINE_SECONDS


async def test_unknown_paths_answer_a_404_problem(gw: Gateway) -> None:
    for path in ("/nothing/here", "/api/unknown", "/_verify", "/_problem/502", "/index.js/"):
        assert_problem(await gw.get(path), 404, "not-found")


async def test_the_web_dashboard_is_served_at_slash_from_this_origin_only(gw: Gateway) -> None:
    page = await gw.get("/")
    script = await gw.get("/app.js")

    assert page.status == 200, page.body
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/app.js"></script>' in page.body
    assert script.status == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    for answer in (page, script):
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "base-uri 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-request-id"]


async def test_the_web_dashboard_s_files_are_revalidated_with_their_etag(gw: Gateway) -> None:
    first = await gw.get("/styles.css")
    again = await gw.get("/styles.css", {"If-None-Match": first.headers["etag"]})

    assert first.status == 200
    assert first.headers["cache-control"] == "no-cache"
    assert again.status == 304
    assert again.body == b""


async def test_the_web_dashboard_can_only_be_read(gw: Gateway) -> None:
    assert_problem(await gw.request("POST", "/", body=b"x"), 405, "method-not-allowed")


async def test_the_openapi_documents_are_served_in_one_place(gw: Gateway) -> None:
    index = await gw.get("/api/docs/")
    auth = await gw.get("/api/docs/auth.json")
    janitor = await gw.get("/api/docs/janitor.json")
    missing = await gw.get("/api/docs/repositories.json")

    assert set(index.json()["openapi"]) == {"auth", "profiles", "repositories", "janitor"}
    assert auth.json()["path"] == "/auth/openapi.json"
    assert janitor.json()["path"] == "/janitor/openapi.json"
    assert_problem(missing, 502, "service-unavailable")


async def test_sign_in_is_rate_limited_with_a_429_problem(gw: Gateway) -> None:
    answers = await asyncio.gather(*(gw.get("/auth/signin/github") for _ in range(40)))

    statuses = [answer.status for answer in answers]
    assert 200 in statuses
    limited = [answer for answer in answers if answer.status == 429]
    assert limited, statuses
    assert_problem(limited[0], 429, "rate-limited")


async def test_the_access_log_has_one_json_object_per_request(gw: Gateway) -> None:
    answer = await gw.get("/api/profiles/me", {"Cookie": GOOD_COOKIE, "X-Request-Id": "log-1"})
    assert answer.status == 200

    entry = await _eventually_logged(gw, "log-1")
    assert entry["method"] == "GET"
    assert entry["uri"] == "/api/profiles/me"
    assert entry["status"] == 200
    assert entry["user_id"] == "user-1"
    assert entry["upstream_time"] not in ("", "-")
    assert {"time", "request_time"} <= set(entry)


async def _eventually_logged(gw: Gateway, request_id: str) -> dict[str, Any]:
    # nginx writes the log line after the response has gone out.
    for _ in range(50):
        entries = [e for e in gw.access_log() if e["request_id"] == request_id]
        if entries:
            return entries[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no access log line for {request_id}")


async def test_when_auth_is_down_api_calls_answer_a_503_problem(nginx: str, tmp_path: Path) -> None:
    async with running_gateway(nginx, tmp_path, up=("profiles",)) as without_auth:
        answer = await without_auth.get("/api/profiles/me", {"Cookie": GOOD_COOKIE})
        sign_in = await without_auth.get("/auth/signin/github")

    assert_problem(answer, 503, "service-unavailable")
    assert answer.headers["retry-after"] == "1"  # a 503 says when to try again
    assert answer.headers["x-request-id"] == answer.json()["request_id"]
    assert_problem(sign_in, 502, "service-unavailable")


async def test_safe_requests_of_one_session_reuse_one_check(gw: Gateway) -> None:
    cookie = session_cookie()
    before = gw.verifications()

    answers = [await gw.get("/api/profiles/me", cookie) for _ in range(5)]

    assert [answer.status for answer in answers] == [200] * 5
    assert {answer.json()["authorization"] for answer in answers} == {"Bearer jwt-of-user-1"}
    assert gw.verifications() == before + 1


async def test_a_request_that_changes_something_is_checked_every_time(gw: Gateway) -> None:
    cookie = session_cookie()
    before = gw.verifications()

    for method in ("POST", "PATCH", "DELETE"):
        assert (await gw.request(method, "/api/profiles/me", cookie)).status == 200
    assert gw.verifications() == before + 3
    # Their checks were not kept either: the next GET asks auth again.
    assert (await gw.get("/api/profiles/me", cookie)).status == 200
    assert gw.verifications() == before + 4


async def test_a_refused_session_is_checked_every_time(gw: Gateway) -> None:
    cookie = session_cookie(good=False)
    before = gw.verifications()

    for _ in range(3):
        assert_problem(await gw.get("/api/profiles/me", cookie), 401, "not-signed-in")
    assert gw.verifications() == before + 3


async def test_a_kept_check_is_not_used_past_its_window_while_auth_fails(
    nginx: str, tmp_path: Path
) -> None:
    # Auth can't check sessions (it answers 500s): once the window has passed, no read is
    # let through on the old answer, however many arrive together, since the session may
    # have ended meanwhile. (Serving the expired answer while one request renews it,
    # proxy_cache_use_stale updating, let 24 of these 30 through: ADR 0040.)
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), auth_cache_seconds=1, verify_delay=0.2
    ) as short:
        cookie = session_cookie()
        assert (await short.get("/api/profiles/me", cookie)).status == 200
        short.stubs["auth"].failing = True
        await asyncio.sleep(EXPIRED)

        statuses: list[int] = []
        for _ in range(6):
            answers = await asyncio.gather(
                *(short.get("/api/profiles/me", cookie) for _ in range(5))
            )
            statuses += [answer.status for answer in answers]
        assert statuses == [503] * 30  # the session could not be checked


async def test_a_session_that_ended_is_refused_once_its_kept_check_expires(
    nginx: str, tmp_path: Path
) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), auth_cache_seconds=1
    ) as short:
        cookie = session_cookie()
        assert (await short.get("/api/profiles/me", cookie)).status == 200
        short.end_session(cookie)
        started = time.monotonic()

        async def refused() -> bool:
            return (await short.get("/api/profiles/me", cookie)).status == 401

        await wait_until(refused, timeout=10, what="the ended session to be refused")
        # Within the window, which nginx counts in whole seconds (so up to 2 s for 1), and a
        # poll of the wait's.
        assert time.monotonic() - started < 1 + EXPIRED
        for _ in range(3):
            assert_problem(await short.get("/api/profiles/me", cookie), 401, "not-signed-in")


async def test_a_kept_check_expires_after_its_window(nginx: str, tmp_path: Path) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), auth_cache_seconds=1
    ) as short:
        cookie = session_cookie()
        assert (await short.get("/api/profiles/me", cookie)).status == 200
        assert short.verifications() == 1

        async def checked_again() -> bool:
            assert (await short.get("/api/profiles/me", cookie)).status == 200
            return short.verifications() == 2

        await wait_until(checked_again, timeout=10, what="the session to be checked again")


async def test_sessions_checked_together_are_not_all_checked_again_together(
    nginx: str, tmp_path: Path
) -> None:
    # nginx ends a kept answer on a whole second. Sessions first checked within one second
    # and each kept equally long would expire at the same moment, every time, and all
    # their requests in flight would wait on auth together (ADR 0043). Each answer is kept
    # for whole seconds picked at random up to the window: 1, 2 or 3 here.
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), auth_cache_seconds=3
    ) as gw:
        cookies = [session_cookie()["Cookie"] for _ in range(24)]
        started = time.monotonic()
        checked_again: dict[str, float] = {}

        async def every_session_checked_again() -> bool:
            answers = await asyncio.gather(
                *(gw.get("/api/profiles/me", {"Cookie": cookie}) for cookie in cookies)
            )
            assert [answer.status for answer in answers] == [200] * len(cookies)
            checks = Counter(
                seen["cookie"] for seen in gw.stubs["auth"].seen if seen["path"] == "/auth/verify"
            )
            for cookie in cookies:
                if checks[cookie] >= 2:
                    checked_again.setdefault(cookie, time.monotonic() - started)
            return len(checked_again) == len(cookies)

        await wait_until(
            every_session_checked_again, timeout=15, what="every session to be checked again"
        )

    moments = sorted(checked_again.values())
    # Requests arrive every ~0.1 s, so checks made on one expiry fall within a few of them.
    expiries = 1 + sum(1 for a, b in itertools.pairwise(moments) if b - a > 0.5)
    assert expiries >= 3, moments
    assert moments[-1] < 3 + EXPIRED  # none kept past the window


async def test_with_the_cache_off_every_request_is_checked(nginx: str, tmp_path: Path) -> None:
    async with running_gateway(
        nginx, tmp_path, up=("auth", "profiles"), auth_cache_seconds=0
    ) as uncached:
        cookie = session_cookie()
        for _ in range(3):
            assert (await uncached.get("/api/profiles/me", cookie)).status == 200
        assert uncached.verifications() == 3
