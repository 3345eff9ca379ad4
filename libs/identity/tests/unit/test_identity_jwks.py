import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from codeflow_identity import (
    InvalidToken,
    JwksUnavailable,
    JwksVerifier,
    KeySet,
    TokenIssuer,
    generate_signing_key,
)
from codeflow_identity.testing import FakeClock

JWKS_URL = "http://auth.test/auth/.well-known/jwks.json"


class FakeAuth:
    """Serves a key set's JWKS, counting requests; can be taken down."""

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset
        self.fetches = 0
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.down:
            return httpx.Response(502)
        return httpx.Response(200, json=self.keyset.jwks())


@pytest.fixture
def auth(keyset: KeySet) -> FakeAuth:
    return FakeAuth(keyset)


@asynccontextmanager
async def verifier_of(
    auth: Callable[[httpx.Request], httpx.Response],
    issuer: TokenIssuer,
    clock: FakeClock,
    **options: Any,
) -> AsyncIterator[JwksVerifier]:
    """A verifier of ``issuer``'s tokens that fetches the JWKS from ``auth``."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(auth))
    async with (
        client,
        JwksVerifier(
            JWKS_URL,
            issuer=issuer.issuer,
            audience=issuer.audience,
            http_client=client,
            clock=clock,
            **options,
        ) as verifier,
    ):
        yield verifier


@pytest.fixture
async def verifier(
    auth: FakeAuth, issuer: TokenIssuer, clock: FakeClock
) -> AsyncIterator[JwksVerifier]:
    async with verifier_of(auth, issuer, clock) as verifier:
        yield verifier


def token_from_a_stranger(issuer: TokenIssuer, kid: str) -> str:
    stranger = KeySet(generate_signing_key(kid=kid))
    return TokenIssuer(stranger, issuer.issuer, issuer.audience).issue("user-1")


async def cache_the_keys_then_wait(
    verifier: JwksVerifier, issuer: TokenIssuer, clock: FakeClock, wait: timedelta
) -> None:
    """Verify one token, so that the verifier holds auth's keys, then let ``wait`` pass."""
    await verifier.verify(issuer.issue("user-1"))
    clock.advance(wait)


async def test_keys_are_fetched_once_and_cached(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth
) -> None:
    for _ in range(3):
        assert (await verifier.verify(issuer.issue("user-1"))).user_id == "user-1"

    assert auth.fetches == 1


async def test_stale_keys_are_fetched_again_after_the_cache_ttl(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(minutes=5))

    await verifier.verify(issuer.issue("user-1"))

    assert auth.fetches == 2


async def test_an_unknown_kid_triggers_one_refetch_and_is_refused(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(seconds=10))

    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(token_from_a_stranger(issuer, "made-up"))

    assert auth.fetches == 2


async def test_a_flood_of_made_up_kids_fetches_at_most_once_per_interval(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(seconds=10))

    for n in range(50):
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(token_from_a_stranger(issuer, f"forged-{n}"))
        clock.advance(timedelta(milliseconds=100))

    assert auth.fetches == 2


async def test_concurrent_verifications_share_one_fetch(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth
) -> None:
    tokens = [issuer.issue(f"user-{n}") for n in range(20)]

    identities = await asyncio.gather(*(verifier.verify(token) for token in tokens))

    assert [identity.user_id for identity in identities] == [f"user-{n}" for n in range(20)]
    assert auth.fetches == 1


