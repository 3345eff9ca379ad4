"""A person following their plan through the gateway, recording every operation.

Whatever the answer, the person carries on: an error is recorded and followed by a short
pause (``Retry-After`` when given), a lost session (401, or 410 once the account is erased)
by signing in again before the next step that needs one. The person only ever holds a
session whose user id ``/auth/session`` told them, so every operation names the right user.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from codeflow_chaos.browser import Answer, Browser
from codeflow_chaos.history import Operation, OperationKind
from codeflow_chaos.people import Person, Repository
from codeflow_chaos.plans import (
    Bulk,
    DeleteAccount,
    GoQuiet,
    Intent,
    Leave,
    Monitor,
    ReadDashboard,
    SignIn,
    SignOut,
    Step,
    StopMonitoring,
)
from codeflow_chaos.recording import Recorder

MAX_RETRY_AFTER = 10.0
SESSION_LOST = frozenset({401, 410})
REAUTHENTICATION_REQUIRED = "urn:codeflow:problem:reauthentication-required"


@dataclass
class _Known:
    """A repository the person was told they have."""

    id: str
    active: bool


@dataclass(frozen=True)
class _Timed:
    seq: int
    started: datetime
    ended: datetime
    answer: Answer


class Actor:
    """One person, their browser and what they know of their account."""

    def __init__(
        self,
        person: Person,
        browser: Browser,
        recorder: Recorder,
        *,
        stopping: asyncio.Event,
        limit: asyncio.Semaphore,
        rng: random.Random,
        after_error: tuple[float, float] = (0.5, 2.0),
    ) -> None:
        self.person = person
        self.browser = browser
        self.user_id: str | None = None
        self.signed_in = False
        self._recorder = recorder
        self._stopping = stopping
        self._limit = limit
        self._rng = rng
        self._after_error = after_error
        self._known: dict[int, _Known] = {}

    async def follow(self, steps: Iterable[Step]) -> None:
        """Take the steps until the plan ends or the run stops."""
        for step in steps:
            if await self._rest(step.pause):
                return
            intent = step.intent
            if isinstance(intent, Leave):
                return
            if isinstance(intent, GoQuiet):
                if await self._rest(intent.seconds):
                    return
            elif isinstance(intent, SignIn):
                await self._sign_in()
            else:
                if not self.signed_in:  # the session was lost (or never came): sign in first
                    await self._sign_in()
                if self.signed_in and not self._stopping.is_set():
                    await self._act(intent)

    async def _act(self, intent: Intent) -> None:
        if isinstance(intent, ReadDashboard):
            await self._read_dashboard(intent.with_profile)
        elif isinstance(intent, Monitor):
            await self._monitor(intent.repository)
        elif isinstance(intent, Bulk):
            await self._bulk(intent)
        elif isinstance(intent, StopMonitoring):
            await self._stop_monitoring(intent.pick)
        elif isinstance(intent, SignOut):
            await self._leave_session("sign_out", "POST", "/auth/signout")
        elif isinstance(intent, DeleteAccount):
            await self._delete_account()

    async def _sign_in(self) -> None:
        self.browser.forget_session()
        timed = await self._send(lambda: self.browser.sign_in(self.person.login))
        answer = timed.answer
        session = answer.document if answer.succeeded else None
        user = session.get("user") if isinstance(session, dict) else None
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str):
            user_id = None
        self._record("sign_in", timed, user_id=user_id, body={"user_id": user_id})
        if user_id is None:
            self.browser.forget_session()
            self.signed_in = False
            await self._pause_after_error(answer)
            return
        if user_id != self.user_id:
            self._known.clear()
        self.user_id, self.signed_in = user_id, True

    async def _read_dashboard(self, with_profile: bool) -> None:
        timed = await self._send(
            lambda: self.browser.request("GET", "/api/repositories", params={"limit": "200"})
        )
        items = _list(timed.answer.document, "items")
        for item in items:
            if isinstance(item, dict):
                self._learn(item.get("github_id"), item.get("id"), active=True)
        self._record("dashboard", timed, body={"repositories": len(items)})
        if await self._carry_on(timed.answer) and with_profile:
            timed = await self._send(lambda: self.browser.request("GET", "/api/profiles/me"))
            profile = timed.answer.document if isinstance(timed.answer.document, dict) else {}
            self._record("dashboard", timed, body={"user_id": profile.get("user_id")})
            await self._carry_on(timed.answer)

    async def _monitor(self, repository: Repository) -> None:
        timed = await self._send(
            lambda: self.browser.request("POST", "/api/repositories", json=repository.as_json())
        )
        document = timed.answer.document if isinstance(timed.answer.document, dict) else {}
        if timed.answer.succeeded:
            self._learn(repository.github_id, document.get("id"), active=True)
        body = {"id": document.get("id")}
        self._record("monitor", timed, github_ids=(repository.github_id,), body=body)
        await self._carry_on(timed.answer)

    async def _bulk(self, intent: Bulk) -> None:
        monitored = {r.github_id for r in intent.monitor}
        others = sorted(g for g in self._known if g not in monitored)
        switched = self._rng.sample(others, min(intent.switches, len(others)))
        items: list[dict[str, Any]] = [{"action": "monitor", **r.as_json()} for r in intent.monitor]
        for github_id in switched:
            known = self._known[github_id]
            action = "deactivate" if known.active else "activate"
            items.append({"action": action, "id": known.id})
        timed = await self._send(
            lambda: self.browser.request("POST", "/api/repositories/bulk", json={"items": items})
        )
        document = timed.answer.document if isinstance(timed.answer.document, dict) else {}
        if timed.answer.succeeded:
            order = [r.github_id for r in intent.monitor] + switched
            for result in _list(document, "results"):
                index = result.get("index") if isinstance(result, dict) else None
                if isinstance(index, int) and 0 <= index < len(order):
                    github_id = order[index]
                    active = github_id in monitored or not self._known[github_id].active
                    self._learn(github_id, result.get("id"), active=active)
        elif timed.answer.status in (404, 422):
            for github_id in switched:  # what the person knew of them is out of date
                self._known.pop(github_id, None)
        ids = tuple(r.github_id for r in intent.monitor)
        self._record("bulk", timed, github_ids=ids, body={"changed": document.get("changed")})
        await self._carry_on(timed.answer)

    async def _stop_monitoring(self, pick: float) -> None:
        active = sorted(g for g, known in self._known.items() if known.active)
        if not active:
            return  # nothing the person knows they monitor
        github_id = active[int(pick * len(active))]
        path = f"/api/repositories/{self._known[github_id].id}"
        timed = await self._send(lambda: self.browser.request("DELETE", path))
        if timed.answer.succeeded:
            self._known[github_id].active = False
        elif timed.answer.status == 404:
            del self._known[github_id]
        self._record("stop_monitoring", timed, github_ids=(github_id,))
        await self._carry_on(timed.answer)

    async def _delete_account(self) -> None:
        """Ask for the account's erasure; told that it takes a recent sign-in (auth's
        ``AUTH_REAUTH_WINDOW``), sign in again and ask once more, as the front end would."""
        answer = await self._leave_session("delete_account", "DELETE", "/auth/me")
        document = answer.document if isinstance(answer.document, dict) else {}
        if answer.status == 403 and document.get("type") == REAUTHENTICATION_REQUIRED:
            await self._sign_in()
            if self.signed_in and not self._stopping.is_set():
                await self._leave_session("delete_account", "DELETE", "/auth/me")

    async def _leave_session(self, kind: OperationKind, method: str, path: str) -> Answer:
        """Sign out, or delete the account: the CSRF token, then the request itself. Either
        way the person drops the session, as a browser would on leaving the page."""

        async def call() -> Answer:
            headers = await self.browser.csrf_headers()
            if isinstance(headers, Answer):
                return headers
            return await self.browser.request(method, path, headers=headers)

        timed = await self._send(call)
        document = timed.answer.document
        self._record(kind, timed, body=document if isinstance(document, dict) else None)
        self.browser.forget_session()
        self.signed_in = False
        if kind == "delete_account" and timed.answer.succeeded:
            self._known.clear()
        await self._carry_on(timed.answer)
        return timed.answer

    async def _send(self, call: Callable[[], Awaitable[Answer]]) -> _Timed:
        async with self._limit:
            seq, started = self._recorder.start()
            answer = await call()
        return _Timed(seq, started, datetime.now(UTC), answer)

    def _record(
        self,
        kind: OperationKind,
        timed: _Timed,
        *,
        user_id: str | None = None,
        github_ids: tuple[int, ...] = (),
        body: Mapping[str, Any] | None = None,
    ) -> None:
        answer = timed.answer
        self._recorder.record(
            Operation(
                seq=timed.seq,
                person=self.person.login,
                user_id=user_id if kind == "sign_in" else self.user_id,
                kind=kind,
                started=timed.started,
                ended=timed.ended,
                status=answer.status,
                content_type=answer.content_type,
                retry_after=answer.retry_after,
                github_ids=github_ids,
                body=body if answer.succeeded else _problem(answer),
                request=answer.request,
                error=answer.error,
            )
        )

    def _learn(self, github_id: object, repository_id: object, *, active: bool) -> None:
        if isinstance(github_id, int) and isinstance(repository_id, str):
            self._known[github_id] = _Known(repository_id, active)

    async def _carry_on(self, answer: Answer) -> bool:
        """After an answer: drop a lost session, pause after an error. Whether the person
        can go on to the next request of the same step."""
        if answer.status in SESSION_LOST:
            self.browser.forget_session()
            self.signed_in = False
            return False
        if answer.status is None or answer.status == 429 or answer.status >= 500:
            await self._pause_after_error(answer)
            return False
        return not self._stopping.is_set()

    async def _pause_after_error(self, answer: Answer) -> None:
        pause = self._rng.uniform(*self._after_error)
        if answer.retry_after and answer.retry_after.strip().isdigit():
            pause = min(float(answer.retry_after), MAX_RETRY_AFTER)
        await self._rest(pause)

    async def _rest(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the run stops; whether it did."""
        if self._stopping.is_set():
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True


def _problem(answer: Answer) -> dict[str, Any] | None:
    """A short account of what went wrong."""
    if answer.succeeded:
        return None
    if isinstance(answer.document, dict):
        shown = {k: answer.document[k] for k in ("type", "title", "status") if k in answer.document}
        detail = answer.document.get("detail")
        if detail is not None:
            shown["detail"] = str(detail)[:200]
        return shown
    if answer.text:
        return {"text": answer.text[:200]}
    return None


def _list(document: object, key: str) -> list[Any]:
    found = document.get(key) if isinstance(document, dict) else None
    return found if isinstance(found, list) else []
