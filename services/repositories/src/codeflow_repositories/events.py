"""The messages the repositories service emits, through its outbox in the caller's transaction."""

from codeflow_messaging import emitter

SOURCE = "codeflow/repositories"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""
