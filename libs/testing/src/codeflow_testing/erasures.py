"""Erasure commands as the services holding user data receive them from auth."""

from __future__ import annotations

import uuid


def run_with_a_repeat(first: str, second: str, unknown: str) -> list[tuple[str, uuid.UUID]]:
    """One batch of ``(user_id, deletion_id)`` as a consumer may take it: ``first``'s and
    ``second``'s erasures, one of a user the service holds nothing of (``unknown``), and
    ``first``'s again (the same deletion, re-sent within the same run)."""
    firsts = uuid.uuid4()
    return [(first, firsts), (second, uuid.uuid4()), (unknown, uuid.uuid4()), (first, firsts)]
