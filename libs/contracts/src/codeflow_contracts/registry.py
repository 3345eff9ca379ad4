"""Every known message type, and parsing an envelope whatever its payload."""

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from codeflow_contracts.deletions import (
    DeleteUserData,
    UserDataDeleted,
    UserDeleted,
    UserDeletionCancelled,
)
from codeflow_contracts.envelope import Envelope, envelope_model
from codeflow_contracts.message import Message
from codeflow_contracts.repositories import RepositoryMonitoringChanged
from codeflow_contracts.users import (
    UserActive,
    UserCreated,
    UserDeletionRequested,
    UserRestated,
    UserUpdated,
)

MESSAGE_TYPES: dict[str, type[Message]] = {
    message.message_type: message
    for message in (
        UserCreated,
        UserUpdated,
        UserActive,
        UserDeletionRequested,
        UserRestated,
        DeleteUserData,
        UserDeleted,
        UserDeletionCancelled,
        UserDataDeleted,
        RepositoryMonitoringChanged,
    )
}
"""Each message model by its CloudEvents `type`."""


class UnknownMessageType(ValueError):
    """An envelope's `type` names no message this version of the contracts knows."""

    def __init__(self, message_type: str) -> None:
        super().__init__(f"unknown message type {message_type!r}")
        self.message_type = message_type


class _TypeAttribute(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str


def parse_envelope(raw: bytes | str | Mapping[str, Any]) -> Envelope[Message]:
    """Parse an envelope from JSON (or an already decoded mapping), choosing its payload by type.

    Raises `UnknownMessageType` for a type not in `MESSAGE_TYPES`, and another `ValueError`
    (a pydantic `ValidationError`, or a JSON decoding error) when the input is malformed.
    """
    document = json.loads(raw) if isinstance(raw, bytes | str) else raw
    message_type = _TypeAttribute.model_validate(document).type
    message = MESSAGE_TYPES.get(message_type)
    if message is None:
        raise UnknownMessageType(message_type)
    return envelope_model(message).model_validate(document)
