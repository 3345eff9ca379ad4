"""The token cipher: AES-256-GCM, key ids for rotation, ciphertexts bound to their column."""

from __future__ import annotations

import base64

import pytest

from codeflow_auth.token_cipher import (
    DecryptionFailed,
    InvalidKeyConfig,
    TokenCipher,
    UnknownKey,
    generate_key,
)

ACCESS = "accounts.access_token"
OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(32, 64))


def test_a_token_round_trips_in_the_versioned_format() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")

    sealed = cipher.encrypt("gho_secret", purpose=ACCESS)

    version, kid, payload = sealed.split(".")
    assert (version, kid) == ("v1", "k1")
    assert "gho_secret" not in sealed
    assert "=" not in payload
    assert cipher.decrypt(sealed, purpose=ACCESS) == "gho_secret"


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    assert cipher.encrypt("same", purpose=ACCESS) != cipher.encrypt("same", purpose=ACCESS)


def test_unicode_and_empty_tokens_round_trip() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    for plaintext in ("", "jeton-é-🔑"):
        assert (
            cipher.decrypt(cipher.encrypt(plaintext, purpose=ACCESS), purpose=ACCESS) == plaintext
        )


def test_after_rotation_old_ciphertexts_decrypt_and_new_ones_use_the_current_key() -> None:
    before = TokenCipher({"k0": OLD_KEY}, current="k0")
    old = before.encrypt("old token", purpose=ACCESS)

    after = TokenCipher({"k1": NEW_KEY, "k0": OLD_KEY}, current="k1")

    assert after.decrypt(old, purpose=ACCESS) == "old token"
    assert after.encrypt("new token", purpose=ACCESS).startswith("v1.k1.")
    assert after.current_kid == "k1"


def test_a_ciphertext_of_a_retired_key_names_the_unknown_key() -> None:
    old = TokenCipher({"k0": OLD_KEY}, current="k0").encrypt("t", purpose=ACCESS)
    with pytest.raises(UnknownKey, match="k0"):
        TokenCipher({"k1": NEW_KEY}, current="k1").decrypt(old, purpose=ACCESS)


def test_a_tampered_ciphertext_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    version, kid, payload = cipher.encrypt("gho_secret", purpose=ACCESS).split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-1] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    with pytest.raises(DecryptionFailed):
        cipher.decrypt(f"{version}.{kid}.{tampered}", purpose=ACCESS)


def test_a_ciphertext_moved_to_another_column_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    sealed = cipher.encrypt("gho_secret", purpose=ACCESS)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, purpose="accounts.refresh_token")


def test_a_ciphertext_relabelled_with_another_key_id_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY, "k0": NEW_KEY}, current="k1")
    _, _, payload = cipher.encrypt("gho_secret", purpose=ACCESS).split(".")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(f"v1.k0.{payload}", purpose=ACCESS)


@pytest.mark.parametrize(
    "malformed", ["", "plaintext", "v1.k1", "v2.k1.AAAA", "v1.k1.not*base64", "v1.k1.AAAA"]
)
def test_malformed_ciphertexts_are_refused(malformed: str) -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(malformed, purpose=ACCESS)


def test_repr_names_key_ids_but_never_keys() -> None:
    key = generate_key()
    cipher = TokenCipher.from_config(f"k1:{key}")
    shown = repr(cipher) + str(cipher)
    assert "k1" in shown
    assert key not in shown
    assert repr(base64.urlsafe_b64decode(key + "=")) not in shown


def test_from_config_makes_the_first_key_current_and_accepts_either_base64() -> None:
    standard = base64.b64encode(OLD_KEY).decode()
    cipher = TokenCipher.from_config(f" k2:{generate_key()} , k0:{standard},")
    assert cipher.current_kid == "k2"
    old = TokenCipher({"k0": OLD_KEY}, current="k0").encrypt("t", purpose=ACCESS)
    assert cipher.decrypt(old, purpose=ACCESS) == "t"


@pytest.mark.parametrize(
    "spec",
    [
        "",
        " , ",
        "nokey",
        ":" + base64.b64encode(OLD_KEY).decode(),
        "k1:" + base64.b64encode(OLD_KEY[:16]).decode(),
        "k1:not base64!",
        f"k1:{base64.b64encode(OLD_KEY).decode()},k1:{base64.b64encode(NEW_KEY).decode()}",
        f"k.1:{base64.b64encode(OLD_KEY).decode()}",
    ],
)
def test_malformed_key_configurations_are_refused(spec: str) -> None:
    with pytest.raises(InvalidKeyConfig):
        TokenCipher.from_config(spec)


def test_the_current_key_must_be_one_of_the_keys() -> None:
    with pytest.raises(InvalidKeyConfig):
        TokenCipher({"k1": NEW_KEY}, current="k2")


def test_generated_keys_are_random_256_bit_keys() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
