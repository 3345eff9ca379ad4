"""Keyset cursors: they round-trip, and anything else is refused, never trusted."""

from __future__ import annotations

import base64
import uuid

import pytest

from codeflow_repositories.repositories.cursor import (
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
)


def test_a_cursor_names_the_position_it_was_made_from() -> None:
    position = Position("octocat/Hello-World", uuid.uuid4())
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert cursor.isascii()
    assert "=" not in cursor


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "é",
        b64(b"not json"),
        b64(b"[1, 2]"),
        b64(b'["octocat/x"]'),
        b64(b'{"a": 1}'),
        b64(b'["octocat/x", "not-a-uuid"]'),
        b64(b'["no slash", "00000000-0000-4000-8000-000000000000"]'),
        b64(b'["a/b\\u0000", "00000000-0000-4000-8000-000000000000"]'),
        b64(b"\xff\xfe"),
        "A" * 600,
    ],
)
def test_anything_but_a_cursor_of_ours_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
