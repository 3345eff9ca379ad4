"""GitHub's tokens in an ``accounts`` row: sealed for that row and column, and opened again.

Each token column holds a :mod:`~codeflow_auth.token_cipher` ciphertext whose associated data
names the column and the row, by the account's natural key (``provider``,
``provider_account_id``): the key sign-in finds the row by, known before the row exists, and
never changed while it lives. A ciphertext copied to another account or another column doesn't
open (ADR 0015).
"""

from __future__ import annotations

from typing import Literal

from codeflow_auth.models import Account
from codeflow_auth.token_cipher import TokenCipher

TokenColumn = Literal["access_token", "refresh_token", "id_token"]
TOKEN_COLUMNS: tuple[TokenColumn, ...] = ("access_token", "refresh_token", "id_token")
"""The columns of ``accounts`` that hold ciphertext."""


def purpose_of(column: TokenColumn) -> str:
    return f"accounts.{column}"


def row_of(provider: str, provider_account_id: str) -> tuple[str, str]:
    return (provider, provider_account_id)


def seal(
    cipher: TokenCipher,
    column: TokenColumn,
    plaintext: str,
    *,
    provider: str,
    provider_account_id: str,
) -> str:
    """The ciphertext of ``plaintext`` for ``column`` of the account's row."""
    return cipher.encrypt(
        plaintext, purpose=purpose_of(column), row=row_of(provider, provider_account_id)
    )


def open_token(cipher: TokenCipher, account: Account, column: TokenColumn) -> str | None:
    """The plaintext in ``column`` of ``account`` (``None`` when empty).

    Raises :class:`~codeflow_auth.token_cipher.DecryptionFailed` for a ciphertext that belongs
    to another row or column or was tampered with, and
    :class:`~codeflow_auth.token_cipher.UnknownKey` for one under a key no longer configured.
    """
    ciphertext: str | None = getattr(account, column)
    if ciphertext is None:
        return None
    return cipher.decrypt(
        ciphertext,
        purpose=purpose_of(column),
        row=row_of(account.provider, account.provider_account_id),
    )
