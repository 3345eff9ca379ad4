"""GitHub's tokens in the accounts table: each ciphertext opens only in its own row and column;
one moved elsewhere is refused with a clear error, and signing in still works."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from codeflow_auth.account_tokens import open_token
from codeflow_auth.models import Account
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.signin.service import sign_in
from codeflow_auth.token_cipher import DecryptionFailed, TokenCipher, generate_key
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

CIPHER = TokenCipher.from_config(f"k1:{generate_key()}")
ADA = GitHubProfile(id=101, login="ada", name="Ada", email=None, avatar_url=None)
EVE = GitHubProfile(id=202, login="eve", name="Eve", email=None, avatar_url=None)


def tokens_of(login: str) -> GitHubTokens:
    return GitHubTokens(
        access_token=f"gho_{login}",
        token_type="bearer",
        scope="read:user",
        refresh_token=f"ghr_{login}",
    )


async def signed_in(sessions: SessionFactory, profile: GitHubProfile) -> None:
    async with transaction(sessions) as s:
        await sign_in(
            s, profile, tokens_of(profile.login), cipher=CIPHER, session_max_age=timedelta(days=1)
        )


async def account_of(sessions: SessionFactory, profile: GitHubProfile) -> Account:
    async with sessions() as s:
        account = await s.scalar(
            select(Account).where(Account.provider_account_id == str(profile.id))
        )
    assert account is not None
    return account


async def copy_access_token(
    sessions: SessionFactory, *, source: GitHubProfile, target: GitHubProfile
) -> None:
    """Overwrite ``target``'s stored access token with ``source``'s ciphertext, as a row
    tampered with in the database would be."""
    async with transaction(sessions) as s:
        await s.execute(
            text(
                "UPDATE accounts SET access_token = (SELECT access_token FROM accounts"
                " WHERE provider_account_id = :source) WHERE provider_account_id = :target"
            ),
            {"source": str(source.id), "target": str(target.id)},
        )


async def eve_holds_adas_access_token(sessions: SessionFactory) -> None:
    """Ada and Eve signed in, then Ada's access token copied into Eve's row."""
    await signed_in(sessions, ADA)
    await signed_in(sessions, EVE)
    await copy_access_token(sessions, source=ADA, target=EVE)


async def test_each_account_opens_its_own_tokens(auth_sessions: SessionFactory) -> None:
    await signed_in(auth_sessions, ADA)

    ada = await account_of(auth_sessions, ADA)

    assert open_token(CIPHER, ada, "access_token") == "gho_ada"
    assert open_token(CIPHER, ada, "refresh_token") == "ghr_ada"
    assert open_token(CIPHER, ada, "id_token") is None


async def test_a_token_copied_into_another_accounts_row_does_not_open(
    auth_sessions: SessionFactory,
) -> None:
    await eve_holds_adas_access_token(auth_sessions)

    eve = await account_of(auth_sessions, EVE)
    with pytest.raises(DecryptionFailed, match="copied from another row or column"):
        open_token(CIPHER, eve, "access_token")


async def test_a_token_copied_into_another_column_does_not_open(
    auth_sessions: SessionFactory,
) -> None:
    await signed_in(auth_sessions, ADA)
    async with transaction(auth_sessions) as s:
        await s.execute(text("UPDATE accounts SET refresh_token = access_token"))

    ada = await account_of(auth_sessions, ADA)
    with pytest.raises(DecryptionFailed):
        open_token(CIPHER, ada, "refresh_token")


async def test_signing_in_over_a_token_that_does_not_open_replaces_it(
    auth_sessions: SessionFactory,
) -> None:
    await eve_holds_adas_access_token(auth_sessions)

    await signed_in(auth_sessions, EVE)

    assert open_token(CIPHER, await account_of(auth_sessions, EVE), "access_token") == "gho_eve"
