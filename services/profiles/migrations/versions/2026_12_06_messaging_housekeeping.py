"""The messaging tables' housekeeping (ADR 0011), as every service has it: what it does, and
how to build its index beforehand on a large ``processed_events``, is in
:func:`codeflow_messaging.migrations.add_messaging_housekeeping`.
"""

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision = "b2e1d6f8c302"
down_revision = "7c1e2b9a4d05"
upgrade = add_messaging_housekeeping
downgrade = drop_messaging_housekeeping
