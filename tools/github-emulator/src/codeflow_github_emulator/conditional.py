"""Conditional requests: GitHub's weak ``ETag`` and the ``If-None-Match`` that matches it."""

from __future__ import annotations

import hashlib


def entity_tag(body: bytes, token: str | None) -> str:
    """A weak tag of the body as this token sees it.

    GitHub's tags also depend on the credentials: the same body fetched with another token
    has another tag, so a tag kept from one token does not earn a 304 with the next.
    """
    digest = hashlib.sha256((token or "").encode() + b"\0" + body).hexdigest()
    return f'W/"{digest}"'


def tag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names the tag, compared weakly (``W/`` ignored), or is ``*``."""
    if not if_none_match:
        return False
    wanted = _opaque(tag)
    candidates = [part.strip() for part in if_none_match.split(",")]
    return any(part == "*" or _opaque(part) == wanted for part in candidates)


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag
