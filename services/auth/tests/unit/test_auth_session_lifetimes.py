"""Bounded sessions: an idle timeout, an absolute lifetime, and the cookie that follows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auth_policy_support import DAY, POLICY, T
from fastapi import Request, Response

from codeflow_auth.config import AuthSettings
from codeflow_auth.sessions.cookies import SessionCookie

SECRET = "a-test-secret-that-is-long-enough-to-pass"


def settings(**overrides: object) -> AuthSettings:
    base: dict[str, object] = {"environment": "development"}
    base.update(overrides)
    return AuthSettings(**base)  # type: ignore[arg-type]


def test_sessions_default_to_a_week_idle_and_thirty_days_at_most() -> None:
    defaults = settings()
    assert defaults.session_idle_timeout == 7 * DAY
    assert defaults.session_absolute_lifetime == 30 * DAY
    assert defaults.session_update_age == DAY
    assert defaults.reauth_window == timedelta(minutes=10)


def test_the_lifetimes_are_read_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_SESSION_ABSOLUTE_LIFETIME", "P14D")
    monkeypatch.setenv("AUTH_SESSION_IDLE_TIMEOUT", "P2D")
    monkeypatch.setenv("AUTH_REAUTH_WINDOW", "PT5M")
    loaded = AuthSettings()
    assert loaded.session_absolute_lifetime == 14 * DAY
    assert loaded.session_idle_timeout == 2 * DAY
    assert loaded.reauth_window == timedelta(minutes=5)


def test_auth_session_max_age_still_sets_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_SESSION_MAX_AGE", "P3D")
    assert AuthSettings().session_idle_timeout == 3 * DAY


def test_an_absolute_lifetime_beyond_ninety_days_is_refused_naming_the_bound() -> None:
    with pytest.raises(ValueError, match="AUTH_SESSION_ABSOLUTE_LIFETIME may be at most 90 days"):
        settings(session_absolute_lifetime=91 * DAY)
    assert settings(session_absolute_lifetime=90 * DAY).session_absolute_lifetime == 90 * DAY


def test_an_idle_timeout_longer_than_the_absolute_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="AUTH_SESSION_IDLE_TIMEOUT must not exceed"):
        settings(session_absolute_lifetime=10 * DAY, session_idle_timeout=11 * DAY)


def test_a_reauthentication_window_must_be_positive_and_within_a_session() -> None:
    with pytest.raises(ValueError, match="AUTH_REAUTH_WINDOW"):
        settings(reauth_window=timedelta(0))
    with pytest.raises(ValueError, match="AUTH_REAUTH_WINDOW"):
        settings(reauth_window=31 * DAY)


def test_a_new_session_expires_after_the_idle_timeout() -> None:
    assert POLICY.expiry(created_at=T, used_at=T) == T + 7 * DAY


def test_using_a_session_never_extends_it_beyond_its_absolute_lifetime() -> None:
    assert POLICY.expiry(created_at=T, used_at=T + 20 * DAY) == T + 27 * DAY
    assert POLICY.expiry(created_at=T, used_at=T + 25 * DAY) == T + 30 * DAY


def test_a_session_ends_when_idle_or_when_its_absolute_lifetime_is_over() -> None:
    assert not POLICY.expired(created_at=T, expires=T + 7 * DAY, now=T + 6 * DAY)
    assert POLICY.expired(created_at=T, expires=T + 7 * DAY, now=T + 7 * DAY)
    # A row whose stored expiry lies beyond the absolute lifetime (written under longer
    # settings) still ends with it.
    assert POLICY.expires_at(created_at=T, expires=T + 45 * DAY) == T + 30 * DAY
    assert POLICY.expired(created_at=T, expires=T + 45 * DAY, now=T + 30 * DAY)


def test_the_expiry_slides_at_most_once_per_update_age() -> None:
    written = T + 7 * DAY  # at sign-in
    assert not POLICY.slide_due(created_at=T, expires=written, now=T + timedelta(hours=23))
    assert POLICY.slide_due(created_at=T, expires=written, now=T + DAY)


def test_the_expiry_slides_once_more_to_meet_the_absolute_lifetime_and_then_stays() -> None:
    # Last slid 22.5 days in: half a day ago, but the absolute end is now within reach.
    written = T + timedelta(days=22.5) + 7 * DAY
    assert POLICY.slide_due(created_at=T, expires=written, now=T + 23 * DAY)
    assert not POLICY.slide_due(created_at=T, expires=T + 30 * DAY, now=T + 29 * DAY)


def test_a_session_opened_within_the_window_counts_as_a_recent_sign_in() -> None:
    assert POLICY.signed_in_recently(created_at=T, now=T + timedelta(minutes=10))
    assert not POLICY.signed_in_recently(created_at=T, now=T + timedelta(minutes=10, seconds=1))


def test_on_https_the_session_cookie_is_a_host_cookie() -> None:
    response = Response()
    SessionCookie(secure=True, secret=SECRET).write(response, "tok", T + 7 * DAY, now=T)
    header = response.headers["set-cookie"]
    assert header.startswith("__Host-authjs.session-token=tok;")
    for attribute in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"):
        assert attribute in header
    assert "Domain" not in header


def test_the_cookie_lives_exactly_as_long_as_the_session() -> None:
    response = Response()
    SessionCookie(secure=False, secret=SECRET).write(response, "tok", T + 3 * DAY, now=T)
    header = response.headers["set-cookie"]
    assert f"Max-Age={3 * 86400};" in header
    assert "expires=Fri, 04 Dec 2026 12:00:00 GMT" in header


def test_the_older_secure_prefixed_cookie_is_not_read() -> None:
    cookie = SessionCookie(secure=True, secret=SECRET)
    old = Request({"type": "http", "headers": [(b"cookie", b"__Secure-authjs.session-token=t")]})
    new = Request({"type": "http", "headers": [(b"cookie", b"__Host-authjs.session-token=t")]})
    assert cookie.read(old) is None
    assert cookie.read(new) == "t"
