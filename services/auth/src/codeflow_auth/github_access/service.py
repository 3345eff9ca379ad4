"""Acting on GitHub for a person: open the token auth keeps for them, make the call, and
answer with GitHub's data, never the token (ADR 0015 on how tokens are kept)."""

from __future__ import annotations

import logging

from codeflow_auth.account_tokens import open_token
from codeflow_auth.errors import GitHubAuthorizationEnded
from codeflow_auth.github_access import repository
from codeflow_auth.github_access.client import Answer, GitHubApi
from codeflow_auth.github_access.schemas import GitHubRepository, GitHubRepositoryPage
from codeflow_auth.token_cipher import TokenCipher, TokenCipherError
from codeflow_messaging import SessionFactory

logger = logging.getLogger("codeflow.auth.github_access")

SIGN_IN_AGAIN = "CodeFlow holds no GitHub access for this account any more; sign in again"


class GitHubAccess:
    """GitHub's answers for a person, from the token in their ``accounts`` row.

    The row is read in a short session of its own, closed before GitHub is called: a slow
    GitHub holds no database connection.
    """

    def __init__(self, sessions: SessionFactory, cipher: TokenCipher, api: GitHubApi) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._api = api

    async def repositories(
        self, user_id: str, *, page: int, per_page: int, etag: str | None = None
    ) -> Answer[GitHubRepositoryPage]:
        """A page of the repositories the person can see on GitHub."""
        token = await self._token_of(user_id)
        return await self._api.repositories(token, page=page, per_page=per_page, etag=etag)

    async def repository(
        self, user_id: str, github_id: int, *, etag: str | None = None
    ) -> Answer[GitHubRepository]:
        """One repository, if GitHub shows it to the person."""
        token = await self._token_of(user_id)
        return await self._api.repository(token, github_id, etag=etag)

    async def _token_of(self, user_id: str) -> str:
        async with self._sessions() as session:
            account = await repository.github_account(session, user_id)
        if account is None:
            logger.warning("user %s has no GitHub account linked to act with", user_id)
            raise GitHubAuthorizationEnded(SIGN_IN_AGAIN)
        try:
            token = open_token(self._cipher, account, "access_token")
        except TokenCipherError as error:
            logger.warning("the GitHub token of user %s does not decrypt (%s)", user_id, error)
            raise GitHubAuthorizationEnded(SIGN_IN_AGAIN) from None
        if not token:
            logger.warning("user %s has no GitHub token stored", user_id)
            raise GitHubAuthorizationEnded(SIGN_IN_AGAIN)
        return token
