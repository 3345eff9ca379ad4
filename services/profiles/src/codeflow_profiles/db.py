"""The profiles schema's declarative base, and the per-user lock that serialises its writes.

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


# Advisory lock keys are (class, object) pairs of int4; the class ("PRO") keeps these apart
# from any other user of advisory locks in the same database.
lock_users = partial(locks.lock_users, lock_class=0x50524F)
"""``await lock_users(session, user_ids)``: serialise, until the transaction ends, identity
updates and deletions of these users.

A user's events arrive in order on one partition, but during a rebalance two members may
briefly work on the same partition; an update that checked "not deleted" must not write after
the deletion committed.
"""
