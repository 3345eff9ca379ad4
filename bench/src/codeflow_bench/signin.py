"""Signing in as a browser does, through GitHub's stand-in; B6 and the sessions B1 uses."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from dataclasses import dataclass

import httpx

from codeflow_bench.target import Target

SESSION_COOKIE = "authjs.session-token"


@dataclass(frozen=True)
class Session:
    login: str
    user_id: str
    cookie: str
    committed_at: float = 0.0
    """``time.perf_counter()`` when auth's callback answered: what it commits is committed."""


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def browser() -> httpx.AsyncClient:
    """A new browser for one flow: cookies and connections of its own.

    All share one TLS context: when each made its own, loading the CA store cost the bench
    more CPU per flow than auth spent on it, on the machine that runs auth too.
    """
    return httpx.AsyncClient(timeout=30, verify=_tls())


def github_login(prefix: str, index: int) -> str:
    return f"{prefix}-{index}"


async def add_github_users(target: Target, prefix: str, count: int, first_id: int) -> list[str]:
    """Users ``<prefix>-0`` … on the stand-in (created, or changed when present)."""
    logins = [github_login(prefix, i) for i in range(count)]
    async with httpx.AsyncClient(base_url=target.emulator_url, timeout=30) as client:
        for i, login in enumerate(logins):
            response = await client.post(
                "/_emulator/users",
                json={
                    "id": first_id + i,
                    "login": login,
                    "name": f"Bench {login}",
                    "emails": [
                        {"email": f"{login}@bench.example.com", "primary": True, "verified": True}
                    ],
                },
            )
            response.raise_for_status()
    return logins


async def sign_in(target: Target, login: str) -> Session:
    """One complete flow, straight to auth (the gateway rate-limits sign-ins per address).

    auth → the stand-in's authorize page (``login`` picks the user) → auth's callback (its
    URL names the gateway; the same path is asked of auth) → a session cookie; then
    ``/auth/session`` confirms it.
    """
    auth = target.service_urls["auth"]
    async with browser() as client:
        started = await client.get(
            f"{auth}/auth/signin/github", params={"callbackUrl": "/auth/session"}
        )
        if started.status_code != 302:
            raise RuntimeError(f"sign-in did not start: {started.status_code} {started.text}")
        authorize = httpx.URL(started.headers["location"]).copy_merge_params({"login": login})
        granted = await client.get(authorize)
        if granted.status_code != 302:
            raise RuntimeError(f"the stand-in refused: {granted.status_code} {granted.text}")
        callback = httpx.URL(granted.headers["location"])
        landed = await client.get(httpx.URL(auth).join(callback.raw_path.decode()))
        committed_at = time.perf_counter()
        if landed.status_code not in (302, 303):
            raise RuntimeError(f"callback failed: {landed.status_code} {landed.text}")
        cookie = client.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise RuntimeError("no session cookie after the callback")
        session = await client.get(f"{auth}/auth/session")
        body = session.json() if session.status_code == 200 else None
        if not body or not body.get("user", {}).get("id"):
            raise RuntimeError(f"no session after signing in: {session.text}")
        return Session(
            login=login, user_id=str(body["user"]["id"]), cookie=cookie, committed_at=committed_at
        )


async def jwt_for(target: Target, session: Session, service: str = "repositories") -> str:
    """A fresh JWT (5 minutes) for ``service`` from ``/auth/verify``, as the gateway gets
    one."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(
            f"{target.service_urls['auth']}/auth/verify",
            params={"service": service},
            cookies={SESSION_COOKIE: session.cookie},
        )
        response.raise_for_status()
        return response.headers["X-Auth-Token"]


@dataclass(frozen=True)
class FlowRun:
    flows: int
    failures: int
    seconds: float
    durations_ms: list[float]
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.flows / self.seconds if self.seconds else 0.0


async def sign_in_flows(
    target: Target, logins: list[str], *, concurrency: int, seconds: float
) -> FlowRun:
    """Complete sign-in flows back to back for ``seconds``, ``concurrency`` at a time."""
    durations: list[float] = []
    failures = 0
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker() -> None:
        nonlocal failures, counter
        while time.perf_counter() < deadline:
            login = logins[counter % len(logins)]
            counter += 1
            began = time.perf_counter()
            try:
                await sign_in(target, login)
            except (RuntimeError, httpx.HTTPError) as error:
                failures += 1
                errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            durations.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return FlowRun(len(durations), failures, elapsed, durations, errors[0] if errors else "")
