"""The dashboard's page, written straight from its rows: the same JSON, the same document."""

from __future__ import annotations

import uuid
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.main import create_app
from codeflow_repositories.repositories.repository import DASHBOARD_COLUMNS
from codeflow_repositories.repositories.schemas import (
    DashboardRepository,
    RepositoryPage,
    dashboard_page_json,
)

Row = namedtuple("Row", [column.key for column in DASHBOARD_COLUMNS])  # type: ignore[misc]


def rows(count: int) -> list[dict[str, Any]]:
    """Rows as the dashboard query returns them (mappings, columns in the query's order), with
    every kind of value and of null."""
    now = datetime(2026, 12, 7, 2, 30, 15, 123456, tzinfo=UTC)
    return [
        Row(
            id=uuid.UUID(int=n),
            github_id=2**62 + n,
            full_name=f"owner/repo-{n}",
            owner="owner",
            name=f"repo-{n}",
            is_active=n % 3 != 0,
            description=None if n % 2 else f'"Quoted", ünïcode and a \\ in {n}',
            visibility=None if n == 1 else "private",
            default_branch="main",
            pushed_at=None if n == 2 else now - timedelta(days=n),
            stargazers_count=None if n == 3 else n * 7,
            html_url=f"https://github.com/owner/repo-{n}",
            github_state="unavailable" if n == 4 else "available",
            refreshed_at=None if n == 5 else now,
        )._asdict()
        for n in range(count)
    ]


def as_the_response_model_writes_it(items: list[Any], next_cursor: str | None) -> bytes:
    """What FastAPI answered when the route returned the validated page."""
    page = RepositoryPage.model_validate(
        {"items": items, "next_cursor": next_cursor}, from_attributes=True
    )
    return TypeAdapter(RepositoryPage).dump_json(page)


def test_a_page_is_written_byte_for_byte_as_its_response_model_writes_it() -> None:
    for items, next_cursor in [(rows(20), "b3duZXIvcmVwby0xOQ"), (rows(7), None), ([], None)]:
        assert dashboard_page_json(items, next_cursor) == as_the_response_model_writes_it(
            items, next_cursor
        )


def test_the_query_selects_the_columns_in_the_order_the_page_shows_them() -> None:
    assert [column.key for column in DASHBOARD_COLUMNS] == list(DashboardRepository.model_fields)


def test_the_openapi_document_still_describes_the_dashboard_as_a_repository_page() -> None:
    app = create_app(
        RepositoriesSettings(database_url="postgresql://h/db", environment="development")
    )
    document = app.openapi()
    answer = document["paths"]["/repositories"]["get"]["responses"]["200"]
    assert answer["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/RepositoryPage"}}
    }
    schemas = document["components"]["schemas"]
    assert schemas["RepositoryPage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/DashboardRepository"
    }
    assert list(schemas["DashboardRepository"]["properties"]) == list(
        DashboardRepository.model_fields
    )
