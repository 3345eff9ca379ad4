"""Signing in as a browser does, through GitHub's stand-in; B6 and the sessions B1 uses."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import httpx
from yarl import URL

from codeflow_bench.target import Target

SESSION_COOKIE = "authjs.session-token"


@dataclass(frozen=True)
class Session:
    login: str
    user_id: str
    cookie: str
    committed_at: float = 0.0
    """``time.perf_counter()`` when auth's callback answered: what it commits is committed."""


def browser() -> aiohttp.ClientSession:
    """A new browser for one flow: cookies and connections of its own.

    aiohttp, because the bench shares two cores with auth and the stand-in: a flow cost the
    bench 8.5-8.9 ms of CPU through an httpx client against 2.3 ms through aiohttp, more
    than auth itself spent on it. The jar keeps cookies set by a bare address (127.0.0.1),
    as a browser does; aiohttp's TLS context is one for all sessions.
    """
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=30)
    )


async def _redirect(client: aiohttp.ClientSession, url: URL | str, step: str) -> URL:
    """GET ``url`` without following; the ``Location`` it answers with."""
    async with client.get(url, allow_redirects=False) as response:
        if response.status not in (302, 303):
            raise RuntimeError(f"{step} failed: {response.status} {await response.text()}")
        return URL(response.headers["location"])


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
    auth = URL(target.service_urls["auth"])
    async with browser() as client:
        authorize = await _redirect(
            client,
            (auth / "auth/signin/github").with_query(callbackUrl="/auth/session"),
            "starting the sign-in",
        )
        callback = await _redirect(
            client, authorize.update_query(login=login), "the stand-in's authorize"
        )
        await _redirect(client, auth.join(URL(callback.raw_path_qs, encoded=True)), "callback")
        committed_at = time.perf_counter()
        cookie = client.cookie_jar.filter_cookies(auth).get(SESSION_COOKIE)
        if cookie is None or not cookie.value:
            raise RuntimeError("no session cookie after the callback")
        async with client.get(auth / "auth/session") as session:
            body = await session.json() if session.status == 200 else None
            if not body or not body.get("user", {}).get("id"):
                raise RuntimeError(f"no session after signing in: {await session.text()}")
        return Session(
            login=login,
            user_id=str(body["user"]["id"]),
            cookie=cookie.value,
            committed_at=committed_at,
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
            except (RuntimeError, aiohttp.ClientError, TimeoutError) as error:
                failures += 1
                errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            durations.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return FlowRun(len(durations), failures, elapsed, durations, errors[0] if errors else "")
