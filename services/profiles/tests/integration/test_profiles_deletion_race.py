"""A deletion racing an identity update never leaves a profile behind.

Two consumers (two replicas, or one member still finishing a batch while another took the
partition over) may apply a user's ``UserUpdated`` and the user's deletion at the same
moment. Whatever the interleaving, once the deletion has committed the profile is gone for
good. The test pins the worst interleaving in place with PostgreSQL's own locks: the update
is held after it has looked for the user's deletion and before it writes, while the deletion
runs; then the update is let go. And the other way round: an update that arrives while the
deletion is under way waits for it, and then writes nothing.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from profiles_support import created, identity_of, updated
from sqlalchemy import text

from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles import service
from codeflow_profiles.profiles.domain import GitHubIdentity
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def waiting_on_locks(sessions: SessionFactory) -> int:
    return await count(sessions, WAITING_ON_LOCKS)


WAITING_ON_LOCKS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
PROFILES_OF = "SELECT count(*) FROM user_profiles WHERE user_id = :user"
CLAIMS_OF = "SELECT count(*) FROM login_claims WHERE user_id = :user"
CLAIMS_ON = "SELECT count(*) FROM login_claims WHERE login = :login"


async def count(sessions: SessionFactory, sql: str, **params: object) -> int:
    """What the ``SELECT count(*)`` in ``sql`` answers now."""
    async with sessions() as s:
        return int(await s.scalar(text(sql), params) or 0)


async def held_rename(
    sessions: SessionFactory, rename: GitHubIdentity, *, waiting_on: str
) -> asyncio.Task[None]:
    """Start applying ``rename`` in a transaction of its own; return once it waits on a lock
    (``waiting_on`` names which, for the timeout's message)."""

    async def apply_rename() -> None:
        async with transaction(sessions) as s:
            await service.record_identity(s, rename)

    renaming = asyncio.create_task(apply_rename())

    async def rename_held() -> bool:
        return await waiting_on_locks(sessions) >= 1

    await wait_until(rename_held, timeout=20, what=f"the rename to wait on {waiting_on}")
    return renaming


async def test_an_identity_update_held_up_while_the_user_is_deleted_does_not_bring_the_profile_back(
    profiles_sessions: SessionFactory,
) -> None:
    sessions = profiles_sessions
    leaving, other = f"u{uuid.uuid4().hex[:20]}", f"u{uuid.uuid4().hex[:20]}"
    for event in (created(leaving, 101, "old-name", 1), created(other, 202, "new-name", 2)):
        async with transaction(sessions) as s:
            await service.record_identity(s, identity_of(event))
    # The leaving user renames to the login the other user had: the update must take that
    # login's claim row, which the test holds locked, after it checked for a deletion.
    rename = identity_of(updated(leaving, 101, "new-name", 3))

    async with sessions() as holder, holder.begin():
        await holder.execute(
            text("SELECT login FROM login_claims WHERE login = 'new-name' FOR UPDATE")
        )
        renaming = await held_rename(sessions, rename, waiting_on="the claim's lock")

        async def delete() -> None:
            async with transaction(sessions) as s:
                await service.delete_users_data(s, [(leaving, uuid.uuid4())])

        deleting = asyncio.create_task(delete())

        async def deletion_done_or_held() -> bool:
            return deleting.done() or await waiting_on_locks(sessions) >= 2

        await wait_until(deletion_done_or_held, timeout=20, what="the deletion to run or wait")
        await holder.rollback()  # let the rename go on

    await asyncio.wait_for(asyncio.gather(renaming, deleting), timeout=20)

    profile = await count(sessions, PROFILES_OF, user=leaving)
    claims = await count(sessions, CLAIMS_OF, user=leaving)
    assert (profile, claims) == (0, 0), "the deleted user's profile came back"


async def test_an_identity_update_that_waits_for_a_deletion_in_progress_writes_nothing(
    profiles_sessions: SessionFactory,
) -> None:
    # The update's first claim on a login nobody held, and its check for the user's
    # deletion, are one statement after the user's lock: had they shared the lock's
    # statement, they would see the database as it was before the lock was granted.
    sessions = profiles_sessions
    leaving = f"u{uuid.uuid4().hex[:20]}"
    async with transaction(sessions) as s:
        await service.record_identity(s, identity_of(created(leaving, 303, "first-name", 1)))
    fresh_login = f"n{uuid.uuid4().hex[:20]}"
    rename = identity_of(updated(leaving, 303, fresh_login, 2))

    async with sessions() as deleting, deleting.begin():
        await service.delete_users_data(deleting, [(leaving, uuid.uuid4())])
        renaming = await held_rename(sessions, rename, waiting_on="the user's lock")
    # The deletion has committed; the rename goes on.
    await asyncio.wait_for(renaming, timeout=20)

    profile = await count(sessions, PROFILES_OF, user=leaving)
    claims = await count(sessions, CLAIMS_ON, login=fresh_login)
    assert (profile, claims) == (0, 0), "the rename wrote after the user's deletion"
