"""The queries of the repositories feature; every one of them is scoped to one user."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import (
    Integer,
    Row,
    Select,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_repositories.models import DeletedUser, Repository
from codeflow_repositories.repositories.actions import Monitor
from codeflow_repositories.repositories.cursor import Position

DashboardRow = Row[uuid.UUID, int, str, str, str, bool]


def _dashboard_query(
    *, include_inactive: bool, after: bool
) -> Select[uuid.UUID, int, str, str, str, bool]:
    statement = select(
        Repository.id,
        Repository.github_id,
        Repository.full_name,
        Repository.owner,
        Repository.name,
        Repository.is_active,
    ).where(Repository.user_id == bindparam("user_id", type_=Text))
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


# Built once: the dashboard is the hottest request, and a statement reused as is skips
# SQLAlchemy's per-call construction and cache-key work.
_DASHBOARD_QUERIES = {
    (include_inactive, after): _dashboard_query(include_inactive=include_inactive, after=after)
    for include_inactive in (False, True)
    for after in (False, True)
}


def _dashboard_query_and_parameters(
    user_id: str, *, include_inactive: bool, after: Position | None, limit: int
) -> tuple[Select[uuid.UUID, int, str, str, str, bool], dict[str, object]]:
    parameters: dict[str, object] = {"user_id": user_id, "limit": limit}
    if after is not None:
        parameters |= {"after_full_name": after.full_name, "after_id": after.id}
    return _DASHBOARD_QUERIES[include_inactive, after is not None], parameters


def dashboard_statement(
    user_id: str, *, include_inactive: bool, after: Position | None, limit: int
) -> Select[uuid.UUID, int, str, str, str, bool]:
    """The dashboard query: one keyset page of the user's repositories by ``(full_name, id)``.

    With ``is_active`` pinned it is a range scan of the dashboard index, already in order.
    """
    statement, parameters = _dashboard_query_and_parameters(
        user_id, include_inactive=include_inactive, after=after, limit=limit
    )
    return statement.params(parameters)


async def dashboard_page(
    session: AsyncConnection | AsyncSession,
    user_id: str,
    *,
    include_inactive: bool,
    after: Position | None,
    limit: int,
) -> Sequence[DashboardRow]:
    """Up to ``limit`` rows after ``after`` (the statement of :func:`dashboard_statement`)."""
    statement, parameters = _dashboard_query_and_parameters(
        user_id, include_inactive=include_inactive, after=after, limit=limit
    )
    return (await session.execute(statement, parameters)).all()


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
            "owner": monitor.owner,
            "name": monitor.name,
            "full_name": monitor.full_name,
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


async def is_erased(session: AsyncSession, user_id: str) -> bool:
    """Whether this service erased ``user_id``'s data (hold the user's lock to rely on it)."""
    found = await session.scalar(select(DeletedUser.user_id).where(DeletedUser.user_id == user_id))
    return found is not None


async def erase(session: AsyncSession, user_ids: Collection[str]) -> dict[str, int]:
    """Hard-delete every row of ``user_ids`` with one statement and remember the users as
    erased with another; how many rows each user who had any lost."""
    users = sorted(set(user_ids))
    gone = (
        delete(Repository)
        .where(Repository.user_id.in_(users))
        .returning(Repository.user_id)
        .cte("gone")
    )
    counts = await session.execute(select(gone.c.user_id, func.count()).group_by(gone.c.user_id))
    await session.execute(
        insert(DeletedUser).values([{"user_id": u} for u in users]).on_conflict_do_nothing()
    )
    return {user_id: int(count) for user_id, count in counts}
