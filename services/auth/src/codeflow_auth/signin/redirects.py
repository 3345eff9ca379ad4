"""Where a browser may be sent after sign-in: no open redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from codeflow_auth.config import AuthSettings
from codeflow_auth.errors import RedirectRefused


def safe_callback_url(requested: str | None, settings: AuthSettings) -> str:
    """``requested`` if it is a same-site path or an allowed origin; the default if absent."""
    if requested is None or requested == "":
        return settings.redirect_url
    if "\\" in requested or any(ord(c) < 0x20 for c in requested):
        raise RedirectRefused("callbackUrl contains characters a URL can't")
    parts = urlsplit(requested)
    if not parts.scheme and not parts.netloc:
        if requested.startswith("/") and not requested.startswith("//"):
            return requested
        raise RedirectRefused("a relative callbackUrl must start with a single '/'")
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme in ("http", "https") and (
        origin == settings.public_origin or origin in settings.redirect_allowlist
    ):
        return requested
    raise RedirectRefused(
        f"callbackUrl may point only at {settings.public_origin} or an origin in "
        "AUTH_REDIRECT_ALLOWLIST"
    )
