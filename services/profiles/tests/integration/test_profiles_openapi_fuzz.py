"""Schemathesis fuzzes the running service's OpenAPI document: no input makes it fail, and no
operation answers without a valid JWT."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from profiles_support import at, new_user_id
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth

from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles.domain import GitHubIdentity
from codeflow_profiles.profiles.service import record_identity
from codeflow_testing.tokens import TestTokens

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 25


def fuzz(base_url: str, headers: dict[str, str]) -> int:
    """Send generated requests (valid and invalid) to every operation; how many were sent."""
    schema = schemathesis.openapi.from_url(f"{base_url}/profiles/openapi.json")
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def send(case: Case) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(
                    base_url=base_url, headers=headers, checks=[not_a_server_error, ignored_auth]
                )

            send()
    return sent


def statuses_without_a_token(base_url: str) -> dict[str, set[int]]:
    """Each operation called with valid generated input and no token: its statuses."""
    schema = schemathesis.openapi.from_url(f"{base_url}/profiles/openapi.json")
    statuses: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, database=None, phases=[Phase.generate])
        def send(case: Case) -> None:
            response = case.call(base_url=base_url)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        send()
    return statuses


async def test_fuzzing_the_openapi_document_with_a_valid_jwt_finds_no_server_error(
    profiles_url: str, profiles_sessions: SessionFactory, tokens: TestTokens
) -> None:
    caller = new_user_id()
    async with transaction(profiles_sessions) as session:
        await record_identity(session, GitHubIdentity(caller, 31, "fuzzer", at(0)))
    headers = dict(tokens.headers_for(caller))
    # Schemathesis is synchronous; the service keeps serving on this event loop meanwhile.
    sent = await asyncio.to_thread(fuzz, profiles_url, headers)
    assert sent >= 20


async def test_every_operation_answers_401_without_a_token(profiles_url: str) -> None:
    statuses = await asyncio.to_thread(statuses_without_a_token, profiles_url)
    assert statuses == {"GET /profiles/me": {401}, "GET /profiles/{username}": {401}}
