"""The messaging tables' housekeeping (ADR 0011), in codeflow_messaging.migrations."""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "b2e1d6f8c302"
down_revision = "7c1e2b9a4d05"
upgrade, downgrade = add_messaging_housekeeping, drop_messaging_housekeeping
