"""The migrations: they build the schema the models describe, and they reverse cleanly."""

from __future__ import annotations

import pytest
from profiles_support import ALEMBIC_INI

from codeflow_testing.databases import check_migrations_round_trip, query_rows

pytestmark = pytest.mark.integration


async def column_types(url: str, table: str) -> dict[str, tuple[str, str]]:
    rows = await query_rows(
        url,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = :table",
        table=table,
    )
    return {name: (kind, nullable) for name, kind, nullable in rows}


async def test_user_profiles_has_the_seed_columns_as_timestamptz_and_bigint(
    profiles_database_url: str,
) -> None:
    columns = await column_types(profiles_database_url, "user_profiles")
    stamp = ("timestamp with time zone", "NO")
    assert columns["id"] == ("uuid", "NO")
    assert columns["user_id"] == ("text", "NO")
    assert columns["github_id"] == ("bigint", "YES")
    assert columns["username"] == ("text", "YES")
    assert columns["last_active_at"] == columns["created_at"] == columns["updated_at"] == stamp


async def test_the_migrations_match_the_models_and_reverse_cleanly(
    profiles_database_url: str,
) -> None:
    await check_migrations_round_trip(ALEMBIC_INI, profiles_database_url)
