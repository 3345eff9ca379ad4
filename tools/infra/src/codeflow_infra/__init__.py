"""Local PostgreSQL and Apache Kafka for CodeFlow, without Docker, and the local cluster.

Run `python -m codeflow_infra --help` for the launcher; `codeflow_infra.postgres` and
`codeflow_infra.kafka` hold the client helpers tests use.
"""
