"""PostgreSQL client helpers: wait for a server, create and drop databases.

Every function takes a libpq-style URL (`postgresql://user@host:port/dbname`); a SQLAlchemy
driver suffix such as `postgresql+asyncpg://` is accepted and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]

_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def libpq_url(url: str) -> str:
    """`url` with any SQLAlchemy driver suffix removed from its scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return urlunsplit(("postgresql", *parts[1:]))


def database_url(maintenance_url: str, name: str) -> str:
    """The URL of database `name` on the server of `maintenance_url`."""
    parts = urlsplit(libpq_url(maintenance_url))
    return urlunsplit((parts.scheme, parts.netloc, f"/{_checked(name)}", parts.query, ""))


def _checked(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"unsafe database name: {name!r}")
    return name


def _quoted(name: str) -> str:
    return f'"{_checked(name)}"'


async def _connect(url: str, timeout: float = 10.0) -> asyncpg.Connection:
    return await asyncpg.connect(libpq_url(url), timeout=timeout)


async def wait_until_ready(url: str, timeout: float = 60.0) -> float:
    """Wait until the server accepts a connection; return the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            connection = await _connect(url, timeout=min(5.0, timeout))
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"PostgreSQL at {url} did not accept connections in {timeout:.0f} s: {error}"
                ) from error
            await asyncio.sleep(0.2)
        else:
            await connection.close()
            return time.monotonic() - started


async def create_database(maintenance_url: str, name: str) -> str:
    """Create database `name` unless it exists; return its URL."""
    connection = await _connect(maintenance_url)
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", _checked(name)
        )
        if not exists:
            # Someone else creating it at the same moment is as good as creating it.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await connection.execute(f"CREATE DATABASE {_quoted(name)}")
    finally:
        await connection.close()
    return database_url(maintenance_url, name)


async def drop_database(maintenance_url: str, name: str) -> None:
    """Terminate the connections to database `name`, then drop it if it exists."""
    connection = await _connect(maintenance_url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            _checked(name),
        )
        await connection.execute(f"DROP DATABASE IF EXISTS {_quoted(name)}")
    finally:
        await connection.close()


async def ensure_databases(maintenance_url: str, names: Iterable[str]) -> list[str]:
    """Create each database of `names` that is missing; return the names it created."""
    connection = await _connect(maintenance_url)
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database")
    finally:
        await connection.close()
    existing = {row["datname"] for row in rows}
    missing = [name for name in names if name not in existing]
    for name in missing:
        await create_database(maintenance_url, name)
    return missing
