"""The repositories feature's service layer: apply the caller's changes, emit what changed.

Services only flush; the edge (the request or the consumer) owns the transaction. Every
change that switches a row on or off, or creates it, writes one ``RepositoryMonitoringChanged``
to the outbox in that same transaction; an action that changes nothing emits nothing. Auth's
erasures (:func:`delete_users_data`) remove the rows and are acknowledged instead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_contracts import RepositoryChange, RepositoryMonitoringChanged
from codeflow_repositories.db import lock_users
from codeflow_repositories.events import emit
from codeflow_repositories.github import GitHub, GitHubRepository, NotOnGitHub
from codeflow_repositories.models import Repository
from codeflow_repositories.repositories import repository
from codeflow_repositories.repositories.actions import (
    Action,
    Monitor,
    MonitorById,
    Outcome,
    Request,
    SetActive,
    outcome_of,
)
from codeflow_repositories.repositories.cursor import Position
from codeflow_repositories.repositories.errors import (
    BulkItemRejected,
    RepositoryNotFound,
    UserErased,
)
from codeflow_repositories.repositories.repository import DashboardRow
from codeflow_service.erasure import UserDataEraser

logger = logging.getLogger("codeflow.repositories")

T = TypeVar("T")

GITHUB_CONCURRENCY = 8
"""How many of one request's repositories GitHub is asked about at once."""


@dataclass(frozen=True)
class Page:
    """One page of the dashboard, and where the next one starts (None: this is the last)."""

    items: Sequence[DashboardRow]
    next: Position | None


@dataclass(frozen=True)
class Applied:
    """One action's row after it was applied, and what it did to it."""

    repository: Repository
    outcome: Outcome

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"


async def list_repositories(
    connection: AsyncConnection,
    user_id: str,
    *,
    include_inactive: bool = False,
    after: Position | None = None,
    limit: int = 50,
) -> Page:
    """The user's repositories (active ones only unless asked), one keyset page at a time."""
    rows = await repository.dashboard_page(
        connection, user_id, include_inactive=include_inactive, after=after, limit=limit + 1
    )
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], Position(last["full_name"], last["id"]))


async def monitor_repository(
    session: AsyncSession, github: GitHub, user_id: str, github_id: int
) -> Applied:
    """Start monitoring GitHub's repository ``github_id`` as GitHub shows it to the user;
    monitoring it again switches its row back on. Raises ``NotOnGitHub`` when GitHub shows
    the user no such repository."""
    [applied] = await apply_actions(
        session, user_id, await ask_github(github, user_id, [MonitorById(github_id)])
    )
    return applied


async def ask_github(github: GitHub, user_id: str, requests: Sequence[Request]) -> list[Action]:
    """Each request with what GitHub says of the repository it names to monitor, asked
    ``GITHUB_CONCURRENCY`` at a time; raises ``NotOnGitHub`` with the first such item's index
    in ``index`` for a repository GitHub doesn't show the user."""

    async def resolve(index: int, request: Request) -> Action:
        if isinstance(request, SetActive):
            return request
        try:
            fetched = await github.repository(user_id, request.github_id)
        except NotOnGitHub as exc:
            exc.index = index
            raise
        assert fetched.repository is not None  # asked without an ETag: never a 304
        return Monitor(fetched.repository, fetched.etag)

    return await all_of([resolve(i, r) for i, r in enumerate(requests)])


async def all_of(
    calls: Sequence[Coroutine[Any, Any, T]], *, at_once: int = GITHUB_CONCURRENCY
) -> list[T]:
    """Every call's result in order, ``at_once`` of them running at a time; the first
    failure cancels the rest and is raised as is."""
    limit = asyncio.Semaphore(at_once)

    async def bounded(call: Coroutine[Any, Any, T]) -> T:
        async with limit:
            return await call

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(bounded(call)) for call in calls]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def set_monitoring(
    session: AsyncSession, user_id: str, repository_id: uuid.UUID, *, active: bool
) -> Applied:
    """Switch monitoring of one of the user's repositories on or off."""
    [applied] = await apply_actions(session, user_id, [SetActive(repository_id, active)])
    return applied


