"""The repositories service's settings, read from the environment (prefix ``REPOSITORIES_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from codeflow_service import ServiceSettings

DEVELOPMENT_INTERNAL_TOKEN = "development-internal-token-do-not-use-in-production"  # noqa: S105
MIN_INTERNAL_TOKEN_LENGTH = 32


class RepositoriesSettings(ServiceSettings):
    """``REPOSITORIES_DATABASE_URL`` (or the seed's ``DATABASE_URL``) names its database."""

    model_config = SettingsConfigDict(env_prefix="REPOSITORIES_")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/codeflow_repositories",
        validation_alias=AliasChoices("REPOSITORIES_DATABASE_URL", "DATABASE_URL"),
    )
    auth_internal_url: str = Field(
        default="http://127.0.0.1:8001",
        description="auth itself (not the gateway): its internal GitHub route (ADR 0023)",
    )
    auth_internal_token: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_INTERNAL_TOKEN),
        description="the credential auth's internal route takes: auth's AUTH_INTERNAL_TOKEN",
    )
    github_timeout: float = Field(
        default=12.0, gt=0, description="seconds a call through auth to GitHub may take"
    )
    refresh_interval: timedelta = Field(
        default=timedelta(minutes=10),
        description="how often the scheduled refresh runs (0 turns it off)",
    )
    refresh_max_age: timedelta = Field(
        default=timedelta(hours=24),
        description="a row GitHub wasn't asked about for this long is refreshed",
    )
    refresh_batch_size: int = Field(
        default=200, ge=1, le=5000, description="rows one scheduled refresh round takes at most"
    )

    def check_secrets(self) -> None:
        """Refuse the development credential, or none, anywhere but in development."""
        if self.environment == "development":
            return
        token = self.auth_internal_token.get_secret_value()
        if token == DEVELOPMENT_INTERNAL_TOKEN or len(token) < MIN_INTERNAL_TOKEN_LENGTH:
            raise ValueError(
                f"refusing to start in {self.environment}: REPOSITORIES_AUTH_INTERNAL_TOKEN "
                f"must be auth's AUTH_INTERNAL_TOKEN, a random value of at least "
                f"{MIN_INTERNAL_TOKEN_LENGTH} characters (CODEFLOW_ENV=development for local use)"
            )
