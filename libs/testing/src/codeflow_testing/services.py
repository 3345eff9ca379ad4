"""A service under test: the settings it runs with."""

from __future__ import annotations

from typing import Any

from codeflow_testing.tokens import TestTokens


def settings_for_tests(
    *, database_url: str, kafka_bootstrap_servers: str, tokens: TestTokens, consumer_group: str
) -> dict[str, Any]:
    """The settings every service takes under test, as keyword arguments: its database, the
    test Kafka, ``tokens``' JWKS and issuer, its own consumer group, and a quick relay."""
    return {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap_servers,
        "jwks_url": tokens.jwks_url,
        "jwt_issuer": tokens.issuer.issuer,
        "consumer_group": consumer_group,
        "relay_poll_interval": 0.05,
    }