async def stop_monitoring(session: AsyncSession, user_id: str, repository_id: uuid.UUID) -> None:
    """The soft delete: the row stays, switched off, and the event says ``deleted``."""
    await apply_actions(session, user_id, [SetActive(repository_id, False, removing=True)])


async def apply_bulk(
    session: AsyncSession, github: GitHub, user_id: str, requests: Sequence[Request]
) -> list[Applied]:
    """Apply every request or, when one can't be, raise ``BulkItemRejected`` naming it.

    GitHub is asked about every repository to monitor first; the caller's transaction then
    rolls back whatever the earlier items already did when a later one fails.
    """
    try:
        actions = await ask_github(github, user_id, requests)
        return await apply_actions(session, user_id, actions)
    except NotOnGitHub as exc:
        raise BulkItemRejected(exc.index, "repository-not-found", str(exc)) from exc
    except RepositoryNotFound as exc:
        raise BulkItemRejected(
            exc.index, "repository-not-found", f"no repository {exc.repository_id} among yours"
        ) from exc


async def apply_actions(
    session: AsyncSession, user_id: str, actions: Sequence[Action]
) -> list[Applied]:
    """Apply ``actions`` in order to the user's rows, and emit one event per changed row.

    Raises ``RepositoryNotFound`` (with the action's index) for an id that isn't the user's,
    ``BulkItemRejected`` for a repository named by two actions, and ``UserErased`` when the
    user's data has been erased (their token may outlive the erasure by a few minutes).
    """
    await lock_users(session, [user_id])
    if await repository.is_erased(session, user_id):
        raise UserErased(user_id)
    now = datetime.now(UTC)
    rows = await _rows_for(session, user_id, actions, now)
    created = {row.id for row in rows.created}
    touched: dict[uuid.UUID, int] = {}
    applied: list[Applied] = []
    for index, action in enumerate(actions):
        row = rows.for_action(action)
        if row.id in touched:
            raise BulkItemRejected(
                index,
                "repository-repeated",
                f"names the same repository as item {touched[row.id]}",
            )
        touched[row.id] = index
        outcome = outcome_of(None if row.id in created else row.is_active, action)
        _apply(row, action, outcome, now)
        applied.append(Applied(row, outcome))
    await session.flush()
    for result in applied:
        if result.outcome != "unchanged":
            await _emit_change(session, result.repository, result.outcome, now)
    return applied


@dataclass
class _Rows:
    by_id: dict[uuid.UUID, Repository]
    by_github_id: dict[int, Repository]
    created: Sequence[Repository]

    def for_action(self, action: Action) -> Repository:
        if isinstance(action, Monitor):
            return self.by_github_id[action.github_id]
        return self.by_id[action.repository_id]


async def _rows_for(
    session: AsyncSession, user_id: str, actions: Sequence[Action], now: datetime
) -> _Rows:
    """Lock every row the actions name, inserting the ones monitored for the first time."""
    ids = {a.repository_id for a in actions if isinstance(a, SetActive)}
    github_ids = {a.github_id for a in actions if isinstance(a, Monitor)}
    found = await repository.lock_rows(session, user_id, ids=ids, github_ids=github_ids)
    by_id = {row.id: row for row in found}
    for index, action in enumerate(actions):
        if isinstance(action, SetActive) and action.repository_id not in by_id:
            raise RepositoryNotFound(action.repository_id, index=index)
    by_github_id = {row.github_id: row for row in found}
    new: dict[int, Monitor] = {}
    for action in actions:
        if isinstance(action, Monitor) and action.github_id not in by_github_id:
            new.setdefault(action.github_id, action)
    created = await repository.insert_new(session, user_id, list(new.values()), now) if new else []
    by_github_id.update((row.github_id, row) for row in created)
    if raced := [github_id for github_id in new if github_id not in by_github_id]:
        # Another request inserted these between our lock and our insert; lock its rows.
        for row in await repository.lock_rows(session, user_id, github_ids=raced):
            by_github_id[row.github_id] = row
    return _Rows(by_id, by_github_id, created)


