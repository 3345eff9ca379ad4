"""A sign-in and the profile it creates are one trace (issue 19, ADR 0027).

Auth signs a person in through the GitHub stand-in and writes ``UserCreated`` to its outbox;
its relay publishes it to the real Kafka; profiles' consumer creates the profile in the real
PostgreSQL. With every span kept in memory, the caller's ``traceparent`` (as the gateway
passes it on) is the root of them all, and the consumer's span is the child of the span
that wrote the outbox row.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from codeflow_auth.config import AuthSettings
from codeflow_auth.main import create_app as create_auth_app
from codeflow_contracts import parse_envelope
from codeflow_contracts.topics import ALL_TOPICS, USER_EVENTS
from codeflow_github_emulator import EmulatorSettings
from codeflow_github_emulator import create_app as create_emulator
from codeflow_github_emulator.testing import register_app
from codeflow_identity.keys import generate_signing_key
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory
from codeflow_messaging.testing import sessions_on
from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.main import create_app as create_profiles_app
from codeflow_testing.asgi import reserve_port, serve
from codeflow_testing.databases import migrated_database
from codeflow_testing.kafka import read_topic
from codeflow_testing.services import served_service
from codeflow_testing.tokens import TestTokens
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SERVICES = Path(__file__).resolve().parents[2] / "services"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
GATEWAY_SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class SignInSystem:
    auth_url: str
    profiles: SessionFactory


@pytest.fixture
async def system(
    recorded_spans: InMemorySpanExporter, postgres_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[SignInSystem]:
    """The GitHub stand-in, auth and profiles, each app built while spans are recorded."""
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    async with AsyncExitStack() as stack:
        auth_db, profiles_db = [
            await stack.enter_async_context(
                migrated_database(
                    postgres_url, SERVICES / f"{service}/alembic.ini", prefix=f"trace_{service}"
                )
            )
            for service in ("auth", "profiles")
        ]
        tokens = await stack.enter_async_context(TestTokens(service="profiles").served())
        await stack.enter_async_context(
            served_service(
                create_profiles_app,
                ProfilesSettings,
                database_url=profiles_db,
                kafka_bootstrap_servers=kafka_bootstrap_servers,
                tokens=tokens,
                group_prefix="trace-profiles",
                consumes=[USER_EVENTS],
            )
        )
        emulator_sock, auth_sock = reserve_port(), reserve_port()
        emulator_url = f"http://127.0.0.1:{emulator_sock.getsockname()[1]}"
        auth_url = f"http://127.0.0.1:{auth_sock.getsockname()[1]}"
        settings = AuthSettings(
            environment="development",  # plain http on loopback
            database_url=auth_db,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            secret=secrets.token_urlsafe(32),
            public_url=auth_url,
            github_client_id="codeflow-trace-client",
            github_client_secret="codeflow-trace-secret-" + secrets.token_hex(8),
            github_oauth_base_url=emulator_url,
            github_api_base_url=emulator_url,
            jwt_private_key=generate_signing_key().private_pem(),
            token_keys="k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            relay_poll_interval=0.05,
        )
        await stack.enter_async_context(
            serve(create_emulator(EmulatorSettings(auto_login="octocat")), sock=emulator_sock)
        )
        async with httpx.AsyncClient(base_url=emulator_url) as client:
            registered = await register_app(
                client,
                settings.github_client_id,
                settings.github_client_secret.get_secret_value(),
                callback_urls=(settings.callback_url,),
            )
            registered.raise_for_status()
        await stack.enter_async_context(serve(create_auth_app(settings), sock=auth_sock))
        profiles = await stack.enter_async_context(sessions_on(profiles_db))
        yield SignInSystem(auth_url, profiles)


async def sign_in(auth_url: str) -> str:
    """Sign in as a browser behind the gateway would, every request carrying the gateway's
    ``traceparent``; the new user's id."""
    async with httpx.AsyncClient(
        follow_redirects=True, timeout=30.0, headers={"traceparent": TRACEPARENT}
    ) as browser:
        started = await browser.get(
            f"{auth_url}/auth/signin/github",
            params={"callbackUrl": "/auth/session"},
            follow_redirects=False,
        )
        landed = await browser.get(started.headers["location"])
    landed.raise_for_status()
    user_id: str = landed.json()["user"]["id"]
    return user_id


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_a_sign_in_and_the_profile_it_creates_are_one_trace(
    system: SignInSystem, recorded_spans: InMemorySpanExporter, kafka_bootstrap_servers: str
) -> None:
    user_id = await sign_in(system.auth_url)

    async def profile_created() -> bool:
        async with system.profiles() as session:
            found = await session.scalar(
                text("SELECT count(*) FROM user_profiles WHERE user_id = :id"), {"id": user_id}
            )
        return found == 1

    def consumed() -> list[ReadableSpan]:
        spans = named(list(recorded_spans.get_finished_spans()), f"process {USER_EVENTS}")
        return [
            s
            for s in spans
            if s.attributes
            and s.attributes.get("cloudevents.event_type") == "codeflow.user.created.v1"
        ]

    async def consumer_span_ended() -> bool:
        return bool(consumed())

    await wait_until(profile_created, timeout=60, what="profiles to create the profile")
    await wait_until(consumer_span_ended, timeout=30, what="the consumer's span to end")

    spans = list(recorded_spans.get_finished_spans())
    [callback] = named(spans, "GET /auth/callback/github")
    [consumer] = consumed()
    by_id = {span.context.span_id: span for span in spans}
    assert consumer.parent is not None
    created = by_id[consumer.parent.span_id]  # the span that wrote the outbox row

    def ancestors(span: ReadableSpan) -> list[int]:
        chain = []
        while span.parent is not None:
            chain.append(span.parent.span_id)
            if span.parent.span_id not in by_id:
                break
            span = by_id[span.parent.span_id]
        return chain

    # The gateway's traceparent is the root of the sign-in, the outbox write and the consumer.
    assert callback.kind is SpanKind.SERVER
    assert callback.parent is not None
    assert callback.parent.span_id == GATEWAY_SPAN_ID
    assert created.name == f"create {USER_EVENTS}"
    assert created.kind is SpanKind.PRODUCER
    assert callback.context.span_id in ancestors(created)
    assert consumer.kind is SpanKind.CONSUMER
    assert ancestors(consumer)[-1] == GATEWAY_SPAN_ID
    # What the consumer did in the database is traced inside its span (or, when the batch held
    # the sign-in's UserActive too, inside the batch's span beneath it).
    statements = [
        s for s in spans if s.kind is SpanKind.CLIENT and consumer.context.span_id in ancestors(s)
    ]
    assert any(s.name.startswith("INSERT") for s in statements)
    traced = [callback, created, consumer, *statements]
    assert {span.context.trace_id for span in traced} == {TRACE_ID}

    # The record on Kafka carries the outbox write's context, in its body and its header.
    records = await read_topic(kafka_bootstrap_servers, USER_EVENTS)
    [record] = [
        r
        for r in records
        if r.key == user_id.encode() and parse_envelope(r.value).type == "codeflow.user.created.v1"
    ]
    written = f"00-{TRACE_ID:032x}-{created.context.span_id:016x}-{created.context.trace_flags:02x}"
    assert parse_envelope(record.value).traceparent == written
    assert dict(record.headers)["traceparent"] == written.encode()
