"""The end-to-end tests' view of the cluster: a browser, GitHub's stand-in, the databases."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from codeflow_infra.cluster import Cluster as LocalCluster
from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.components import Component
from codeflow_infra.postgres import database_url, libpq_url

SERVICES = ("auth", "profiles", "repositories", "janitor")


_repository_ids = itertools.count(uuid.uuid4().int % 1_000_000_000 * 1000 + 10**12)
"""GitHub repository ids no other test (or earlier run on the same stand-in) uses."""


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str
    email: str


@dataclass(frozen=True)
class Cluster:
    gateway_url: str
    emulator_url: str
    maintenance_url: str

    def component(self, name: str) -> Component:
        """One of the local cluster's processes, to stop and start it (fault tests)."""
        return LocalCluster(ClusterConfig.from_env()).service_process(name)

    def browser(self) -> httpx.AsyncClient:
        """Follows redirects and keeps cookies, as a browser does."""
        return httpx.AsyncClient(base_url=self.gateway_url, follow_redirects=True, timeout=30)

    async def add_github_user(self, user: GitHubUser) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.emulator_url}/_emulator/users",
                json={
                    "id": user.id,
                    "login": user.login,
                    "name": f"E2E {user.login}",
                    "emails": [{"email": user.email, "primary": True, "verified": True}],
                },
            )
            response.raise_for_status()

    async def add_repository(
        self, owner: GitHubUser, name: str, **details: object
    ) -> dict[str, object]:
        """Put a repository of ``owner``'s on GitHub's stand-in (public unless ``private=True``
        is given); returns the body that asks CodeFlow to monitor it, its GitHub id."""
        github_id = next(_repository_ids)
        async with httpx.AsyncClient(base_url=self.emulator_url, timeout=10) as client:
            response = await client.post(
                "/_emulator/repos",
                json={"id": github_id, "owner_id": owner.id, "name": name, **details},
            )
            response.raise_for_status()
        return {"github_id": github_id}

    @asynccontextmanager
    async def signed_in(self, user: GitHubUser) -> AsyncIterator[httpx.AsyncClient]:
        """A browser (see :meth:`browser`) that has signed in as ``user``."""
        async with self.browser() as browser:
            await self.sign_in(browser, user)
            yield browser

    async def sign_in(self, browser: httpx.AsyncClient, user: GitHubUser) -> dict[str, Any]:
        """The browser's round trip through GitHub's stand-in; returns ``/auth/session``."""
        started = await browser.get(
            "/auth/signin/github",
            params={"callbackUrl": "/auth/session"},
            follow_redirects=False,
        )
        assert started.status_code == 302, started.text
        authorize = httpx.URL(started.headers["location"]).copy_merge_params({"login": user.login})
        landed = await browser.get(authorize)
        assert landed.status_code == 200, landed.text
        assert str(landed.url) == f"{self.gateway_url}/auth/session"
        session: dict[str, Any] = landed.json()
        return session

    async def csrf(self, browser: httpx.AsyncClient) -> dict[str, str]:
        token = (await browser.get("/auth/csrf")).json()["csrfToken"]
        return {"X-CSRF-Token": token}

    def database_url(self, service: str) -> str:
        return libpq_url(database_url(self.maintenance_url, f"codeflow_{service}"))

    async def count(self, service: str, sql: str, *args: Any) -> int:
        """A count from one service's own database (tests look; only services write)."""
        url = self.database_url(service)
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval(sql, *args))
        finally:
            await connection.close()

    async def execute(self, service: str, sql: str, *args: Any) -> None:
        url = self.database_url(service)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql, *args)
        finally:
            await connection.close()

    async def rows_of(self, user_id: str) -> dict[str, int]:
        """How many rows each service still holds for ``user_id``."""
        return {
            "auth": await self.count("auth", "SELECT count(*) FROM users WHERE id = $1", user_id),
            "profiles": await self.count(
                "profiles", "SELECT count(*) FROM user_profiles WHERE user_id = $1", user_id
            ),
            "repositories": await self.count(
                "repositories", "SELECT count(*) FROM repositories WHERE user_id = $1", user_id
            ),
            "janitor": await self.count(
                "janitor", "SELECT count(*) FROM user_activity WHERE user_id = $1", user_id
            ),
        }


async def eventually(check: Any, *, timeout: float, what: str) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.25)
