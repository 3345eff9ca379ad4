"""The messaging tables' housekeeping (ADR 0011), in codeflow_messaging.migrations."""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "a1d0c5e7b201"
down_revision = "3f2a9c1d7e40"
upgrade, downgrade = add_messaging_housekeeping, drop_messaging_housekeeping
