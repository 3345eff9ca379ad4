"""With 10,000+ rows, the dashboard query is a range scan of the (user_id, is_active) index."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from repositories_support import ALEMBIC_INI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from codeflow_messaging import create_engine
from codeflow_repositories.models import DASHBOARD_INDEX
from codeflow_repositories.repositories.cursor import Position
from codeflow_repositories.repositories.repository import dashboard_statement
from codeflow_testing.databases import migrated_database

pytestmark = pytest.mark.integration

USERS = 250
ROWS = 12_500
HEAVY_USER, HEAVY_ROWS = "user9999", 2_500

# One statement: 250 users with 40 rows each, and one user monitoring 2,500 repositories.
SEED = text(
    """
    INSERT INTO repositories (github_id, name, full_name, owner, is_active, user_id)
    SELECT g, 'repo-' || g, 'owner-' || (g % 37) || '/repo-' || g, 'owner-' || (g % 37),
           g % 5 <> 0,
           CASE WHEN g <= :heavy_rows THEN :heavy_user
                ELSE 'user' || lpad((g % :users)::text, 4, '0') END
    FROM generate_series(1, :rows) AS g
    """
)


@pytest.fixture(scope="module")
async def seeded_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    async with migrated_database(postgres_url, ALEMBIC_INI, prefix="repositories_plan") as url:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(
                SEED,
                {"users": USERS, "rows": ROWS, "heavy_user": HEAVY_USER, "heavy_rows": HEAVY_ROWS},
            )
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE repositories"))
            await connection.commit()
        yield engine
        await engine.dispose()


async def explain(engine: AsyncEngine, statement: ClauseElement) -> str:
    """EXPLAIN ANALYZE of the statement exactly as the repository layer sends it (bound)."""
    async with engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        assert isinstance(compiled, SQLCompiler)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        result = await connection.exec_driver_sql("EXPLAIN ANALYZE " + compiled.string, params)
        return "\n".join(row[0] for row in result)


async def test_the_dashboard_query_uses_the_user_id_is_active_index(
    seeded_engine: AsyncEngine,
) -> None:
    async with seeded_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM repositories")) >= 10_000
    # A typical user's whole list fits in one page: the planner may fetch it through the
    # index as a bitmap and sort those few dozen rows, but it always goes through the index.
    plan = await explain(seeded_engine, page_of("user0017"))
    print(plan)
    assert DASHBOARD_INDEX in plan
    assert "Index Cond: ((user_id = 'user0017'::text) AND (is_active = true))" in plan
    assert "Seq Scan" not in plan


async def test_a_long_list_is_paged_in_index_order_without_sorting(
    seeded_engine: AsyncEngine,
) -> None:
    after = Position("owner-17/repo-1017", uuid.UUID(int=0))
    for statement in (page_of(HEAVY_USER), page_of(HEAVY_USER, after=after)):
        plan = await explain(seeded_engine, statement)
        print(plan)
        assert f"Index Scan using {DASHBOARD_INDEX} on repositories" in plan
        assert "Sort" not in plan


async def test_the_settings_page_query_also_stays_on_an_index(seeded_engine: AsyncEngine) -> None:
    plan = await explain(seeded_engine, page_of("user0017", include_inactive=True))
    print(plan)
    assert "Seq Scan" not in plan


def page_of(
    user_id: str, *, include_inactive: bool = False, after: Position | None = None
) -> ClauseElement:
    return dashboard_statement(user_id, include_inactive=include_inactive, after=after, limit=51)
