"""The janitor's domain errors; ``problems`` maps each to a problem response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AdminOnly(Exception):
    """The endpoint is for admins, and the caller's token doesn't say admin."""

    def __init__(self) -> None:
        super().__init__(
            "this endpoint is for admins: auth's AUTH_ADMIN_GITHUB_IDS must hold their GitHub "
            "user id"
        )


class DeletionNotFound(Exception):
    """No deletion with this id that the caller may see (another user's answers the same)."""


class SweepRefused(Exception):
    """The safety limit refused the sweep; ``sweep`` is what it would have done."""

    def __init__(self, refusal: str | None, sweep: Mapping[str, Any]) -> None:
        super().__init__(refusal or "")
        self.sweep = sweep


class SweepInProgress(Exception):
    """Another sweep holds the sweep lock."""

    def __init__(self) -> None:
        super().__init__("only one sweep runs at a time; try again when it has finished")
