"""Fixtures for every package's tests: the real PostgreSQL and Kafka (see codeflow_infra)."""

pytest_plugins = ["codeflow_infra.pytest_plugin"]
