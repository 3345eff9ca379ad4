"""The messages the profiles service emits, written to its outbox in the caller's transaction."""

from codeflow_messaging import emitter

SOURCE = "codeflow/profiles"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""
