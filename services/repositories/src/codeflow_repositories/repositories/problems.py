"""How the repositories feature's domain errors read over HTTP (``application/problem+json``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from codeflow_identity.problems import problem_handler_for, problem_response, problem_type
from codeflow_repositories.repositories.errors import (
    BulkItemRejected,
    RepositoryNotFound,
    UserErased,
)

REPOSITORY_NOT_FOUND = problem_type("repository-not-found")
BULK_ITEM_REJECTED = problem_type("bulk-item-rejected")
USER_ERASED = problem_type("user-erased")


async def _bulk_item_rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BulkItemRejected)
    return problem_response(
        422,
        BULK_ITEM_REJECTED,
        "A bulk item was rejected; nothing was changed",
        str(exc),
        extensions={"index": exc.index, "field": f"body.items.{exc.index}", "reason": exc.reason},
    )


def install_repository_problems(app: FastAPI) -> None:
    """Map the feature's errors: an id that isn't the caller's is 404, a bad bulk item 422,
    a write for an erased account 410."""
    app.add_exception_handler(
        RepositoryNotFound, problem_handler_for(404, REPOSITORY_NOT_FOUND, "Repository not found")
    )
    app.add_exception_handler(BulkItemRejected, _bulk_item_rejected)
    app.add_exception_handler(UserErased, problem_handler_for(410, USER_ERASED, "Account erased"))
