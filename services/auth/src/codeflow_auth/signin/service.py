"""Signing a GitHub user in: upsert the user and the account, emit, open a session.

Users are found by GitHub's numeric id (the account's ``provider_account_id``), never by
login, which GitHub lets people change. One transaction covers the upsert, the event in the
outbox and the new session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.account_tokens import seal
from codeflow_auth.events import emit
from codeflow_auth.models import GITHUB_PROVIDER, User
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.sessions.service import record_activity
from codeflow_auth.sessions.tokens import new_session_token, stored_form
from codeflow_auth.signin import repository
from codeflow_auth.signin.domain import StoredIdentity, new_user, refresh_identity
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.token_cipher import TokenCipher
from codeflow_contracts import UserCreated
from codeflow_service.locks import lock_user

logger = logging.getLogger("codeflow.auth.signin")

PROVIDER = GITHUB_PROVIDER
SIGN_IN_LOCKS = 0x5167  # advisory lock class: one GitHub account's sign-ins, one at a time


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str
    expires: datetime
    created: bool
    changed: tuple[str, ...]


async def sign_in(
    session: AsyncSession,
    profile: GitHubProfile,
    tokens: GitHubTokens,
    *,
    cipher: TokenCipher,
    session_max_age: timedelta,
    activity_interval: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> SignedIn:
    """Upsert ``profile``'s user and account and open a new session for them.

    Signing in is activity: ``UserActive`` goes out (at most once per ``activity_interval``),
    and an erasure for inactivity that auth decides afterwards is cancelled.
    """
    now = now or datetime.now(UTC)
    encrypted = _encrypted_tokens(tokens, cipher, str(profile.id))
    # Two sign-ins of one GitHub account at once (a retry, two tabs, two replicas) would
    # both find no user and both create one: the second waits for the first to commit, then
    # finds its user.
    await lock_user(session, f"{PROVIDER}:{profile.id}", lock_class=SIGN_IN_LOCKS)
    # The user's row too: an erasure under way finishes first (and then there is no user to
    # sign in: a fresh one is made), or waits for this sign-in, and sees it as activity.
    user = await repository.get_user_by_account(session, PROVIDER, str(profile.id), lock=True)
    changed: tuple[str, ...] = ()
    if user is None:
        user = await _create(session, profile, encrypted, now)
        created = True
    else:
        created = False
        changed = await _refresh(session, user, profile, encrypted, now)
    await record_activity(session, user.id, activity_interval, now=now)
    token = new_session_token()
    expires = now + session_max_age
    await sessions_repository.create_session(
        session, session_token=stored_form(token), user_id=user.id, expires=expires, created_at=now
    )
    logger.info(
        "signed in user %s (GitHub id %d)%s",
        user.id,
        profile.id,
        " for the first time" if created else "",
    )
    return SignedIn(user, token, expires, created, changed)


async def _create(
    session: AsyncSession,
    profile: GitHubProfile,
    encrypted: dict[str, str | int | None],
    now: datetime,
) -> User:
    email_taken = (
        profile.email is not None
        and await repository.get_user_by_email(session, profile.email) is not None
    )
    if email_taken:
        # Another CodeFlow user (another GitHub account) still holds this address.
        logger.warning("email of GitHub user %d already belongs to another user", profile.id)
    new = new_user(profile, email_taken=email_taken, now=now)
    user = await repository.create_user(
        session,
        name=new.name,
        email=new.email,
        email_verified=new.email_verified,
        image=new.image,
        login=new.login,
    )
    await repository.link_account(
        session,
        user_id=user.id,
        type="oauth",
        provider=PROVIDER,
        provider_account_id=str(profile.id),
        **encrypted,  # type: ignore[arg-type]
    )
    await emit(
        session,
        UserCreated(user_id=user.id, github_id=profile.id, login=profile.login, created_at=now),
    )
    return user


async def _refresh(
    session: AsyncSession,
    user: User,
    profile: GitHubProfile,
    encrypted: dict[str, str | int | None],
    now: datetime,
) -> tuple[str, ...]:
    email_taken = False
    if profile.email is not None and profile.email != user.email:
        holder = await repository.get_user_by_email(session, profile.email)
        email_taken = holder is not None and holder.id != user.id
    stored = StoredIdentity(login=user.login, name=user.name, email=user.email, image=user.image)
    refresh = refresh_identity(user.id, stored, profile, email_taken=email_taken, now=now)
    if refresh.event is not None:
        await repository.update_user(session, user.id, **refresh.changes)
        await emit(session, refresh.event)
    await repository.update_account_tokens(session, PROVIDER, str(profile.id), **encrypted)
    return refresh.changed


def _encrypted_tokens(
    tokens: GitHubTokens, cipher: TokenCipher, github_id: str
) -> dict[str, str | int | None]:
    """The account's token columns, each sealed for its column of this account's row."""
    row = {"provider": PROVIDER, "provider_account_id": github_id}
    return {
        "access_token": seal(cipher, "access_token", tokens.access_token, **row),
        "refresh_token": (
            seal(cipher, "refresh_token", tokens.refresh_token, **row)
            if tokens.refresh_token
            else None
        ),
        "expires_at": tokens.expires_at,
        "token_type": tokens.token_type,
        "scope": tokens.scope,
    }
