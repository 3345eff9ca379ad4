"""Kafka in secure mode: each service signs in as its own SCRAM user over TLS, and the ACLs
of codeflow_infra.kafka_acls decide what it may do. Only the janitor may command a deletion.

The broker is the project's own local one (codeflow_infra's LocalKafka with
``KAFKA_SECURITY=scram``), started for this module in a directory and on ports of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import DeleteUserData, Envelope, new_envelope, parse_envelope
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_infra.config import InfraConfig
from codeflow_infra.kafka_broker import LocalKafka
from codeflow_messaging import (
    Handles,
    OutboxRelay,
    ReliableConsumer,
    SessionFactory,
    add_to_outbox,
    create_broker,
    create_producer,
    transaction,
)
from codeflow_messaging.kafka import create_consumer
from codeflow_messaging.security import PLAINTEXT, KafkaSecurity
from codeflow_testing.ports import free_ports
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PREFERRED_PORTS = (31094, 31095)
WAIT = 30.0
"""The longest any single step may take (a start, a send, a read)."""


@dataclass(frozen=True)
class SecureKafka:
    broker: LocalKafka

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap_servers

    def security(self, principal: str, *, password: str | None = None) -> KafkaSecurity:
        return self.broker.secrets.security(principal, password=password)


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    """A broker of this module's own, SCRAM over TLS with the services' ACLs; stopped after."""
    kafka_port, controller_port = free_ports(2, PREFERRED_PORTS)
    config = replace(
        InfraConfig.from_env({}),
        local_dir=tmp_path_factory.mktemp("secure-kafka"),
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        kafka_bootstrap_servers=None,
        kafka_listeners=(),
        kafka_security="scram",
    )
    broker = LocalKafka(config)
    if not broker.can_run():
        pytest.skip("no JDK or Kafka jars here to run the local broker")
    started = time.monotonic()
    broker.start()
    logging.getLogger("codeflow_infra").info(
        "secure Kafka ready in %.1f s", time.monotonic() - started
    )
    try:
        yield SecureKafka(broker)
    finally:
        broker.stop()


def deletion(user_id: str) -> Envelope[DeleteUserData]:
    return new_envelope(
        DeleteUserData(
            user_id=user_id,
            deletion_id=uuid.uuid4(),
            reason="requested",
            requested_at=datetime.now(UTC),
        ),
        source="codeflow/janitor",
    )


@contextlib.asynccontextmanager
async def started(producer: AIOKafkaProducer) -> AsyncIterator[AIOKafkaProducer]:
    try:
        await asyncio.wait_for(producer.start(), WAIT)
        yield producer
    finally:
        await producer.stop()


async def send(kafka: SecureKafka, security: KafkaSecurity, envelope: Envelope[Any]) -> None:
    producer = create_producer(kafka.bootstrap, client_id="security-tests", security=security)
    async with started(producer):
        await asyncio.wait_for(
            producer.send_and_wait(
                USER_DELETION_COMMANDS, envelope.model_dump_json().encode(), key=envelope.kafka_key
            ),
            WAIT,
        )


async def read_ids(kafka: SecureKafka, security: KafkaSecurity, group: str) -> set[str]:
    """The envelope ids on the deletion-command topic, read as ``group`` from the start."""
    consumer = create_consumer(
        kafka.bootstrap,
        USER_DELETION_COMMANDS,
        security=security,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await asyncio.wait_for(consumer.start(), WAIT)
        batches = await asyncio.wait_for(consumer.getmany(timeout_ms=10_000), WAIT)
        return {str(parse_envelope(r.value).id) for rs in batches.values() for r in rs}
    finally:
        await consumer.stop()


async def test_the_janitor_may_command_a_deletion_and_auth_reads_it_as_its_group(
    secure_kafka: SecureKafka,
) -> None:
    command = deletion("user-commanded")
    await send(secure_kafka, secure_kafka.security("janitor"), command)

    ids: set[str] = set()

    async def read_by_auth() -> bool:
        ids.update(await read_ids(secure_kafka, secure_kafka.security("auth"), "auth"))
        return str(command.id) in ids

    await wait_until(read_by_auth, timeout=60, what="auth to read the janitor's command")


async def test_profiles_may_not_read_the_deletion_commands(secure_kafka: SecureKafka) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await read_ids(secure_kafka, secure_kafka.security("profiles"), "profiles")


@pytest.mark.parametrize("principal", ["auth", "profiles", "repositories"])
async def test_no_service_but_the_janitor_may_command_a_deletion(
    secure_kafka: SecureKafka, principal: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await send(secure_kafka, secure_kafka.security(principal), deletion("user-forged"))


async def test_a_wrong_password_is_refused_at_sign_in(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = secure_kafka.security("janitor", password="not-the-janitors-password")
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await send(secure_kafka, wrong, deletion("user-forged"))
    assert "SaslAuthenticationFailed" in caplog.text


async def test_a_client_without_tls_and_sasl_is_refused(secure_kafka: SecureKafka) -> None:
    with pytest.raises(KafkaConnectionError):
        await send(secure_kafka, PLAINTEXT, deletion("user-forged"))


async def test_a_service_may_not_write_another_services_events(
    secure_kafka: SecureKafka,
) -> None:
    producer = create_producer(
        secure_kafka.bootstrap, client_id="t", security=secure_kafka.security("profiles")
    )
    with pytest.raises(TopicAuthorizationFailedError):
        async with started(producer):
            await asyncio.wait_for(
                producer.send_and_wait("repositories.repository-events", b"{}", key=b"k"), WAIT
            )


async def record_deletions(
    session: AsyncSession, envelopes: Sequence[Envelope[DeleteUserData]]
) -> None:
    await session.execute(
        text(
            "INSERT INTO effects (message_id, user_id, active_at, pid) "
            "VALUES (:message_id, :user_id, :at, 0)"
        ),
        [
            {"message_id": e.id, "user_id": e.data.user_id, "at": e.data.requested_at}
            for e in envelopes
        ],
    )


async def test_the_services_own_outbox_relay_and_consumer_work_over_scram_and_tls(
    secure_kafka: SecureKafka, sessions: SessionFactory
) -> None:
    """The janitor's outbox relay (create_producer) publishes a command; auth's consumer
    (create_broker, the FastStream broker every service runs) applies it, as group auth."""
    command = deletion("user-relayed")
    async with transaction(sessions) as session:
        await add_to_outbox(session, command)

    janitor = secure_kafka.security("janitor")
    relay = OutboxRelay(
        sessions,
        lambda: create_producer(
            secure_kafka.bootstrap, client_id="codeflow-janitor-relay", security=janitor
        ),
    )
    relay_task = asyncio.create_task(relay.run())
    broker = create_broker(
        secure_kafka.bootstrap, client_id="codeflow-auth", security=secure_kafka.security("auth")
    )
    ReliableConsumer(
        group_id="auth",
        topics=[USER_DELETION_COMMANDS],
        handlers=[Handles(DeleteUserData, record_deletions)],
        sessions=sessions,
    ).subscribe(broker)
    await asyncio.wait_for(broker.start(), WAIT)
    try:

        async def applied() -> bool:
            async with sessions() as session:
                found = await session.scalar(
                    text("SELECT count(*) FROM effects WHERE message_id = :id"),
                    {"id": command.id},
                )
            return bool(found)

        await wait_until(applied, timeout=60, what="auth's consumer to apply the command")
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await broker.stop()


def test_the_broker_takes_the_secure_mode_of_its_directory_when_restarted(
    secure_kafka: SecureKafka,
) -> None:
    """``from_local_dir`` (what the fault tests' stop and start use) finds the secure mode."""
    again = LocalKafka.from_local_dir(Path(secure_kafka.broker.config.local_dir))
    assert again.secure
    assert again.bootstrap_servers == secure_kafka.bootstrap
