"""The error GitHub's REST API answers with, raised anywhere a request is refused."""

from __future__ import annotations

REST_DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """A REST error: GitHub's ``{"message", "documentation_url", "status"}`` body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        documentation_url: str = REST_DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.documentation_url = documentation_url
        self.headers = headers or {}
