"""The messaging tables' housekeeping (ADR 0011), in codeflow_messaging.migrations."""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "c3f2e7a9d403"
down_revision = "fc5208a6324d"
upgrade, downgrade = add_messaging_housekeeping, drop_messaging_housekeeping
