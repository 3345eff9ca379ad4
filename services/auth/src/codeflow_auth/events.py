"""The messages auth emits, written to its outbox in the caller's transaction."""

from codeflow_messaging import emitter

SOURCE = "codeflow/auth"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""
