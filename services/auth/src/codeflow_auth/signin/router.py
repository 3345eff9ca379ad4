"""``/auth/signin/github`` and ``/auth/callback/github``: the GitHub OAuth web flow."""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from codeflow_auth.dependencies import DbSession, State
from codeflow_auth.errors import GitHubRefused, InvalidSignInState, SignInFailed
from codeflow_auth.problems import PROBLEMS
from codeflow_auth.signin.redirects import safe_callback_url
from codeflow_auth.signin.service import sign_in
from codeflow_auth.signin.state import SignInState

logger = logging.getLogger("codeflow.auth.signin")

router = APIRouter(prefix="/auth", tags=["sign-in"])


@router.get("/signin/github", status_code=302, response_class=RedirectResponse)
async def start_github_sign_in(
    state: State,
    callback_url: Annotated[str | None, Query(alias="callbackUrl", max_length=2048)] = None,
) -> RedirectResponse:
    """Send the browser to GitHub, remembering ``state`` and the PKCE verifier in a cookie."""
    sign_in_state = SignInState.new(safe_callback_url(callback_url, state.settings))
    response = RedirectResponse(state.github.authorization_url(sign_in_state), status_code=302)
    response.set_cookie(
        state.state_cookie.name,
        state.state_cookie.seal(sign_in_state),
        max_age=state.state_cookie.max_age,
        path="/",
        secure=state.state_cookie.secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/callback/github", status_code=302, response_class=RedirectResponse)
async def finish_github_sign_in(
    request: Request,
    state: State,
    db: DbSession,
    code: Annotated[str | None, Query(max_length=512)] = None,
    returned_state: Annotated[str | None, Query(alias="state", max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    """Check the state, trade the code for tokens, sign the user in, set the session cookie."""
    cookie = state.state_cookie
    try:
        sign_in_state = cookie.open(request.cookies.get(cookie.name), returned_state)
        if error:
            logger.info("GitHub's callback carried %s (%s)", error, error_description)
            raise GitHubRefused(f"GitHub answered {_error_code(error)}")
        if not code:
            raise InvalidSignInState("GitHub's callback carried no code")
        tokens = await state.github.exchange_code(code, sign_in_state)
        profile = await state.github.fetch_profile(tokens)
    except SignInFailed as failure:
        # Whatever went wrong, this sign-in attempt is over: its state can't be used again.
        return PROBLEMS[type(failure)].response(
            failure, headers={"set-cookie": _expired(cookie.name, secure=cookie.secure)}
        )
    signed_in = await sign_in(
        db,
        profile,
        tokens,
        cipher=state.cipher,
        session_max_age=state.settings.session_idle_timeout,
        activity_interval=state.settings.activity_interval,
    )
    response = RedirectResponse(sign_in_state.callback_url, status_code=302)
    response.delete_cookie(
        cookie.name, path="/", secure=cookie.secure, httponly=True, samesite="lax"
    )
    state.session_cookie.write(response, signed_in.session_token, signed_in.expires)
    return response


def _error_code(error: str) -> str:
    """GitHub's error codes (``access_denied``, ...) are shown; anything else in their place
    is not echoed."""
    return error if re.fullmatch(r"[a-z_]{1,64}", error) else "an error"


def _expired(name: str, *, secure: bool) -> str:
    return f"{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=lax" + ("; Secure" if secure else "")
