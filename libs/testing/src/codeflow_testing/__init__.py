"""What CodeFlow's tests share: the session fixtures for the real PostgreSQL and Kafka (the
pytest plugin), databases and topics of a test's own, JWTs with a served JWKS, a service or an
app served on loopback, and bounded waits.

Imported by test suites only; the root ``conftest.py`` registers
``codeflow_testing.pytest_plugin``.
"""
