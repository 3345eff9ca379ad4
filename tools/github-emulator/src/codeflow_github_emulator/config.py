"""The emulator's settings, read from ``GITHUB_EMULATOR_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmulatorSettings(BaseSettings):
    """How the emulator starts: which fixtures it serves and how strict it is.

    Every field can be set through the environment, e.g. ``GITHUB_EMULATOR_FIXTURES=fx.json``.
    """

    model_config = SettingsConfigDict(env_prefix="GITHUB_EMULATOR_", extra="ignore")

    fixtures: Path | None = Field(
        default=None,
        description="a JSON file of users, organisations, OAuth apps and repositories; "
        "the built-in set if unset",
    )
    auto_login: str | None = Field(
        default=None,
        description="login of a user who is signed in and approves every authorization at once",
    )
    code_ttl_seconds: int = Field(
        default=600, gt=0, description="how long an authorization code can be exchanged"
    )
    access_token_ttl_seconds: int = Field(
        default=28_800, gt=0, description="lifetime of access tokens of apps that expire them"
    )
    refresh_token_ttl_seconds: int = Field(
        default=15_897_600, gt=0, description="lifetime of refresh tokens (six months)"
    )
    allow_plain_pkce: bool = Field(
        default=False,
        description="accept code_challenge_method=plain, which GitHub itself refuses",
    )
    refuse_unverified_email: bool = Field(
        default=True,
        description="answer unverified_user_email to a code exchange for a user whose primary "
        "email is unverified, as GitHub does",
    )
    rate_limit: int = Field(default=5_000, gt=0, description="core requests per user per hour")
    public_url: str | None = Field(
        default=None,
        description="base of the URLs written into answers; the request's own base if unset",
    )
