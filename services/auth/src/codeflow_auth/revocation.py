"""Revoking CodeFlow's grant at GitHub when a person's GitHub account is unlinked or erased.

When auth deletes an ``accounts`` row (``DELETE /auth/me`` unlinks it at once; an erasure
deletes it with its user), the access token it held is read first, and once the transaction
commits, ``DELETE /applications/{client_id}/grant`` asks GitHub to revoke the grant, which
invalidates every token GitHub gave CodeFlow for that person.

The call is best effort (ADR 0015): it runs in the background after the commit, with a
timeout, a few at a time, and never fails or holds up the deletion. GitHub being down, a
token that doesn't decrypt or one GitHub no longer knows is logged (a WARNING when the grant
may still be live) and forgotten: the database no longer holds the token, so CodeFlow can't
use it, and keeping it to retry would keep a credential of a person who asked to be erased.
Tokens never reach a log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass

from httpx2 import AsyncClient, BasicAuth, HTTPError
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm import SessionTransaction

from codeflow_auth.account_tokens import open_token
from codeflow_auth.config import AuthSettings
from codeflow_auth.models import GITHUB_PROVIDER, Account
from codeflow_auth.signin.github import API_HEADERS
from codeflow_auth.token_cipher import TokenCipher, TokenCipherError

logger = logging.getLogger("codeflow.auth.revocation")

TIMEOUT_SECONDS = 5.0
CONCURRENT_CALLS = 4
SHUTDOWN_GRACE_SECONDS = 10.0
_PENDING = "codeflow.auth.grants-to-revoke"
_LISTENING = "codeflow.auth.revokes-on-commit"


@dataclass(frozen=True)
class Grant:
    """A GitHub grant to revoke: whose it was, and the access token standing for it."""

    user_id: str
    access_token: str

    def __repr__(self) -> str:  # the token never reaches a log through a repr
        return f"Grant(user_id={self.user_id!r})"


class GrantRevoker:
    """Revokes the GitHub grants of deleted accounts, after their deletion commits."""

    def __init__(
        self,
        *,
        api_url: str,
        client_id: str,
        client_secret: str,
        cipher: TokenCipher,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._client_id = client_id
        self._auth = BasicAuth(client_id, client_secret)
        self._cipher = cipher
        self._timeout = timeout
        self._calls = asyncio.Semaphore(CONCURRENT_CALLS)
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, settings: AuthSettings, cipher: TokenCipher) -> GrantRevoker:
        return cls(
            api_url=settings.github_api_base_url,
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret.get_secret_value(),
            cipher=cipher,
        )

    async def revoke_after_commit(self, session: AsyncSession, user_ids: Collection[str]) -> int:
        """Read the GitHub grants of the users' accounts, to revoke once ``session``'s
        transaction commits (nothing is revoked if it rolls back); how many were read.

        Call it before the accounts are deleted (directly, or by deleting their users).
        """
        if not user_ids:
            return 0
        accounts = await session.scalars(
            select(Account).where(
                Account.user_id.in_(sorted(user_ids)),
                Account.provider == GITHUB_PROVIDER,
                Account.access_token.is_not(None),
            )
        )
        grants = [grant for account in accounts if (grant := self._grant_of(account))]
        if grants:
            self._pending(session.sync_session).extend(grants)
        return len(grants)

    async def revoke(self, grant: Grant) -> bool:
        """Ask GitHub to revoke ``grant``; whether it is gone (revoked now, or before)."""
        async with self._calls:
            try:
                async with AsyncClient(timeout=self._timeout) as client:
                    response = await client.request(
                        "DELETE",
                        f"{self._api_url}/applications/{self._client_id}/grant",
                        json={"access_token": grant.access_token},
                        auth=self._auth,
                        headers=API_HEADERS,
                    )
            except HTTPError as error:
                logger.warning(
                    "could not revoke the GitHub grant of user %s (%s: %s); it stays until "
                    "the person revokes it on GitHub",
                    grant.user_id,
                    type(error).__name__,
                    error,
                )
                return False
        if response.status_code == 204:
            logger.info("revoked the GitHub grant of user %s", grant.user_id)
            return True
        if response.status_code in (404, 422):
            logger.info(
                "the GitHub grant of user %s was no longer valid (%d)",
                grant.user_id,
                response.status_code,
            )
            return True
        logger.warning(
            "GitHub answered %d to revoking the grant of user %s; it stays until the person "
            "revokes it on GitHub%s",
            response.status_code,
            grant.user_id,
            " (check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET)"
            if response.status_code in (401, 403)
            else "",
        )
        return False

    async def settled(self) -> None:
        """Wait until every revocation started so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Give the revocations under way ``grace`` seconds, then drop the rest (logged)."""
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(list(self._tasks), timeout=grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            logger.warning(
                "shutting down with %d GitHub grant revocation(s) unfinished; those grants "
                "stay until the people revoke them on GitHub",
                len(unfinished),
            )

    def _grant_of(self, account: Account) -> Grant | None:
        try:
            token = open_token(self._cipher, account, "access_token")
        except TokenCipherError as error:
            logger.warning(
                "the GitHub token of user %s does not decrypt (%s); its grant is not revoked",
                account.user_id,
                error,
            )
            return None
        return Grant(account.user_id, token) if token else None

    def _pending(self, session: SyncSession) -> list[Grant]:
        """The grants ``session``'s transaction will revoke if it commits."""
        if not session.info.get(_LISTENING):
            session.info[_LISTENING] = True
            event.listen(session, "after_commit", self._on_commit)
            event.listen(session, "after_soft_rollback", self._on_rollback)
        pending: list[Grant] = session.info.setdefault(_PENDING, [])
        return pending

    def _on_commit(self, session: SyncSession) -> None:
        for grant in session.info.pop(_PENDING, []):
            task = asyncio.get_running_loop().create_task(self._revoke_quietly(grant))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_rollback(self, session: SyncSession, previous: SessionTransaction) -> None:
        if previous.parent is None:  # the whole transaction, not a savepoint
            session.info.pop(_PENDING, None)

    async def _revoke_quietly(self, grant: Grant) -> None:
        try:
            await self.revoke(grant)
        except Exception:  # a background task's error would otherwise go unseen
            logger.exception("revoking the GitHub grant of user %s failed", grant.user_id)
