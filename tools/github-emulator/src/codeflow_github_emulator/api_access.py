"""Who is calling the REST API, and the headers and errors GitHub answers with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.api_errors import REST_DOCS as REST_DOCS
from codeflow_github_emulator.api_errors import ApiError as ApiError
from codeflow_github_emulator.conditional import entity_tag, tag_matches
from codeflow_github_emulator.fixtures import UserFixture
from codeflow_github_emulator.grants import grant_for_token
from codeflow_github_emulator.incoming import basic_credentials, emulator_state
from codeflow_github_emulator.rate_limits import (
    admit,
    anonymous_rate_headers,
    give_back,
    rate_headers,
)
from codeflow_github_emulator.state import AccessGrant, RateWindow

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
SUPPORTED_API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})


@dataclass(frozen=True)
class Caller:
    """An authenticated request: the token's grant, its user and their rate window."""

    grant: AccessGrant
    user: UserFixture
    rate: RateWindow


def base_url(request: Request) -> str:
    """Where the emulator is reached: ``public_url`` if set, else the request's own base."""
    configured = emulator_state(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer …``, ``token …`` or Basic (token as either part)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in {"bearer", "token"} and value.strip():
        return value.strip()
    credentials = basic_credentials(request)
    if credentials is None:
        return None
    user, password = credentials
    # GitHub takes the token as Basic's password, or as its user with this placeholder.
    return password if password and password != "x-oauth-basic" else user  # noqa: S105


def authenticate(request: Request, documentation_url: str) -> Caller:
    """The caller behind the request's token, counted against their rate limits.

    Errors answered after this carry the caller's rate headers, as GitHub's do.
    """
    state = emulator_state(request)
    _check_api_version(request)
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "Requires authentication", documentation_url, anonymous_rate_headers())
    grant = grant_for_token(state, token)
    if grant is None:
        raise ApiError(401, "Bad credentials", REST_DOCS, anonymous_rate_headers())
    user = state.users[grant.user_id]
    rate = admit(state, user.id, request_id(request))
    request.state.rate_window = rate
    return Caller(grant=grant, user=user, rate=rate)


def request_id(request: Request) -> str:
    """The ``X-GitHub-Request-Id`` of this request, the same in its headers and messages."""
    if not hasattr(request.state, "request_id"):
        request.state.request_id = secrets.token_hex(8).upper()
    known = request.state.request_id
    assert isinstance(known, str)
    return known


def answer(
    request: Request,
    caller: Caller | None,
    body: Any,
    *,
    accepted_scopes: str = "",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A JSON answer with the headers GitHub sends; ``caller`` is ``None`` when anonymous.

    It carries a weak ``ETag``; a request whose ``If-None-Match`` names it is answered
    ``304 Not Modified`` with no body, and its request is given back to the rate limit.
    """
    response = JSONResponse(body, media_type=JSON_MEDIA_TYPE)
    tag = entity_tag(bytes(response.body), bearer_token(request))
    not_modified = tag_matches(request.headers.get("if-none-match"), tag)
    if caller is None:
        headers = anonymous_rate_headers()
    else:
        if not_modified:
            give_back(caller.rate)
        headers = rate_headers(emulator_state(request), caller.rate) | {
            "X-OAuth-Scopes": ", ".join(caller.grant.scopes),
            "X-Accepted-OAuth-Scopes": accepted_scopes,
        }
    headers = _common_headers(request) | headers | (extra_headers or {}) | {"ETag": tag}
    if not_modified:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def error_answer(request: Request, error: ApiError) -> Response:
    """GitHub's error body, with the caller's rate headers once their request was counted."""
    body = {
        "message": error.message,
        "documentation_url": error.documentation_url,
        "status": str(error.status_code),
    }
    counted = getattr(request.state, "rate_window", None)
    rate = rate_headers(emulator_state(request), counted) if counted else {}
    return JSONResponse(
        body,
        status_code=error.status_code,
        headers=_common_headers(request) | rate | error.headers,
        media_type=JSON_MEDIA_TYPE,
    )


def _check_api_version(request: Request) -> None:
    version = request.headers.get("x-github-api-version")
    if version is not None and version not in SUPPORTED_API_VERSIONS:
        raise ApiError(
            400,
            f"API version {version} is not supported.",
            "https://docs.github.com/rest/about-the-rest-api/api-versions",
        )


def _common_headers(request: Request) -> dict[str, str]:
    version = request.headers.get("x-github-api-version")
    return {
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-GitHub-Api-Version-Selected": version
        if version in SUPPORTED_API_VERSIONS
        else "2022-11-28",
        "X-GitHub-Request-Id": request_id(request),
        "Cache-Control": "private, max-age=60, s-maxage=60",
        "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
    }
