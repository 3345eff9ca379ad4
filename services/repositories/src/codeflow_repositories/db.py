"""The repositories schema's declarative base, and the per-user lock that serialises writes.

The metadata also holds the service's ``outbox`` and ``processed_events`` tables, so the
migrations create them and ``alembic check`` compares them.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import DeclarativeBase

from codeflow_service import locks
from codeflow_service.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


# Advisory lock keys are (class, object) pairs of int4; the class ("REP") keeps these apart
# from any other user of advisory locks in the same database.
lock_users = partial(locks.lock_users, lock_class=0x524550)
"""``await lock_users(session, user_ids)``: serialise, until the transaction ends, a user's
writes and the user's erasure.

A request carrying a JWT that is still valid may land while the user is being erased: it
either commits before the erasure (which then deletes what it wrote) or sees it.
"""
