"""Auth decides whether an erasure for inactivity goes ahead, when it starts.

The janitor judges inactivity from its projection of auth's events, which lags behind; auth
sees every sign-in and session check first. So a ``DeleteUserData`` for inactivity deletes
nothing of a person auth saw active after the janitor's cutoff: auth cancels it, and says so
on the user's own partition of ``auth.user-events``. A deletion the person asked for always
goes ahead. Either way the answer travels on ``auth.user-events``, after every earlier event
about the user, so every consumer sees the two in order.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from auth_lock_support import someone_waits_for_a_lock
from auth_policy_support import POLICY
from sqlalchemy import select, text

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.models import Account, Session, User
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.sessions.service import record_activity, request_deletion
from codeflow_auth.signin import repository as signin_repository
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.signin.service import sign_in
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_contracts import DeleteUserData, parse_envelope
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
CUTOFF = NOW - timedelta(days=90)
SESSION_MAX_AGE = timedelta(days=7)
EVIDENCE = ActivityEvidence(activity_interval=timedelta(hours=1))


def github_id_of(login: str) -> int:
    return sum(ord(c) * 31**i for i, c in enumerate(login)) % 10**9 + 1


async def new_user(
    sessions: SessionFactory,
    login: str,
    *,
    last_active_at: datetime | None,
    session_age: timedelta,
    session_max_age: timedelta = SESSION_MAX_AGE,
) -> str:
    """A user with a GitHub account and one session opened ``session_age`` ago (and never
    used since), its expiry ``session_max_age`` later."""
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name=login, email=None, email_verified=None, image=None, login=login
        )
        await signin_repository.update_user(s, user.id, last_active_at=last_active_at)
        await signin_repository.link_account(
            s,
            user_id=user.id,
            type="oauth",
            provider="github",
            provider_account_id=str(github_id_of(login)),
        )
        await sessions_repository.create_session(
            s,
            session_token=f"hash-{login}-{uuid.uuid4().hex}",
            user_id=user.id,
            expires=NOW - session_age + session_max_age,
            created_at=NOW - session_age,
        )
    return user.id


async def last_seen(sessions: SessionFactory, login: str, ago: timedelta) -> str:
    """A user last active ``ago``, whose one session opened then and was never used since."""
    return await new_user(sessions, login, last_active_at=NOW - ago, session_age=ago)


def command(
    user_id: str, reason: str, *, inactive_since: datetime | None = CUTOFF
) -> DeleteUserData:
    fields: dict[str, Any] = {
        "deletion_id": uuid.uuid4(),
        "user_id": user_id,
        "reason": reason,
        "requested_at": NOW,
    }
    if reason == "inactive":
        fields["inactive_since"] = inactive_since
    return DeleteUserData.model_validate(fields)


async def carry_out(sessions: SessionFactory, *commands: DeleteUserData) -> None:
    async with transaction(sessions) as s:
        await carry_out_deletions(s, list(commands), EVIDENCE)


async def still_there(sessions: SessionFactory, user_id: str) -> tuple[bool, int, int]:
    """(the user exists, their accounts, their sessions)."""
    async with sessions() as s:
        user = await s.get(User, user_id)
        accounts = (await s.scalars(select(Account.id).where(Account.user_id == user_id))).all()
        live = (await s.scalars(select(Session.id).where(Session.user_id == user_id))).all()
    return user is not None, len(accounts), len(live)


async def answers(sessions: SessionFactory, user_id: str) -> list[tuple[str, str, Any]]:
    """(topic, type, data) of what auth queued about ``user_id``, in order."""
    async with sessions() as s:
        rows = await s.execute(
            text("SELECT topic, payload FROM outbox WHERE key = :user ORDER BY id"),
            {"user": user_id},
        )
        queued = [(topic, parse_envelope(json.dumps(payload).encode())) for topic, payload in rows]
    return [(topic, e.type, e.data) for topic, e in queued]


@pytest.mark.parametrize(
    ("login", "ago", "left", "answer", "says"),
    [
        pytest.param(
            "back",
            timedelta(days=1),
            (True, 1, 1),
            "codeflow.user.deletion-cancelled.v1",
            lambda data: data.active_at >= CUTOFF,
            id="active-after-the-cutoff-deletes-nothing",
        ),
        pytest.param(
            "idle",
            timedelta(days=120),
            (False, 0, 0),
            "codeflow.user.deleted.v1",
            lambda data: data.reason == "inactive",
            id="idle-since-before-the-cutoff-goes-ahead",
        ),
    ],
)
async def test_an_erasure_for_inactivity_is_decided_by_the_last_activity_auth_saw(
    auth_sessions: SessionFactory,
    login: str,
    ago: timedelta,
    left: tuple[bool, int, int],
    answer: str,
    says: Callable[[Any], bool],
) -> None:
    user_id = await last_seen(auth_sessions, login, ago)
    erase = command(user_id, "inactive")

    await carry_out(auth_sessions, erase)

    assert await still_there(auth_sessions, user_id) == left
    [(topic, message_type, data)] = await answers(auth_sessions, user_id)
    assert (topic, message_type) == (USER_EVENTS, answer)
    assert data.deletion_id == erase.deletion_id
    assert says(data)


async def test_a_sign_in_before_the_erasure_starts_cancels_it(
    auth_sessions: SessionFactory,
) -> None:
    # Last seen 120 days ago; the janitor's sweep is already under way when they sign in.
    returning = await last_seen(auth_sessions, "returning", timedelta(days=120))
    erase = command(returning, "inactive")
    async with transaction(auth_sessions) as s:
        await sign_in(
            s,
            GitHubProfile(
                id=github_id_of("returning"),
                login="returning",
                name=None,
                email=None,
                avatar_url=None,
            ),
            GitHubTokens(access_token="gho_returning", token_type="bearer", scope="read:user"),
            cipher=TokenCipher.from_config(f"k1:{generate_key()}"),
            session_max_age=SESSION_MAX_AGE,
        )

    await carry_out(auth_sessions, erase)

    exists, accounts, _ = await still_there(auth_sessions, returning)
    assert (exists, accounts) == (True, 1)
    assert [t for _, t, _ in await answers(auth_sessions, returning)][-1] == (
        "codeflow.user.deletion-cancelled.v1"
    )


async def test_an_erasure_the_person_asked_for_goes_ahead_however_recently_they_were_active(
    auth_sessions: SessionFactory,
) -> None:
    leaving = await new_user(
        auth_sessions, "leaving", last_active_at=NOW, session_age=timedelta(minutes=1)
    )
    erase = command(leaving, "requested")

    await carry_out(auth_sessions, erase)

    assert await still_there(auth_sessions, leaving) == (False, 0, 0)
    [(_, message_type, data)] = await answers(auth_sessions, leaving)
    assert (message_type, data.reason) == ("codeflow.user.deleted.v1", "requested")


async def test_a_session_opened_after_the_cutoff_counts_as_activity_when_none_was_recorded(
    auth_sessions: SessionFactory,
) -> None:
    quiet = await new_user(
        auth_sessions, "quiet", last_active_at=None, session_age=timedelta(days=10)
    )

    await carry_out(auth_sessions, command(quiet, "inactive"))

    assert await still_there(auth_sessions, quiet) == (True, 1, 1)


async def test_a_session_is_evidence_by_its_sign_in_whatever_maximum_age_it_was_written_with(
    auth_sessions: SessionFactory,
) -> None:
    # Opened 100 days ago with the 30-day expiry sessions had before idle timeouts: 70 days
    # ago it ended. Read as its expiry minus today's 7-day idle timeout, it would look like
    # activity 77 days ago, after the cutoff.
    old = await new_user(
        auth_sessions,
        "old",
        last_active_at=None,
        session_age=timedelta(days=100),
        session_max_age=timedelta(days=30),
    )

    await carry_out(auth_sessions, command(old, "inactive"))

    assert await still_there(auth_sessions, old) == (False, 0, 0)


async def test_one_run_decides_each_person_on_their_own(auth_sessions: SessionFactory) -> None:
    back = await new_user(
        auth_sessions, "back2", last_active_at=NOW, session_age=timedelta(hours=1)
    )
    idle = await last_seen(auth_sessions, "idle2", timedelta(days=200))

    await carry_out(auth_sessions, command(back, "inactive"), command(idle, "inactive"))

    assert (await still_there(auth_sessions, back))[0] is True
    assert (await still_there(auth_sessions, idle))[0] is False


async def test_someone_who_asked_to_leave_is_erased_even_by_an_erasure_for_inactivity(
    auth_sessions: SessionFactory,
) -> None:
    # Their own request found an erasure for inactivity already in flight, so the janitor
    # issued nothing new: that erasure must go ahead, however recent the request was.
    leaving = await new_user(
        auth_sessions, "asked", last_active_at=NOW, session_age=timedelta(minutes=1)
    )
    async with transaction(auth_sessions) as s:
        user = await s.get(User, leaving)
        assert user is not None
        # The request is checked against the clock, not NOW: a long run reaches this
        # test more than the ten minutes a recent sign-in lasts after the module loaded.
        signed_in_at = datetime.now(UTC) - timedelta(minutes=1)
        await request_deletion(s, user, signed_in_at=signed_in_at, policy=POLICY)

    await carry_out(auth_sessions, command(leaving, "inactive"))

    assert await still_there(auth_sessions, leaving) == (False, 0, 0)
    assert [t for _, t, _ in await answers(auth_sessions, leaving)] == [
        "codeflow.user.deletion-requested.v1",
        "codeflow.user.deleted.v1",
    ]


async def test_a_session_check_that_holds_the_user_while_the_erasure_starts_is_counted(
    auth_sessions: SessionFactory,
) -> None:
    # A session check recording activity has updated the user's row and not committed yet
    # when the erasure starts: the erasure waits for it, then sees the activity.
    idle = await last_seen(auth_sessions, "checking", timedelta(days=120))
    async with auth_sessions() as checking, checking.begin():
        assert await record_activity(checking, idle, timedelta(hours=1), now=datetime.now(UTC))
        deciding = asyncio.create_task(carry_out(auth_sessions, command(idle, "inactive")))

        await wait_until(
            someone_waits_for_a_lock(auth_sessions),
            timeout=20,
            what="the erasure to wait for the row",
        )
    await asyncio.wait_for(deciding, timeout=20)

    assert (await still_there(auth_sessions, idle))[0] is True
    assert [t for _, t, _ in await answers(auth_sessions, idle)][-1] == (
        "codeflow.user.deletion-cancelled.v1"
    )
