"""The profiles service's settings, read from the environment.

``PROFILES_DATABASE_URL`` names the service's own database; Kafka and JWT settings are the
shared ones of :class:`~codeflow_service.ServiceSettings`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from codeflow_service import ServiceSettings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/codeflow_profiles"


class ProfilesSettings(ServiceSettings):
    """The profiles service's settings (environment prefix ``PROFILES_``)."""

    model_config = SettingsConfigDict(
        env_prefix="PROFILES_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, description="the service's own database, codeflow_profiles"
    )
