"""Opaque keyset cursors for the dashboard's pages.

A cursor is the sort key ``(full_name, id)`` of the last row a page returned, as base64url
JSON. Clients treat it as opaque; the service checks everything in it, because it comes back
from the outside.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass

MAX_CURSOR_LENGTH = 512
_FULL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")


class InvalidCursor(ValueError):
    """The cursor was not made by this service (or was altered)."""


@dataclass(frozen=True)
class Position:
    """Where a page ends: the last row's sort key."""

    full_name: str
    id: uuid.UUID


def encode_cursor(position: Position) -> str:
    """The opaque cursor for the page after ``position``."""
    raw = json.dumps([position.full_name, str(position.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position ``cursor`` names; ``InvalidCursor`` if it isn't one of ours."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        full_name, id_text = json.loads(raw)
        if not isinstance(full_name, str) or not isinstance(id_text, str):
            raise TypeError("cursor fields must be strings")
        if _FULL_NAME.fullmatch(full_name) is None:
            raise ValueError("cursor holds no repository name")
        return Position(full_name, uuid.UUID(id_text))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor this service issued") from exc
