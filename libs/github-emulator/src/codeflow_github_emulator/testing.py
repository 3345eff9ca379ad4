"""Small helpers for tests that drive the emulator (here and in other packages)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

from codeflow_github_emulator.defaults import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    MONALISA_ID,
    OCTOCAT_ID,
    PRIVATE_PERSON_ID,
    UNVERIFIED_ID,
)

__all__ = [
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "MONALISA_ID",
    "OCTOCAT_ID",
    "PRIVATE_PERSON_ID",
    "UNVERIFIED_ID",
    "redirect_query",
    "s256_challenge",
]


def s256_challenge(verifier: str) -> str:
    """The PKCE ``code_challenge`` of a verifier: base64url of its SHA-256, unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_query(location: str) -> dict[str, str]:
    """The query parameters of a redirect's ``Location``, one value per name."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
