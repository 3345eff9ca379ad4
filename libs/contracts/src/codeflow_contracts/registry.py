"""Every known message type, and parsing an envelope whatever its payload."""

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
    (a pydantic `ValidationError`, also for what isn't JSON at all) when the input is
    malformed.
    """
    if isinstance(raw, bytes | str):
        # pydantic reads the JSON itself, with no dict of Python objects built in between:
        # less than half the time of json.loads and a validation of that.
        return _envelope_of(_TypeAttribute.model_validate_json(raw).type).model_validate_json(raw)
    return _envelope_of(_TypeAttribute.model_validate(raw).type).model_validate(raw)


_ENVELOPES: dict[str, type[Envelope[Message]]] = {
    message_type: envelope_model(message) for message_type, message in MESSAGE_TYPES.items()
}


def _envelope_of(message_type: str) -> type[Envelope[Message]]:
    envelope = _ENVELOPES.get(message_type)
    if envelope is None:
        raise UnknownMessageType(message_type)
    return envelope
