"""What the session-management routes answer: a person's sessions, one line each, and the
account deletion they asked for."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


def iso(moment: datetime) -> str:
    """A UTC moment as Auth.js writes one (``2026-12-06T14:00:00.000Z``)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SessionSummary(BaseModel):
    """One live session: never its token, nor the token's hash."""

    id: str = Field(description="the session's opaque id, for DELETE /auth/sessions/{id}")
    createdAt: str = Field(description="the sign-in that opened it (UTC, ISO 8601)")
    expires: str = Field(
        description="when it ends unless used before (UTC, ISO 8601): never after its "
        "absolute lifetime"
    )
    current: bool = Field(description="whether it is the session of this request")


class SessionList(BaseModel):
    sessions: list[SessionSummary] = Field(description="the caller's live sessions, newest first")


class DeletionRequested(BaseModel):
    """``DELETE /auth/me``'s answer: the erasure is under way, and where to follow it."""

    status: str = Field(default="deletion requested")
    userId: str = Field(description="the account being erased")
    deletionId: str = Field(
        description="the deletion's id (a random UUID): whoever holds it can read the "
        "erasure's progress, and nothing else"
    )
    progress: str = Field(
        description="where to read the progress without a session, through the gateway: "
        "/api/janitor/deletions/{deletionId}/progress"
    )
