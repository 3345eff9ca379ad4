"""How CodeFlow's Kafka clients prove who they are: one :class:`KafkaSecurity` for all of them.

Every client opened towards Kafka (the FastStream broker, the relay's and the dead-letter
publisher's producers, consumers, admin clients, the operators' commands) takes its options
from one object read from the environment:

- ``KAFKA_SECURITY_PROTOCOL``: ``PLAINTEXT`` (the default), ``SASL_SSL`` (a SCRAM user over
  TLS) or ``SSL`` (TLS; a client certificate makes it mutual TLS);
- ``KAFKA_SASL_MECHANISM``: ``SCRAM-SHA-512`` (the default) or ``SCRAM-SHA-256``;
- ``KAFKA_SASL_USERNAME``, ``KAFKA_SASL_PASSWORD``: the service's own principal;
- ``KAFKA_SSL_CAFILE``: the CA that signed the brokers' certificates (the system's trust
  store when unset);
- ``KAFKA_SSL_CERTFILE``, ``KAFKA_SSL_KEYFILE`` (and ``KAFKA_SSL_KEY_PASSWORD``): a client
  certificate, for mutual TLS.

Outside development and tests a placeholder password is refused, as auth refuses placeholder
secrets, and a PLAINTEXT connection is allowed but logged as a WARNING at startup: anyone who
reaches such a broker may publish anything, ``DeleteUserData`` included (ADR 0014).
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLScram256, SASLScram512

Protocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]

PROTOCOLS: tuple[Protocol, ...] = ("PLAINTEXT", "SSL", "SASL_SSL")
MECHANISMS: tuple[Mechanism, ...] = ("SCRAM-SHA-512", "SCRAM-SHA-256")
RELAXED_ENVIRONMENTS = frozenset({"development", "test"})
MIN_PASSWORD_LENGTH = 16

PLACEHOLDER_PASSWORDS = frozenset(
    {
        "",
        "changethis",
        "change-me",
        "changeme",
        "password",
        "placeholder",
        "secret",
        "kafka",
        "kafka-secret",
        "admin-secret",
        "replace-me",
    }
)
"""Values that are never real passwords (the example manifests' among them)."""

logger = logging.getLogger("codeflow.kafka")


class KafkaSecurityError(ValueError):
    """The environment's Kafka security settings can't be used; the message says which to fix."""


@dataclass(frozen=True)
class KafkaSecurity:
    """The security settings of every Kafka client of one process.

    Build it with :meth:`from_env`; ``KafkaSecurity()`` is PLAINTEXT, which is what tests and
    ``make up`` use. The password is kept out of ``repr``.
    """

    protocol: Protocol = "PLAINTEXT"
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: str = field(default="", repr=False)
    environment: str = "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSecurity:
        """The settings of ``environ`` (default: the process environment), checked."""
        env = os.environ if environ is None else environ

        def value(name: str) -> str:
            return env.get(name, "").strip()

        def path(name: str) -> Path | None:
            raw = value(name)
            return Path(raw).expanduser() if raw else None

        protocol = value("KAFKA_SECURITY_PROTOCOL").upper() or "PLAINTEXT"
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(
                f"KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        mechanism = value("KAFKA_SASL_MECHANISM").upper() or "SCRAM-SHA-512"
        if mechanism not in MECHANISMS:
            raise KafkaSecurityError(
                f"KAFKA_SASL_MECHANISM={mechanism!r} is not one of {', '.join(MECHANISMS)}"
            )
        return cls(
            protocol=protocol,
            sasl_mechanism=mechanism,
            sasl_username=value("KAFKA_SASL_USERNAME"),
            sasl_password=env.get("KAFKA_SASL_PASSWORD", ""),
            ssl_cafile=path("KAFKA_SSL_CAFILE"),
            ssl_certfile=path("KAFKA_SSL_CERTFILE"),
            ssl_keyfile=path("KAFKA_SSL_KEYFILE"),
            ssl_key_password=env.get("KAFKA_SSL_KEY_PASSWORD", ""),
            environment=value("CODEFLOW_ENV") or "production",
        )

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise KafkaSecurityError("Kafka security settings: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        problems: list[str] = []
        sasl = self.protocol == "SASL_SSL"
        tls = self.protocol in ("SSL", "SASL_SSL")
        if sasl:
            if not self.sasl_username:
                problems.append("KAFKA_SASL_USERNAME must name the service's Kafka user")
            if not self.relaxed and (
                self.sasl_password.strip().lower() in PLACEHOLDER_PASSWORDS
                or len(self.sasl_password) < MIN_PASSWORD_LENGTH
            ):
                problems.append(
                    f"KAFKA_SASL_PASSWORD must be the user's SCRAM password, a random value "
                    f"of at least {MIN_PASSWORD_LENGTH} characters (not a placeholder)"
                )
            elif not self.sasl_password:
                problems.append("KAFKA_SASL_PASSWORD must be the user's SCRAM password")
        elif self.sasl_username or self.sasl_password:
            problems.append(
                f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL "
                f"is {self.protocol}, which would not use them; set it to SASL_SSL"
            )
        if not tls and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile):
            problems.append(
                "KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL is PLAINTEXT, which "
                "would not use them; set it to SSL or SASL_SSL"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            problems.append("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (mutual TLS)")
        for name, file in (
            ("KAFKA_SSL_CAFILE", self.ssl_cafile),
            ("KAFKA_SSL_CERTFILE", self.ssl_certfile),
            ("KAFKA_SSL_KEYFILE", self.ssl_keyfile),
        ):
            if file is not None and not file.is_file():
                problems.append(f"{name}={file} is not a readable file")
        return problems

    @property
    def relaxed(self) -> bool:
        """Development and tests: placeholder passwords and PLAINTEXT pass silently."""
        return self.environment in RELAXED_ENVIRONMENTS

    @property
    def authenticated(self) -> bool:
        """Whether the broker learns who this client is (a SCRAM user or a client certificate)."""
        return self.protocol == "SASL_SSL" or self.ssl_certfile is not None

    def describe(self) -> str:
        """What the connection is, for logs; never the password."""
        if self.protocol == "SASL_SSL":
            return f"SASL_SSL ({self.sasl_mechanism}) as {self.sasl_username}"
        if self.protocol == "SSL":
            return "SSL with a client certificate" if self.ssl_certfile else "SSL"
        return "PLAINTEXT (unauthenticated)"

    def warn_if_unauthenticated(self, who: str) -> None:
        """Log, outside development and tests, that ``who`` reaches Kafka unauthenticated."""
        if self.relaxed or self.authenticated:
            return
        logger.warning(
            "%s connects to Kafka over %s: the broker can't tell who publishes, so anyone "
            "who reaches it may publish any command (DeleteUserData included); set "
            "KAFKA_SECURITY_PROTOCOL=SASL_SSL and the service's own KAFKA_SASL_USERNAME and "
            "KAFKA_SASL_PASSWORD (deploy/README.md, 'Kafka security')",
            who,
            self.describe(),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL and SASL_SSL: hostname checked, the CA file trusted."""
        if self.protocol == "PLAINTEXT":
            return None
        context = ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        if self.ssl_certfile is not None and self.ssl_keyfile is not None:
            context.load_cert_chain(
                self.ssl_certfile, self.ssl_keyfile, password=self.ssl_key_password or None
            )
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.protocol == "PLAINTEXT":
            return {}
        options: dict[str, Any] = {
            "security_protocol": self.protocol,
            "ssl_context": self.ssl_context(),
        }
        if self.protocol == "SASL_SSL":
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same settings for FastStream's ``KafkaBroker(security=...)``."""
        if self.protocol == "PLAINTEXT":
            return None
        context = self.ssl_context()
        if self.protocol == "SSL":
            return BaseSecurity(ssl_context=context)
        scram = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
        return scram(username=self.sasl_username, password=self.sasl_password, ssl_context=context)


PLAINTEXT = KafkaSecurity(environment="development")
"""No TLS, no user: the local cluster of ``make up`` and the tests."""


def resolve(security: KafkaSecurity | None) -> KafkaSecurity:
    """``security``, or the process environment's settings when it is None."""
    return KafkaSecurity.from_env() if security is None else security
