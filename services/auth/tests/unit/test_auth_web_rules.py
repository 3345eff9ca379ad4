from __future__ import annotations

import base64
import contextlib
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Response

from codeflow_auth.config import AuthSettings, InsecureConfiguration
from codeflow_auth.errors import InvalidSignInState, RedirectRefused
from codeflow_auth.sessions.cookies import SessionCookie
from codeflow_auth.sessions.tokens import new_session_token, stored_form
from codeflow_auth.signin.redirects import safe_callback_url
from codeflow_auth.signin.state import SignInState, StateCookie

SECRET = "a-test-secret-that-is-long-enough-to-pass"


def settings(**overrides: object) -> AuthSettings:
    base: dict[str, object] = {"environment": "development", "public_url": "https://app.example"}
    base.update(overrides)
    return AuthSettings(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("target", ["/dashboard", "/repos?page=2", "https://app.example/x"])
def test_a_callback_url_on_this_site_is_honoured(target: str) -> None:
    assert safe_callback_url(target, settings()) == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://app.example/",  # same host, other scheme: another origin
        "dashboard",
    ],
)
def test_a_callback_url_elsewhere_is_refused(target: str) -> None:
    with pytest.raises(RedirectRefused):
        safe_callback_url(target, settings())


def test_an_allow_listed_origin_may_be_a_callback_url() -> None:
    allowed = settings(redirect_allowlist="https://docs.example, https://admin.example")
    assert safe_callback_url("https://admin.example/a", allowed) == "https://admin.example/a"


def test_no_callback_url_means_the_configured_one() -> None:
    assert safe_callback_url(None, settings(redirect_url="/home")) == "/home"


def test_placeholder_secrets_are_refused_outside_development_naming_what_to_set() -> None:
    with pytest.raises(InsecureConfiguration) as refused:
        settings(environment="production", secret="your-secret-key").check_secrets()
    message = str(refused.value)
    for variable in (
        "AUTH_SECRET",
        "GITHUB_CLIENT_SECRET",
        "GITHUB_CLIENT_ID",
        "AUTH_JWT_PRIVATE_KEY",
        "AUTH_TOKEN_KEYS",
    ):
        assert variable in message


def test_development_accepts_the_built_in_secrets() -> None:
    settings(environment="development").check_secrets()


def test_the_seeds_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTAUTH_SECRET", "from-nextauth-secret")
    monkeypatch.setenv("NEXTAUTH_URL", "https://seed.example")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/codeflow_auth")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "Iv1.abc")
    loaded = AuthSettings()
    assert loaded.secret.get_secret_value() == "from-nextauth-secret"
    assert loaded.public_url == "https://seed.example"
    assert loaded.database_url == "postgresql://u@db/codeflow_auth"
    assert loaded.github_client_id == "Iv1.abc"


def test_a_state_cookie_longer_than_ten_minutes_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 10 minutes"):
        settings(state_ttl=timedelta(minutes=11))


def test_session_tokens_carry_256_bits_and_only_their_hash_is_stored() -> None:
    token = new_session_token()
    assert len(token) == 43  # 32 bytes, base64url without padding
    assert token != new_session_token()
    assert len(stored_form(token)) == 64
    assert token not in stored_form(token)


def test_on_plain_http_the_session_cookie_has_no_prefix_and_no_secure_flag() -> None:
    response = Response()
    SessionCookie(secure=False, secret=SECRET).write(
        response, "tok", datetime.now(UTC) + timedelta(days=30)
    )
    header = response.headers["set-cookie"]
    assert header.startswith("authjs.session-token=tok;")
    assert "Secure" not in header


def test_a_csrf_token_belongs_to_one_session() -> None:
    cookie = SessionCookie(secure=False, secret=SECRET)
    mine, theirs = new_session_token(), new_session_token()
    assert cookie.csrf_matches(mine, cookie.csrf_token(mine))
    assert not cookie.csrf_matches(mine, cookie.csrf_token(theirs))
    assert not cookie.csrf_matches(mine, None)


def test_the_state_cookie_opens_only_with_the_state_it_was_sealed_with() -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=True)
    assert cookie.name == "__Host-codeflow.sign-in-state"
    state = SignInState.new("/dashboard")
    sealed = cookie.seal(state)
    assert cookie.open(sealed, state.state) == state
    with pytest.raises(InvalidSignInState, match="does not match"):
        cookie.open(sealed, "another-state")
    with pytest.raises(InvalidSignInState, match="missing"):
        cookie.open(None, state.state)
    with pytest.raises(InvalidSignInState, match="not ours"):
        StateCookie("another-secret-entirely-different!!", timedelta(minutes=10), secure=True).open(
            sealed, state.state
        )


def test_the_state_cookie_expires() -> None:
    cookie = StateCookie(SECRET, timedelta(seconds=1), secure=False)
    state = SignInState.new("/")
    sealed = cookie.seal(state)
    time.sleep(2.1)
    with pytest.raises(InvalidSignInState, match="longer than it may"):
        cookie.open(sealed, state.state)


def _readable_parts(cookie: str) -> list[bytes]:
    """Everything the cookie gives away without the key: its text, each dot-separated part
    decoded as base64 (either alphabet), and that decompressed when it is zlib data."""
    found = [cookie.encode()]
    for part in cookie.split("."):
        for alphabet in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                decoded = alphabet(part + "=" * (-len(part) % 4))
            except ValueError:
                continue
            found.append(decoded)
            with contextlib.suppress(zlib.error):
                found.append(zlib.decompress(decoded))
    return found


def test_the_state_cookie_does_not_reveal_the_pkce_verifier() -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=False)
    state = SignInState.new("/dashboard")

    sealed = cookie.seal(state)

    for readable in _readable_parts(sealed):
        assert state.code_verifier.encode() not in readable
        assert b"/dashboard" not in readable
    assert cookie.open(sealed, state.state) == state


def test_each_state_cookie_is_sealed_afresh() -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=False)
    state = SignInState.new("/")
    assert cookie.seal(state) != cookie.seal(state)


@pytest.mark.parametrize("position", [0, 5, 20, -3, -1])
def test_a_tampered_state_cookie_is_refused_as_not_ours(position: int) -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=False)
    state = SignInState.new("/")
    version, payload = cookie.seal(state).split(".", 1)
    # One bit of the sealed bytes, not a character: the last base64 character may carry
    # bits the decoder drops, and changing those would change nothing.
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[position] ^= 0x01
    tampered = f"{version}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"

    with pytest.raises(InvalidSignInState, match="not ours"):
        cookie.open(tampered, state.state)


@pytest.mark.parametrize("garbage", ["x", "v2.", "v2.!!!", "a.b.c", "v2." + "A" * 40])
def test_a_state_cookie_that_is_not_one_is_refused_as_not_ours(garbage: str) -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=False)
    with pytest.raises(InvalidSignInState, match="not ours"):
        cookie.open(garbage, "state")


def test_a_returned_state_with_any_characters_is_compared_not_crashed_on() -> None:
    cookie = StateCookie(SECRET, timedelta(minutes=10), secure=False)
    state = SignInState.new("/")
    with pytest.raises(InvalidSignInState, match="does not match"):
        cookie.open(cookie.seal(state), "état-🔑")
