from __future__ import annotations

import datetime
import logging
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from codeflow_messaging import kafka
from codeflow_messaging.security import PLAINTEXT, KafkaSecurity, KafkaSecurityError

STRONG = "s3cr3t-Fz9q-81kLmN0pQ"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key, PEM: a CA file and a client certificate alike."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "codeflow-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def scram(**environ: str) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_USERNAME": "janitor",
        "KAFKA_SASL_PASSWORD": STRONG,
        "CODEFLOW_ENV": "production",
        **environ,
    }


def test_no_variables_mean_plaintext_with_no_client_options() -> None:
    security = KafkaSecurity.from_env({})
    assert security.protocol == "PLAINTEXT"
    assert security.client_options() == {}
    assert security.faststream_security() is None
    assert not security.authenticated


def test_a_scram_user_over_tls_gives_aiokafka_its_mechanism_user_and_a_verifying_context() -> None:
    options = KafkaSecurity.from_env(scram()).client_options()
    context = options.pop("ssl_context")
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "janitor",
        "sasl_plain_password": STRONG,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_faststream_gets_the_same_user_and_mechanism() -> None:
    security = KafkaSecurity.from_env(scram()).faststream_security()
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == ("janitor", STRONG, True)
    sha256 = KafkaSecurity.from_env(scram(KAFKA_SASL_MECHANISM="scram-sha-256"))
    assert isinstance(sha256.faststream_security(), SASLScram256)


def test_the_broker_factory_passes_the_security_to_faststream() -> None:
    broker = kafka.create_broker(
        "127.0.0.1:9", client_id="t", security=KafkaSecurity.from_env(scram())
    )
    connection = broker._connection_kwargs
    assert connection["security_protocol"] == "SASL_SSL"
    assert connection["sasl_mechanism"] == "SCRAM-SHA-512"
    assert connection["sasl_plain_username"] == "janitor"
    assert isinstance(connection["ssl_context"], ssl.SSLContext)
    # An admin creates the topics where ACLs are enforced; subscribers don't try.
    assert not broker.config.broker_config.allow_auto_create_topics
    plaintext = kafka.create_broker("127.0.0.1:9", client_id="t", security=PLAINTEXT)
    assert plaintext.config.broker_config.allow_auto_create_topics


async def test_the_producer_factory_connects_with_the_security(
    certificate: tuple[Path, Path],
) -> None:
    ca, _ = certificate
    security = KafkaSecurity.from_env(scram(KAFKA_SSL_CAFILE=str(ca)))
    producer = kafka.create_producer("127.0.0.1:9", client_id="t", security=security)
    client = producer.client
    assert client._security_protocol == "SASL_SSL"
    assert client._sasl_mechanism == "SCRAM-SHA-512"
    assert client._sasl_plain_username == "janitor"
    await producer.stop()
    consumer = kafka.create_consumer("127.0.0.1:9", "a-topic", security=security)
    assert consumer._client._security_protocol == "SASL_SSL"
    await consumer.stop()
    admin = kafka.create_admin("127.0.0.1:9", security=security)
    assert admin._client._sasl_plain_username == "janitor"
    await admin.close()


@pytest.mark.parametrize("password", ["changeme", "CHANGETHIS", "secret", "password", "short"])
def test_a_placeholder_or_short_password_is_refused_outside_development(password: str) -> None:
    with pytest.raises(KafkaSecurityError, match="KAFKA_SASL_PASSWORD must be the user's SCRAM"):
        KafkaSecurity.from_env(scram(KAFKA_SASL_PASSWORD=password))


def test_development_takes_a_short_password_but_not_none() -> None:
    security = KafkaSecurity.from_env(scram(KAFKA_SASL_PASSWORD="dev", CODEFLOW_ENV="development"))
    assert security.client_options()["sasl_plain_password"] == "dev"
    with pytest.raises(KafkaSecurityError, match="KAFKA_SASL_PASSWORD must be"):
        KafkaSecurity.from_env(scram(KAFKA_SASL_PASSWORD="", CODEFLOW_ENV="test"))


def test_sasl_without_a_user_is_refused() -> None:
    with pytest.raises(KafkaSecurityError, match="KAFKA_SASL_USERNAME must name"):
        KafkaSecurity.from_env(scram(KAFKA_SASL_USERNAME=""))


def test_credentials_with_plaintext_are_refused_rather_than_silently_unused() -> None:
    with pytest.raises(KafkaSecurityError, match="set it to SASL_SSL"):
        KafkaSecurity.from_env(scram(KAFKA_SECURITY_PROTOCOL="PLAINTEXT"))
    with pytest.raises(KafkaSecurityError, match="set it to SSL or SASL_SSL"):
        KafkaSecurity.from_env({"KAFKA_SSL_CAFILE": "/etc/hostname"})


def test_a_missing_ca_file_is_named() -> None:
    with pytest.raises(KafkaSecurityError, match=r"KAFKA_SSL_CAFILE=/nowhere/ca.pem is not"):
        KafkaSecurity.from_env(scram(KAFKA_SSL_CAFILE="/nowhere/ca.pem"))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "KAFKA_SECURITY_PROTOCOL='SASL_PLAINTEXT'"),
        ("KAFKA_SASL_MECHANISM", "PLAIN", "KAFKA_SASL_MECHANISM='PLAIN' is not"),
    ],
)
def test_unsupported_protocols_and_mechanisms_are_named(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(KafkaSecurityError, match=expected):
        KafkaSecurity.from_env(scram(**{name: value}))


def test_mutual_tls_loads_the_client_certificate(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    environ = {
        "KAFKA_SECURITY_PROTOCOL": "ssl",
        "KAFKA_SSL_CAFILE": str(cert),
        "KAFKA_SSL_CERTFILE": str(cert),
        "KAFKA_SSL_KEYFILE": str(key),
    }
    security = KafkaSecurity.from_env(environ)
    assert security.authenticated
    assert security.client_options()["security_protocol"] == "SSL"
    faststream = security.faststream_security()
    assert type(faststream) is BaseSecurity
    assert faststream.use_ssl
    with pytest.raises(KafkaSecurityError, match="go together"):
        KafkaSecurity.from_env({**environ, "KAFKA_SSL_KEYFILE": ""})


def test_the_password_stays_out_of_repr_and_descriptions() -> None:
    security = KafkaSecurity.from_env(scram())
    assert STRONG not in repr(security)
    assert STRONG not in security.describe()
    assert security.describe() == "SASL_SSL (SCRAM-SHA-512) as janitor"


def test_plaintext_outside_development_is_allowed_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="codeflow.kafka"):
        KafkaSecurity.from_env({"CODEFLOW_ENV": "production"}).warn_if_unauthenticated("janitor")
        KafkaSecurity.from_env({"CODEFLOW_ENV": "development"}).warn_if_unauthenticated("dev")
        KafkaSecurity.from_env(scram()).warn_if_unauthenticated("scram")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "janitor connects to Kafka over PLAINTEXT" in record.getMessage()
    assert "DeleteUserData" in record.getMessage()
