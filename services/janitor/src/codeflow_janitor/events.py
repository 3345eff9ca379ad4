"""The messages the janitor emits: its deletion commands, written to its outbox by the saga
(``deletions.service``) in the transaction that records each deletion."""

from codeflow_contracts import DeleteUserData, Message

PUBLISHES: tuple[type[Message], ...] = (DeleteUserData,)
"""What the janitor's outbox carries (for its AsyncAPI document)."""
