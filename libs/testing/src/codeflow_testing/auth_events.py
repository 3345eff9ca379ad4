"""Auth's events about users, as the tests of the services consuming them need them."""

from __future__ import annotations

from datetime import datetime

from codeflow_contracts import UserUpdated


def login_changed(user_id: str, github_id: int, login: str, at: datetime) -> UserUpdated:
    """Auth's ``UserUpdated`` for a person whose GitHub login became ``login`` at ``at``."""
    return UserUpdated(
        user_id=user_id, github_id=github_id, login=login, changed=("login",), updated_at=at
    )
