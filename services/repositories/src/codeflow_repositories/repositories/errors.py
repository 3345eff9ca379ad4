"""The repositories feature's domain errors; ``problems`` maps each to a problem response."""

from __future__ import annotations

import uuid


class RepositoryNotFound(Exception):
    """No repository with this id belongs to the caller (another user's answers the same)."""

    def __init__(self, repository_id: uuid.UUID, *, index: int = 0) -> None:
        super().__init__(f"no repository {repository_id} among yours")
        self.repository_id = repository_id
        self.index = index


class BulkItemRejected(Exception):
    """One item of a bulk request can't be applied, so none of them is."""

    def __init__(self, index: int, reason: str, detail: str) -> None:
        super().__init__(f"items.{index}: {detail}")
        self.index = index
        self.reason = reason


class UserErased(Exception):
    """The caller's account was erased; their token outlived it by a few minutes."""

    def __init__(self, user_id: str) -> None:
        super().__init__(
            "this account has been erased, with everything CodeFlow held for it; "
            "sign in again to start a new one"
        )
        self.user_id = user_id
