"""What a caller can ask of their repositories, as plain data the service layer applies.

The HTTP schemas translate into these, so the service layer knows nothing of pydantic or
FastAPI; one bulk request is a sequence of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from codeflow_contracts.repositories import RepositoryChange
from codeflow_repositories.github import GitHubRepository

Outcome = RepositoryChange | Literal["unchanged"]
"""What applying one action did to its row."""


@dataclass(frozen=True)
class Monitor:
    """Start monitoring a GitHub repository, or switch an existing row back on, with what
    GitHub said of it (and the ``ETag`` it said it with)."""

    repository: GitHubRepository
    etag: str | None = None

    @property
    def github_id(self) -> int:
        return self.repository.id


@dataclass(frozen=True)
class MonitorById:
    """What a caller asks: monitor GitHub's repository ``github_id``; GitHub is asked for
    the rest, which makes it a :class:`Monitor`."""

    github_id: int


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
Request = MonitorById | SetActive
"""An action as a caller asks for it, before GitHub was asked."""


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
