"""Re-encrypting every account's GitHub tokens under the current key and the newest format.

Rotating a token key (ADR 0015): put the new key first in ``AUTH_TOKEN_KEYS`` (keeping the
old ones after it) and restart auth; new tokens are then written under it. Then run
``python -m codeflow_auth tokens reencrypt``: each account whose tokens are under an older
key, or in the format that bound them to their column only, is rewritten, a batch of rows
per transaction. Once it reports no failures, the old keys can leave ``AUTH_TOKEN_KEYS``.

Rows are locked while their batch is rewritten, so a sign-in writing fresh tokens meanwhile
either lands first (and its tokens are the ones re-encrypted) or waits. Running it again
rewrites nothing. A token that doesn't decrypt (its key is gone, or it was copied from
another row) is logged and counted, and its row left exactly as it was: nothing is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.account_tokens import TOKEN_COLUMNS, open_token, seal
from codeflow_auth.models import Account
from codeflow_auth.token_cipher import TokenCipher, TokenCipherError
from codeflow_messaging import SessionFactory, transaction

logger = logging.getLogger("codeflow.auth.token-rotation")

BATCH_SIZE = 500
"""Accounts re-encrypted per transaction."""


@dataclass(frozen=True)
class Reencryption:
    """How many account rows were rewritten, were current already, or failed to decrypt."""

    rewritten: int = 0
    current: int = 0
    failed: int = 0

    def __add__(self, other: Reencryption) -> Reencryption:
        return Reencryption(
            self.rewritten + other.rewritten,
            self.current + other.current,
            self.failed + other.failed,
        )


async def reencrypt_batch(
    session: AsyncSession, cipher: TokenCipher, *, after: str = "", limit: int = BATCH_SIZE
) -> tuple[Reencryption, str | None]:
    """Re-encrypt up to ``limit`` accounts in id order after ``after``, locking them; the
    counts and the last id seen (``None`` when there were none left)."""
    accounts = (
        await session.scalars(
            select(Account)
            .where(Account.id > after)
            .order_by(Account.id)
            .limit(limit)
            .with_for_update()
        )
    ).all()
    rewritten = current = failed = 0
    for account in accounts:
        try:
            changes = _reencrypted(cipher, account)
        except TokenCipherError as error:
            failed += 1
            logger.warning(
                "account %s (user %s): a GitHub token does not decrypt, left as it is (%s)",
                account.id,
                account.user_id,
                error,
            )
            continue
        if not changes:
            current += 1
            continue
        for column, ciphertext in changes.items():
            setattr(account, column, ciphertext)
        rewritten += 1
    await session.flush()
    last = accounts[-1].id if accounts else None
    return Reencryption(rewritten, current, failed), last


async def reencrypt_all(
    sessions: SessionFactory, cipher: TokenCipher, *, batch_size: int = BATCH_SIZE
) -> Reencryption:
    """Re-encrypt every account's tokens under ``cipher``'s current key, a batch per
    transaction; the counts over all batches."""
    total, after = Reencryption(), ""
    while True:
        async with transaction(sessions) as session:
            counts, last = await reencrypt_batch(session, cipher, after=after, limit=batch_size)
        total += counts
        if last is None:
            break
        after = last
        logger.info(
            "tokens: %d rewritten, %d already current, %d failed so far",
            total.rewritten,
            total.current,
            total.failed,
        )
    return total


def _reencrypted(cipher: TokenCipher, account: Account) -> dict[str, str]:
    """The new ciphertext of each of the account's columns that isn't current; raises if
    any of its tokens doesn't decrypt (then none of them is rewritten)."""
    changes: dict[str, str] = {}
    for column in TOKEN_COLUMNS:
        ciphertext: str | None = getattr(account, column)
        if ciphertext is None or cipher.is_current(ciphertext):
            continue
        plaintext = open_token(cipher, account, column)
        assert plaintext is not None  # the column holds a ciphertext
        changes[column] = seal(
            cipher,
            column,
            plaintext,
            provider=account.provider,
            provider_account_id=account.provider_account_id,
        )
    return changes
