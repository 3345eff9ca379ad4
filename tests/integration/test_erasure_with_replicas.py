"""A completed erasure leaves nothing, with two replicas of every consumer holding user data.

Profiles and repositories each run as two processes' worth of apps (two members of one
consumer group, the second joining mid-stream, so partitions move while messages flow), on the
real PostgreSQL and Kafka. Auth's events for many users arrive interleaved: identities,
renames, activity, erasures, and events published after a user's erasure (as a replay or a
late copy would be). Meanwhile every user keeps writing to repositories through both
replicas, so writes race the erasures. Once both services have acknowledged every erasure,
nothing of an erased user is left anywhere, and everything of the others is.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from codeflow_contracts import (
    Envelope,
    Message,
    UserActive,
    UserCreated,
    UserDeleted,
    new_envelope,
    parse_envelope,
    to_json_bytes,
)
from codeflow_contracts.topics import ALL_TOPICS, USER_DELETION_ACKS, USER_EVENTS
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory, create_engine, create_session_factory
from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.main import create_app as create_profiles_app
from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.main import create_app as create_repositories_app
from codeflow_testing.asgi import serve
from codeflow_testing.auth_events import login_changed
from codeflow_testing.databases import migrated_database
from codeflow_testing.github_route import TOKEN as GITHUB_TOKEN
from codeflow_testing.github_route import GitHubDouble
from codeflow_testing.github_route import repository as github_repository
from codeflow_testing.kafka import group_lag, read_topic, start_group_at_end
from codeflow_testing.tokens import TestTokens
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SERVICES = Path(__file__).resolve().parents[2] / "services"
USERS = 40
SEED = 20261206
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


GITHUB = GitHubDouble()
"""GitHub, as auth's internal route shows it to the repositories replicas."""


def at(minutes: float) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


class Replicas:
    """One service's two app instances, sharing a database and a consumer group."""

    def __init__(self, sessions: SessionFactory, group: str) -> None:
        self.sessions = sessions
        self.group = group
        self.urls: list[str] = []


