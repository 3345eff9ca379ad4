"""The messaging tables' housekeeping (ADR 0011), in codeflow_messaging.migrations."""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "d4a3f8b1e504"
down_revision = "4b4d4ffd5001"
upgrade, downgrade = add_messaging_housekeeping, drop_messaging_housekeeping
