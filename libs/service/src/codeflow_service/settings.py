"""Settings every service shares; each service subclasses with its own ``env_prefix``."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from codeflow_messaging.relay import DEFAULT_POLL_INTERVAL
from codeflow_messaging.security import KafkaSecurity

Environment = Literal["development", "test", "production"]


class RuntimeSettings(BaseSettings):
    """What the kit's runtime reads: the service's database, Kafka and outbox relay.

    Auth subclasses it directly (it issues the callers' tokens); every other service takes
    :class:`ServiceSettings`, which adds what verifies them.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    environment: Environment = Field(
        default="production", validation_alias=AliasChoices("CODEFLOW_ENV")
    )
    database_url: str
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_security: KafkaSecurity | None = Field(
        default=None,
        description="how the service's Kafka clients sign in; None reads KAFKA_SECURITY_PROTOCOL, "
        "KAFKA_SASL_* and KAFKA_SSL_* when the service connects (codeflow_messaging.security), "
        "so commands that never reach Kafka (migrate, sweep) don't need the credentials",
    )
    consumer_group: str = Field(
        default="", description="the service's Kafka consumer group; its name when empty"
    )
    relay_poll_interval: float = Field(
        default=DEFAULT_POLL_INTERVAL,
        description="seconds between the outbox relay's polls; a committed row wakes it at "
        "once (NOTIFY), so the poll only publishes rows no notification announced",
    )


class ServiceSettings(RuntimeSettings):
    """``<PREFIX>DATABASE_URL`` names the service's own database; the rest is shared."""

    jwks_url: str = Field(
        default="http://127.0.0.1:8001/auth/.well-known/jwks.json",
        validation_alias=AliasChoices("CODEFLOW_JWKS_URL"),
        description="auth's JWKS, which verifies the callers' JWTs",
    )
    jwt_issuer: str = Field(
        default="http://127.0.0.1:8080/auth",
        validation_alias=AliasChoices("CODEFLOW_JWT_ISSUER"),
        description="the iss of auth's JWTs: auth's public URL followed by /auth",
    )
    jwt_audience: str = Field(
        default="",
        validation_alias=AliasChoices("CODEFLOW_JWT_AUDIENCE"),
        description="the aud callers' JWTs must carry; empty: codeflow-<service>, which auth "
        "issues for this service alone",
    )