def _apply(row: Repository, action: Action, outcome: Outcome, now: datetime) -> None:
    changed = outcome not in {"unchanged", "monitored"}
    if changed:
        row.is_active = outcome == "activated"
    if isinstance(action, Monitor):
        # GitHub repositories get renamed and transferred; the id is what stays.
        changed = repository.describe(row, action.repository, action.etag, now) or changed
    if changed:
        row.updated_at = now


async def _emit_change(
    session: AsyncSession, row: Repository, change: RepositoryChange, now: datetime
) -> None:
    await emit(
        session,
        RepositoryMonitoringChanged(
            user_id=row.user_id,
            repository_id=row.id,
            github_id=row.github_id,
            full_name=row.full_name,
            is_active=row.is_active,
            change=change,
            changed_at=now,
        ),
    )


delete_users_data = UserDataEraser(
    service="repositories",
    emit=emit,
    lock_users=lock_users,
    erase=repository.erase,
    counted="repository row(s)",
    logger=logger,
)
"""``await delete_users_data(session, commands)``: carry out auth's erasures, each
``(user_id, deletion_id)`` in order: hard-delete every repository row of the users, remember
them as erased (so a write racing the erasure is refused, not kept), and acknowledge each
with ``UserDataDeleted``.

Under the users' locks, one statement deletes the rows of every user concerned. Unlike
:func:`stop_monitoring` this removes the rows, and no per-row events go out: they would
repeat repository names of a user being erased; the acknowledgement says it all.
Idempotent: an erasure of a user with no rows is acknowledged all the same.
"""


@dataclass(frozen=True)
class AvailablePage:
    """One page of the user's GitHub repositories, each with whether it is monitored."""

    items: Sequence[tuple[GitHubRepository, bool]]
    page: int
    next_page: int | None
    last_page: int | None


SEARCH_PAGE_SIZE = 100
MAX_SEARCH_PAGES = 10
"""A search reads at most this many of GitHub's pages of 100 (GitHub's ``/user/repos`` has no
name filter); a person with more than 1,000 repositories pages through them instead."""


async def available_repositories(
    connection: AsyncConnection,
    github: GitHub,
    user_id: str,
    *,
    page: int,
    per_page: int,
    query: str | None = None,
) -> AvailablePage:
    """The repositories GitHub shows the user, a page at a time as GitHub pages them;
    ``query`` keeps those whose full name contains it (any case)."""
    if query:
        found = await _search(github, user_id, query.casefold())
        last_page: int | None = max(1, -(-len(found) // per_page))
        start = (page - 1) * per_page
        items: Sequence[GitHubRepository] = found[start : start + per_page]
        next_page = page + 1 if page < (last_page or 1) else None
    else:
        listed = await github.repositories(user_id, page=page, per_page=per_page)
        items, next_page, last_page = listed.items, listed.next_page, listed.last_page
        # GitHub leaves rel="last" out on the last page itself.
        last_page = last_page or (page if next_page is None else None)
    monitored = await repository.monitored_among(connection, user_id, [r.id for r in items])
    return AvailablePage(
        [(item, item.id in monitored) for item in items], page, next_page, last_page
    )


async def _search(github: GitHub, user_id: str, needle: str) -> list[GitHubRepository]:
    found: list[GitHubRepository] = []
    for page in range(1, MAX_SEARCH_PAGES + 1):
        listed = await github.repositories(user_id, page=page, per_page=SEARCH_PAGE_SIZE)
        found.extend(item for item in listed.items if needle in item.full_name.casefold())
        if listed.next_page is None:
            return found
    logger.info(
        "a search of user %s's GitHub repositories stopped after %d pages",
        user_id,
        MAX_SEARCH_PAGES,
    )
    return found
