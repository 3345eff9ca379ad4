"""A direct asyncpg connection for the length of a block: how the benchmarks seed, rewind and
read the services' databases, outside the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Any]:
    """A connection to ``url``, closed when the block ends, also when it fails."""
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()
