"""A database of the test's own for the service kit's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from codeflow_testing.databases import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty database; dropped after the test."""
    async with scratch_database(postgres_url, prefix="service_test") as url:
        yield url
