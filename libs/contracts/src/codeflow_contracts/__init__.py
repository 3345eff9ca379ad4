"""The events and commands CodeFlow's services exchange over Kafka.

Pydantic models for every message, the CloudEvents envelope around them, the topic names,
and the JSON Schemas exported from the models. Depends on pydantic only.
"""

from codeflow_contracts.deletions import (
    DataHoldingService,
    DeleteUserData,
    DeletionReason,
    UserDataDeleted,
    UserDeleted,
    UserDeletionCancelled,
)
from codeflow_contracts.envelope import Envelope, envelope_model, new_envelope, to_json_bytes
from codeflow_contracts.message import GitHubId, Message, UserId
from codeflow_contracts.registry import MESSAGE_TYPES, UnknownMessageType, parse_envelope
from codeflow_contracts.repositories import RepositoryChange, RepositoryMonitoringChanged
from codeflow_contracts.users import (
    ChangedUserField,
    UserActive,
    UserCreated,
    UserDeletionRequested,
    UserRestated,
    UserUpdated,
)

__version__ = "1.3.0"

__all__ = [
    "MESSAGE_TYPES",
    "ChangedUserField",
    "DataHoldingService",
    "DeleteUserData",
    "DeletionReason",
    "Envelope",
    "GitHubId",
    "Message",
    "RepositoryChange",
    "RepositoryMonitoringChanged",
    "UnknownMessageType",
    "UserActive",
    "UserCreated",
    "UserDataDeleted",
    "UserDeleted",
    "UserDeletionCancelled",
    "UserDeletionRequested",
    "UserId",
    "UserRestated",
    "UserUpdated",
    "__version__",
    "envelope_model",
    "new_envelope",
    "parse_envelope",
    "to_json_bytes",
]
