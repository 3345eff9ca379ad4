"""SQL for the profiles tables. Functions only flush; the caller's edge owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Text,
    any_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_messaging import run_on_connection
from codeflow_profiles.models import TIMESTAMPTZ, DeletedUser, LoginClaim, UserProfile
from codeflow_profiles.profiles.domain import Claim, ShownIdentity
from codeflow_service.plain_reads import PlainQuery

# The two reads of the API, built once and run by the driver on a Core connection: the
# profile's columns as a mapping, without the ORM's object (ADR 0038) or SQLAlchemy's
# rows (ADR 0045).
_PROFILE_OF = PlainQuery(
    select(*UserProfile.__table__.columns).where(
        UserProfile.user_id == bindparam("user", type_=Text)
    )
)
_PROFILE_NAMED = PlainQuery(
    select(*UserProfile.__table__.columns).where(
        UserProfile.username == bindparam("login_name", type_=Text),
        UserProfile.github_id.is_not(None),
    )
)

ProfileRow = dict[str, Any]
"""A profile's columns, by name."""


async def _one(
    query: PlainQuery, connection: AsyncConnection, **parameters: Any
) -> ProfileRow | None:
    rows = await query.rows(connection, parameters)
    return dict(rows[0]) if rows else None


async def profile_of(connection: AsyncConnection, user_id: str) -> ProfileRow | None:
    """The profile of ``user_id``, if there is one."""
    return await _one(_PROFILE_OF, connection, user=user_id)


async def profile_named(connection: AsyncConnection, username: str) -> ProfileRow | None:
    """The profile that holds ``username`` and a GitHub account now, if any."""
    return await _one(_PROFILE_NAMED, connection, login_name=username)


# The statements of an identity update, built once: a consumer runs them for every identity
# event, and building each anew through the ORM cost more CPU than PostgreSQL spends on all
# of them (ADR 0038). They are executed on the session's connection, as the SQL they are.
# Each one is a round trip, so what doesn't depend on an answer in between shares one
# (ADR 0046).
_USER = bindparam("user", type_=Text)
_LOGIN = bindparam("login_name", type_=Text)
_CLAIMED_AT = bindparam("at", type_=TIMESTAMPTZ)

