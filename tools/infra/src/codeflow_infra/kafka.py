"""Kafka client helpers, and control of the launcher-managed broker for fault tests."""

from __future__ import annotations

import os
from pathlib import Path

from codeflow_infra.kafka_broker import START_TIMEOUT, STOP_TIMEOUT, LocalKafka
from codeflow_infra.kafka_client import create_topics, metadata_ready, wait_until_ready

__all__ = [
    "LocalKafka",
    "create_topics",
    "metadata_ready",
    "start_broker",
    "stop_broker",
    "wait_until_ready",
]


def stop_broker(local_dir: Path | None = None, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the launcher-managed broker of `local_dir` (default: this checkout's `.local`).

    Returns True if it was running, and False if not; without `local_dir`, also when
    KAFKA_BOOTSTRAP_SERVERS names another cluster (a fault test should then skip).
    `start_broker` brings it back on the same ports with the same data. Blocks; call it
    through `asyncio.to_thread` from async tests.
    """
    broker = LocalKafka.from_local_dir(local_dir)
    if local_dir is None and not _serves_the_environment(broker):
        return False
    return broker.stop(timeout)


def start_broker(local_dir: Path | None = None, timeout: float = START_TIMEOUT) -> float:
    """Start the launcher-managed broker of `local_dir` again and wait until it serves.

    Returns the seconds it took (0 if it was running). Blocks, like `stop_broker`.
    """
    return LocalKafka.from_local_dir(local_dir).start(timeout)


def _serves_the_environment(broker: LocalKafka) -> bool:
    """False when KAFKA_BOOTSTRAP_SERVERS names another cluster than this broker."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    return not bootstrap or bootstrap == broker.bootstrap_servers
