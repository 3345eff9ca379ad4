"""The session policy the auth tests run under, written once for unit and integration tests:
a week idle, thirty days at most, a day between expiry writes, activity once an hour and a
ten-minute window for a recent sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codeflow_auth.sessions.lifetimes import SessionPolicy

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = SessionPolicy(
    idle_timeout=7 * DAY,
    absolute_lifetime=30 * DAY,
    update_age=DAY,
    activity_interval=timedelta(hours=1),
    reauth_window=timedelta(minutes=10),
)
