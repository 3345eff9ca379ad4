"""The auth service's settings, read from the environment.

The seed's names keep working: ``DATABASE_URL``, ``NEXTAUTH_SECRET`` or ``AUTH_SECRET``,
``NEXTAUTH_URL`` or ``AUTH_URL``, ``GITHUB_CLIENT_ID``, ``GITHUB_CLIENT_SECRET``. Everything
else is prefixed ``AUTH_``. Outside development the service refuses to start with a
placeholder or missing secret, and says which variable to set.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from codeflow_service.settings import Environment, RuntimeSettings

PLACEHOLDERS = frozenset(
    {
        "",
        "changethis",
        "change-me",
        "changeme",
        "secret",
        "your-secret-key",
        "your-github-oauth-secret",
        "your-github-oauth-app-id",
        "development-secret-do-not-use-in-production",
    }
)
"""Values that are never real secrets (the seed's examples among them)."""

DEVELOPMENT_SECRET = "development-secret-do-not-use-in-production"  # noqa: S105
DEVELOPMENT_GITHUB_CLIENT = "codeflow-dev-client"
DEVELOPMENT_GITHUB_SECRET = "codeflow-dev-secret"  # noqa: S105 - the emulator's own
DEVELOPMENT_INTERNAL_TOKEN = "development-internal-token-do-not-use-in-production"  # noqa: S105
MIN_SECRET_LENGTH = 32
MAX_SESSION_LIFETIME = timedelta(days=90)
"""The longest absolute session lifetime the service accepts."""


class InsecureConfiguration(ValueError):
    """A secret is missing or a placeholder outside development."""


class AuthSettings(RuntimeSettings):
    """Auth's settings; the database, Kafka and relay ones are read as every service reads
    them, and it has no JWKS to verify callers with: it issues their tokens."""

    model_config = SettingsConfigDict(
        env_prefix="AUTH_", extra="ignore", frozen=True, populate_by_name=True
    )

    environment: Environment = Field(
        default="production",
        validation_alias=AliasChoices("CODEFLOW_ENV", "AUTH_ENVIRONMENT"),
        description="development relaxes the secret checks and generates missing keys",
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/codeflow_auth",
        validation_alias=AliasChoices("AUTH_DATABASE_URL", "DATABASE_URL"),
    )
    secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        validation_alias=AliasChoices("AUTH_SECRET", "NEXTAUTH_SECRET"),
        description="encrypts the sign-in state cookie and keys the CSRF tokens",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        validation_alias=AliasChoices("AUTH_URL", "NEXTAUTH_URL"),
        description="where browsers reach CodeFlow (the gateway); https makes cookies Secure",
    )

    github_client_id: str = Field(
        default=DEVELOPMENT_GITHUB_CLIENT, validation_alias=AliasChoices("GITHUB_CLIENT_ID")
    )
    github_client_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_GITHUB_SECRET),
        validation_alias=AliasChoices("GITHUB_CLIENT_SECRET"),
    )
    github_oauth_base_url: str = Field(
        default="https://github.com", validation_alias=AliasChoices("GITHUB_OAUTH_BASE_URL")
    )
    github_api_base_url: str = Field(
        default="https://api.github.com", validation_alias=AliasChoices("GITHUB_API_BASE_URL")
    )
    github_scope: str = "read:user user:email"

    jwt_private_key: SecretStr | None = Field(
        default=None, description="PEM private key signing the JWTs; generated in development"
    )
    jwt_previous_public_keys: str = Field(
        default="", description="PEM public keys still accepted during a key rotation"
    )
    jwt_ttl: timedelta = timedelta(minutes=5)
    internal_token: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_INTERNAL_TOKEN),
        description="the credential other services present on auth's internal routes "
        "(the repositories service's REPOSITORIES_AUTH_INTERNAL_TOKEN)",
    )
    token_keys: SecretStr | None = Field(
        default=None,
        description="keys encrypting GitHub tokens at rest: kid:base64key,... (first is current)",
    )

    session_idle_timeout: timedelta = Field(
        default=timedelta(days=7),
        validation_alias=AliasChoices("AUTH_SESSION_IDLE_TIMEOUT", "AUTH_SESSION_MAX_AGE"),
        description="a session unused this long ends (Auth.js's maxAge, the older name)",
    )
    session_absolute_lifetime: timedelta = Field(
        default=timedelta(days=30),
        description="a session ends this long after its sign-in, however much it is used",
    )
    session_update_age: timedelta = timedelta(days=1)
    reauth_window: timedelta = Field(
        default=timedelta(minutes=10),
        description="how recent a sign-in erasing the account (DELETE /auth/me) needs",
    )
    activity_interval: timedelta = timedelta(hours=1)
    state_ttl: timedelta = timedelta(minutes=10)

    redirect_url: str = Field(default="/", description="where a browser lands after sign-in")
    redirect_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="other origins a callbackUrl may point at"
    )
    admin_github_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        description="GitHub's numeric user ids of the admins, whose janitor JWTs say admin",
    )
    admin_logins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="no longer read: refused, in favour of AUTH_ADMIN_GITHUB_IDS"
    )

    @field_validator("redirect_allowlist", "admin_logins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("admin_github_ids", mode="before")
    @classmethod
    def _github_ids(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        items = [item.strip() for item in value.split(",") if item.strip()]
        wrong = [item for item in items if not item.isascii() or not item.isdigit()]
        if wrong:
            raise ValueError(
                f"AUTH_ADMIN_GITHUB_IDS takes GitHub's numeric user ids, comma-separated; "
                f"{', '.join(wrong)} is not one (GET /users/<login> at GitHub's API shows it)"
            )
        return frozenset(int(item) for item in items)

    @field_validator("admin_logins", mode="after")
    @classmethod
    def _no_admins_by_login(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A login changes hands when its owner renames: whoever registers it next would be
        # an admin. GitHub's numeric user id never changes.
        if value:
            raise ValueError(
                "AUTH_ADMIN_LOGINS is no longer read: admins are decided by GitHub's numeric "
                "user id, which a rename doesn't change. Set AUTH_ADMIN_GITHUB_IDS to the ids "
                f"of {', '.join(value)} (GET /users/<login> at GitHub's API shows them) and "
                "unset AUTH_ADMIN_LOGINS"
            )
        return value

    @property
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def issuer(self) -> str:
        return f"{self.public_url.rstrip('/')}/auth"

    @property
    def callback_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/auth/callback/github"

    @model_validator(mode="after")
    def _sane(self) -> AuthSettings:
        if self.state_ttl > timedelta(minutes=10):
            raise ValueError("AUTH_STATE_TTL may be at most 10 minutes")
        if self.jwt_ttl > timedelta(minutes=5):
            raise ValueError("AUTH_JWT_TTL may be at most 5 minutes")
        if self.session_update_age > self.session_idle_timeout:
            raise ValueError("AUTH_SESSION_UPDATE_AGE must not exceed AUTH_SESSION_IDLE_TIMEOUT")
        return self

    @model_validator(mode="after")
    def _bounded_sessions(self) -> AuthSettings:
        if self.session_absolute_lifetime > MAX_SESSION_LIFETIME:
            raise ValueError(
                f"AUTH_SESSION_ABSOLUTE_LIFETIME may be at most {MAX_SESSION_LIFETIME.days} days "
                f"(got {self.session_absolute_lifetime}): every session must end, and a person "
                "sign in again, within that bound"
            )
        if self.session_idle_timeout > self.session_absolute_lifetime:
            raise ValueError(
                "AUTH_SESSION_IDLE_TIMEOUT must not exceed AUTH_SESSION_ABSOLUTE_LIFETIME"
            )
        if not timedelta(0) < self.reauth_window <= self.session_absolute_lifetime:
            raise ValueError(
                "AUTH_REAUTH_WINDOW must be positive and not exceed AUTH_SESSION_ABSOLUTE_LIFETIME"
            )
        return self

    def _plain_http(self) -> list[str]:
        """Without https cookies lose ``Secure`` and their prefix, and tokens cross in clear."""
        problems: list[str] = []
        if not self.https:
            problems.append(f"AUTH_URL (or NEXTAUTH_URL) must be https, not {self.public_url}")
        plain = [url for url in self.redirect_allowlist if urlsplit(url).scheme != "https"]
        if plain:
            problems.append(
                "every origin in AUTH_REDIRECT_ALLOWLIST must be https, not " + ", ".join(plain)
            )
        return problems

    def check_secrets(self) -> None:
        """Refuse placeholder or missing secrets, and plain http, unless this is development."""
        if self.environment == "development":
            return
        problems: list[str] = []
        secret = self.secret.get_secret_value()
        if secret.lower() in PLACEHOLDERS or len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"AUTH_SECRET (or NEXTAUTH_SECRET) must be a random value of at least "
                f"{MIN_SECRET_LENGTH} characters, e.g. `openssl rand -base64 33`"
            )
        client_secret = self.github_client_secret.get_secret_value()
        if client_secret.lower() in PLACEHOLDERS | {DEVELOPMENT_GITHUB_SECRET}:
            problems.append("GITHUB_CLIENT_SECRET must be your GitHub OAuth app's secret")
        if self.github_client_id.lower() in PLACEHOLDERS | {DEVELOPMENT_GITHUB_CLIENT}:
            problems.append("GITHUB_CLIENT_ID must be your GitHub OAuth app's client id")
        internal = self.internal_token.get_secret_value()
        if (
            internal.lower() in PLACEHOLDERS | {DEVELOPMENT_INTERNAL_TOKEN}
            or len(internal) < MIN_SECRET_LENGTH
        ):
            problems.append(
                f"AUTH_INTERNAL_TOKEN must be a random value of at least {MIN_SECRET_LENGTH} "
                "characters, the same as the repositories service's "
                "REPOSITORIES_AUTH_INTERNAL_TOKEN, e.g. `openssl rand -base64 33`"
            )
        if self.jwt_private_key is None:
            problems.append("AUTH_JWT_PRIVATE_KEY must hold the PEM private key signing JWTs")
        if self.token_keys is None:
            problems.append("AUTH_TOKEN_KEYS must hold the keys encrypting GitHub tokens")
        problems.extend(self._plain_http())
        if problems:
            raise InsecureConfiguration(
                f"refusing to start in {self.environment} (set CODEFLOW_ENV=development "
                "for local use): " + "; ".join(problems)
            )
