"""The messaging tables' housekeeping (ADR 0011), as every service has it: what it does, and
how to build its index beforehand on a large ``processed_events``, is in
:func:`codeflow_messaging.migrations.add_messaging_housekeeping`.
"""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "a1d0c5e7b201"
down_revision = "3f2a9c1d7e40"
upgrade = add_messaging_housekeeping
downgrade = drop_messaging_housekeeping
