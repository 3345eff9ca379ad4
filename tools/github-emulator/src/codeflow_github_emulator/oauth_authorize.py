"""``/login/oauth/authorize``: who signs in, and where the browser goes next."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from codeflow_github_emulator import pages
from codeflow_github_emulator.fixtures import UserFixture
from codeflow_github_emulator.grants import issue_code, parse_scopes
from codeflow_github_emulator.incoming import emulator_state, request_parameters
from codeflow_github_emulator.redirects import default_callback, redirect_uri_allowed
from codeflow_github_emulator.state import EmulatorState

_AUTH_ERRORS_DOC = (
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
)
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class _AuthorizationRefused(Exception):
    def __init__(self, error: str, description: str, anchor: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.uri = f"{_AUTH_ERRORS_DOC}#{anchor}" if anchor else None


async def authorize(request: Request) -> Response:
    """GET shows the account picker (or signs in at once); POST is the picker's choice."""
    state = emulator_state(request)
    params = await request_parameters(request)
    app = state.apps.get(params.get("client_id", ""))
    if app is None:
        return pages.not_found()
    redirect_uri = params.get("redirect_uri") or None
    if redirect_uri is not None and not redirect_uri_allowed(app, redirect_uri):
        # GitHub sends the error to the app's registered callback, not to the bad URI.
        refusal = _AuthorizationRefused(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
            "redirect-uri-mismatch",
        )
        return _refuse(default_callback(app), refusal, params.get("state"))
    target = redirect_uri or default_callback(app)
    try:
        challenge, method = _pkce(state, params)
        if params.get("error") == "access_denied":
            raise _AuthorizationRefused(
                "access_denied", "The user has denied your application access.", "access-denied"
            )
    except _AuthorizationRefused as refusal:
        return _refuse(target, refusal, params.get("state"))
    user = _signed_in_user(state, params)
    if user is None:
        return pages.sign_in(app, params, state.users.values())
    code = issue_code(
        state,
        client_id=app.client_id,
        user=user,
        redirect_uri=redirect_uri,
        scopes=parse_scopes(params.get("scope")),
        code_challenge=challenge,
        code_challenge_method=method,
    )
    return _redirect(target, {"code": code, "state": params.get("state")})


def _signed_in_user(state: EmulatorState, params: dict[str, str]) -> UserFixture | None:
    """The user named by ``login``, else the auto-login user unless an account pick is asked."""
    if login := params.get("login"):
        return state.user_by_login(login)
    auto_login = state.settings.auto_login
    if auto_login and params.get("prompt") != "select_account":
        return state.user_by_login(auto_login)
    return None


def _pkce(state: EmulatorState, params: dict[str, str]) -> tuple[str | None, str | None]:
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None and method is None:
        return None, None
    if challenge is None or method is None:
        raise _AuthorizationRefused(
            "invalid_request", "code_challenge and code_challenge_method must be sent together."
        )
    if method == "plain" and state.settings.allow_plain_pkce:
        return challenge, method
    if method != "S256":
        raise _AuthorizationRefused(
            "invalid_request", "The code_challenge_method must be S256; plain is not supported."
        )
    if not _S256_CHALLENGE.match(challenge):
        raise _AuthorizationRefused(
            "invalid_request", "The code_challenge must be a 43 character base64url SHA-256 hash."
        )
    return challenge, method


def _refuse(target: str, refusal: _AuthorizationRefused, state: str | None) -> Response:
    return _redirect(
        target,
        {
            "error": refusal.error,
            "error_description": refusal.description,
            "error_uri": refusal.uri,
            "state": state,
        },
    )


def _redirect(target: str, extra: dict[str, str | None]) -> Response:
    parts = urlsplit(target)
    added = urlencode({k: v for k, v in extra.items() if v is not None})
    query = f"{parts.query}&{added}" if parts.query else added
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)
