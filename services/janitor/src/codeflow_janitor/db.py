"""The janitor schema's declarative base, and the advisory locks that serialise its work.

The metadata also holds the service's ``outbox`` and ``processed_events`` tables, so the
migrations create them and ``alembic check`` compares them.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from codeflow_service import locks
from codeflow_service.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


# Advisory lock keys are (class, object) pairs of int4; the class keeps the janitor's locks
# apart from any other user of advisory locks in the same database.
_SWEEP_LOCK_CLASS = 0x4A414E  # "JAN"
_USER_LOCK_CLASS = 0x4A414F


async def try_lock_sweep(session: AsyncSession) -> bool:
    """Take the sweep lock until the transaction ends; ``False`` if another sweep holds it."""
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(_SWEEP_LOCK_CLASS, 0)))
    return bool(locked)


lock_user = partial(locks.lock_user, lock_class=_USER_LOCK_CLASS)
"""``await lock_user(session, user_id)``: serialise, until the transaction ends, everything
the janitor does about one user.

Activity, deletion requests and acknowledgements for one user arrive on different topics and
may be handled by different replicas at once; without this an activity row could be written
just after completion removed it.
"""

lock_users = partial(locks.lock_users, lock_class=_USER_LOCK_CLASS)
"""``await lock_users(session, user_ids)``: :data:`lock_user` for each of ``user_ids``, in one
statement."""
