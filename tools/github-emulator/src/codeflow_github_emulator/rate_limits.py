"""GitHub's REST rate limits: the primary hourly budget per user and secondary limits.

A request is counted when it is let in; a conditional request answered ``304 Not Modified``
is given back (GitHub: it "does not count against your primary rate limit"). A request
refused by either limit is not counted.
"""

from __future__ import annotations

from datetime import timedelta

from codeflow_github_emulator.api_errors import ApiError
from codeflow_github_emulator.state import EmulatorState, RateWindow

RATE_LIMITS_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
ANONYMOUS_LIMIT = 60


def current_window(state: EmulatorState, user_id: int) -> RateWindow:
    """The user's window of this hour, a fresh one when the last has reset."""
    now = state.now()
    window = state.rate_windows.get(user_id)
    if window is None or now >= window.resets_at:
        window = RateWindow(resets_at=now + timedelta(hours=1))
        state.rate_windows[user_id] = window
    return window


def admit(state: EmulatorState, user_id: int, request_id: str) -> RateWindow:
    """Count one request of the user's, or refuse it (403/429) without counting it."""
    window = current_window(state, user_id)
    secondary = state.secondary_limit
    if secondary is not None and secondary.requests > 0:
        secondary.requests -= 1
        raise ApiError(
            secondary.status_code,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you "
            "try again. If you reach out to GitHub Support for help, please include the "
            f"request ID {request_id}.",
            f"{RATE_LIMITS_DOC}#about-secondary-rate-limits",
            rate_headers(state, window) | {"Retry-After": str(secondary.retry_after)},
        )
    if window.used >= state.settings.rate_limit:
        moment = state.now().strftime("%Y-%m-%d %H:%M:%S UTC")
        raise ApiError(
            403,
            f"API rate limit exceeded for user ID {user_id}. If you reach out to GitHub "
            f"Support for help, please include the request ID {request_id} and timestamp "
            f"{moment}.",
            RATE_LIMITS_DOC,
            rate_headers(state, window),
        )
    window.used += 1
    return window


def give_back(window: RateWindow) -> None:
    """Return a counted request (a ``304``) to the budget."""
    window.used = max(0, window.used - 1)


def set_remaining(state: EmulatorState, user_id: int, remaining: int) -> RateWindow:
    """Set how many requests the user has left this hour (0 exhausts the budget)."""
    window = current_window(state, user_id)
    window.used = max(0, state.settings.rate_limit - remaining)
    return window


def rate_headers(state: EmulatorState, window: RateWindow) -> dict[str, str]:
    limit = state.settings.rate_limit
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - window.used)),
        "X-RateLimit-Reset": str(int(window.resets_at.timestamp())),
        "X-RateLimit-Used": str(min(window.used, limit)),
        "X-RateLimit-Resource": "core",
    }


def anonymous_rate_headers() -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(ANONYMOUS_LIMIT),
        "X-RateLimit-Remaining": str(ANONYMOUS_LIMIT - 1),
        "X-RateLimit-Used": "1",
        "X-RateLimit-Resource": "core",
    }
