"""The repositories service's settings, read from the environment (prefix ``REPOSITORIES_``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from codeflow_service import ServiceSettings


class RepositoriesSettings(ServiceSettings):
    """``REPOSITORIES_DATABASE_URL`` (or the seed's ``DATABASE_URL``) names its database."""

    model_config = SettingsConfigDict(env_prefix="REPOSITORIES_")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/codeflow_repositories",
        validation_alias=AliasChoices("REPOSITORIES_DATABASE_URL", "DATABASE_URL"),
    )
