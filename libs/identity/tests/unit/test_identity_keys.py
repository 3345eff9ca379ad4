import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from codeflow_identity import KeySet, PublicKey, SigningKey, generate_signing_key, jwk_thumbprint


def test_thumbprint_matches_the_rfc_8037_example() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}

    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_key_loaded_from_pem_gets_its_thumbprint_as_kid_by_default() -> None:
    key = generate_signing_key()

    loaded = SigningKey.from_pem(key.private_pem())

    assert loaded.kid == key.kid == jwk_thumbprint(key.public_jwk())
    assert loaded.public_jwk() == key.public_jwk()


def test_a_pem_with_escaped_newlines_from_an_environment_variable_loads() -> None:
    key = generate_signing_key()
    one_line = key.private_pem().strip().replace("\n", "\\n")

    assert SigningKey.from_pem(one_line, kid="k1").public_jwk()["x"] == key.public_jwk()["x"]


def test_an_explicit_kid_is_kept() -> None:
    assert SigningKey.from_pem(generate_signing_key().private_pem(), kid="2025-01").kid == "2025-01"


def test_a_non_ed25519_key_is_refused() -> None:
    pem = (
        generate_private_key(SECP256R1())
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )

    with pytest.raises(ValueError, match="Ed25519"):
        SigningKey.from_pem(pem)


def test_the_public_jwk_names_kid_alg_and_use_and_holds_no_private_part() -> None:
    key = generate_signing_key(kid="k1")

    jwk = key.public_jwk()

    assert jwk["kid"] == "k1"
    assert jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig"
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    assert "d" not in jwk


def test_a_public_key_round_trips_through_pem() -> None:
    public = generate_signing_key().public_key

    assert PublicKey.from_pem(public.pem()).jwk() == public.jwk()


def test_the_jwks_lists_the_current_key_first_then_retired_ones() -> None:
    old, new = generate_signing_key(kid="old"), generate_signing_key(kid="new")

    rotated = KeySet(old).rotate(new)

    assert [jwk["kid"] for jwk in rotated.jwks()["keys"]] == ["new", "old"]
    assert rotated.current is new
    json.dumps(rotated.jwks())


def test_a_key_set_refuses_duplicate_kids() -> None:
    with pytest.raises(ValueError, match="unique"):
        KeySet(generate_signing_key(kid="k"), [generate_signing_key(kid="k").public_key])


def test_keys_do_not_show_private_material_in_repr() -> None:
    key = generate_signing_key(kid="k1")

    assert repr(key) == "SigningKey(kid='k1')"
