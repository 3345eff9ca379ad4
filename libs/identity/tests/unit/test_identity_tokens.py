import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from codeflow_identity import (
    InvalidToken,
    KeySet,
    SigningKey,
    StaticKeyVerifier,
    TokenIssuer,
    generate_signing_key,
)
from codeflow_identity.testing import FakeClock

ISSUER = "codeflow/auth"
AUDIENCE = "codeflow"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def verifier_for(keyset: KeySet, clock: FakeClock, **kwargs: Any) -> StaticKeyVerifier:
    options: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "clock": clock, **kwargs}
    return StaticKeyVerifier(keyset.jwks(), **options)


async def refusal(verifier: StaticKeyVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)
    return refused.value.reason


async def test_a_fresh_token_verifies_and_names_the_user(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    token = issuer.issue("user-1", extra_claims={"login": "octocat", "admin": True})

    identity = await verifier_for(keyset, clock).verify(token)

    assert identity.user_id == "user-1"
    assert identity.login == "octocat"
    assert identity.is_admin
    assert identity.expires_at == clock.now + timedelta(minutes=5)


async def test_a_token_without_optional_claims_is_no_admin_and_has_no_login(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    identity = await verifier_for(keyset, clock).verify(issuer.issue("user-1"))

    assert identity.login is None
    assert not identity.is_admin


def test_an_issued_token_carries_the_registered_claims_and_the_kid(
    issuer: TokenIssuer, signing_key: SigningKey, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    now = int(clock.now.timestamp())

    claims = claims_of(token)

    assert jwt.get_unverified_header(token)["kid"] == signing_key.kid
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert claims["sub"] == "user-1"
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (now, now, now + 300)
    assert claims["jti"] != claims_of(issuer.issue("user-1"))["jti"]


def test_an_issuer_refuses_a_lifetime_over_five_minutes(keyset: KeySet) -> None:
    with pytest.raises(ValueError, match="maximum"):
        TokenIssuer(keyset, ISSUER, AUDIENCE, ttl=timedelta(minutes=5, seconds=1))


def test_the_lifetime_cap_is_configurable(keyset: KeySet) -> None:
    issuer = TokenIssuer(
        keyset, ISSUER, AUDIENCE, ttl=timedelta(minutes=10), max_ttl=timedelta(minutes=15)
    )

    assert issuer.ttl == timedelta(minutes=10)


def test_extra_claims_cannot_replace_registered_claims(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="sub"):
        issuer.issue("user-1", extra_claims={"sub": "someone-else"})


async def test_an_expired_token_is_refused(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    clock.advance(timedelta(minutes=5, seconds=6))

    assert await refusal(verifier_for(keyset, clock), token) == "expired"


async def test_a_token_just_past_expiry_is_accepted_within_the_leeway(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    clock.advance(timedelta(minutes=5, seconds=4))

    assert (await verifier_for(keyset, clock).verify(token)).user_id == "user-1"


async def test_a_token_from_the_future_is_not_yet_valid(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    token = issuer.issue("user-1")
    clock.advance(timedelta(seconds=-30))

    assert await refusal(verifier_for(keyset, clock), token) == "not yet valid"


async def test_a_token_for_another_audience_is_refused(keyset: KeySet, clock: FakeClock) -> None:
    token = TokenIssuer(keyset, ISSUER, "somebody-else", clock=clock).issue("user-1")

    assert await refusal(verifier_for(keyset, clock), token) == "wrong audience"


async def test_a_token_from_another_issuer_is_refused(keyset: KeySet, clock: FakeClock) -> None:
    token = TokenIssuer(keyset, "evil", AUDIENCE, clock=clock).issue("user-1")

    assert await refusal(verifier_for(keyset, clock), token) == "wrong issuer"


async def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(
    signing_key: SigningKey, keyset: KeySet, clock: FakeClock
) -> None:
    impostor = KeySet(generate_signing_key(kid=signing_key.kid))
    token = TokenIssuer(impostor, ISSUER, AUDIENCE, clock=clock).issue("user-1")

    assert await refusal(verifier_for(keyset, clock), token) == "bad signature"


async def test_a_token_naming_a_kid_not_in_the_key_set_is_refused(
    keyset: KeySet, clock: FakeClock
) -> None:
    token = TokenIssuer(KeySet(generate_signing_key()), ISSUER, AUDIENCE, clock=clock).issue("u")

    assert await refusal(verifier_for(keyset, clock), token) == "unknown key"


async def test_an_unsigned_alg_none_token_is_refused(
    issuer: TokenIssuer, signing_key: SigningKey, keyset: KeySet, clock: FakeClock
) -> None:
    payload = claims_of(issuer.issue("user-1"))
    token = unsigned_token({"alg": "none", "typ": "JWT", "kid": signing_key.kid}, payload) + "."

    assert await refusal(verifier_for(keyset, clock), token) == "unsupported algorithm"


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
async def test_an_hmac_token_keyed_with_the_public_key_is_refused(
    secret_form: str,
    issuer: TokenIssuer,
    signing_key: SigningKey,
    keyset: KeySet,
    clock: FakeClock,
) -> None:
    payload = claims_of(issuer.issue("admin-wannabe"))
    signing_input = unsigned_token({"alg": "HS256", "kid": signing_key.kid}, payload)
    public = signing_key.public_key
    secret = public.pem() if secret_form == "pem" else json.dumps(public.jwk())
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"

    assert await refusal(verifier_for(keyset, clock), token) == "unsupported algorithm"


async def test_a_tampered_payload_fails_the_signature(
    issuer: TokenIssuer, keyset: KeySet, clock: FakeClock
) -> None:
    header, _, signature = issuer.issue("user-1").split(".")
    forged = {**claims_of(issuer.issue("user-1")), "sub": "user-2"}
    token = f"{header}.{b64url(json.dumps(forged).encode())}.{signature}"

    assert await refusal(verifier_for(keyset, clock), token) == "bad signature"


async def test_a_token_without_a_subject_is_refused(
    signing_key: SigningKey, keyset: KeySet, clock: FakeClock
) -> None:
    now = int(clock.now.timestamp())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60}
    token = jwt.encode(
        payload, signing_key.private_key, algorithm="EdDSA", headers={"kid": signing_key.kid}
    )

    assert await refusal(verifier_for(keyset, clock), token) == "missing claim sub"


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "....."])
async def test_garbage_is_a_malformed_token(garbage: str, keyset: KeySet, clock: FakeClock) -> None:
    assert await refusal(verifier_for(keyset, clock), garbage) == "malformed token"


def test_a_verifier_cannot_be_configured_to_accept_hmac(keyset: KeySet) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        StaticKeyVerifier(keyset.jwks(), issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"])
