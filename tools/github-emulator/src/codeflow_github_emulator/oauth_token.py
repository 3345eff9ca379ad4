"""``POST /login/oauth/access_token``: codes and refresh tokens in, tokens out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from codeflow_github_emulator import grants
from codeflow_github_emulator.incoming import basic_credentials, emulator_state, request_parameters
from codeflow_github_emulator.token_answers import error_fields, render, token_fields


async def access_token(request: Request) -> Response:
    """Exchange a code (or a refresh token) for tokens; every refusal is an HTTP 200."""
    state = emulator_state(request)
    params = await request_parameters(request)
    accept = request.headers.get("accept", "")
    client_id = params.get("client_id", "")
    client_secret = params.get("client_secret", "")
    credentials = basic_credentials(request)
    if credentials is not None and not client_secret:
        client_id = client_id or credentials[0]
        client_secret = credentials[1]
    try:
        grants.authenticate_client(state, client_id, client_secret)
        if params.get("grant_type") == "refresh_token":
            issued = grants.refresh(
                state, client_id=client_id, refresh_token=params.get("refresh_token", "")
            )
        else:
            issued = grants.exchange_code(
                state,
                client_id=client_id,
                code=params.get("code", ""),
                redirect_uri=params.get("redirect_uri") or None,
                code_verifier=params.get("code_verifier") or None,
            )
    except grants.TokenRequestError as error:
        return render(error_fields(error), accept)
    return render(token_fields(issued, state.now()), accept)
