"""SQL for acting on GitHub for a person: the account that holds their GitHub token."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.models import GITHUB_PROVIDER, Account


async def github_account(session: AsyncSession, user_id: str) -> Account | None:
    """The user's GitHub account, if they still have one linked."""
    account: Account | None = await session.scalar(
        select(Account)
        .where(Account.user_id == user_id, Account.provider == GITHUB_PROVIDER)
        .order_by(Account.id)
        .limit(1)
    )
    return account
