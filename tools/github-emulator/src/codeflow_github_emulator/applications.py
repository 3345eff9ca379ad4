"""``/applications/{client_id}/…``: what an OAuth app may do with the grants users gave it.

GitHub authenticates these calls with the app's own credentials (HTTP Basic, client id and
secret), never with a user's token. ``DELETE /applications/{client_id}/grant`` revokes the
user's authorization of the app: every token the app holds for that user stops working.
"""

from __future__ import annotations

import json
import secrets

from starlette.requests import Request
from starlette.responses import Response

from codeflow_github_emulator.api_access import ApiError
from codeflow_github_emulator.grants import grant_for_token
from codeflow_github_emulator.incoming import basic_credentials, emulator_state

_OAUTH_APPS_DOCS = "https://docs.github.com/rest/apps/oauth-applications"
_DELETE_GRANT_DOC = f"{_OAUTH_APPS_DOCS}#delete-an-app-authorization"


async def delete_grant(request: Request) -> Response:
    """Revoke the grant behind ``access_token``: 204, or 404 if the app holds no such token.

    401 without the app's Basic credentials (or with another app's); 422 without a token.
    """
    state = emulator_state(request)
    client_id = request.path_params["client_id"]
    _authenticate_app(request, client_id)
    token = await _access_token(request)
    grant = grant_for_token(state, token)
    if grant is None or grant.client_id != client_id:
        raise ApiError(404, "Not Found", _DELETE_GRANT_DOC)
    state.revoke_user_tokens(grant.user_id, client_id=client_id)
    return Response(status_code=204)


def _authenticate_app(request: Request, client_id: str) -> None:
    credentials = basic_credentials(request)
    if credentials is None:
        raise ApiError(401, "Requires authentication", _DELETE_GRANT_DOC)
    user, password = credentials
    app = emulator_state(request).apps.get(client_id)
    if (
        app is None
        or not secrets.compare_digest(user.encode(), client_id.encode())
        or not secrets.compare_digest(password.encode(), app.client_secret.encode())
    ):
        raise ApiError(401, "Bad credentials", _DELETE_GRANT_DOC)


async def _access_token(request: Request) -> str:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(
            422, 'Invalid request.\n\n"access_token" wasn\'t supplied.', _DELETE_GRANT_DOC
        )
    return token
