"""Verifying tokens against auth's published JWKS, fetched over HTTP and cached."""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Collection
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

import httpx
import jwt

from codeflow_identity.clock import Clock, utc_now
from codeflow_identity.errors import InvalidToken, JwksUnavailable
from codeflow_identity.identity import Identity
from codeflow_identity.keys import ALGORITHM
from codeflow_identity.verification import DEFAULT_LEEWAY, TokenRules, parse_jwks

logger = logging.getLogger(__name__)


class JwksVerifier:
    """Verifies tokens with the keys at `jwks_url`, refetching them when they go stale or a
    token names a key id not seen yet.

    Fetches happen at most once per `min_refresh_interval`, so a flood of tokens with made-up
    key ids can't hammer auth, and concurrent verifications share one fetch. When auth can't
    be reached, cached keys keep working (tokens live minutes; a stale key set is the lesser
    harm); with no usable cached key, `verify` raises JwksUnavailable.

    A token that verified is remembered (the last `verified_cache_size` of them), so a
    client sending the same token request after request pays for the signature check once.
    A remembered token still has its times checked on every use, and is forgotten when its
    key leaves the key set; a token that failed is never remembered.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        http_client: httpx.AsyncClient | None = None,
        cache_ttl: timedelta = timedelta(minutes=5),
        min_refresh_interval: timedelta = timedelta(seconds=10),
        fetch_timeout: timedelta = timedelta(seconds=5),
        algorithms: Collection[str] = (ALGORITHM,),
        leeway: timedelta = DEFAULT_LEEWAY,
        clock: Clock = utc_now,
        verified_cache_size: int = 4096,
    ) -> None:
        self.jwks_url = jwks_url
        self.rules = TokenRules(issuer, audience, frozenset(algorithms), leeway, clock)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient()
        self._cache_ttl = cache_ttl
        self._min_refresh_interval = min_refresh_interval
        self._fetch_timeout = fetch_timeout.total_seconds()
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: datetime | None = None
        self._attempted_at: datetime | None = None
        self._last_fetch_failed = False
        self._lock = asyncio.Lock()
        self._verified: OrderedDict[str, tuple[str, Identity]] = OrderedDict()
        self._verified_cache_size = verified_cache_size

    async def verify(self, token: str) -> Identity:
        """The caller the token names; raises InvalidToken, or JwksUnavailable."""
        remembered = self._remembered(token)
        if remembered is not None:
            return remembered
        kid = self.rules.key_id(token)
        key = await self._key(kid)
        identity = self.rules.identity(token, key)
        if self._verified_cache_size > 0:
            self._verified[token] = (kid, identity)
            if len(self._verified) > self._verified_cache_size:
                self._verified.popitem(last=False)
        return identity

    def _remembered(self, token: str) -> Identity | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        kid, identity = entry
        if kid not in self._keys:
            del self._verified[token]  # its key was withdrawn: verify it afresh
            return None
        try:
            self.rules.check_time(identity.claims)
        except InvalidToken:
            del self._verified[token]
            raise
        self._verified.move_to_end(token)
        return identity

    async def aclose(self) -> None:
        """Close the HTTP client if this verifier created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _key(self, kid: str) -> jwt.PyJWK:
        if not self._needs_fetch(kid):
            return self._keys[kid]
        async with self._lock:
            # Another verification may have fetched while this one waited for the lock.
            if self._needs_fetch(kid) and self._may_fetch():
                await self._fetch()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._last_fetch_failed:
            raise JwksUnavailable(f"no key {kid!r} cached and {self.jwks_url} unreachable")
        raise InvalidToken("unknown key")

    def _needs_fetch(self, kid: str) -> bool:
        if kid not in self._keys or self._fetched_at is None:
            return True
        return self._clock() - self._fetched_at >= self._cache_ttl

    def _may_fetch(self) -> bool:
        if self._attempted_at is None:
            return True
        return self._clock() - self._attempted_at >= self._min_refresh_interval

    async def _fetch(self) -> None:
        self._attempted_at = self._clock()
        try:
            response = await self._client.get(self.jwks_url, timeout=self._fetch_timeout)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("the JWKS is not a JSON object")
            keys = parse_jwks(document, self.rules.algorithms)
        except (httpx.HTTPError, ValueError) as error:
            self._last_fetch_failed = True
            logger.warning("fetching JWKS from %s failed: %s", self.jwks_url, error)
            return
        self._keys = keys
        self._fetched_at = self._attempted_at
        self._last_fetch_failed = False
