"""The local broker's secure mode: its own CA and certificate, and a SCRAM user per principal.

Everything lives in ``<kafka dir>/security`` (files readable by their owner only), made once
and kept, so the broker and its clients agree across restarts:

- ``ca.pem``: a self-signed CA, the ``KAFKA_SSL_CAFILE`` of every client;
- ``broker.pem``: the broker's key (PKCS #8) and certificate for ``127.0.0.1`` and
  ``localhost``, signed by that CA; the broker also presents it to its own controller
  listener (mutual TLS, principal ``User:CN=codeflow-kafka-broker``);
- ``credentials.json``: a random SCRAM password for each principal of
  :data:`codeflow_infra.kafka_acls.PRINCIPALS`.

Nothing here is meant for a real cluster, whose CA and passwords come from its operators.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from codeflow_infra.config import InfraConfig
from codeflow_infra.kafka_acls import PRINCIPALS
from codeflow_messaging.security import KafkaSecurity

BROKER_COMMON_NAME = "codeflow-kafka-broker"
BROKER_PRINCIPAL = f"User:CN={BROKER_COMMON_NAME}"
"""How the broker is known on its own controller listener (its certificate's subject)."""

SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
_VALIDITY = datetime.timedelta(days=825)


@dataclass(frozen=True)
class LocalKafkaSecrets:
    """The files of one local broker's secure mode."""

    directory: Path

    @classmethod
    def of(cls, config: InfraConfig) -> LocalKafkaSecrets:
        """The secrets of the local broker of ``config``."""
        return cls(config.kafka_dir / "security")

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def broker_file(self) -> Path:
        return self.directory / "broker.pem"

    @property
    def credentials_file(self) -> Path:
        return self.directory / "credentials.json"

    def ensure(self) -> None:
        """Make what is missing: the CA and the broker's certificate, the passwords."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (self.ca_file.is_file() and self.broker_file.is_file()):
            ca_pem, broker_pem = _certificates()
            _write_private(self.ca_file, ca_pem)
            _write_private(self.broker_file, broker_pem)
        known = self._read_credentials()
        missing = [name for name in PRINCIPALS if name not in known]
        if missing:
            known |= {name: secrets.token_hex(24) for name in missing}
            _write_private(self.credentials_file, (json.dumps(known, indent=2) + "\n").encode())

    def _read_credentials(self) -> dict[str, str]:
        try:
            data = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError):
            return {}
        return {str(name): str(password) for name, password in data.items()}

    def password(self, principal: str) -> str:
        credentials = self._read_credentials()
        if principal not in credentials:
            raise KeyError(f"no SCRAM user {principal!r} in {self.credentials_file}")
        return credentials[principal]

    def scram_options(self) -> list[str]:
        """The storage tool's ``--add-scram`` options: every principal's SCRAM credential."""
        options: list[str] = []
        for name, password in self._read_credentials().items():
            options += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
        return options

    def security(self, principal: str, *, password: str | None = None) -> KafkaSecurity:
        """Client settings of ``principal`` (SCRAM over TLS, trusting this CA); ``password``
        overrides the recorded one (to be refused)."""
        return KafkaSecurity(
            protocol="SASL_SSL",
            sasl_mechanism=SCRAM_MECHANISM,
            sasl_username=principal,
            sasl_password=self.password(principal) if password is None else password,
            ssl_cafile=self.ca_file,
            environment="development",
        )

    def environment(self, principal: str) -> dict[str, str]:
        """The same as environment variables, for a service process."""
        return {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": SCRAM_MECHANISM,
            "KAFKA_SASL_USERNAME": principal,
            "KAFKA_SASL_PASSWORD": self.password(principal),
            "KAFKA_SSL_CAFILE": str(self.ca_file),
        }


def _write_private(path: Path, content: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_bytes(content)


def _certificates() -> tuple[bytes, bytes]:
    """A CA certificate (PEM), and the broker's PKCS #8 key and certificate (PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "codeflow-local-kafka-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    broker = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_COMMON_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), key_pem + broker.public_bytes(pem) + ca.public_bytes(pem)