async def test_after_rotation_old_and_new_tokens_both_verify(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    old_token = issuer.issue("user-1")
    await verifier.verify(old_token)
    rotated = auth.keyset.rotate(generate_signing_key())
    auth.keyset = rotated
    clock.advance(timedelta(seconds=30))
    new_token = TokenIssuer(rotated, issuer.issuer, issuer.audience, clock=clock).issue("user-2")

    assert (await verifier.verify(new_token)).user_id == "user-2"
    assert (await verifier.verify(old_token)).user_id == "user-1"
    assert auth.fetches == 2


async def test_a_key_removed_from_the_jwks_stops_verifying_once_refetched(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(minutes=5))
    auth.keyset = KeySet(generate_signing_key())

    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(issuer.issue("user-1"))


async def test_with_auth_down_and_nothing_cached_the_jwks_is_unavailable(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth
) -> None:
    auth.down = True

    with pytest.raises(JwksUnavailable):
        await verifier.verify(issuer.issue("user-1"))


async def test_with_auth_down_cached_keys_keep_working_after_the_cache_ttl(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(minutes=6))
    auth.down = True

    assert (await verifier.verify(issuer.issue("user-1"))).user_id == "user-1"
    assert auth.fetches == 2


async def test_with_auth_down_an_uncached_kid_is_unavailable_not_invalid(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    await cache_the_keys_then_wait(verifier, issuer, clock, timedelta(seconds=10))
    auth.down = True

    with pytest.raises(JwksUnavailable):
        await verifier.verify(token_from_a_stranger(issuer, "new-key"))


async def test_the_verifier_recovers_when_auth_comes_back(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    auth.down = True
    with pytest.raises(JwksUnavailable):
        await verifier.verify(issuer.issue("user-1"))
    auth.down = False
    clock.advance(timedelta(seconds=10))

    assert (await verifier.verify(issuer.issue("user-1"))).user_id == "user-1"


async def test_a_jwks_that_is_not_json_counts_as_unavailable(
    issuer: TokenIssuer, clock: FakeClock
) -> None:
    async with verifier_of(
        lambda request: httpx.Response(200, text="<html>"), issuer, clock
    ) as verifier:
        with pytest.raises(JwksUnavailable):
            await verifier.verify(issuer.issue("user-1"))


async def test_hmac_keys_in_the_jwks_are_ignored(issuer: TokenIssuer, clock: FakeClock) -> None:
    kid = issuer.keyset.current.kid
    jwks = {"keys": [{"kty": "oct", "kid": kid, "alg": "HS256", "k": "c2VjcmV0"}]}
    async with verifier_of(
        lambda request: httpx.Response(200, json=jwks), issuer, clock
    ) as verifier:
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(issuer.issue("user-1"))


async def test_keys_are_fetched_from_an_asgi_auth_app(
    keyset: KeySet, issuer: TokenIssuer, clock: FakeClock
) -> None:
    auth_app = FastAPI()

    @auth_app.get("/auth/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return keyset.jwks()

    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
        verifier = JwksVerifier(
            "http://auth/auth/.well-known/jwks.json",
            issuer=issuer.issuer,
            audience=issuer.audience,
            http_client=client,
            clock=clock,
        )

        assert (await verifier.verify(issuer.issue("user-1"))).user_id == "user-1"


class CountingRules:
    """Counts the verifier's full verifications (signature and claims)."""

    def __init__(self, verifier: JwksVerifier) -> None:
        self.calls = 0
        identity = verifier.rules.identity

        def counted(token: str, key: Any) -> Any:
            self.calls += 1
            return identity(token, key)

        object.__setattr__(verifier.rules, "identity", counted)


async def test_a_token_seen_before_is_not_verified_again(
    verifier: JwksVerifier, issuer: TokenIssuer
) -> None:
    counting = CountingRules(verifier)
    token = issuer.issue("user-1")

    identities = [await verifier.verify(token) for _ in range(3)]

    assert [identity.user_id for identity in identities] == ["user-1"] * 3
    assert counting.calls == 1


async def test_a_remembered_token_is_refused_once_it_expires(
    verifier: JwksVerifier, issuer: TokenIssuer, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    await verifier.verify(token)
    clock.advance(issuer.ttl + timedelta(minutes=1))

    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_jwks(
    verifier: JwksVerifier, issuer: TokenIssuer, auth: FakeAuth, clock: FakeClock
) -> None:
    old_token = issuer.issue("user-1")
    await verifier.verify(old_token)
    # Auth drops the old key; a token signed with the new one makes the verifier refetch.
    auth.keyset = KeySet(generate_signing_key())
    clock.advance(timedelta(seconds=30))
    new_issuer = TokenIssuer(auth.keyset, issuer.issuer, issuer.audience, clock=clock)
    await verifier.verify(new_issuer.issue("user-2"))

    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(old_token)


async def test_a_token_that_failed_is_checked_again_every_time(
    verifier: JwksVerifier, issuer: TokenIssuer
) -> None:
    header, payload, _ = issuer.issue("user-1").split(".")
    other_signature = issuer.issue("user-2").split(".")[2]
    forged = f"{header}.{payload}.{other_signature}"
    counting = CountingRules(verifier)

    for _ in range(2):
        with pytest.raises(InvalidToken, match="bad signature"):
            await verifier.verify(forged)

    assert counting.calls == 2


async def test_only_the_most_recent_tokens_are_remembered(
    auth: FakeAuth, issuer: TokenIssuer, clock: FakeClock
) -> None:
    async with verifier_of(auth, issuer, clock, verified_cache_size=2) as verifier:
        counting = CountingRules(verifier)
        first, second, third = (issuer.issue(f"user-{n}") for n in range(3))
        for token in (first, second, third, third, second):
            await verifier.verify(token)
        assert counting.calls == 3  # second and third were remembered
        await verifier.verify(first)  # pushed out by the third: verified afresh
        assert counting.calls == 4
