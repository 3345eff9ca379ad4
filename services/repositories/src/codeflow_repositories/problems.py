"""How the repositories service's domain errors read over HTTP (``application/problem+json``):
an id that isn't the caller's is 404, a bad bulk item 422, a write for an erased account 410."""

from __future__ import annotations

from codeflow_identity.problems import Problem
from codeflow_repositories.repositories.errors import (
    BulkItemRejected,
    RepositoryNotFound,
    UserErased,
)

PROBLEMS: dict[type[Exception], Problem] = {
    RepositoryNotFound: Problem(404, "repository-not-found", "Repository not found"),
    BulkItemRejected: Problem(
        422,
        "bulk-item-rejected",
        "A bulk item was rejected; nothing was changed",
        extensions=lambda error: {
            "index": error.index,
            "field": f"body.items.{error.index}",
            "reason": error.reason,
        },
    ),
    UserErased: Problem(410, "user-erased", "Account erased"),
}

REPOSITORY_NOT_FOUND = PROBLEMS[RepositoryNotFound].type
BULK_ITEM_REJECTED = PROBLEMS[BulkItemRejected].type
USER_ERASED = PROBLEMS[UserErased].type
