"""Why a token was refused, or why it couldn't be checked."""


class InvalidToken(Exception):
    """The token is not acceptable; `reason` is short and safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(Exception):
    """Auth's keys couldn't be fetched and no cached key applies: answer 503, not 401."""
