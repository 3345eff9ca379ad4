"""The erasure a data-holding service carries out, with its own parts faked."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from typing import Any

import pytest

from codeflow_contracts import Message, UserDataDeleted
from codeflow_service.erasure import UserDataEraser


class Recorded:
    """Stands in for the service's lock, delete statement and outbox, noting each call."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held
        self.calls: list[tuple[str, Any]] = []
        self.messages: list[Message] = []

    async def lock_users(self, session: object, user_ids: Collection[str]) -> None:
        self.calls.append(("lock", list(user_ids)))

    async def erase(self, session: object, user_ids: Collection[str]) -> dict[str, int]:
        self.calls.append(("erase", list(user_ids)))
        return {user: self.held.pop(user) for user in user_ids if user in self.held}

    async def all(self, session: object, messages: Sequence[Message]) -> None:
        self.calls.append(("emit", len(messages)))
        self.messages.extend(messages)


async def test_a_run_is_locked_erased_at_once_and_each_command_acknowledged_in_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorded = Recorded({"amy": 3, "bob": 1})
    eraser = UserDataEraser(
        service="repositories",
        emit=recorded,  # type: ignore[arg-type]
        lock_users=recorded.lock_users,
        erase=recorded.erase,
        counted="row(s)",
        logger=logging.getLogger("codeflow.example"),
    )
    amys, bobs, gones = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    run = [("bob", bobs), ("amy", amys), ("gone", gones), ("bob", bobs)]

    with caplog.at_level(logging.INFO, logger="codeflow.example"):
        await eraser(object(), run)  # type: ignore[arg-type]

    users = ["amy", "bob", "gone"]
    assert recorded.calls == [("lock", users), ("erase", users), ("emit", 4)]
    assert [(m.user_id, m.deletion_id) for m in recorded.messages] == run  # type: ignore[attr-defined]
    assert all(isinstance(m, UserDataDeleted) for m in recorded.messages)
    assert {m.service for m in recorded.messages} == {"repositories"}  # type: ignore[attr-defined]
    assert [r.getMessage() for r in caplog.records] == [
        f"deletion {bobs}: 1 row(s) of user bob deleted",
        f"deletion {amys}: 3 row(s) of user amy deleted",
        f"deletion {gones}: 0 row(s) of user gone deleted",
        f"deletion {bobs}: 0 row(s) of user bob deleted",
    ]
