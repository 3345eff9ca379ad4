"""What the janitor's integration tests share: a handle on the running service, standing in
for auth and the data-holding services on Kafka, and reading the ledger and commands back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from codeflow_contracts import (
    DeleteUserData,
    Envelope,
    Message,
    UserActive,
    UserCreated,
    UserDataDeleted,
    UserDeleted,
    UserDeletionCancelled,
    new_envelope,
    parse_envelope,
    to_json_bytes,
)
from codeflow_contracts.deletions import DataHoldingService
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.db import Base
from codeflow_janitor.models import Deletion, UserActivity
from codeflow_messaging import SessionFactory
from codeflow_testing.kafka import read_topic
from codeflow_testing.tokens import TestTokens
from codeflow_testing.waiting import wait_until

ADMIN_ID = "admin0000000000000000000"
StartJanitor = Callable[..., Awaitable["Janitor"]]
"""The ``start_janitor`` fixture: settings overrides in, the running janitor out."""

SERVICES: tuple[DataHoldingService, ...] = ("auth", "profiles", "repositories")


def new_user_id() -> str:
    return f"u{uuid.uuid4().hex[:24]}"


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def answering(command: Envelope[DeleteUserData]) -> dict[str, Any]:
    """What every answer to ``command`` carries: its user and its deletion id."""
    return {"user_id": command.data.user_id, "deletion_id": command.data.deletion_id}


@dataclass(frozen=True)
class Janitor:
    """The running janitor, and the test's view of everything around it."""

    url: str
    settings: JanitorSettings
    sessions: SessionFactory
    tokens: TestTokens
    producer: AIOKafkaProducer

    # HTTP

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30.0)

    def admin(self) -> Mapping[str, str]:
        return self.tokens.headers_for(ADMIN_ID, admin=True, login="the-admin")

    def user(self, user_id: str) -> Mapping[str, str]:
        return self.tokens.headers_for(user_id, login="someone")

    async def sweep(self, **body: bool) -> httpx.Response:
        async with self.client() as client:
            return await client.post("/janitor/sweeps", json=body, headers=self.admin())

    async def get(self, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        async with self.client() as client:
            return await client.get(path, headers=headers if headers is not None else self.admin())

    # Kafka, as auth and the data-holding services

    async def publish(self, message: Message, *, source: str = "codeflow/auth") -> Envelope[Any]:
        envelope = new_envelope(message, source=source)
        await self.publish_envelope(envelope)
        return envelope

    async def publish_envelope(self, envelope: Envelope[Any]) -> None:
        await self.producer.send_and_wait(
            type(envelope.data).topic, to_json_bytes(envelope), key=envelope.kafka_key
        )

    async def sign_up(self, user_id: str, *, at: datetime) -> Envelope[Any]:
        return await self.publish(
            UserCreated(
                user_id=user_id,
                github_id=int(user_id[1:9], 16) + 1,
                login=f"login-{user_id[-6:]}",
                created_at=at,
            )
        )

    async def new_user(self, *, signed_up_at: datetime) -> str:
        """A person no other test knows, signed up at ``signed_up_at``: their user id."""
        user_id = new_user_id()
        await self.sign_up(user_id, at=signed_up_at)
        return user_id

    async def recorded_user(self, *, signed_up_at: datetime) -> str:
        """A ``new_user`` whose activity the janitor has recorded, so a sweep can pick them."""
        user_id = await self.new_user(signed_up_at=signed_up_at)
        await self.wait_for_activity(user_id)
        return user_id

    async def active(self, user_id: str, *, at: datetime) -> Envelope[Any]:
        return await self.publish(UserActive(user_id=user_id, active_at=at))

    async def ack(self, command: Envelope[DeleteUserData], *services: DataHoldingService) -> None:
        """Answer as the services would: auth with ``UserDeleted``, the others with
        ``UserDataDeleted``."""
        for service in services or SERVICES:
            if service == "auth":
                await self.publish(
                    UserDeleted(
                        **answering(command),
                        reason=command.data.reason,
                        deleted_at=datetime.now(UTC),
                    )
                )
                continue
            await self.publish(
                UserDataDeleted(
                    **answering(command),
                    service=service,
                    deleted_at=datetime.now(UTC),
                ),
                source=f"codeflow/{service}",
            )

    async def cancel(self, command: Envelope[DeleteUserData], *, active_at: datetime) -> None:
        """Answer as auth does for a person it saw active after the cutoff."""
        await self.publish(
            UserDeletionCancelled(
                **answering(command),
                active_at=active_at,
                cancelled_at=datetime.now(UTC),
            )
        )

    async def commands_for(self, user_id: str) -> list[Envelope[DeleteUserData]]:
        """Every ``DeleteUserData`` about ``user_id`` on the commands topic, oldest first."""
        records = await read_topic(self.settings.kafka_bootstrap_servers, USER_DELETION_COMMANDS)
        envelopes = [parse_envelope(r.value) for r in records if r.key == user_id.encode()]
        commands = [
            cast(Envelope[DeleteUserData], e)
            for e in envelopes
            if isinstance(e.data, DeleteUserData)
        ]
        return sorted(commands, key=lambda e: e.time)

    async def wait_for_commands(
        self, user_id: str, count: int = 1
    ) -> list[Envelope[DeleteUserData]]:
        async def published() -> bool:
            return len(await self.commands_for(user_id)) >= count

        await wait_until(published, timeout=20, what=f"{count} DeleteUserData for {user_id}")
        return await self.commands_for(user_id)

    # The janitor's database

    async def activity(self, user_id: str) -> UserActivity | None:
        async with self.sessions() as session:
            return await session.get(UserActivity, user_id)

    async def deletions_of(self, user_id: str) -> Sequence[Deletion]:
        async with self.sessions() as session:
            statement = select(Deletion).where(Deletion.user_id == user_id)
            return (await session.scalars(statement.order_by(Deletion.requested_at))).all()

    async def deletion(self, deletion_id: uuid.UUID) -> Deletion:
        async with self.sessions() as session:
            found = await session.get(Deletion, deletion_id)
        assert found is not None, f"no deletion {deletion_id}"
        return found

    async def wait_for_activity(self, *user_ids: str) -> None:
        async def recorded() -> bool:
            return all([await self.activity(u) is not None for u in user_ids])

        await wait_until(recorded, timeout=20, what=f"activity of {', '.join(user_ids)}")

    async def wait_for_cancellation(self, deletion_id: uuid.UUID) -> Deletion:
        async def cancelled() -> bool:
            return (await self.deletion(deletion_id)).cancelled_at is not None

        await wait_until(cancelled, timeout=20, what=f"deletion {deletion_id} to be cancelled")
        return await self.deletion(deletion_id)

    async def wait_for_completion(self, deletion_id: uuid.UUID) -> Deletion:
        async def complete() -> bool:
            return (await self.deletion(deletion_id)).completed_at is not None

        await wait_until(complete, timeout=20, what=f"deletion {deletion_id} to complete")
        return await self.deletion(deletion_id)


async def wait_until_handled(janitor: Janitor, message_ids: Iterable[uuid.UUID]) -> None:
    """Wait until the janitor's inbox holds every one of ``message_ids`` (handled or ignored)."""
    wanted = set(message_ids)
    processed_events = Base.metadata.tables["processed_events"]

    async def handled() -> bool:
        async with janitor.sessions() as session:
            column = processed_events.c.message_id
            count = await session.scalar(select(func.count()).where(column.in_(wanted)))
        return count == len(wanted)

    await wait_until(handled, timeout=20, what=f"the janitor to handle {len(wanted)} message(s)")
