"""What the repositories integration tests share: request bodies and reading state back."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from codeflow_messaging import SessionFactory
from codeflow_testing.github_route import GitHubDouble
from codeflow_testing.github_route import repository as github_repository
from codeflow_testing.waiting import wait_until

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

_github_ids = itertools.count(1_000_000_000)

GITHUB = GitHubDouble()
"""What GitHub holds, as auth's internal route shows it to the service under test."""


def new_github_id() -> int:
    """A GitHub id no other test in this session uses."""
    return next(_github_ids)


def repository(
    github_id: int | None = None, *, owner: str = "octocat", name: str = ""
) -> dict[str, Any]:
    """A public repository put on GitHub, and the body for ``POST /repositories`` naming it."""
    [repo] = GITHUB.publish(github_repository(github_id or new_github_id(), owner=owner, name=name))
    return {"github_id": repo["id"]}


async def monitored(client: httpx.AsyncClient) -> dict[str, Any]:
    """Monitor a new public repository as ``client``'s user: the row the service answers."""
    row: dict[str, Any] = (await client.post("/repositories", json=repository())).json()
    return row


def full_name(body: dict[str, Any]) -> str:
    """What GitHub calls the repository ``body`` names."""
    name: str = GITHUB.repositories[body["github_id"]]["full_name"]
    return name


async def scalar(sessions: SessionFactory, sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(text(sql), params)


async def rows_of(sessions: SessionFactory, user_id: str) -> dict[str, tuple[Any, ...]]:
    """The user's rows by id: (github_id, full_name, is_active, updated_at)."""
    async with sessions() as session:
        result = await session.execute(
            text(
                "SELECT id, github_id, full_name, is_active, updated_at FROM repositories "
                "WHERE user_id = :user_id"
            ),
            {"user_id": user_id},
        )
        return {str(row.id): tuple(row[1:]) for row in result}


async def outbox_events(sessions: SessionFactory, user_id: str) -> list[dict[str, Any]]:
    """The envelopes the service queued for ``user_id``, in the order it wrote them."""
    async with sessions() as session:
        result = await session.scalars(
            text("SELECT payload FROM outbox WHERE key = :user_id ORDER BY id"),
            {"user_id": user_id},
        )
        return list(result)


def changes(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(repository id, change) of each RepositoryMonitoringChanged."""
    return [
        (e["data"]["repository_id"], e["data"]["change"])
        for e in events
        if e["type"] == "codeflow.repository.monitoring-changed.v1"
    ]


async def outbox_drained(sessions: SessionFactory) -> None:
    async def drained() -> bool:
        pending = await scalar(sessions, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return pending == 0

    await wait_until(drained, timeout=30, what="the outbox to be published")
