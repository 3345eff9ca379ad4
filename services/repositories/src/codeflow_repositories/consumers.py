"""What the repositories service consumes: auth's erasures."""

from __future__ import annotations

from collections.abc import Sequence

from codeflow_contracts import UserDeleted
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import Handles, ReliableConsumer, SessionFactory
from codeflow_repositories.deletion import delete_users_data

GROUP_ID = "repositories"


def consumers(sessions: SessionFactory, group_id: str = GROUP_ID) -> Sequence[ReliableConsumer]:
    """Every consumer the service runs: auth's ``UserDeleted`` (its other events about users
    are skipped), in group ``repositories``."""
    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_EVENTS],
            # A run of erasures (a sweep's backlog) is deleted with one statement.
            handlers=[Handles(UserDeleted, delete_users_data)],
            sessions=sessions,
        )
    ]
