"""What the profiles service does: keep profiles in step with auth's events, and read them.

Functions only flush: the HTTP request or the consumed message owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_profiles.db import lock_users
from codeflow_profiles.events import emit
from codeflow_profiles.profiles import repository
from codeflow_profiles.profiles.domain import (
    GitHubIdentity,
    ProfileNotFound,
    ShownIdentity,
    decide_github_account,
    latest_activity,
)
from codeflow_profiles.profiles.repository import ProfileRow
from codeflow_service.erasure import UserDataEraser

logger = logging.getLogger("codeflow.profiles")


async def record_identity(
    session: AsyncSession, identity: GitHubIdentity, *, active_at: datetime | None = None
) -> None:
    """Apply a user's GitHub identity as auth stored it (from ``UserCreated`` or ``UserUpdated``).

    Creates the profile if it doesn't exist. Never fails on the unique login or GitHub id:
    a login claimed more recently by another user is given up (set to NULL) by whoever held
    it before, and an identity older than the one the profile holds changes nothing but the
    profile's first and last seen times. The outcome doesn't depend on the order events
    arrive in (see :mod:`codeflow_profiles.profiles.domain`). The user was active at
    ``active_at``, by default when auth stored the identity (a sign-in).
    """
    active_at = active_at or identity.seen_at
    user_id = identity.user_id
    # Held until the transaction ends: the user's deletion waits for this update, or this
    # update sees the deletion, never the two halfway through each other.
    await lock_users(session, [user_id])
    # The claim is recorded even when the event is stale for its own user: it still proves
    # that whoever held the login before that moment has moved on.
    holder = await repository.claim_login(session, identity.login, identity.claim)
    if holder is None:
        logger.info("ignoring the identity of %s: their data was deleted", user_id)
        return
    username = identity.username_given(holder)

    shown_since, github_holder = await repository.lock_profile_and_github_account(
        session, user_id, identity.github_id
    )
    if shown_since is not None and not identity.is_newer_than(shown_since):
        await repository.widen_times(session, user_id, active_at)
        return
    # The GitHub id the profile may hold, taken from an older profile that still holds it.
    decision = decide_github_account(identity, github_holder)
    if decision.taken_from is not None:
        await repository.release_github_account(session, decision.taken_from)
    shown = ShownIdentity(user_id, decision.github_id, username, identity.seen_at, active_at)
    if shown_since is None:
        await repository.add_profile(session, shown)
    else:
        await repository.set_identity(session, shown)


async def restore_user(
    session: AsyncSession, identity: GitHubIdentity, last_active_at: datetime | None
) -> None:
    """Apply auth's restatement of a user: their identity now, and their last activity
    (when auth recorded none, the restatement's own time: no profile looks idler than it is).

    The way a profile missed through lost events comes back (or a stale one is corrected);
    it changes nothing for a user this service has erased.
    """
    await record_identity(session, identity, active_at=last_active_at or identity.seen_at)


async def record_activity(session: AsyncSession, user_id: str, active_at: datetime) -> None:
    """Move the profile's ``last_active_at`` forward to ``active_at``; never back.

    Activity of a user without a profile is ignored: ``UserCreated`` (which sets the first
    activity) always comes first on the user's partition, so this only happens for a user
    already deleted here, or when ``UserCreated`` was dead-lettered.
    """
    if not await repository.move_last_active_forward(session, user_id, active_at):
        logger.debug("activity of %s at %s changed nothing", user_id, active_at.isoformat())


async def record_activities(
    session: AsyncSession, activity: Iterable[tuple[str, datetime]]
) -> None:
    """:func:`record_activity` for each ``(user id, active at)``, in one statement.

    Only each user's latest activity can move their ``last_active_at``, so the outcome is the
    same as recording them one by one, in any order.
    """
    latest = latest_activity(activity)
    moved = await repository.move_each_last_active_forward(session, latest)
    logger.debug("activity of %d user(s) moved %d profile(s) forward", len(latest), moved)


async def delete_user_data(session: AsyncSession, user_id: str, deletion_id: UUID) -> None:
    """Delete the user's profile and login claims, and acknowledge with ``UserDataDeleted``.

    Idempotent: a user already gone is acknowledged all the same, so a re-sent command
    completes the saga. Events about the user that arrive later are ignored.
    """
    await delete_users_data(session, [(user_id, deletion_id)])


delete_users_data = UserDataEraser(
    service="profiles",
    emit=emit,
    lock_users=lock_users,
    erase=repository.delete_profiles,
    counted="profile(s)",
    logger=logger,
)
"""``await delete_users_data(session, commands)``: :func:`delete_user_data` for each
``(user_id, deletion_id)``, in order, with one statement per table and one for the
acknowledgements."""


async def my_profile(connection: AsyncConnection, user_id: str) -> ProfileRow:
    """The caller's own profile; :class:`ProfileNotFound` if there is none (yet)."""
    profile = await repository.profile_of(connection, user_id)
    if profile is None:
        raise ProfileNotFound("no profile for this user yet")
    return profile


async def public_profile(connection: AsyncConnection, username: str) -> ProfileRow:
    """The profile holding ``username``; :class:`ProfileNotFound` if none does."""
    profile = await repository.profile_named(connection, username)
    if profile is None:
        raise ProfileNotFound("no profile with this username")
    return profile
