"""What auth refuses to start with: admins named by login, plain http and a weak service
credential outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from codeflow_auth.config import DEVELOPMENT_INTERNAL_TOKEN, AuthSettings, InsecureConfiguration


def test_admins_by_login_are_refused_naming_the_setting_to_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTH_ADMIN_LOGINS", "octocat")
    with pytest.raises(ValidationError) as refused:
        AuthSettings(environment="development")
    message = str(refused.value)
    assert "AUTH_ADMIN_LOGINS" in message
    assert "AUTH_ADMIN_GITHUB_IDS" in message


def test_admins_are_github_user_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_ADMIN_GITHUB_IDS", " 583231, 9919 ")
    assert AuthSettings(environment="development").admin_github_ids == frozenset({583231, 9919})


@pytest.mark.parametrize("value", ["octocat", "12,octocat", "-4", "1.5"])
def test_an_admin_id_that_is_not_a_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AUTH_ADMIN_GITHUB_IDS", value)
    with pytest.raises(ValidationError, match="numeric"):
        AuthSettings(environment="development")


def production(**overrides: object) -> AuthSettings:
    """Production settings whose secrets pass, so only the URLs are in question."""
    base: dict[str, object] = {
        "environment": "production",
        "secret": "s" * 40,
        "github_client_id": "Iv1.real",
        "github_client_secret": "a-real-github-secret",
        "jwt_private_key": "-----BEGIN PRIVATE KEY-----",
        "token_keys": "k1:AAAA",
        "internal_token": "i" * 40,
        "public_url": "https://codeflow.example",
    }
    base.update(overrides)
    return AuthSettings(**base)  # type: ignore[arg-type]


def test_production_on_https_starts() -> None:
    production(redirect_allowlist="https://docs.example").check_secrets()


@pytest.mark.parametrize("environment", ["production", "test"])
def test_a_plain_http_public_url_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(InsecureConfiguration, match=r"AUTH_URL .*https"):
        production(environment=environment, public_url="http://codeflow.example").check_secrets()


def test_a_plain_http_callback_origin_is_refused_outside_development() -> None:
    with pytest.raises(InsecureConfiguration, match=r"AUTH_REDIRECT_ALLOWLIST.*http://docs"):
        production(redirect_allowlist="https://ok.example,http://docs.example").check_secrets()


def test_development_may_use_plain_http() -> None:
    production(
        environment="development",
        public_url="http://127.0.0.1:8080",
        redirect_allowlist="http://127.0.0.1:3000",
    ).check_secrets()


def test_the_internal_credential_defaults_to_the_development_value() -> None:
    settings = AuthSettings(environment="development")
    assert settings.internal_token.get_secret_value() == DEVELOPMENT_INTERNAL_TOKEN
    settings.check_secrets()


def test_the_internal_credential_is_read_from_auth_internal_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTH_INTERNAL_TOKEN", "t" * 40)
    assert AuthSettings(environment="development").internal_token.get_secret_value() == "t" * 40


@pytest.mark.parametrize(
    "value", [DEVELOPMENT_INTERNAL_TOKEN, "changeme", "", "short-but-not-a-placeholder"]
)
def test_a_weak_internal_credential_is_refused_outside_development_naming_what_to_set(
    value: str,
) -> None:
    with pytest.raises(InsecureConfiguration) as refused:
        production(internal_token=value).check_secrets()
    message = str(refused.value)
    assert "AUTH_INTERNAL_TOKEN" in message
    assert "REPOSITORIES_AUTH_INTERNAL_TOKEN" in message
    if value:
        assert value not in message  # a secret is never echoed
