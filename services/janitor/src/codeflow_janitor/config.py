"""The janitor's settings, read from ``JANITOR_*`` environment variables.

Durations accept ISO 8601 (``P90D``, ``PT5S``), a number of seconds, or ``90d`` / ``1h`` /
``15m`` / ``5s``.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from codeflow_janitor.durations import Duration
from codeflow_service import ServiceSettings


class JanitorSettings(ServiceSettings):
    """Database, Kafka and JWT settings from the kit, plus the sweep's and the saga's own."""

    model_config = SettingsConfigDict(
        env_prefix="JANITOR_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = "postgresql://postgres@127.0.0.1:5432/codeflow_janitor"
    consumer_group: str = Field(
        default="janitor",
        min_length=1,
        description="the Kafka consumer group reading user events and acknowledgements",
    )

    inactive_after: Duration = Field(
        default=timedelta(days=90),
        description="a user whose last activity is older than this is deleted",
    )
    sweep_interval: Duration = Field(
        default=timedelta(hours=1),
        description="how often the scheduled sweep runs; 0 turns the schedule off",
    )
    max_deletions_per_sweep: int = Field(
        default=1000, ge=1, description="deletions one sweep issues at most; the rest wait"
    )
    max_deletion_share: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="a sweep whose candidates exceed this share of known users is refused "
        "unless forced",
    )

    ack_timeout: Duration = Field(
        default=timedelta(hours=1),
        description="a command auth has not answered within this is sent again; a deletion "
        "pending longer is overdue",
    )
    max_sends: int = Field(
        default=6,
        ge=1,
        description="a command auth hasn't answered is sent at most this many times in all, "
        "the waits doubling from ack_timeout (by default the last re-send goes 31 hours "
        "after the first send)",
    )
    resend_check_interval: Duration = Field(
        default=timedelta(minutes=1),
        description="how often the janitor looks for commands to send again",
    )

    @model_validator(mode="after")
    def _positive_durations(self) -> JanitorSettings:
        for name in ("inactive_after", "ack_timeout", "resend_check_interval"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"JANITOR_{name.upper()} must be positive")
        if self.sweep_interval < timedelta(0):
            raise ValueError("JANITOR_SWEEP_INTERVAL must not be negative")
        return self
