"""One person's browser: their cookies, requests through the gateway that never raise for
what the network or the services do, and the sign-in round trip through GitHub's stand-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_HOPS = 6


@dataclass(frozen=True)
class Answer:
    """What one request was told, or why nothing came (``status`` ``None``)."""

    request: str
    status: int | None
    content_type: str | None = None
    retry_after: str | None = None
    document: Any = None
    """The body, when it is JSON."""
    text: str = ""
    location: httpx.URL | None = None
    """Where a redirect points, made absolute."""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Browser:
    """Keeps one person's cookies; every request is bounded by ``timeout`` as a whole."""

    def __init__(self, gateway_url: str, *, timeout: float) -> None:
        self.timeout = timeout
        self._client = httpx.AsyncClient(base_url=gateway_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    def forget_session(self) -> None:
        self._client.cookies.clear()

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        target = self._client.build_request(method, url, json=json, headers=headers, params=params)
        # Through the gateway: the path; anywhere else (GitHub's pages): the whole URL.
        through_gateway = target.url.netloc == self._client.base_url.netloc
        described = (
            f"{method} {target.url.path if through_gateway else target.url.copy_with(query=None)}"
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.send(target)
        except (TimeoutError, httpx.TimeoutException):
            return Answer(described, None, error=f"no answer within {self.timeout:g} s")
        except httpx.TransportError as failure:
            return Answer(described, None, error=f"{type(failure).__name__}: {failure}"[:300])
        return _answer(described, response)

    async def sign_in(self, login: str) -> Answer:
        """Sign-in as a browser does it, ``login`` choosing the account on the stand-in's
        authorize page, landing on ``/auth/session``. The answer is that last page's, or the
        first that broke the chain."""
        answer = await self.request(
            "GET", "/auth/signin/github", params={"callbackUrl": "/auth/session"}
        )
        if answer.status not in REDIRECTS or answer.location is None:
            return answer
        answer = await self.request("GET", answer.location.copy_merge_params({"login": login}))
        for _ in range(MAX_HOPS):
            if answer.status not in REDIRECTS or answer.location is None:
                break
            answer = await self.request("GET", answer.location)
        return answer

    async def csrf_headers(self) -> Answer | dict[str, str]:
        """The header unsafe ``/auth`` requests need, or the answer that refused it."""
        answer = await self.request("GET", "/auth/csrf")
        token = answer.document.get("csrfToken") if isinstance(answer.document, dict) else None
        if not answer.succeeded or not isinstance(token, str):
            return answer
        return {"X-CSRF-Token": token}


def _answer(described: str, response: httpx.Response) -> Answer:
    content_type = response.headers.get("content-type")
    document: Any = None
    if content_type and "json" in content_type:
        try:
            document = response.json()
        except ValueError:
            document = None
    location = response.headers.get("location")
    return Answer(
        described,
        response.status_code,
        content_type=content_type,
        retry_after=response.headers.get("retry-after"),
        document=document,
        text=response.text[:300] if document is None else "",
        location=response.url.join(location) if location else None,
    )
