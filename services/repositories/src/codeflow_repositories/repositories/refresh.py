"""Keeping stored repositories current: GitHub is asked again about each, by id (ADR 0023).

Each row is asked about with the ``ETag`` it was stored with, so an unchanged repository
answers 304, which costs the person none of GitHub's rate limit. A 200 brings the current
names and details; a 404 marks the row ``unavailable`` (deleted, or no longer visible to the
person), and it stays, shown as such, until the person stops monitoring it or GitHub shows
it again. A person asks for theirs (``POST /repositories/refresh``); the scheduled refresh
takes the rows not asked about for longest, a batch per round.

GitHub is asked outside any transaction; what it said is written afterwards under the
user's lock, to the rows that still exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_messaging import SessionFactory, transaction
from codeflow_repositories.db import lock_users
from codeflow_repositories.github import (
    Fetched,
    GitHub,
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubUnavailable,
    NotOnGitHub,
)
from codeflow_repositories.repositories import repository
from codeflow_repositories.repositories.repository import Stored
from codeflow_repositories.repositories.service import all_of

logger = logging.getLogger("codeflow.repositories.refresh")


@dataclass(frozen=True)
class Check:
    """What GitHub said of one stored row: ``fetched`` is None for a 404."""

    stored: Stored
    fetched: Fetched | None


@dataclass(frozen=True)
class Counts:
    refreshed: int = 0
    unchanged: int = 0
    unavailable: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.refreshed + other.refreshed,
            self.unchanged + other.unchanged,
            self.unavailable + other.unavailable,
        )


async def check(github: GitHub, user_id: str, stored: Sequence[Stored]) -> list[Check]:
    """Ask GitHub about each of the user's ``stored`` rows, a few at a time."""

    async def one(row: Stored) -> Check:
        try:
            return Check(row, await github.repository(user_id, row.github_id, etag=row.etag))
        except NotOnGitHub:
            return Check(row, None)

    return await all_of([one(row) for row in stored])


async def record(
    session: AsyncSession, user_id: str, checks: Sequence[Check], now: datetime
) -> Counts:
    """Write what GitHub said to the rows that still exist, under the user's lock."""
    await lock_users(session, [user_id])
    found = await repository.lock_rows(session, user_id, ids=[c.stored.id for c in checks])
    rows = {row.id: row for row in found}
    refreshed = unchanged = unavailable = 0
    for done in checks:
        row = rows.get(done.stored.id)
        if row is None:  # erased, meanwhile
            continue
        if done.fetched is None:
            unavailable += 1
            if row.github_state != "unavailable":
                row.github_state, row.updated_at = "unavailable", now
        elif done.fetched.repository is None:
            unchanged += 1
            row.github_state, row.github_etag = "available", done.fetched.etag
        else:
            refreshed += 1
            if repository.describe(row, done.fetched.repository, done.fetched.etag, now):
                row.updated_at = now
        row.refreshed_at = now
    await session.flush()
    return Counts(refreshed, unchanged, unavailable)


async def refresh_user(
    reader: AsyncConnection,
    session: AsyncSession,
    github: GitHub,
    user_id: str,
    now: datetime,
) -> Counts:
    """Ask GitHub about every repository the user has stored (read through ``reader``, in
    autocommit: no transaction stays open while GitHub is asked), and write what it said."""
    stored = await repository.stored_of(reader, user_id)
    return await record(session, user_id, await check(github, user_id, stored), now)


async def refresh_due(
    sessions: SessionFactory,
    github: GitHub,
    *,
    max_age: timedelta,
    batch_size: int,
    now: datetime,
) -> Counts:
    """One round of the scheduled refresh: the rows not asked about for ``max_age``.

    A person whose GitHub access ended is skipped until their rows are due again; a spent
    rate limit or an unreachable GitHub ends the round and gives the rows not yet asked
    about their place in line back.
    """
    async with transaction(sessions) as session:
        claimed = await repository.claim_due(
            session, cutoff=now - max_age, limit=batch_size, now=now
        )
    counts = Counts()
    users = [(user, list(rows)) for user, rows in groupby(claimed, key=lambda s: s.user_id)]
    for position, (user_id, rows) in enumerate(users):
        try:
            checks = await check(github, user_id, rows)
        except GitHubAuthorizationEnded:
            logger.info("refresh: GitHub no longer accepts user %s's access; skipped", user_id)
            continue
        except (GitHubRateLimited, GitHubUnavailable) as exc:
            left = [row for _, rest in users[position:] for row in rest]
            async with transaction(sessions) as session:
                await repository.unclaim(session, left)
            logger.warning("refresh stopped, %d row(s) left for later: %s", len(left), exc)
            break
        async with transaction(sessions) as session:
            counts += await record(session, user_id, checks, now)
    if claimed:
        logger.info(
            "refresh: %d row(s) asked about: %d refreshed, %d unchanged, %d unavailable",
            len(claimed),
            counts.refreshed,
            counts.unchanged,
            counts.unavailable,
        )
    return counts
