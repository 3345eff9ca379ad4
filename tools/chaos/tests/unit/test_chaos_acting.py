"""A person following their plan, against a scripted browser: what they record, and how they
carry on after an error or a lost session."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from codeflow_chaos.acting import Actor
from codeflow_chaos.browser import Answer
from codeflow_chaos.history import Operation
from codeflow_chaos.people import person
from codeflow_chaos.plans import (
    Bulk,
    DeleteAccount,
    Monitor,
    ReadDashboard,
    SignIn,
    Step,
    StopMonitoring,
)
from codeflow_chaos.recording import Recorder

ADA = person(1, 0)
FIRST, SECOND = ADA.catalogue[0], ADA.catalogue[1]


def ok(request: str, status: int = 200, document: Any = None) -> Answer:
    return Answer(request, status, content_type="application/json", document=document)


def problem(request: str, status: int) -> Answer:
    document = {"type": "urn:codeflow:problem:x", "title": "X", "status": status}
    return Answer(request, status, content_type="application/problem+json", document=document)


class ScriptedBrowser:
    """Answers each request from ``respond``; sign-ins give the next of ``user_ids``."""

    def __init__(
        self, user_ids: list[str | None], respond: Callable[[str, Any], Answer] | None = None
    ) -> None:
        self.user_ids = user_ids
        self.respond = respond or (lambda request, body: ok(request))
        self.sent: list[tuple[str, Any]] = []
        self.forgotten = 0

    def forget_session(self) -> None:
        self.forgotten += 1

    async def sign_in(self, login: str) -> Answer:
        user_id = self.user_ids.pop(0)
        if user_id is None:
            return problem("GET /auth/callback/github", 502)
        return ok("GET /auth/session", document={"user": {"id": user_id}})

    async def request(self, method: str, url: Any, **options: Any) -> Answer:
        request = f"{method} {url}"
        self.sent.append((request, options.get("json")))
        return self.respond(request, options.get("json"))

    async def csrf_headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": "token"}


class Kept:
    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def write(self, operation: Operation) -> None:
        self.operations.append(operation)


async def follow(
    browser: ScriptedBrowser, *intents: Any, stopping: asyncio.Event | None = None
) -> list[Operation]:
    kept = Kept()
    actor = Actor(
        ADA,
        browser,  # type: ignore[arg-type]
        Recorder(kept),  # type: ignore[arg-type]
        stopping=stopping or asyncio.Event(),
        limit=asyncio.Semaphore(1),
        rng=random.Random(0),
        after_error=(0.0, 0.0),
    )
    await actor.follow(Step(0.0, intent) for intent in intents)
    return kept.operations


def monitored(request: str, body: Any) -> Answer:
    if request == "POST /api/repositories":
        return ok(request, 201, {"id": f"id-{body['github_id']}", "github_id": body["github_id"]})
    return ok(request)


async def test_each_operation_names_the_user_the_session_is_for_and_its_seq_in_order() -> None:
    ops = await follow(ScriptedBrowser(["u1"], monitored), SignIn(), Monitor(FIRST))
    assert [(o.seq, o.kind, o.user_id, o.status) for o in ops] == [
        (1, "sign_in", "u1", 200),
        (2, "monitor", "u1", 201),
    ]
    assert ops[1].github_ids == (FIRST.github_id,)
    assert ops[1].body == {"id": f"id-{FIRST.github_id}"}
    assert ops[1].person == ADA.login


async def test_a_person_whose_session_is_lost_signs_in_again_before_their_next_step() -> None:
    def respond(request: str, body: Any) -> Answer:
        if request == "GET /api/repositories":
            return problem(request, 401)
        return monitored(request, body)

    ops = await follow(
        ScriptedBrowser(["u1", "u2"], respond), SignIn(), ReadDashboard(False), Monitor(FIRST)
    )
    assert [(o.kind, o.user_id, o.status) for o in ops] == [
        ("sign_in", "u1", 200),
        ("dashboard", "u1", 401),
        ("sign_in", "u2", 200),
        ("monitor", "u2", 201),
    ]
    assert ops[1].body == {"type": "urn:codeflow:problem:x", "title": "X", "status": 401}


async def test_a_failed_sign_in_names_nobody_and_the_next_step_signs_in_first() -> None:
    ops = await follow(ScriptedBrowser([None, "u1"], monitored), SignIn(), Monitor(FIRST))
    assert [(o.kind, o.user_id, o.status) for o in ops] == [
        ("sign_in", None, 502),
        ("sign_in", "u1", 200),
        ("monitor", "u1", 201),
    ]


async def test_a_bulk_request_records_only_the_repositories_it_monitors() -> None:
    def respond(request: str, body: Any) -> Answer:
        if request == "POST /api/repositories/bulk":
            count = len(body["items"])
            results = [{"index": i, "id": f"r{i}", "outcome": "x"} for i in range(count)]
            return ok(request, 200, {"results": results, "changed": len(results)})
        return monitored(request, body)

    browser = ScriptedBrowser(["u1"], respond)
    ops = await follow(browser, SignIn(), Monitor(FIRST), Bulk((SECOND,), switches=1))
    items = browser.sent[-1][1]["items"]
    assert [item["action"] for item in items] == ["monitor", "deactivate"]
    assert items[1]["id"] == f"id-{FIRST.github_id}"
    assert ops[-1].kind == "bulk"
    assert ops[-1].github_ids == (SECOND.github_id,)


async def test_stopping_monitoring_picks_a_repository_the_person_was_told_they_monitor() -> None:
    browser = ScriptedBrowser(["u1"], monitored)
    ops = await follow(browser, SignIn(), StopMonitoring(0.5), Monitor(FIRST), StopMonitoring(0.5))
    assert [o.kind for o in ops] == ["sign_in", "monitor", "stop_monitoring"]
    assert browser.sent[-1][0] == f"DELETE /api/repositories/id-{FIRST.github_id}"
    assert ops[-1].github_ids == (FIRST.github_id,)


def deleting(request: str, body: Any) -> Answer:
    """Accepts u1's request to delete their account; monitors what is asked otherwise."""
    if request == "DELETE /auth/me":
        return ok(request, 202, {"status": "deletion requested", "userId": "u1"})
    return monitored(request, body)


