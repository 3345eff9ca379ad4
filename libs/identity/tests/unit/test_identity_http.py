from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from codeflow_identity import (
    Identity,
    JwksUnavailable,
    RequireIdentity,
    StaticKeyVerifier,
    TokenIssuer,
)
from codeflow_identity.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemError,
    install_domain_problems,
    install_problem_handlers,
    problem_type,
)
from codeflow_identity.testing import FakeClock


class RepositoryNotFound(Exception):
    pass


class ArchivedRepository(RepositoryNotFound):
    def __init__(self, repository_id: int) -> None:
        super().__init__(f"repository {repository_id} is archived")
        self.repository_id = repository_id


class Throttled(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} seconds")
        self.retry_after = retry_after


class NewRepository(BaseModel):
    full_name: str
    github_id: int


class KeysDown:
    async def verify(self, token: str) -> Identity:
        raise JwksUnavailable("auth unreachable")


def create_app(issuer: TokenIssuer, clock: FakeClock) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_domain_problems(
        app,
        {
            RepositoryNotFound: Problem(404, "repository-not-found", "Repository not found"),
            ArchivedRepository: Problem(
                410,
                "repository-archived",
                "Repository archived",
                headers={"Cache-Control": "no-store"},
                extensions=lambda error: {"repositoryId": error.repository_id},
            ),
            Throttled: Problem(429, "throttled", "Too many requests"),
            RateLimited: Problem(
                503,
                "rate-limited",
                "Rate limited",
                headers={"Cache-Control": "no-store"},
                error_headers=lambda error: {"Retry-After": str(error.retry_after)},
            ),
        },
    )
    app.state.verifier = StaticKeyVerifier(
        issuer.keyset.jwks(), issuer=issuer.issuer, audience=issuer.audience, clock=clock
    )
    current_user = RequireIdentity(lambda request: request.app.state.verifier)
    CurrentUser = Annotated[Identity, Depends(current_user)]
    keys_down = Annotated[Identity, Depends(RequireIdentity(KeysDown()))]

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str | None]:
        return {"user_id": user.user_id, "login": user.login}

    @app.post("/repositories")
    async def add(user: CurrentUser, repository: NewRepository) -> dict[str, str]:
        return {"full_name": repository.full_name}

    @app.get("/repositories/{repository_id}")
    async def missing(repository_id: int, user: CurrentUser) -> None:
        raise RepositoryNotFound(f"no repository {repository_id}")

    @app.get("/archived/{repository_id}")
    async def archived(repository_id: int) -> None:
        raise ArchivedRepository(repository_id)

    @app.get("/throttled")
    async def throttled() -> None:
        raise Throttled

    @app.get("/rate-limited/{seconds}")
    async def rate_limited(seconds: int) -> None:
        raise RateLimited(seconds)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/unavailable")
    async def unavailable(user: keys_down) -> None:
        raise AssertionError("unreachable")

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client(issuer: TokenIssuer, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(issuer, clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_request_without_a_token_gets_a_401_problem_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:codeflow:problem:not-authenticated"
    assert response.json()["status"] == 401


async def test_a_non_bearer_authorization_header_counts_as_no_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_gets_a_401_naming_the_reason(
    client: httpx.AsyncClient, issuer: TokenIssuer, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    clock.advance(issuer.ttl * 2)

    response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="expired"'
    )
    assert response.json() == {
        "type": "urn:codeflow:problem:invalid-token",
        "status": 401,
        "title": "Invalid token",
        "detail": "expired",
    }


async def test_a_garbage_token_gets_a_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer("not.a.token"))

    assert response.status_code == 401
    assert response.json()["detail"] == "malformed token"


async def test_a_valid_token_reaches_the_handler_as_an_identity(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    token = issuer.issue("user-1", extra_claims={"login": "octocat"})

    response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {"user_id": "user-1", "login": "octocat"}


async def test_unavailable_keys_give_a_503_problem_not_a_401(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    response = await client.get("/unavailable", headers=bearer(issuer.issue("user-1")))

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["type"] == "urn:codeflow:problem:identity-unavailable"
    assert "www-authenticate" not in response.headers


async def test_an_invalid_body_gets_a_422_problem_naming_each_field(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    response = await client.post(
        "/repositories",
        headers=bearer(issuer.issue("user-1")),
        json={"github_id": "not-a-number"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert problem["type"] == "urn:codeflow:problem:validation-failed"
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"body.full_name", "body.github_id"}
    assert all(error["message"] for error in problem["errors"])
    assert "not-a-number" not in response.text


async def test_a_domain_error_maps_to_its_problem_type(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    response = await client.get("/repositories/7", headers=bearer(issuer.issue("user-1")))

    assert response.status_code == 404
    assert response.json() == {
        "type": "urn:codeflow:problem:repository-not-found",
        "status": 404,
        "title": "Repository not found",
        "detail": "no repository 7",
    }


async def test_a_domain_error_maps_as_itself_before_its_base_with_headers_and_extensions(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/archived/7")

    assert response.status_code == 410
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {
        "repositoryId": 7,
        "type": "urn:codeflow:problem:repository-archived",
        "status": 410,
        "title": "Repository archived",
        "detail": "repository 7 is archived",
    }


async def test_a_domain_error_without_a_message_has_no_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/throttled")

    assert response.json() == {
        "type": "urn:codeflow:problem:throttled",
        "status": 429,
        "title": "Too many requests",
    }


async def test_a_problem_takes_headers_from_its_error_as_well_as_its_own(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/rate-limited/42")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "42"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["detail"] == "try again in 42 seconds"


def test_a_problem_rendered_directly_takes_its_errors_headers_too() -> None:
    problem = Problem(
        503, "rate-limited", "Rate limited", error_headers=lambda e: {"Retry-After": "7"}
    )

    assert problem.response(RateLimited(7)).headers["retry-after"] == "7"
    assert "retry-after" not in problem.response().headers


async def test_an_unknown_path_is_an_about_blank_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {"type": "about:blank", "status": 404, "title": "Not Found"}


async def test_an_http_exception_keeps_its_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/teapot")

    assert response.status_code == 418
    assert response.json()["detail"] == "short and stout"


async def test_a_crash_is_a_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/broken")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "secret internals" not in response.text


def test_a_problem_error_is_an_http_exception_for_apps_without_the_handlers() -> None:
    error = ProblemError(409, problem_type("conflict"), "Conflict", "already monitored")

    assert isinstance(error, StarletteHTTPException)
    assert (error.status_code, error.detail) == (409, "already monitored")


async def test_the_bearer_scheme_appears_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]

    assert schemes == {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
