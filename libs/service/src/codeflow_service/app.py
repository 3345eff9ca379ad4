"""``create_service_app``: one FastAPI app per service, with the lifespan they all share.

The lifespan opens the database engine, the JWKS verifier and the Kafka broker, subscribes the
service's consumers, runs its outbox relay, and undoes all of it in reverse on shutdown.
Nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_contracts import Message
from codeflow_identity import JwksVerifier
from codeflow_identity.problems import install_problem_handlers
from codeflow_messaging import (
    OutboxRelay,
    ReliableConsumer,
    SessionFactory,
    create_broker,
    create_engine,
    create_producer,
    create_session_factory,
)
from codeflow_messaging.asyncapi import declare_publications
from codeflow_service.asyncapi import asyncapi_router
from codeflow_service.health import health_router
from codeflow_service.settings import ServiceSettings

logger = logging.getLogger("codeflow.service")

ConsumerFactory = Callable[[SessionFactory, str], Sequence[ReliableConsumer]]
"""Builds the service's consumers from its sessions and its consumer group id."""


@dataclass(frozen=True)
class Runtime:
    """What a running service holds; ``app.state.runtime``."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: SessionFactory
    verifier: JwksVerifier
    broker: KafkaBroker


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    consumers: ConsumerFactory = lambda sessions, group_id: (),
    publishes: Sequence[type[Message]] = (),
    description: str = "",
) -> FastAPI:
    """The app of service ``name``: its routers under ``/<name>``, health at ``/healthz``.

    ``publishes`` lists the messages its outbox carries, for the AsyncAPI document at
    ``/<name>/asyncapi.json`` (the consumers describe themselves).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=10, max_overflow=10)
        sessions = create_session_factory(engine)
        verifier = JwksVerifier(
            settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        broker = create_broker(settings.kafka_bootstrap_servers, client_id=f"codeflow-{name}")
        for consumer in consumers(sessions, settings.consumer_group or name):
            consumer.subscribe(broker)
        declare_publications(broker, publishes, service=name)
        app.state.runtime = Runtime(name, settings, engine, sessions, verifier, broker)
        app.state.sessions = sessions
        app.state.engine = engine
        app.state.broker = broker
        await broker.start()
        relay = OutboxRelay(
            sessions,
            lambda: create_producer(
                settings.kafka_bootstrap_servers, client_id=f"codeflow-{name}-relay"
            ),
            poll_interval=settings.relay_poll_interval,
        )
        relay_task = asyncio.create_task(relay.run(), name=f"{name}-outbox-relay")
        logger.info("%s service started (%s)", name, settings.environment)
        try:
            yield
        finally:
            relay_task.cancel()
            with suppress(asyncio.CancelledError):
                await relay_task
            await broker.stop()
            await verifier.aclose()
            await engine.dispose()
            logger.info("%s service stopped", name)

    app = FastAPI(
        title=f"CodeFlow {name}",
        version="0.1.0",
        description=description,
        lifespan=lifespan,
        openapi_url=f"/{name}/openapi.json",
        docs_url=f"/{name}/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.include_router(health_router())
    app.include_router(asyncapi_router(name))
    for router in routers:
        app.include_router(router)
    return app
