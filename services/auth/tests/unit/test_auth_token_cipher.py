"""The token cipher: AES-256-GCM, key ids for rotation, ciphertexts bound to their column and
row, and the old column-only format still read."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
ROW = ("github", "583231")
OTHER_ROW = ("github", "9001")


def test_a_token_round_trips_in_the_versioned_format() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")

    sealed = cipher.encrypt("gho_secret", purpose=ACCESS, row=ROW)

    version, kid, payload = sealed.split(".")
    assert (version, kid) == ("v2", "k1")
    assert "gho_secret" not in sealed
    assert "=" not in payload
    assert cipher.decrypt(sealed, purpose=ACCESS, row=ROW) == "gho_secret"


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    first, second = (cipher.encrypt("same", purpose=ACCESS, row=ROW) for _ in range(2))
    assert first != second


def test_unicode_and_empty_tokens_round_trip() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    for plaintext in ("", "jeton-é-🔑"):
        sealed = cipher.encrypt(plaintext, purpose=ACCESS, row=ROW)
        assert cipher.decrypt(sealed, purpose=ACCESS, row=ROW) == plaintext


def test_after_rotation_old_ciphertexts_decrypt_and_new_ones_use_the_current_key() -> None:
    before = TokenCipher({"k0": OLD_KEY}, current="k0")
    old = before.encrypt("old token", purpose=ACCESS, row=ROW)

    after = TokenCipher({"k1": NEW_KEY, "k0": OLD_KEY}, current="k1")

    assert after.decrypt(old, purpose=ACCESS, row=ROW) == "old token"
    assert after.encrypt("new token", purpose=ACCESS, row=ROW).startswith("v2.k1.")
    assert after.current_kid == "k1"


def test_a_ciphertext_of_a_retired_key_names_the_unknown_key() -> None:
    old = TokenCipher({"k0": OLD_KEY}, current="k0").encrypt("t", purpose=ACCESS, row=ROW)
    with pytest.raises(UnknownKey, match="k0"):
        TokenCipher({"k1": NEW_KEY}, current="k1").decrypt(old, purpose=ACCESS, row=ROW)


def test_a_tampered_ciphertext_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    version, kid, payload = cipher.encrypt("gho_secret", purpose=ACCESS, row=ROW).split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-1] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    with pytest.raises(DecryptionFailed):
        cipher.decrypt(f"{version}.{kid}.{tampered}", purpose=ACCESS, row=ROW)


def test_a_ciphertext_moved_to_another_column_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    sealed = cipher.encrypt("gho_secret", purpose=ACCESS, row=ROW)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, purpose="accounts.refresh_token", row=ROW)


def test_a_ciphertext_relabelled_with_another_key_id_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY, "k0": NEW_KEY}, current="k1")
    _, _, payload = cipher.encrypt("gho_secret", purpose=ACCESS, row=ROW).split(".")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(f"v2.k0.{payload}", purpose=ACCESS, row=ROW)


@pytest.mark.parametrize(
    "malformed", ["", "plaintext", "v2.k1", "v3.k1.AAAA", "v2.k1.not*base64", "v2.k1.AAAA"]
)
def test_malformed_ciphertexts_are_refused(malformed: str) -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(malformed, purpose=ACCESS, row=ROW)


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
    old = TokenCipher({"k0": OLD_KEY}, current="k0").encrypt("t", purpose=ACCESS, row=ROW)
    assert cipher.decrypt(old, purpose=ACCESS, row=ROW) == "t"


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


def test_a_ciphertext_moved_to_another_accounts_row_is_refused() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    sealed = cipher.encrypt("gho_secret", purpose=ACCESS, row=ROW)

    assert cipher.decrypt(sealed, purpose=ACCESS, row=ROW) == "gho_secret"
    with pytest.raises(DecryptionFailed, match="another row or column"):
        cipher.decrypt(sealed, purpose=ACCESS, row=OTHER_ROW)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, purpose="accounts.refresh_token", row=ROW)


def test_a_row_binding_is_unambiguous_whatever_its_values_hold() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    sealed = cipher.encrypt("gho_secret", purpose=ACCESS, row=("github", "1.2"))
    for lookalike in [("github.1", "2"), ("github", "1", "2"), ("github", "1.2 ")]:
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(sealed, purpose=ACCESS, row=lookalike)


def test_a_ciphertext_of_the_old_format_without_a_row_still_decrypts() -> None:
    # v1: nonce + AES-GCM under the associated data "v1.<kid>.<purpose>", no row.
    nonce = bytes(12)
    raw = AESGCM(OLD_KEY).encrypt(nonce, b"gho_legacy", f"v1.k0.{ACCESS}".encode())
    legacy = "v1.k0." + base64.urlsafe_b64encode(nonce + raw).decode().rstrip("=")
    cipher = TokenCipher({"k1": NEW_KEY, "k0": OLD_KEY}, current="k1")

    assert cipher.decrypt(legacy, purpose=ACCESS, row=ROW) == "gho_legacy"
    assert not cipher.is_current(legacy)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(legacy, purpose="accounts.refresh_token", row=ROW)


def test_a_row_must_be_a_sequence_of_values_not_one_string() -> None:
    cipher = TokenCipher({"k1": NEW_KEY}, current="k1")
    with pytest.raises(TypeError):
        cipher.encrypt("gho_secret", purpose=ACCESS, row="github:583231")


def test_only_the_newest_format_under_the_current_key_is_current() -> None:
    old = TokenCipher({"k0": OLD_KEY}, current="k0")
    cipher = TokenCipher({"k1": NEW_KEY, "k0": OLD_KEY}, current="k1")

    assert cipher.is_current(cipher.encrypt("t", purpose=ACCESS, row=ROW))
    assert not cipher.is_current(old.encrypt("t", purpose=ACCESS, row=ROW))
    assert not cipher.is_current("not a ciphertext")
