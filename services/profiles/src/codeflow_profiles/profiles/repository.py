"""SQL for the profiles tables. Functions only flush; the caller's edge owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_profiles.models import TIMESTAMPTZ, DeletedUser, LoginClaim, UserProfile
from codeflow_profiles.profiles.domain import Claim, ShownIdentity


async def profile_of(session: AsyncSession, user_id: str) -> UserProfile | None:
    """The profile of ``user_id``, if there is one."""
    return await session.scalar(select(UserProfile).where(UserProfile.user_id == user_id))


async def profile_named(session: AsyncSession, username: str) -> UserProfile | None:
    """The profile that holds ``username`` and a GitHub account now, if any."""
    return await session.scalar(
        select(UserProfile).where(
            UserProfile.username == username, UserProfile.github_id.is_not(None)
        )
    )


async def lock_profile(session: AsyncSession, user_id: str) -> UserProfile | None:
    """The profile of ``user_id``, locked until the transaction ends."""
    return await session.scalar(
        select(UserProfile).where(UserProfile.user_id == user_id).with_for_update()
    )


async def is_deleted(session: AsyncSession, user_id: str) -> bool:
    """Whether this service has deleted the data of ``user_id``."""
    found = await session.scalar(select(DeletedUser.user_id).where(DeletedUser.user_id == user_id))
    return found is not None


async def claim_login(session: AsyncSession, login: str, claim: Claim) -> str:
    """Record ``claim`` on ``login`` unless a newer one is known; return the login's holder."""
    inserted = await session.scalar(
        insert(LoginClaim)
        .values(login=login, user_id=claim.user_id, claimed_at=claim.at)
        .on_conflict_do_nothing(index_elements=[LoginClaim.login])
        .returning(LoginClaim.user_id)
    )
    if inserted is not None:
        return claim.user_id
    # The row exists (a concurrent insert has committed by now): compare under its lock.
    known = (
        await session.execute(
            select(LoginClaim.user_id, LoginClaim.claimed_at)
            .where(LoginClaim.login == login)
            .with_for_update()
        )
    ).one()
    if not claim.supersedes(Claim(known.claimed_at, known.user_id)):
        return str(known.user_id)
    await session.execute(
        update(LoginClaim)
        .where(LoginClaim.login == login)
        .values(user_id=claim.user_id, claimed_at=claim.at)
    )
    return claim.user_id


async def release_login(session: AsyncSession, login: str, *, holder: str) -> None:
    """Take ``login`` away from every profile but the ``holder``'s (they have moved on)."""
    await session.execute(
        update(UserProfile)
        .where(UserProfile.username == login, UserProfile.user_id != holder)
        .values(username=None, updated_at=func.now())
    )


async def github_account_claim(session: AsyncSession, github_id: int) -> Claim | None:
    """The claim of the profile holding GitHub account ``github_id``, locked, if any."""
    row = (
        await session.execute(
            select(UserProfile.identity_updated_at, UserProfile.user_id)
            .where(UserProfile.github_id == github_id)
            .with_for_update()
        )
    ).one_or_none()
    return None if row is None else Claim(row.identity_updated_at, row.user_id)


async def release_github_account(session: AsyncSession, user_id: str) -> None:
    """Detach ``user_id``'s profile from its GitHub account (a newer user holds it)."""
    await session.execute(
        update(UserProfile)
        .where(UserProfile.user_id == user_id)
        .values(github_id=None, updated_at=func.now())
    )


async def add_profile(session: AsyncSession, shown: ShownIdentity) -> None:
    """A new profile showing ``shown``; it was created, and last active, no later than
    ``shown.active_at``."""
    await session.execute(
        insert(UserProfile).values(
            user_id=shown.user_id,
            github_id=shown.github_id,
            username=shown.username,
            identity_updated_at=shown.seen_at,
            last_active_at=shown.active_at,
            created_at=shown.active_at,
        )
    )


def _times_widened_by(seen_at: datetime) -> dict[str, Any]:
    # Creation is the earliest moment any event shows the user, activity the latest: both
    # are the same whatever order the events arrive in.
    return {
        "created_at": func.least(UserProfile.created_at, seen_at),
        "last_active_at": func.greatest(UserProfile.last_active_at, seen_at),
        "updated_at": func.now(),
    }


async def widen_times(session: AsyncSession, user_id: str, seen_at: datetime) -> None:
    """Let ``seen_at`` move the profile's creation back and its last activity forward."""
    await session.execute(
        update(UserProfile)
        .where(UserProfile.user_id == user_id)
        .values(**_times_widened_by(seen_at))
    )


async def set_identity(session: AsyncSession, shown: ShownIdentity) -> None:
    """Replace what the profile shows of the user's identity with ``shown``."""
    await session.execute(
        update(UserProfile)
        .where(UserProfile.user_id == shown.user_id)
        .values(
            github_id=shown.github_id,
            username=shown.username,
            identity_updated_at=shown.seen_at,
            **_times_widened_by(shown.active_at),
        )
    )


async def move_last_active_forward(session: AsyncSession, user_id: str, at: datetime) -> bool:
    """Set ``last_active_at`` to ``at`` if that is later; whether it moved."""
    result = await session.execute(
        update(UserProfile)
        .where(UserProfile.user_id == user_id, UserProfile.last_active_at < at)
        .values(last_active_at=at, updated_at=func.now())
        .returning(UserProfile.id)
    )
    return result.first() is not None


async def move_each_last_active_forward(
    session: AsyncSession, latest: Mapping[str, datetime]
) -> int:
    """For each ``user id: at``, set ``last_active_at`` to ``at`` if that is later, in one
    statement; how many profiles moved. Each user id appears once (a mapping), so no row is
    matched twice."""
    if not latest:
        return 0
    activity = (
        func.unnest(
            bindparam("user_ids", list(latest), type_=ARRAY(Text)),
            bindparam("active_ats", list(latest.values()), type_=ARRAY(TIMESTAMPTZ)),
        )
        .table_valued("user_id", "active_at")
        .render_derived(name="activity")
    )
    result = await session.execute(
        update(UserProfile)
        .where(
            UserProfile.user_id == activity.c.user_id,
            UserProfile.last_active_at < activity.c.active_at,
        )
        .values(last_active_at=activity.c.active_at, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_profiles(session: AsyncSession, user_ids: Collection[str]) -> dict[str, int]:
    """Delete everything held for ``user_ids`` and remember the deletions, one statement per
    table; returns the users whose profile went, each with its one profile."""
    ids = sorted(set(user_ids))
    deleted = await session.execute(
        delete(UserProfile).where(UserProfile.user_id.in_(ids)).returning(UserProfile.user_id)
    )
    await session.execute(delete(LoginClaim).where(LoginClaim.user_id.in_(ids)))
    await session.execute(
        insert(DeletedUser)
        .values([{"user_id": user_id} for user_id in ids])
        .on_conflict_do_nothing()
    )
    return dict.fromkeys(deleted.scalars(), 1)
