"""The migration creates the schema of ADR 0005, agrees with the models, and reverses cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from repositories_support import ALEMBIC_INI

from codeflow_testing.databases import (
    check_migrations_round_trip,
    migrated_database,
    query_rows,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def fresh_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with migrated_database(postgres_url, ALEMBIC_INI, prefix="repositories_schema") as url:
        yield url


async def test_the_repositories_table_has_the_seed_columns_with_adr_0005_types(
    fresh_database_url: str,
) -> None:
    columns = await query_rows(
        fresh_database_url,
        "SELECT column_name, data_type, is_nullable, column_default FROM "
        "information_schema.columns WHERE table_name = 'repositories' ORDER BY ordinal_position",
    )
    assert [(name, kind, nullable) for name, kind, nullable, _ in columns] == [
        ("id", "uuid", "NO"),
        ("github_id", "bigint", "NO"),
        ("name", "text", "NO"),
        ("full_name", "text", "NO"),
        ("owner", "text", "NO"),
        ("is_active", "boolean", "NO"),
        ("user_id", "text", "NO"),
        ("created_at", "timestamp with time zone", "NO"),
        ("updated_at", "timestamp with time zone", "NO"),
        # What GitHub said when last asked (ADR 0023).
        ("description", "text", "YES"),
        ("visibility", "text", "YES"),
        ("default_branch", "text", "YES"),
        ("pushed_at", "timestamp with time zone", "YES"),
        ("stargazers_count", "integer", "YES"),
        ("html_url", "text", "YES"),
        ("github_state", "text", "NO"),
        ("github_etag", "text", "YES"),
        ("refreshed_at", "timestamp with time zone", "YES"),
    ]
    defaults = {c[0]: c[3] for c in columns}
    assert (defaults["is_active"], defaults["github_state"]) == ("true", "'available'::text")


async def test_uniqueness_is_per_user_and_the_dashboard_and_name_lookups_are_indexed(
    fresh_database_url: str,
) -> None:
    indexes = dict(
        await query_rows(
            fresh_database_url,
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'repositories'",
        )
    )
    assert set(indexes) == {
        "pk_repositories",
        "uq_repositories_user_id_github_id",
        "ix_repositories_user_id_is_active_full_name_id",
        "ix_repositories_full_name",
        "ix_repositories_refreshed_at",
    }
    assert "UNIQUE" in str(indexes["uq_repositories_user_id_github_id"])
    assert str(indexes["uq_repositories_user_id_github_id"]).endswith("(user_id, github_id)")
    assert str(indexes["ix_repositories_user_id_is_active_full_name_id"]).endswith(
        "(user_id, is_active, full_name, id)"
    )
    assert str(indexes["ix_repositories_full_name"]).endswith("(full_name)")


async def test_the_migration_matches_the_models_and_downgrades_and_upgrades_again(
    fresh_database_url: str,
) -> None:
    await check_migrations_round_trip(ALEMBIC_INI, fresh_database_url)
