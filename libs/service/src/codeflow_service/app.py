"""``create_service_app``: one FastAPI app per service, with the lifespan they all share.

The lifespan opens the database engine, the JWKS verifier and the Kafka broker, subscribes the
service's consumers, runs its outbox relay, and undoes all of it in reverse on shutdown.
Nothing is created at import time. A service that holds more than the kit's state (auth)
says how to make it with an :class:`OwnState`.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI

from codeflow_contracts import Message
from codeflow_identity import JwksVerifier, service_audience
from codeflow_identity.problems import Problems, install_domain_problems, install_problem_handlers
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
from codeflow_messaging.database import create_read_session_factory, read_only
from codeflow_messaging.security import KafkaSecurity, resolve
from codeflow_service.asyncapi import install_asyncapi
from codeflow_service.database_errors import install_database_problem_handler
from codeflow_service.docs import install_api_docs
from codeflow_service.health import install_health
from codeflow_service.logs import install_request_ids
from codeflow_service.metrics import ServiceMetrics, install_metrics
from codeflow_service.settings import RuntimeSettings, ServiceSettings
from codeflow_service.state import HasRuntime, Runtime, ServiceState, lifespan_state
from codeflow_service.tracing import FASTAPI_TELEMETRY, install_tracing, trace_engine

logger = logging.getLogger("codeflow.service")

DATABASE_POOL_SIZE = 20
"""Connections each service keeps open. All of them stay pooled: connections opened above a
pool's size are closed again on return, and under load that means a new connection (TLS
negotiation, authentication) for many requests. Past 20 at once, requests wait their turn."""

ConsumerFactory = Callable[[SessionFactory, str], Sequence[ReliableConsumer]]
"""Builds the service's consumers from its sessions and its consumer group id."""


OwnLifespan = Callable[[FastAPI, ServiceState], AbstractAsyncContextManager[None]]
"""A service's own start-up and shut-down (background jobs, clients of its own): entered once
the kit's state is up, left before any of it is closed."""

Made = TypeVar("Made")


@dataclass(frozen=True)
class OwnState(Generic[Made]):
    """A service whose requests and consumers need more than :class:`ServiceState`.

    ``make`` is entered first and left last; what it makes goes to ``consumers`` (with the
    sessions and the consumer group id) before the broker starts, and with the kit's state to
    ``state``, which builds the typed state requests find instead of the kit's.
    """

    make: Callable[[], AbstractAsyncContextManager[Made]]
    consumers: Callable[[SessionFactory, str, Made], Sequence[ReliableConsumer]]
    state: Callable[[ServiceState, Made], HasRuntime]


def settle_the_heap() -> None:
    """Move everything alive after startup out of the garbage collector's sight.

    A service starts with hundreds of thousands of long-lived objects (modules, models,
    SQLAlchemy's and pydantic's caches). Every full collection walked all of them again:
    under load about one a second, each pausing the event loop for ~90 ms, which is what
    the slowest requests waited for. Frozen, they are never scanned; what requests create
    is collected as before.
    """
    gc.collect()
    gc.freeze()
    logger.info("%d objects from startup frozen out of garbage collection", gc.get_freeze_count())
    give_back_free_memory()


