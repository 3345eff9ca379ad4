"""Fixtures for every package's tests: the real PostgreSQL and Kafka (see codeflow_testing)."""

pytest_plugins = ["codeflow_testing.pytest_plugin"]
