"""The queries of the repositories feature; every one of them is scoped to one user."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Text,
    Uuid,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_messaging import run_on_connection
from codeflow_repositories.github import GitHubRepository
from codeflow_repositories.models import DeletedUser, Repository
from codeflow_repositories.repositories.actions import Monitor
from codeflow_repositories.repositories.cursor import Position
from codeflow_service.plain_reads import PlainQuery


@dataclass(frozen=True)
class Stored:
    """A stored row as a refresh sees it: whose, which GitHub id, and the ETag it holds."""

    id: uuid.UUID
    user_id: str
    github_id: int
    etag: str | None
    refreshed_at: datetime | None = None


DASHBOARD_COLUMNS = (
    Repository.full_name,
    Repository.owner,
    Repository.name,
    Repository.description,
    Repository.visibility,
    Repository.default_branch,
    Repository.pushed_at,
    Repository.stargazers_count,
    Repository.html_url,
    Repository.id,
    Repository.github_id,
    Repository.is_active,
    Repository.github_state,
    Repository.refreshed_at,
)
"""What the dashboard shows of a row: everything but the owner's id, the ETag and the
row's own timestamps, in the order of ``DashboardRepository``'s fields, so a row is written
as JSON as it comes."""

DashboardRow = Mapping[str, Any]
DashboardSelect = Select[*tuple[Any, ...]]


def _dashboard_query(*, include_inactive: bool, after: bool) -> DashboardSelect:
    statement = select(*DASHBOARD_COLUMNS).where(
        Repository.user_id == bindparam("user_id", type_=Text)
    )
    if not include_inactive:
        statement = statement.where(Repository.is_active == true())
    if after:
        statement = statement.where(
            tuple_(Repository.full_name, Repository.id)
            > tuple_(bindparam("after_full_name", type_=Text), bindparam("after_id", type_=Uuid))
        )
    return statement.order_by(Repository.full_name, Repository.id).limit(
        bindparam("limit", type_=Integer)
    )


# Built once, and run by the driver itself (ADR 0045): the dashboard is the hottest request,
# and its rows go into the page as they come.
_DASHBOARD_READS = {
    (include_inactive, after): PlainQuery(
        _dashboard_query(include_inactive=include_inactive, after=after)
    )
    for include_inactive in (False, True)
    for after in (False, True)
}


def _dashboard_parameters(user_id: str, after: Position | None, limit: int) -> dict[str, object]:
    parameters: dict[str, object] = {"user_id": user_id, "limit": limit}
    if after is not None:
        parameters |= {"after_full_name": after.full_name, "after_id": after.id}
    return parameters


def dashboard_statement(
    user_id: str, *, include_inactive: bool, after: Position | None, limit: int
) -> DashboardSelect:
    """The dashboard query: one keyset page of the user's repositories by ``(full_name, id)``.

    With ``is_active`` pinned it is a range scan of the dashboard index, already in order.
    """
    statement = _DASHBOARD_READS[include_inactive, after is not None].statement
    return statement.params(_dashboard_parameters(user_id, after, limit))


async def dashboard_page(
    connection: AsyncConnection,
    user_id: str,
    *,
    include_inactive: bool,
    after: Position | None,
    limit: int,
) -> Sequence[DashboardRow]:
    """Up to ``limit`` rows after ``after`` (the statement of :func:`dashboard_statement`),
    each a mapping of the columns of :data:`DASHBOARD_COLUMNS`."""
    read = _DASHBOARD_READS[include_inactive, after is not None]
    return await read.rows(connection, _dashboard_parameters(user_id, after, limit))


async def lock_rows(
    session: AsyncSession,
    user_id: str,
    *,
    ids: Collection[uuid.UUID] = (),
    github_ids: Collection[int] = (),
) -> Sequence[Repository]:
    """The user's rows with these ids or GitHub ids, locked until the transaction ends.

    Locked in id order, so two requests touching the same rows can't deadlock.
    """
    if not ids and not github_ids:
        return []
    statement = (
        select(Repository)
        .where(
            Repository.user_id == user_id,
            or_(Repository.id.in_(list(ids)), Repository.github_id.in_(list(github_ids))),
        )
        .order_by(Repository.id)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def insert_new(
    session: AsyncSession, user_id: str, monitors: Sequence[Monitor], now: datetime
) -> Sequence[Repository]:
    """Insert a row per monitor; the rows another request inserted meanwhile are skipped."""
    values = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "github_id": monitor.github_id,
            **github_columns(monitor.repository, monitor.etag, now),
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }
        for monitor in monitors
    ]
    statement = (
        insert(Repository)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Repository.user_id, Repository.github_id])
        .returning(Repository)
    )
    return (await session.scalars(statement)).all()


def github_columns(repository: GitHubRepository, etag: str | None, now: datetime) -> dict[str, Any]:
    """A row's columns as GitHub just described the repository (``etag`` with it)."""
    return {
        "owner": repository.owner,
        "name": repository.name,
        "full_name": repository.full_name,
        "description": repository.description,
        "visibility": repository.visibility,
        "default_branch": repository.default_branch,
        "pushed_at": repository.pushed_at,
        "stargazers_count": repository.stargazers_count,
        "html_url": repository.html_url,
        "github_state": "available",
        "github_etag": etag,
        "refreshed_at": now,
    }


