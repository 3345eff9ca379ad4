"""The request sessions on the real PostgreSQL: what they send, and a database that went away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from codeflow_identity.problems import install_problem_handlers
from codeflow_messaging import create_engine, create_session_factory, transaction
from codeflow_messaging.database import create_read_session_factory, read_only
from codeflow_service import DbSession, ReadConnection, ReadSession
from codeflow_service.database_errors import DATABASE_UNAVAILABLE, install_database_problem_handler
from codeflow_service.plain_reads import PlainQuery
from codeflow_service.state import STATE_KEY, Runtime
from codeflow_testing.asgi import reserve_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5, max_overflow=0)
    yield engine
    await engine.dispose()


async def _in_transaction_after_a_query(session: AsyncSession) -> bool:
    """Whether the server holds a transaction open on the session's connection after a query."""
    assert await session.scalar(text("SELECT 1")) == 1
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    return raw.is_in_transaction()


async def test_a_read_session_runs_its_query_outside_a_transaction(engine: AsyncEngine) -> None:
    # No BEGIN before the query and no COMMIT after it: one round trip, as a bare driver.
    async with create_read_session_factory(engine)() as session:
        assert not await _in_transaction_after_a_query(session)


async def test_a_read_connection_runs_its_query_outside_a_transaction(
    engine: AsyncEngine,
) -> None:
    async with read_only(engine).connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        raw = (await connection.get_raw_connection()).driver_connection
        assert isinstance(raw, asyncpg.Connection)
        assert not raw.is_in_transaction()


async def test_a_request_transaction_runs_its_query_inside_one(engine: AsyncEngine) -> None:
    # The counterpart of the test above: the same check sees the transaction DbSession opens.
    async with transaction(create_session_factory(engine)) as session:
        assert await _in_transaction_after_a_query(session)


async def test_a_read_session_sees_what_a_transaction_commits(engine: AsyncEngine) -> None:
    async with transaction(create_session_factory(engine)) as session:
        await session.execute(text("CREATE TABLE seen (n int)"))
        await session.execute(text("INSERT INTO seen VALUES (7)"))
    async with create_read_session_factory(engine)() as session:
        assert await session.scalar(text("SELECT n FROM seen")) == 7


_PLAIN = PlainQuery(select(bindparam("n", type_=Integer).label("n")))


def _app(engine: AsyncEngine) -> ASGIApp:
    runtime = Runtime(
        engine=engine,
        read_engine=read_only(engine),
        sessions=create_session_factory(engine),
        read_sessions=create_read_session_factory(engine),
        broker=KafkaBroker(),  # never started: these endpoints don't publish
    )

    app = FastAPI()
    install_problem_handlers(app)
    install_database_problem_handler(app)

    @app.get("/read")
    async def read(session: ReadSession) -> dict[str, int]:
        return {"n": await session.scalar(text("SELECT count(*) FROM pg_sleep(0.2)")) or 0}

    @app.get("/rows")
    async def rows(connection: ReadConnection) -> dict[str, int]:
        return {"n": (await connection.execute(text("SELECT 1"))).scalar() or 0}

    @app.get("/plain")
    async def plain(connection: ReadConnection) -> dict[str, int]:
        [row] = await _PLAIN.rows(connection, {"n": 1})
        return {"n": row["n"]}

    @app.get("/write")
    async def write(session: DbSession) -> dict[str, int]:
        return {"n": await session.scalar(text("SELECT 1")) or 0}

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        # What a server does with a lifespan's state: each request gets it in its scope.
        scope["state"] = {STATE_KEY: SimpleNamespace(runtime=runtime)}
        await app(scope, receive, send)

    return with_state


async def _terminate_other_backends(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        killed = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return int(killed)


@pytest.mark.parametrize("met_first", ["/write", "/plain"])
async def test_after_the_database_drops_connections_one_request_gets_503_then_all_recover(
    engine: AsyncEngine, database_url: str, met_first: str
) -> None:
    transport = httpx.ASGITransport(app=_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        # Three connections in the pool, then the server ends them all (as a restart does).
        first = await asyncio.gather(*(client.get("/read") for _ in range(3)))
        assert [r.status_code for r in first] == [200, 200, 200]
        assert engine.pool.checkedin() == 3
        assert await _terminate_other_backends(database_url) == 3

        failed = await client.get(met_first)
        assert failed.status_code == 503
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.headers["retry-after"] == "2"
        assert failed.json()["type"] == DATABASE_UNAVAILABLE

        # The failure replaced the whole pool: none of the other dead connections is used.
        after = await asyncio.gather(*(client.get("/read") for _ in range(3)))
        assert [r.status_code for r in after] == [200, 200, 200]
        assert (await client.get("/write")).status_code == 200
        assert (await client.get("/rows")).status_code == 200
        assert (await client.get("/plain")).json() == {"n": 1}


async def test_a_database_that_refuses_connections_answers_503() -> None:
    with reserve_port() as sock:  # bound, never listening: connections are refused
        port = sock.getsockname()[1]
        engine = create_engine(f"postgresql://codeflow@127.0.0.1:{port}/nowhere")
        try:
            transport = httpx.ASGITransport(app=_app(engine))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                answers = [
                    await client.get(path) for path in ("/write", "/read", "/rows", "/plain")
                ]
        finally:
            await engine.dispose()
    assert [answer.status_code for answer in answers] == [503, 503, 503, 503]
    assert {answer.json()["type"] for answer in answers} == {DATABASE_UNAVAILABLE}
