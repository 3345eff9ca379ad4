"""Reliable messaging for CodeFlow's services.

- :func:`add_to_outbox` writes a message in the caller's transaction;
  :class:`OutboxRelay` publishes it afterwards, in order per key, with ``acks=all``.
- :class:`ReliableConsumer` handles each message once in effect (the inbox), a batch of them
  per transaction, commits offsets only after the handlers' transaction, retries, and
  dead-letters what keeps failing. Its handlers are registered one per message type,
  ``Handles(UserActive, on_user_active)``, each taking a batch of typed envelopes.
- :class:`KafkaSecurity` is how every client signs in (SCRAM over TLS, TLS, or PLAINTEXT),
  read from the environment by default.
- :func:`replay_dead_letters` sends dead letters back (also ``python -m codeflow_messaging``);
  :class:`DeadLetterRefused` is what a consumer raises when Kafka won't take one.
"""

from codeflow_messaging.backoff import Backoff
from codeflow_messaging.consumer import ReliableConsumer
from codeflow_messaging.database import (
    SessionFactory,
    async_database_url,
    create_engine,
    create_session_factory,
    run_on_connection,
    transaction,
)
from codeflow_messaging.dead_letter_publisher import DeadLetterRefused
from codeflow_messaging.dead_letters import ReplayReport, replay_dead_letters
from codeflow_messaging.dispatch import Handler, Handles
from codeflow_messaging.failures import RetryPolicy, is_transient
from codeflow_messaging.inbox import record_all_processed, record_processed
from codeflow_messaging.kafka import create_broker, create_producer
from codeflow_messaging.outbox import (
    Emitter,
    add_all_to_outbox,
    add_to_outbox,
    emitter,
    requeue_in_outbox,
)
from codeflow_messaging.relay import OutboxRelay
from codeflow_messaging.security import KafkaSecurity, KafkaSecurityError
from codeflow_messaging.tables import MessagingTables, add_messaging_tables

__all__ = [
    "Backoff",
    "DeadLetterRefused",
    "Emitter",
    "Handler",
    "Handles",
    "KafkaSecurity",
    "KafkaSecurityError",
    "MessagingTables",
    "OutboxRelay",
    "ReliableConsumer",
    "ReplayReport",
    "RetryPolicy",
    "SessionFactory",
    "add_all_to_outbox",
    "add_messaging_tables",
    "add_to_outbox",
    "async_database_url",
    "create_broker",
    "create_engine",
    "create_producer",
    "create_session_factory",
    "emitter",
    "is_transient",
    "record_all_processed",
    "record_processed",
    "replay_dead_letters",
    "requeue_in_outbox",
    "run_on_connection",
    "transaction",
]