async def delete_the_account_then_monitor(
    browser: ScriptedBrowser,
) -> list[tuple[str, str | None, int | None]]:
    """Sign in, delete the account, monitor a repository: what each operation recorded, as
    (kind, user, status)."""
    ops = await follow(browser, SignIn(), DeleteAccount(), Monitor(FIRST))
    return [(o.kind, o.user_id, o.status) for o in ops]


async def test_an_account_deleted_leaves_the_person_signed_out() -> None:
    browser = ScriptedBrowser(["u1", "u2"], deleting)
    assert await delete_the_account_then_monitor(browser) == [
        ("sign_in", "u1", 200),
        ("delete_account", "u1", 202),
        ("sign_in", "u2", 200),
        ("monitor", "u2", 201),
    ]


async def test_told_to_sign_in_again_to_delete_the_account_the_person_does_and_asks_again() -> None:
    asked: list[str] = []

    def respond(request: str, body: Any) -> Answer:
        if request == "DELETE /auth/me":
            asked.append(request)
            if len(asked) == 1:
                document = {
                    "type": "urn:codeflow:problem:reauthentication-required",
                    "title": "Sign in again to do this",
                    "status": 403,
                    "signIn": "/auth/signin/github",
                }
                return Answer(
                    request, 403, content_type="application/problem+json", document=document
                )
        return deleting(request, body)

    browser = ScriptedBrowser(["u1", "u1", "u2"], respond)
    assert await delete_the_account_then_monitor(browser) == [
        ("sign_in", "u1", 200),
        ("delete_account", "u1", 403),
        ("sign_in", "u1", 200),
        ("delete_account", "u1", 202),
        ("sign_in", "u2", 200),
        ("monitor", "u2", 201),
    ]


async def test_a_request_with_no_answer_is_recorded_with_why() -> None:
    def respond(request: str, body: Any) -> Answer:
        return Answer(request, None, error="no answer within 10 s")

    ops = await follow(ScriptedBrowser(["u1"], respond), SignIn(), ReadDashboard(True))
    assert [(o.kind, o.status, o.error) for o in ops] == [
        ("sign_in", 200, None),
        ("dashboard", None, "no answer within 10 s"),
    ]  # and the profile isn't asked for after it


async def test_a_stopped_run_starts_nothing() -> None:
    stopping = asyncio.Event()
    stopping.set()
    assert await follow(ScriptedBrowser(["u1"]), SignIn(), stopping=stopping) == []
