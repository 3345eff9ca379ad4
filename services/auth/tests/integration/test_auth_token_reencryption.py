"""``python -m codeflow_auth tokens reencrypt``: every account's GitHub tokens rewritten under
the newest key and format, a batch per transaction, so old keys can be retired; idempotent,
and a token that doesn't decrypt is counted and left as it was, never deleted."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text

from codeflow_auth.account_tokens import open_token
from codeflow_auth.models import Account
from codeflow_auth.signin import repository as signin_repository
from codeflow_auth.token_cipher import TokenCipher, UnknownKey, generate_key
from codeflow_auth.token_rotation import Reencryption, reencrypt_all
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.commands import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

OLD_KEY, NEW_KEY = generate_key(), generate_key()
OLD = TokenCipher.from_config(f"k0:{OLD_KEY}")
BOTH = TokenCipher.from_config(f"k1:{NEW_KEY},k0:{OLD_KEY}")
NEW_ONLY = TokenCipher.from_config(f"k1:{NEW_KEY}")


def legacy_v1(plaintext: str, column: str) -> str:
    """A ciphertext as auth wrote it before rows were bound: v1, the column only."""
    key = base64.urlsafe_b64decode(OLD_KEY + "=" * (-len(OLD_KEY) % 4))
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), f"v1.k0.accounts.{column}".encode())
    return "v1.k0." + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def bound(cipher: TokenCipher, plaintext: str, column: str, github_id: str) -> str:
    return cipher.encrypt(plaintext, purpose=f"accounts.{column}", row=("github", github_id))


async def add_account(
    sessions: SessionFactory,
    github_id: str,
    access_token: str | None,
    refresh_token: str | None = None,
) -> None:
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name=None, email=None, email_verified=None, image=None
        )
        await signin_repository.link_account(
            s,
            user_id=user.id,
            type="oauth",
            provider="github",
            provider_account_id=github_id,
            access_token=access_token,
            refresh_token=refresh_token,
        )


async def accounts(sessions: SessionFactory) -> dict[str, Account]:
    async with sessions() as s:
        return {a.provider_account_id: a for a in await s.scalars(select(Account))}


async def seed(sessions: SessionFactory) -> None:
    """Five accounts: old format, old key, current, no tokens, and one that won't decrypt."""
    await add_account(
        sessions, "1", legacy_v1("gho_one", "access_token"), legacy_v1("ghr_one", "refresh_token")
    )
    await add_account(sessions, "2", bound(OLD, "gho_two", "access_token", "2"))
    await add_account(sessions, "3", bound(BOTH, "gho_three", "access_token", "3"))
    await add_account(sessions, "4", None)
    # Someone copied account 2's ciphertext into account 5's row: it can't be opened there.
    await add_account(sessions, "5", bound(OLD, "gho_two", "access_token", "2"))


async def test_every_token_ends_under_the_newest_key_and_format_and_opens_with_it_alone(
    auth_sessions: SessionFactory,
) -> None:
    await seed(auth_sessions)
    before = await accounts(auth_sessions)

    report = await reencrypt_all(auth_sessions, BOTH, batch_size=2)

    assert report == Reencryption(rewritten=2, current=2, failed=1)
    after = await accounts(auth_sessions)
    assert open_token(NEW_ONLY, after["1"], "access_token") == "gho_one"
    assert open_token(NEW_ONLY, after["1"], "refresh_token") == "ghr_one"
    assert open_token(NEW_ONLY, after["2"], "access_token") == "gho_two"
    assert open_token(NEW_ONLY, after["3"], "access_token") == "gho_three"
    assert after["3"].access_token == before["3"].access_token  # already current: untouched
    assert after["4"].access_token is None
    assert after["5"].access_token == before["5"].access_token  # failed: kept as it was
    for account in after.values():
        for column in ("access_token", "refresh_token"):
            value = getattr(account, column)
            assert value is None or value.startswith("v2.k1.") or account is after["5"]
    with pytest.raises(UnknownKey):
        open_token(NEW_ONLY, after["5"], "access_token")


async def test_a_second_run_has_nothing_left_to_rewrite(auth_sessions: SessionFactory) -> None:
    await seed(auth_sessions)
    await reencrypt_all(auth_sessions, BOTH)
    rewritten = await accounts(auth_sessions)

    again = await reencrypt_all(auth_sessions, BOTH)

    assert again == Reencryption(rewritten=0, current=4, failed=1)
    assert {k: a.access_token for k, a in (await accounts(auth_sessions)).items()} == {
        k: a.access_token for k, a in rewritten.items()
    }


async def test_a_token_under_a_key_no_longer_configured_fails_and_is_kept(
    auth_sessions: SessionFactory,
) -> None:
    await add_account(auth_sessions, "2", bound(OLD, "gho_two", "access_token", "2"))

    report = await reencrypt_all(auth_sessions, NEW_ONLY)

    assert report == Reencryption(rewritten=0, current=0, failed=1)
    kept = (await accounts(auth_sessions))["2"]
    assert open_token(OLD, kept, "access_token") == "gho_two"


async def test_the_command_reencrypts_and_reports_its_counts(
    auth_database_url: str, auth_sessions: SessionFactory
) -> None:
    await seed(auth_sessions)
    env = {
        **os.environ,
        "AUTH_DATABASE_URL": auth_database_url,
        "AUTH_TOKEN_KEYS": f"k1:{NEW_KEY},k0:{OLD_KEY}",
        "CODEFLOW_ENV": "test",
    }
    first = await run_module("codeflow_auth", "tokens", "reencrypt", "--batch-size", "2", env=env)

    # One row doesn't decrypt: the command says so and exits 1, so old keys stay for now.
    assert first.returncode == 1, first.stderr
    assert "2 rewritten, 2 already current, 1 failed to decrypt" in first.stdout
    assert "gho_" not in first.stdout + first.stderr
    after = await accounts(auth_sessions)
    assert open_token(NEW_ONLY, after["2"], "access_token") == "gho_two"
    async with transaction(auth_sessions) as s:
        await s.execute(text("DELETE FROM accounts WHERE provider_account_id = '5'"))
    again = await run_module("codeflow_auth", "tokens", "reencrypt", env=env)
    assert again.returncode == 0
    assert "0 rewritten, 4 already current, 0 failed to decrypt" in again.stdout
