"""How the janitor's domain errors read over HTTP, each with a stable ``type``."""

from __future__ import annotations

from codeflow_identity.problems import Problem
from codeflow_janitor.errors import AdminOnly, DeletionNotFound, SweepInProgress, SweepRefused

PROBLEMS: dict[type[Exception], Problem] = {
    AdminOnly: Problem(403, "admin-only", "Admins only"),
    # A page polling a deletion's progress must not be answered from a cache.
    DeletionNotFound: Problem(
        404, "deletion-not-found", "Deletion not found", headers={"Cache-Control": "no-store"}
    ),
    SweepRefused: Problem(
        409,
        "sweep-refused",
        "Sweep refused by the safety limit",
        extensions=lambda error: {"sweep": error.sweep},
    ),
    SweepInProgress: Problem(409, "sweep-in-progress", "Another sweep is running"),
}