def give_back_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``).

    Start-up allocates and frees a lot (reading and compiling modules, building schemas);
    glibc keeps what was freed below the heap's top, resident, for the life of the process.
    Elsewhere (musl, macOS) there is no such call, and nothing is done.
    """
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


@asynccontextmanager
async def messaging_runtime(
    *,
    name: str,
    database_url: str,
    kafka_bootstrap_servers: str,
    consumers: Callable[[SessionFactory], Sequence[ReliableConsumer]],
    publishes: Sequence[type[Message]] = (),
    relay_poll_interval: float = 2.0,
    kafka_security: KafkaSecurity | None = None,
    metrics: ServiceMetrics | None = None,
) -> AsyncIterator[Runtime]:
    """A service's database and Kafka side, for as long as the block runs.

    Opens the engine, subscribes ``consumers`` on a started broker, runs the outbox relay,
    and yields them as a :class:`Runtime` (what the request dependencies and ``/readyz``
    use). On the way out: the relay, the broker, then the engine. Every Kafka client
    connects with ``kafka_security`` (the environment's when None), and an unauthenticated
    connection is logged as a WARNING outside development. The consumers and the relay
    are measured in ``metrics``; the outbox's pending rows and the database pool's state
    are read at each scrape.
    """
    metrics = metrics or ServiceMetrics()
    security = resolve(kafka_security)
    security.warn_if_unauthenticated(f"the {name} service")
    engine = create_engine(database_url, pool_size=DATABASE_POOL_SIZE, max_overflow=0)
    trace_engine(engine)
    sessions = create_session_factory(engine)
    broker = create_broker(kafka_bootstrap_servers, client_id=f"codeflow-{name}", security=security)
    for consumer in consumers(sessions):
        consumer.subscribe(broker, metrics.messaging)
    declare_publications(broker, publishes, service=name)
    runtime = Runtime(
        engine=engine,
        read_engine=read_only(engine),
        sessions=sessions,
        read_sessions=create_read_session_factory(engine),
        broker=broker,
    )
    await broker.start()
    relay = OutboxRelay(
        sessions,
        lambda: create_producer(
            kafka_bootstrap_servers, client_id=f"codeflow-{name}-relay", security=security
        ),
        poll_interval=relay_poll_interval,
        metrics=metrics.messaging,
    )
    relay_task = asyncio.create_task(relay.run(), name=f"{name}-outbox-relay")
    settle_the_heap()
    measure = partial(metrics.messaging.measure, runtime.read_sessions)
    try:
        with metrics.measured_at_scrape(measure), metrics.pool_of(engine):
            yield runtime
    finally:
        relay_task.cancel()
        with suppress(asyncio.CancelledError):
            await relay_task
        await broker.stop()
        await engine.dispose()


def create_service_app(
    *,
    name: str,
    settings: RuntimeSettings,
    routers: Sequence[APIRouter],
    consumers: ConsumerFactory = lambda sessions, group_id: (),
    publishes: Sequence[type[Message]] = (),
    description: str = "",
    lifespan: OwnLifespan | None = None,
    own_state: OwnState[Any] | None = None,
    problems: Problems | None = None,
    metrics: ServiceMetrics | None = None,
) -> FastAPI:
    """The app of service ``name``: its routers under ``/<name>``, health at ``/healthz``,
    its metrics (HTTP, consumers, outbox, its own) at ``/metrics``.

    ``publishes`` lists the messages its outbox carries, for the AsyncAPI document at
    ``/<name>/asyncapi.json`` (the consumers describe themselves). ``lifespan`` is the
    service's own start-up and shut-down, run inside the kit's. With ``own_state``, its
    consumers replace ``consumers`` and its state the kit's. Callers' JWTs are verified
    against auth's JWKS when ``settings`` are :class:`ServiceSettings`. ``problems`` maps
    the service's domain errors to their problem responses. ``metrics`` (a new set by
    default) is what ``/metrics`` shows; the state carries it for the service's own.
    Requests are traced as the ``OTEL_*`` variables say (:mod:`codeflow_service.tracing`).
    """
    metrics = metrics or ServiceMetrics()

    @asynccontextmanager
    async def kit_lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        group_id = settings.consumer_group or name
        async with AsyncExitStack() as stack:
            made = await stack.enter_async_context(own_state.make()) if own_state else None

            def service_consumers(sessions: SessionFactory) -> Sequence[ReliableConsumer]:
                if own_state:
                    return own_state.consumers(sessions, group_id, made)
                return consumers(sessions, group_id)

            verifier = (
                await stack.enter_async_context(
                    JwksVerifier(
                        settings.jwks_url,
                        issuer=settings.jwt_issuer,
                        audience=settings.jwt_audience or service_audience(name),
                    )
                )
                if isinstance(settings, ServiceSettings)
                else None
            )
            runtime = await stack.enter_async_context(
                messaging_runtime(
                    name=name,
                    database_url=settings.database_url,
                    kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
                    consumers=service_consumers,
                    publishes=publishes,
                    relay_poll_interval=settings.relay_poll_interval,
                    kafka_security=settings.kafka_security,
                    metrics=metrics,
                )
            )
            state = ServiceState(name, settings, runtime, verifier, metrics=metrics)
            if lifespan:
                await stack.enter_async_context(lifespan(app, state))
            logger.info("%s service started (%s)", name, settings.environment)
            yield lifespan_state(own_state.state(state, made) if own_state else state)
        logger.info("%s service stopped", name)

    app = FastAPI(
        title=f"CodeFlow {name}",
        version="0.1.0",
        description=description,
        lifespan=kit_lifespan,
        openapi_url=f"/{name}/openapi.json",
        docs_url=None,
        redoc_url=None,
        telemetry=FASTAPI_TELEMETRY,
    )
    # Routes are matched in order: the probes, many times a minute, try the fewest. The
    # service's routes come after its docs and AsyncAPI document, which they could shadow
    # (``/<name>/{username}``).
    install_health(app)
    install_api_docs(app, name=name, environment=settings.environment)
    install_metrics(app, metrics)
    install_request_ids(app)
    install_tracing(app, name)
    install_problem_handlers(app)
    install_domain_problems(app, problems or {})
    install_database_problem_handler(app)
    install_asyncapi(app, name)
    for router in routers:
        app.include_router(router)
    return app