def describe(row: Repository, github: GitHubRepository, etag: str | None, now: datetime) -> bool:
    """Set ``row`` to what GitHub just said; whether that changed anything GitHub says."""
    columns = github_columns(github, etag, now)
    changed = any(
        getattr(row, column) != value
        for column, value in columns.items()
        if column not in {"github_etag", "refreshed_at"}
    )
    for column, value in columns.items():
        setattr(row, column, value)
    return changed


async def monitored_among(
    session: AsyncConnection | AsyncSession, user_id: str, github_ids: Collection[int]
) -> set[int]:
    """Which of ``github_ids`` the user monitors (active rows)."""
    if not github_ids:
        return set()
    found = await session.scalars(
        select(Repository.github_id).where(
            Repository.user_id == user_id,
            Repository.is_active == true(),
            Repository.github_id.in_(list(github_ids)),
        )
    )
    return set(found)


async def stored_of(session: AsyncConnection | AsyncSession, user_id: str) -> Sequence[Stored]:
    """Every row of the user, as a refresh asks GitHub about it."""
    result = await session.execute(
        select(Repository.id, Repository.github_id, Repository.github_etag)
        .where(Repository.user_id == user_id)
        .order_by(Repository.id)
    )
    return [Stored(row.id, user_id, row.github_id, row.github_etag) for row in result]


async def claim_due(
    session: AsyncSession, *, cutoff: datetime, limit: int, now: datetime
) -> Sequence[Stored]:
    """Up to ``limit`` rows GitHub wasn't asked about since ``cutoff`` (never asked first),
    marked as asked ``now`` so another replica's round doesn't take them too."""
    due = (
        select(Repository.id, Repository.refreshed_at)
        .where(or_(Repository.refreshed_at.is_(None), Repository.refreshed_at < cutoff))
        .order_by(Repository.refreshed_at.asc().nulls_first(), Repository.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    claimed = (
        update(Repository)
        .where(Repository.id == due.c.id)
        .values(refreshed_at=now)
        .returning(
            Repository.id,
            Repository.user_id,
            Repository.github_id,
            Repository.github_etag,
            due.c.refreshed_at,
        )
    )
    result = await session.execute(claimed)
    return sorted(
        (Stored(row[0], row[1], row[2], row[3], row[4]) for row in result),
        key=lambda stored: (stored.user_id, stored.id),
    )


async def unclaim(session: AsyncSession, claims: Collection[Stored]) -> None:
    """Give rows claimed by :func:`claim_due` their time of the last check back: they weren't
    checked after all, and stay first in line."""
    for stored in claims:
        await session.execute(
            update(Repository)
            .where(Repository.id == stored.id)
            .values(refreshed_at=stored.refreshed_at)
        )


async def is_erased(session: AsyncSession, user_id: str) -> bool:
    """Whether this service erased ``user_id``'s data (hold the user's lock to rely on it)."""
    found = await session.scalar(select(DeletedUser.user_id).where(DeletedUser.user_id == user_id))
    return found is not None


# An erasure's statements, built once for any number of users (the saga's batches are up to
# 500): a list of ids written into the SQL made a new statement, and a new prepared one, for
# every count of users.
_ERASED = bindparam("erased", type_=ARRAY(Text))
_GONE = (
    delete(Repository)
    .where(Repository.user_id == any_(_ERASED))
    .returning(Repository.user_id)
    .cte("gone")
)
_ERASE_COUNTING = select(_GONE.c.user_id, func.count().label("rows")).group_by(_GONE.c.user_id)
_REMEMBER_ERASED = (
    insert(DeletedUser)
    .from_select([DeletedUser.user_id], select(func.unnest(_ERASED)))
    .on_conflict_do_nothing()
)


async def erase(session: AsyncSession, user_ids: Collection[str]) -> dict[str, int]:
    """Hard-delete every row of ``user_ids`` with one statement and remember the users as
    erased with another; how many rows each user who had any lost."""
    users = sorted(set(user_ids))
    counts = (await run_on_connection(session, _ERASE_COUNTING, erased=users)).all()
    await run_on_connection(session, _REMEMBER_ERASED, erased=users)
    return {row.user_id: int(row.rows) for row in counts}
