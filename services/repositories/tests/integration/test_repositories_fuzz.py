"""schemathesis fuzzes the OpenAPI document against the running service: never a 5xx.

The service runs on the test's event loop; the fuzzing is synchronous (requests), so it runs
in a worker thread while the loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repositories_api_support import OPERATIONS
from repositories_support import repository
from schemathesis.generation import GenerationMode

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
]

MAX_EXAMPLES = 25


def aim(case: Any, data: st.DataObject, known_ids: list[str]) -> None:
    """Steer positive cases to where the data is: real ids, and names that agree.

    A schema can't say "a repository on GitHub" or "an id of yours", so without this almost
    every positive case would stop at a 422 or a 404 before reaching the database.
    """
    if "repository_id" in (case.path_parameters or {}) and data.draw(st.booleans()):
        case.path_parameters["repository_id"] = data.draw(st.sampled_from(known_ids))
    body = case.body if isinstance(case.body, dict) else {}
    items = body.get("items") if isinstance(body.get("items"), list) else [body]
    for item in items:
        if not isinstance(item, dict):
            continue
        if "github_id" in item and data.draw(st.booleans()):
            item["github_id"] = repository()["github_id"]
        if "id" in item and data.draw(st.booleans()):
            item["id"] = data.draw(st.sampled_from(known_ids))


Answers = Counter[tuple[str, str, int]]
"""How often each (method, path template, status) was answered."""


def fuzz(schema: Any, base_url: str, headers: dict[str, str], known_ids: list[str]) -> Answers:
    """Run every operation's positive and negative cases; count the answers."""
    answers: Answers = Counter()
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(result.ok(), mode, base_url, headers, known_ids, answers)
    return answers


def fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    known_ids: list[str],
    answers: Answers,
) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        if mode is GenerationMode.POSITIVE:
            aim(case, data, known_ids)
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        answers[(case.method, case.path, response.status_code)] += 1

    run()


async def openapi_of(base_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        document: dict[str, Any] = (await client.get("/repositories/openapi.json")).json()
    return document


async def test_fuzzing_every_operation_with_a_valid_token_finds_no_server_error(
    repositories_service, user, client
) -> None:
    schema = schemathesis.openapi.from_dict(await openapi_of(repositories_service.url))
    headers = dict(repositories_service.tokens.headers_for(user))
    # Real ids of the caller's own rows, so PATCH and DELETE reach the database too.
    known_ids = [
        (await client.post("/repositories", json=repository(owner="o"))).json()["id"]
        for _ in (1, 2, 3)
    ]
    answers = await asyncio.to_thread(fuzz, schema, repositories_service.url, headers, known_ids)
    assert [answer for answer in answers if answer[2] >= 500] == []
    # Not only refusals: every operation got through to the database at least once.
    succeeded = {(method, path) for method, path, status in answers if status < 300}
    assert succeeded == {(method, path) for method, path, _ in answers}


async def test_every_operation_in_the_document_answers_401_without_a_token(
    repositories_service,
) -> None:
    document = await openapi_of(repositories_service.url)
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == OPERATIONS

    def one_case_each() -> list[tuple[str, int]]:
        answers = []
        for operation in operations:

            @settings(max_examples=3, deadline=None, database=None, derandomize=True)
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                response = case.call(base_url=repositories_service.url, timeout=30)
                answers.append((f"{case.method} {case.path}", response.status_code))

            run()
        return answers

    answers = await asyncio.to_thread(one_case_each)
    assert answers
    assert {status for _, status in answers} == {401}, answers
