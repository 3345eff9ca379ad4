"""Which ``redirect_uri`` an OAuth app may send users back to."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from codeflow_github_emulator.fixtures import OAuthAppFixture

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def default_callback(app: OAuthAppFixture) -> str:
    """Where GitHub sends the user when the authorization request names no redirect_uri."""
    return app.callback_urls[0]


def redirect_uri_allowed(app: OAuthAppFixture, redirect_uri: str) -> bool:
    """GitHub's rule: same scheme and host, a path at or under the callback's path.

    The port must match too, except on loopback hosts, where native apps pick a free port.
    """
    try:
        wanted = urlsplit(redirect_uri)
        _ = wanted.port
    except ValueError:
        return False
    return any(_covers(urlsplit(callback), wanted) for callback in app.callback_urls)


def _covers(callback: SplitResult, wanted: SplitResult) -> bool:
    if wanted.scheme.lower() != callback.scheme.lower() or wanted.fragment:
        return False
    host = (wanted.hostname or "").lower()
    if host != (callback.hostname or "").lower():
        return False
    if host not in _LOOPBACK_HOSTS and _port(wanted) != _port(callback):
        return False
    base = callback.path.rstrip("/")
    path = wanted.path or "/"
    return path == base or path.startswith(f"{base}/") or (not base and path.startswith("/"))


def _port(url: SplitResult) -> int | None:
    if url.port is not None:
        return url.port
    return {"http": 80, "https": 443}.get(url.scheme.lower())
