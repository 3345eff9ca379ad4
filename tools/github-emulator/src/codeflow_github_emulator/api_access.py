"""Who is calling the REST API, and the headers and errors GitHub answers with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.fixtures import UserFixture
from codeflow_github_emulator.grants import grant_for_token
from codeflow_github_emulator.incoming import basic_credentials, emulator_state
from codeflow_github_emulator.state import AccessGrant, EmulatorState, RateWindow

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
REST_DOCS = "https://docs.github.com/rest"
SUPPORTED_API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
_ANONYMOUS_LIMIT = 60


class ApiError(Exception):
    """A REST error: GitHub's ``{"message", "documentation_url", "status"}`` body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        documentation_url: str = REST_DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.documentation_url = documentation_url
        self.headers = headers or {}


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
    """The caller behind the request's token, counted against their hourly rate limit."""
    state = emulator_state(request)
    _check_api_version(request)
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "Requires authentication", documentation_url, _anonymous_rate())
    grant = grant_for_token(state, token)
    if grant is None:
        raise ApiError(401, "Bad credentials", REST_DOCS, _anonymous_rate())
    user = state.users[grant.user_id]
    rate = _spend_one_request(state, user.id)
    if rate.used > state.settings.rate_limit:
        raise ApiError(
            403,
            f"API rate limit exceeded for user ID {user.id}.",
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            _rate_headers(state, rate),
        )
    return Caller(grant=grant, user=user, rate=rate)


def answer(
    request: Request,
    caller: Caller | None,
    body: Any,
    *,
    accepted_scopes: str = "",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A JSON answer with the headers GitHub sends; ``caller`` is ``None`` when anonymous."""
    if caller is None:
        headers = _anonymous_rate()
    else:
        headers = _rate_headers(emulator_state(request), caller.rate) | {
            "X-OAuth-Scopes": ", ".join(caller.grant.scopes),
            "X-Accepted-OAuth-Scopes": accepted_scopes,
        }
    headers |= extra_headers or {}
    return JSONResponse(
        body, headers=_common_headers(request) | headers, media_type=JSON_MEDIA_TYPE
    )


def error_answer(request: Request, error: ApiError) -> Response:
    body = {
        "message": error.message,
        "documentation_url": error.documentation_url,
        "status": str(error.status_code),
    }
    return JSONResponse(
        body,
        status_code=error.status_code,
        headers=_common_headers(request) | error.headers,
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


def _spend_one_request(state: EmulatorState, user_id: int) -> RateWindow:
    now = state.now()
    window = state.rate_windows.get(user_id)
    if window is None or now >= window.resets_at:
        window = RateWindow(resets_at=now + timedelta(hours=1))
        state.rate_windows[user_id] = window
    window.used += 1
    return window


def _rate_headers(state: EmulatorState, rate: RateWindow) -> dict[str, str]:
    limit = state.settings.rate_limit
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - rate.used)),
        "X-RateLimit-Reset": str(int(rate.resets_at.timestamp())),
        "X-RateLimit-Used": str(min(rate.used, limit)),
        "X-RateLimit-Resource": "core",
    }


def _anonymous_rate() -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(_ANONYMOUS_LIMIT),
        "X-RateLimit-Remaining": str(_ANONYMOUS_LIMIT - 1),
        "X-RateLimit-Used": "1",
        "X-RateLimit-Resource": "core",
    }


def _common_headers(request: Request) -> dict[str, str]:
    version = request.headers.get("x-github-api-version")
    return {
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-GitHub-Api-Version-Selected": version
        if version in SUPPORTED_API_VERSIONS
        else "2022-11-28",
        "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
        "Cache-Control": "private, max-age=60, s-maxage=60",
        "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
    }
