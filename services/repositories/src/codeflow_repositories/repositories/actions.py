"""What a caller can ask of their repositories, as plain data the service layer applies.

The HTTP schemas translate into these, so the service layer knows nothing of pydantic or
FastAPI; one bulk request is a sequence of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from codeflow_contracts.repositories import RepositoryChange

Outcome = RepositoryChange | Literal["unchanged"]
"""What applying one action did to its row."""


@dataclass(frozen=True)
class Monitor:
    """Start monitoring a GitHub repository, or switch an existing row back on."""

    github_id: int
    owner: str
    name: str
    full_name: str


@dataclass(frozen=True)
class SetActive:
    """Switch monitoring of one of the caller's rows on or off.

    ``removing`` marks the soft delete (``DELETE``): the row is switched off all the same,
    and the event says ``deleted`` rather than ``deactivated``.
    """

    repository_id: uuid.UUID
    active: bool
    removing: bool = False


Action = Monitor | SetActive


def outcome_of(was_active: bool | None, action: Action) -> Outcome:
    """What ``action`` does to a row that was active (True), inactive (False) or absent (None)."""
    if isinstance(action, Monitor):
        if was_active is None:
            return "monitored"
        return "unchanged" if was_active else "activated"
    if was_active is None:
        raise ValueError("a row must exist to be switched on or off")
    if was_active == action.active:
        return "unchanged"
    if action.active:
        return "activated"
    return "deleted" if action.removing else "deactivated"
