"""Session tokens: 256 random bits for the browser, only their SHA-256 for the database.

A database dump therefore holds no usable session token.
"""

from __future__ import annotations

import hashlib
import secrets


def new_session_token() -> str:
    """A fresh token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def stored_form(token: str) -> str:
    """What ``sessions.session_token`` holds for ``token``: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