# Whether this service erased the user; if not, their claim on the login when it is the
# login's first, and then the login taken from every other profile. Run under the user's
# lock, after it is granted: a statement sees the rows committed when it starts, so in the
# lock's own statement the check could miss an erasure committed while it waited.
_WAS_ERASED = select(exists().where(DeletedUser.user_id == _USER).label("erased")).cte("erased")
_FIRST_CLAIM = (
    insert(LoginClaim)
    .from_select(
        [LoginClaim.login, LoginClaim.user_id, LoginClaim.claimed_at],
        select(_LOGIN, _USER, _CLAIMED_AT).where(~_WAS_ERASED.c.erased),
    )
    .on_conflict_do_nothing(index_elements=[LoginClaim.login])
    .returning(LoginClaim.user_id)
    .cte("first_claim")
)
# The login taken from every profile but its holder's.
_RELEASE_LOGIN = (
    update(UserProfile)
    .where(UserProfile.username == _LOGIN, UserProfile.user_id != bindparam("holder"))
    .values(username=None, updated_at=func.now())
)
_CLAIMED_FIRST = exists(select(_FIRST_CLAIM.c.user_id))
_CLAIM_UNLESS_ERASED = select(_WAS_ERASED.c.erased, _CLAIMED_FIRST.label("first")).add_cte(
    _RELEASE_LOGIN.where(_CLAIMED_FIRST).cte("released")
)
_LOCK_LOGIN_CLAIM = (
    select(LoginClaim.user_id, LoginClaim.claimed_at)
    .where(LoginClaim.login == _LOGIN)
    .with_for_update()
)
_SET_LOGIN_CLAIM = (
    update(LoginClaim)
    .where(LoginClaim.login == _LOGIN)
    .values(user_id=_USER, claimed_at=_CLAIMED_AT)
)
# The user's profile and the one holding their GitHub account (the same row, usually),
# locked in user order: two updates that lock the same two rows take them in the same order,
# so neither can hold one while waiting for the other's.
_LOCK_PROFILE_AND_GITHUB_HOLDER = (
    select(UserProfile.user_id, UserProfile.github_id, UserProfile.identity_updated_at)
    .where(or_(UserProfile.user_id == _USER, UserProfile.github_id == bindparam("github")))
    .order_by(UserProfile.user_id)
    .with_for_update()
)
_RELEASE_GITHUB_ACCOUNT = (
    update(UserProfile)
    .where(UserProfile.user_id == bindparam("user"))
    .values(github_id=None, updated_at=func.now())
)
_ADD_PROFILE = insert(UserProfile).values(
    user_id=bindparam("user"),
    github_id=bindparam("github"),
    username=bindparam("shown_name"),
    identity_updated_at=bindparam("seen"),
    last_active_at=bindparam("active"),
    created_at=bindparam("active"),
)
# Creation is the earliest moment any event shows the user, activity the latest: both are
# the same whatever order the events arrive in.
_ACTIVE_AT = bindparam("active", type_=TIMESTAMPTZ)
_TIMES_WIDENED = {
    "created_at": func.least(UserProfile.created_at, _ACTIVE_AT),
    "last_active_at": func.greatest(UserProfile.last_active_at, _ACTIVE_AT),
    "updated_at": func.now(),
}
_WIDEN_TIMES = (
    update(UserProfile).where(UserProfile.user_id == bindparam("user")).values(**_TIMES_WIDENED)
)
_SET_IDENTITY = (
    update(UserProfile)
    .where(UserProfile.user_id == bindparam("user"))
    .values(
        github_id=bindparam("github"),
        username=bindparam("shown_name"),
        identity_updated_at=bindparam("seen"),
        **_TIMES_WIDENED,
    )
)


async def claim_login(session: AsyncSession, login: str, claim: Claim) -> str | None:
    """Record ``claim`` on ``login`` unless a newer one is known, and take the login from
    every profile but its holder's; return the holder. ``None``, with nothing written, when
    this service erased the claimant's data. Call it holding the claimant's lock."""
    claimed = {"login_name": login, "user": claim.user_id, "at": claim.at}
    outcome = (
        await run_on_connection(session, _CLAIM_UNLESS_ERASED, **claimed, holder=claim.user_id)
    ).one()
    if outcome.erased:
        return None
    if outcome.first:  # the login was taken from the others in the same statement
        return claim.user_id
    # The row exists (a concurrent insert has committed by now): compare under its lock.
    known = (await run_on_connection(session, _LOCK_LOGIN_CLAIM, login_name=login)).one()
    holder = claim.user_id
    if claim.supersedes(Claim(known.claimed_at, known.user_id)):
        await run_on_connection(session, _SET_LOGIN_CLAIM, **claimed)
    else:
        holder = str(known.user_id)
    await run_on_connection(session, _RELEASE_LOGIN, login_name=login, holder=holder)
    return holder


async def lock_profile_and_github_account(
    session: AsyncSession, user_id: str, github_id: int
) -> tuple[datetime | None, Claim | None]:
    """Lock, until the transaction ends, the profile of ``user_id`` and the profile holding
    GitHub account ``github_id``; when the identity the first shows was stored (``None`` if
    there is no profile) and the claim of the second (``None`` if nobody holds the account)."""
    rows = (
        await run_on_connection(
            session, _LOCK_PROFILE_AND_GITHUB_HOLDER, user=user_id, github=github_id
        )
    ).all()
    shown_since = next((row.identity_updated_at for row in rows if row.user_id == user_id), None)
    holder = next(
        (Claim(row.identity_updated_at, row.user_id) for row in rows if row.github_id == github_id),
        None,
    )
    return shown_since, holder


async def release_github_account(session: AsyncSession, user_id: str) -> None:
    """Detach ``user_id``'s profile from its GitHub account (a newer user holds it)."""
    await run_on_connection(session, _RELEASE_GITHUB_ACCOUNT, user=user_id)


async def add_profile(session: AsyncSession, shown: ShownIdentity) -> None:
    """A new profile showing ``shown``; it was created, and last active, no later than
    ``shown.active_at``."""
    await run_on_connection(session, _ADD_PROFILE, **_shown(shown))


async def widen_times(session: AsyncSession, user_id: str, seen_at: datetime) -> None:
    """Let ``seen_at`` move the profile's creation back and its last activity forward."""
    await run_on_connection(session, _WIDEN_TIMES, user=user_id, active=seen_at)


async def set_identity(session: AsyncSession, shown: ShownIdentity) -> None:
    """Replace what the profile shows of the user's identity with ``shown``."""
    await run_on_connection(session, _SET_IDENTITY, **_shown(shown))


def _shown(shown: ShownIdentity) -> dict[str, Any]:
    return {
        "user": shown.user_id,
        "github": shown.github_id,
        "shown_name": shown.username,
        "seen": shown.seen_at,
        "active": shown.active_at,
    }


async def move_last_active_forward(session: AsyncSession, user_id: str, at: datetime) -> bool:
    """Set ``last_active_at`` to ``at`` if that is later; whether it moved."""
    result = await session.execute(
        update(UserProfile)
        .where(UserProfile.user_id == user_id, UserProfile.last_active_at < at)
        .values(last_active_at=at, updated_at=func.now())
        .returning(UserProfile.id)
    )
    return result.first() is not None


# A backlog's activity, a batch of users per statement, built once like the identity
# update's (ADR 0038): through the ORM, building it cost more CPU than PostgreSQL spent on it.
_ACTIVITY = (
    func.unnest(
        bindparam("users", type_=ARRAY(Text)), bindparam("active_ats", type_=ARRAY(TIMESTAMPTZ))
    )
    .table_valued("user_id", "active_at")
    .render_derived(name="activity")
)
_MOVE_EACH_LAST_ACTIVE_FORWARD = (
    update(UserProfile)
    .where(
        UserProfile.user_id == _ACTIVITY.c.user_id,
        UserProfile.last_active_at < _ACTIVITY.c.active_at,
    )
    .values(last_active_at=_ACTIVITY.c.active_at, updated_at=func.now())
)


async def move_each_last_active_forward(
    session: AsyncSession, latest: Mapping[str, datetime]
) -> int:
    """For each ``user id: at``, set ``last_active_at`` to ``at`` if that is later, in one
    statement; how many profiles moved. Each user id appears once (a mapping), so no row is
    matched twice."""
    if not latest:
        return 0
    result = await run_on_connection(
        session,
        _MOVE_EACH_LAST_ACTIVE_FORWARD,
        users=list(latest),
        active_ats=list(latest.values()),
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# An erasure's statements, built once for any number of users (the saga's batches are up to
# 500): a list of ids written into the SQL made a new statement, and a new prepared one, for
# every count of users.
_ERASED = bindparam("erased", type_=ARRAY(Text))
_DELETE_PROFILES = (
    delete(UserProfile).where(UserProfile.user_id == any_(_ERASED)).returning(UserProfile.user_id)
)
_DELETE_LOGIN_CLAIMS = delete(LoginClaim).where(LoginClaim.user_id == any_(_ERASED))
_REMEMBER_ERASED = (
    insert(DeletedUser)
    .from_select([DeletedUser.user_id], select(func.unnest(_ERASED)))
    .on_conflict_do_nothing()
)


async def delete_profiles(session: AsyncSession, user_ids: Collection[str]) -> dict[str, int]:
    """Delete everything held for ``user_ids`` and remember the deletions, one statement per
    table; returns the users whose profile went, each with its one profile."""
    ids = sorted(set(user_ids))
    deleted = (await run_on_connection(session, _DELETE_PROFILES, erased=ids)).scalars().all()
    await run_on_connection(session, _DELETE_LOGIN_CLAIMS, erased=ids)
    await run_on_connection(session, _REMEMBER_ERASED, erased=ids)
    return dict.fromkeys(deleted, 1)
