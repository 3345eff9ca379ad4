"""Accounts through sign-in's repository: link, update tokens, unlink; tokens are ciphertext
at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from codeflow_auth.constraints import AccountAlreadyLinked, UserNotFound
from codeflow_auth.signin import repository as signin_repository
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

ACCESS_TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
REFRESH_TOKEN = "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"


async def new_user_id(sessions: SessionFactory) -> str:
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name=None, email=None, email_verified=None, image=None
        )
        return user.id


async def link_github_account(
    sessions: SessionFactory, user_id: str, account_id: str, **tokens: str
) -> None:
    """Link a GitHub account with ``tokens`` to the user, in a transaction of its own."""
    async with transaction(sessions) as s:
        await signin_repository.link_account(
            s,
            user_id=user_id,
            type="oauth",
            provider="github",
            provider_account_id=account_id,
            **tokens,
        )


async def test_a_linked_account_keeps_every_auth_js_field(auth_sessions: SessionFactory) -> None:
    user_id = await new_user_id(auth_sessions)
    async with transaction(auth_sessions) as s:
        linked = await signin_repository.link_account(
            s,
            user_id=user_id,
            type="oauth",
            provider="github",
            provider_account_id="583231",
            access_token="a",
            refresh_token="r",
            expires_at=1_900_000_000,
            token_type="bearer",
            scope="read:user,user:email",
            id_token="i",
            session_state="st",
        )

    async with auth_sessions() as s:
        row = (
            await s.execute(text("SELECT * FROM accounts WHERE id = :id"), {"id": linked.id})
        ).one()
    assert row._asdict() == {
        "id": linked.id,
        "user_id": user_id,
        "type": "oauth",
        "provider": "github",
        "provider_account_id": "583231",
        "access_token": "a",
        "refresh_token": "r",
        "expires_at": 1_900_000_000,
        "token_type": "bearer",
        "scope": "read:user,user:email",
        "id_token": "i",
        "session_state": "st",
    }


async def test_an_account_links_to_one_user_only(auth_sessions: SessionFactory) -> None:
    first, second = await new_user_id(auth_sessions), await new_user_id(auth_sessions)
    async with transaction(auth_sessions) as s:
        await signin_repository.link_account(
            s, user_id=first, type="oauth", provider="github", provider_account_id="7"
        )
    async with transaction(auth_sessions) as s:
        with pytest.raises(AccountAlreadyLinked):
            await signin_repository.link_account(
                s, user_id=second, type="oauth", provider="github", provider_account_id="7"
            )
        # The same id at another provider is another account.
        await signin_repository.link_account(
            s, user_id=second, type="oauth", provider="gitlab", provider_account_id="7"
        )


async def test_linking_to_a_missing_user_is_refused(auth_sessions: SessionFactory) -> None:
    async with transaction(auth_sessions) as s:
        with pytest.raises(UserNotFound):
            await signin_repository.link_account(
                s, user_id="nosuchuser", type="oauth", provider="github", provider_account_id="1"
            )


async def test_update_account_tokens_changes_only_the_given_tokens(
    auth_sessions: SessionFactory,
) -> None:
    user_id = await new_user_id(auth_sessions)
    await link_github_account(
        auth_sessions,
        user_id,
        "9",
        access_token="old",
        refresh_token="old-refresh",
        scope="read:user",
    )

    async with transaction(auth_sessions) as s:
        updated = await signin_repository.update_account_tokens(
            s, "github", "9", access_token="new", expires_at=1_800_000_000
        )
        assert not await signin_repository.update_account_tokens(
            s, "github", "10", access_token="x"
        )
        with pytest.raises(ValueError, match="user_id"):
            await signin_repository.update_account_tokens(s, "github", "9", user_id="someone-else")
        with pytest.raises(ValueError, match="no account token fields"):
            await signin_repository.update_account_tokens(s, "github", "9")
    assert updated

    async with auth_sessions() as s:
        row = (
            await s.execute(
                text(
                    "SELECT access_token, refresh_token, expires_at, scope FROM accounts"
                    " WHERE provider_account_id = '9'"
                )
            )
        ).one()
    assert tuple(row) == ("new", "old-refresh", 1_800_000_000, "read:user")


async def test_tokens_encrypted_by_the_cipher_are_not_stored_in_plaintext(
    auth_sessions: SessionFactory,
) -> None:
    cipher = TokenCipher.from_config(f"k1:{generate_key()}")
    user_id = await new_user_id(auth_sessions)
    await link_github_account(
        auth_sessions,
        user_id,
        "11",
        access_token=cipher.encrypt(
            ACCESS_TOKEN, purpose="accounts.access_token", row=("github", "11")
        ),
        refresh_token=cipher.encrypt(
            REFRESH_TOKEN, purpose="accounts.refresh_token", row=("github", "11")
        ),
    )

    async with auth_sessions() as s:
        stored = (
            await s.execute(text("SELECT access_token, refresh_token, id_token FROM accounts"))
        ).one()
        dump = (await s.execute(text("SELECT accounts::text FROM accounts"))).scalar_one()
    assert ACCESS_TOKEN not in dump
    assert REFRESH_TOKEN not in dump
    assert stored.access_token.startswith("v2.k1.")
    row = ("github", "11")
    assert cipher.decrypt(stored.access_token, purpose="accounts.access_token", row=row) == (
        ACCESS_TOKEN
    )
    assert cipher.decrypt(stored.refresh_token, purpose="accounts.refresh_token", row=row) == (
        REFRESH_TOKEN
    )
    assert stored.id_token is None
