"""Statements planned for the rows they meet, not for the rows of their first executions.

SQLAlchemy's asyncpg driver prepares every statement once per connection, and after five
executions PostgreSQL may keep a generic plan for it, made from the statistics of that
moment. A query over a table whose size swings (the outbox: empty at idle, thousands of
pending rows after a sweep) can then run for tens of seconds on a plan made for an empty
table, until autovacuum's next ANALYZE of it (ADR 0032).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def plan_each_execution(session: AsyncSession) -> None:
    """Plan each statement of the session's transaction when it runs, with its parameters
    and the table's current size: a few tenths of a millisecond of planning, never a plan
    made for another backlog. Ends with the transaction."""
    await session.execute(_CUSTOM_PLANS)