@pytest.fixture
async def system(
    postgres_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[tuple[Replicas, Replicas, TestTokens, Callable[[], Any]]]:
    """Profiles and repositories, one replica each running; the returned callable starts the
    second replica of each (a rebalance of both groups)."""
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    async with AsyncExitStack() as stack:
        tokens = await stack.enter_async_context(TestTokens(service="repositories").served())
        github_url = await stack.enter_async_context(serve(GITHUB.app))
        profiles_url = await stack.enter_async_context(
            migrated_database(postgres_url, SERVICES / "profiles/alembic.ini", prefix="rep_prof")
        )
        repositories_url = await stack.enter_async_context(
            migrated_database(
                postgres_url, SERVICES / "repositories/alembic.ini", prefix="rep_repo"
            )
        )
        engines = [create_engine(profiles_url), create_engine(repositories_url)]
        stack.push_async_callback(engines[1].dispose)
        stack.push_async_callback(engines[0].dispose)
        suffix = uuid.uuid4().hex[:8]
        profiles = Replicas(create_session_factory(engines[0]), f"profiles-replicas-{suffix}")
        repositories = Replicas(
            create_session_factory(engines[1]), f"repositories-replicas-{suffix}"
        )
        for replicas in (profiles, repositories):
            await start_group_at_end(kafka_bootstrap_servers, replicas.group, [USER_EVENTS])

        def apps() -> list[tuple[Replicas, Any]]:
            common: dict[str, Any] = {
                "environment": "test",
                "kafka_bootstrap_servers": kafka_bootstrap_servers,
                "jwks_url": tokens.jwks_url,
                "jwt_issuer": tokens.issuer.issuer,
                "relay_poll_interval": 0.05,
            }
            return [
                (
                    profiles,
                    create_profiles_app(
                        ProfilesSettings(
                            consumer_group=profiles.group, database_url=profiles_url, **common
                        )
                    ),
                ),
                (
                    repositories,
                    create_repositories_app(
                        RepositoriesSettings(
                            consumer_group=repositories.group,
                            database_url=repositories_url,
                            auth_internal_url=github_url,
                            auth_internal_token=GITHUB_TOKEN,
                            **common,
                        )
                    ),
                ),
            ]

        async def start_replicas() -> None:
            for replicas, app in apps():
                replicas.urls.append(await stack.enter_async_context(serve(app)))

        await start_replicas()
        yield profiles, repositories, tokens, start_replicas


def events_for(user: str, github_id: int, erase: bool, rng: random.Random) -> list[Message]:
    """One user's story as auth tells it; an erased user's continues after the erasure."""
    story: list[Message] = [
        UserCreated(user_id=user, github_id=github_id, login=f"login-{user}", created_at=at(0))
    ]
    minute = 1.0
    for _ in range(rng.randint(1, 4)):
        minute += rng.random() * 10
        if rng.random() < 0.5:
            story.append(UserActive(user_id=user, active_at=at(minute)))
        else:
            story.append(login_changed(user, github_id, f"login-{user}-{int(minute)}", at(minute)))
    if erase:
        story.append(
            UserDeleted(
                user_id=user, deletion_id=uuid.uuid4(), reason="inactive", deleted_at=at(500)
            )
        )
        # Late copies: what a replayed dead letter or a stale producer would deliver.
        story.append(login_changed(user, github_id, f"late-{user}", at(600)))
        story.append(UserActive(user_id=user, active_at=at(601)))
    return story


async def keep_writing(
    client: httpx.AsyncClient, first_github_id: int, stop: asyncio.Event, accepted: list[int]
) -> None:
    """Monitor new repositories until told to stop or the account is gone (410)."""
    github_id = first_github_id
    while not stop.is_set():
        github_id += 1
        GITHUB.publish(github_repository(github_id, owner="o"))
        answer = await client.post("/repositories", json={"github_id": github_id})
        if answer.status_code == 410:
            return
        assert answer.status_code == 201, answer.text
        accepted.append(github_id)
        await asyncio.sleep(0.05)


async def count(sessions: SessionFactory, sql: str, user: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(text(sql), {"user": user}) or 0)


async def test_a_completed_erasure_leaves_nothing_with_two_replicas_and_racing_writes(
    system: tuple[Replicas, Replicas, TestTokens, Callable[[], Any]],
    kafka_bootstrap_servers: str,
) -> None:
    profiles, repositories, tokens, start_second_replicas = system
    rng = random.Random(SEED)
    users = [f"u{uuid.uuid4().hex[:20]}" for _ in range(USERS)]
    erased = set(rng.sample(users, USERS // 2))
    stories = {
        user: events_for(user, 10_000 + n, user in erased, rng) for n, user in enumerate(users)
    }
    deletions = {
        story[-3].deletion_id  # type: ignore[attr-defined]
        for user, story in stories.items()
        if user in erased
    }

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    stop = asyncio.Event()
    accepted: dict[str, list[int]] = {user: [] for user in users}
    async with AsyncExitStack() as clients:
        writers: list[asyncio.Task[None]] = []

        def client_for(user: str, replica: int) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=repositories.urls[replica % len(repositories.urls)],
                headers=dict(tokens.headers_for(user)),
                timeout=30.0,
            )

        try:
            # Every user's first events, then writes start, then the rest interleaved, with
            # the second replicas joining halfway.
            pending = {user: list(story) for user, story in stories.items()}
            for user in users:
                await send(producer, pending[user].pop(0))
            for n, user in enumerate(users):
                client = await clients.enter_async_context(client_for(user, n))
                writers.append(
                    asyncio.create_task(keep_writing(client, n * 10**6, stop, accepted[user]))
                )
            published = 0
            while any(pending.values()):
                user = rng.choice([u for u in users if pending[u]])
                await send(producer, pending[user].pop(0))
                published += 1
                if published == 40:
                    await start_second_replicas()
                    for n, writer_user in enumerate(users[::2]):
                        client = await clients.enter_async_context(client_for(writer_user, n + 1))
                        first = (USERS + n) * 10**6
                        writers.append(
                            asyncio.create_task(
                                keep_writing(client, first, stop, accepted[writer_user])
                            )
                        )

            async def every_erasure_acknowledged() -> bool:
                acks = [
                    parse_envelope(record.value)
                    for record in await read_topic(kafka_bootstrap_servers, USER_DELETION_ACKS)
                ]
                done = {
                    (a.data.deletion_id, a.data.service)
                    for a in acks
                    if a.data.deletion_id in deletions
                }
                return len(done) == 2 * len(deletions)

            await wait_until(every_erasure_acknowledged, timeout=120, what="every erasure's acks")
        finally:
            stop.set()
            await asyncio.gather(*writers)
            await producer.stop()

    async def caught_up() -> bool:
        lags = [
            await group_lag(kafka_bootstrap_servers, r.group, [USER_EVENTS])
            for r in (profiles, repositories)
        ]
        return lags == [0, 0]

    await wait_until(caught_up, timeout=60, what="both groups to read every event")
    for user in users:
        profile = await count(
            profiles.sessions, "SELECT count(*) FROM user_profiles WHERE user_id = :user", user
        )
        rows = await count(
            repositories.sessions, "SELECT count(*) FROM repositories WHERE user_id = :user", user
        )
        if user in erased:
            assert (profile, rows) == (0, 0), f"erased user {user} left data behind"
        else:
            assert profile == 1, f"{user} lost their profile"
            assert rows == len(accepted[user]), f"{user} lost acknowledged writes"


async def send(producer: AIOKafkaProducer, message: Message) -> Envelope[Any]:
    envelope = new_envelope(message, source="codeflow/auth")
    await producer.send_and_wait(USER_EVENTS, to_json_bytes(envelope), key=envelope.kafka_key)
    return envelope
