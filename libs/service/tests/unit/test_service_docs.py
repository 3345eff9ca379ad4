"""The interactive API docs: development only, and every file they load comes from the
service itself (no script from another origin)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from codeflow_service.app import create_service_app
from codeflow_service.settings import ServiceSettings


def app_in(environment: str) -> TestClient:
    settings = ServiceSettings(environment=environment, database_url="postgresql://unused/x")
    # No `with`: the lifespan (database, Kafka) doesn't run; the routes are all there.
    return TestClient(create_service_app(name="example", settings=settings, routers=[]))


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_there_are_no_interactive_docs(environment: str) -> None:
    client = app_in(environment)
    assert client.get("/example/docs").status_code == 404
    assert client.get("/example/docs/static/swagger-ui-bundle.js").status_code == 404
    assert client.get("/example/openapi.json").status_code == 200


def test_in_development_the_docs_load_only_files_the_service_serves() -> None:
    client = app_in("development")
    page = client.get("/example/docs")
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded, page.text
    for url in loaded:
        assert url.startswith("/example/"), url
        assert client.get(url).status_code == 200, url
    assert "/example/openapi.json" in page.text
