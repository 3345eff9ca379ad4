"""The ASGI app: GitHub's OAuth pages, its REST API and the emulator's admin API in one."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from codeflow_github_emulator import (
    admin,
    admin_limits,
    admin_repos,
    api,
    applications,
    repositories,
)
from codeflow_github_emulator.api_access import ApiError, error_answer
from codeflow_github_emulator.clock import Clock, SystemClock
from codeflow_github_emulator.config import EmulatorSettings
from codeflow_github_emulator.oauth_authorize import authorize
from codeflow_github_emulator.oauth_token import access_token
from codeflow_github_emulator.request_counts import CountRequests
from codeflow_github_emulator.state import EmulatorState


def create_app(
    settings: EmulatorSettings | None = None, *, clock: Clock | None = None
) -> Starlette:
    """A fresh emulator with its own in-memory state, loaded from the settings' fixtures.

    ``clock`` decides what "now" is for code and token expiry (the system clock if unset);
    the state is reachable as ``app.state.emulator`` for tests that want to look inside.
    """
    state = EmulatorState.from_settings(settings or EmulatorSettings(), clock or SystemClock())
    routes = [
        Route("/login/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/login/oauth/access_token", access_token, methods=["POST"]),
        Route("/user", api.get_authenticated_user, methods=["GET"]),
        Route("/user/emails", api.list_emails, methods=["GET"]),
        Route("/user/repos", repositories.list_repositories, methods=["GET"]),
        Route("/repositories/{repo_id:int}", repositories.get_repository, methods=["GET"]),
        Route("/user/{account_id:int}", api.get_user, methods=["GET"]),
        Route("/users/{username}", api.get_user, methods=["GET"]),
        Route("/applications/{client_id}/grant", applications.delete_grant, methods=["DELETE"]),
        Route("/_emulator/users", admin.list_users, methods=["GET"]),
        Route("/_emulator/users", admin.upsert_user, methods=["POST"]),
        Route("/_emulator/users/{user_id:int}", admin.delete_user, methods=["DELETE"]),
        Route("/_emulator/users/{user_id:int}/tokens", admin.list_user_tokens, methods=["GET"]),
        Route(
            "/_emulator/users/{user_id:int}/tokens", admin.revoke_user_tokens, methods=["DELETE"]
        ),
        Route("/_emulator/repos", admin.upsert_repo, methods=["POST"]),
        Route("/_emulator/repos/{repo_id:int}", admin.delete_repo, methods=["DELETE"]),
        Route("/_emulator/repos/{repo_id:int}/rename", admin_repos.rename, methods=["POST"]),
        Route("/_emulator/repos/{repo_id:int}/transfer", admin_repos.transfer, methods=["POST"]),
        Route(
            "/_emulator/repos/{repo_id:int}/visibility",
            admin_repos.change_visibility,
            methods=["POST"],
        ),
        Route("/_emulator/apps", admin.upsert_app, methods=["POST"]),
        Route("/_emulator/tokens", admin.create_token, methods=["POST"]),
        Route("/_emulator/tokens/{token}", admin.revoke_token, methods=["DELETE"]),
        Route("/_emulator/rate-limit", admin_limits.set_rate_limit, methods=["POST"]),
        Route(
            "/_emulator/secondary-rate-limit",
            admin_limits.trigger_secondary_limit,
            methods=["POST"],
        ),
        Route("/_emulator/requests", admin_limits.request_counts, methods=["GET"]),
        Route("/_emulator/clock", admin.advance_clock, methods=["POST"]),
        Route("/_emulator/reset", admin.reset, methods=["POST"]),
        Route("/_emulator/avatars/{user_id:int}.svg", admin.avatar, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(CountRequests)],
        exception_handlers={
            ApiError: _api_error,
            admin.AdminRequestError: _admin_error,
            HTTPException: _http_error,
        },
    )
    app.state.emulator = state
    return app


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_answer(request, error)


async def _admin_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, admin.AdminRequestError)
    return admin.admin_error_answer(error)


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown API paths answer GitHub's JSON 404; the rest keeps Starlette's plain text."""
    assert isinstance(error, HTTPException)
    path = request.url.path
    if error.status_code == 404 and not path.startswith(("/login/", "/_emulator/")):
        return error_answer(request, ApiError(404, "Not Found"))
    return PlainTextResponse(error.detail, status_code=error.status_code, headers=error.headers)
