"""Statements planned for the rows they meet, not for the rows of their first executions.

SQLAlchemy's asyncpg driver prepares every statement once per connection, and after five
executions PostgreSQL may keep a generic plan for it, made from the statistics of that
moment. A query over a table whose size swings (the outbox: empty at idle, thousands of
pending rows after a sweep) can then run for tens of seconds on a plan made for an empty
table, until autovacuum's next ANALYZE of it (ADR 0032).

A plan made at each execution still trusts those statistics: an outbox analyzed at rest "has
no pending row", so every join looks like one row against one row, and a nested loop the
cheapest. Over a burst of thousands it compares each row with each (ADR 0037).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_ANY_BACKLOG = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('enable_nestloop', 'off', true)"
)


async def plan_for_any_backlog(session: AsyncSession) -> None:
    """Plan each statement of the session's transaction when it runs, with its parameters
    and the table's current size (a few tenths of a millisecond of planning, never a plan
    made for another backlog), and join with hashes or merges, never a nested loop, whose
    cost a wrong row estimate can square. Both end with the transaction; one round trip."""
    await session.execute(_ANY_BACKLOG)
