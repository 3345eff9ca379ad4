import pytest

from codeflow_identity import KeySet, SigningKey, TokenIssuer, generate_signing_key
from codeflow_identity.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def signing_key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture
def keyset(signing_key: SigningKey) -> KeySet:
    return KeySet(signing_key)


@pytest.fixture
def issuer(keyset: KeySet, clock: FakeClock) -> TokenIssuer:
    return TokenIssuer(keyset, "codeflow/auth", "codeflow", clock=clock)
