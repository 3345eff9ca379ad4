"""Kafka client helpers: whether a cluster answers, and creating topics.

Both the broker launcher (:mod:`codeflow_infra.kafka_broker`) and the tests' helpers
(:mod:`codeflow_infra.kafka`) use these, so this module imports neither of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from codeflow_messaging.kafka import create_admin
from codeflow_messaging.security import KafkaSecurity

__all__ = ["READY_TIMEOUT", "create_topics", "metadata_ready", "wait_until_ready"]

# Long enough for a local broker's cold start.
READY_TIMEOUT = 120.0

# aiokafka logs every refused connection at ERROR; while waiting for a broker that is normal.
_CLIENT_LOGGERS = ("aiokafka", "aiokafka.conn", "aiokafka.client", "aiokafka.admin.client")


async def metadata_ready(
    bootstrap_servers: str,
    request_timeout: float = 5.0,
    *,
    security: KafkaSecurity | None = None,
) -> bool:
    """True if a metadata request to `bootstrap_servers` succeeds and names a controller.

    `security` defaults to the environment's, as for every client (codeflow_messaging.kafka).
    """
    admin = create_admin(
        bootstrap_servers,
        security=security,
        request_timeout_ms=int(request_timeout * 1000),
        client_id="codeflow-infra",
    )
    levels = {name: logging.getLogger(name).level for name in _CLIENT_LOGGERS}
    for name in _CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) >= 0


async def wait_until_ready(
    bootstrap_servers: str,
    timeout: float = READY_TIMEOUT,
    *,
    security: KafkaSecurity | None = None,
) -> float:
    """Wait until the cluster answers a metadata request; return the seconds it took."""
    started = time.monotonic()
    while not await metadata_ready(bootstrap_servers, security=security):
        if time.monotonic() - started >= timeout:
            raise TimeoutError(
                f"Kafka at {bootstrap_servers} did not answer metadata requests in {timeout:.0f} s"
            )
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def create_topics(
    bootstrap_servers: str,
    names: Iterable[str],
    partitions: int = 3,
    replication_factor: int = 1,
    *,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create each topic of `names` that is missing; return the names it created.

    Where ACLs are enforced, `security` must be a principal allowed to create topics (the
    broker's admin).
    """
    wanted = list(dict.fromkeys(names))
    admin = create_admin(bootstrap_servers, security=security, client_id="codeflow-infra")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        try:
            response = await admin.create_topics(
                [NewTopic(name, partitions, replication_factor) for name in missing]
            )
        except TopicAlreadyExistsError:
            return []
        created = []
        for name, error_code, *_ in response.topic_errors:
            if error_code == 0:
                created.append(name)
            elif error_code != TopicAlreadyExistsError.errno:
                raise KafkaError(f"creating topic {name} failed with error code {error_code}")
        return created
    finally:
        await admin.close()
