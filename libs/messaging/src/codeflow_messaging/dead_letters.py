"""Dead letters: what a consumer gave up on, why, and how to send it back.

A dead-lettered record keeps its key, value and headers, and gains ``x-dead-letter-*``
headers naming where it came from and the error. :func:`replay_dead_letters` publishes the
records of a dead-letter topic back to the topics they came from (the consumer's inbox makes
that safe for every group that already handled them) and commits its own progress, so each
dead letter is replayed once.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from codeflow_messaging.kafka import create_consumer, create_producer, topic_partitions
from codeflow_messaging.security import KafkaSecurity, resolve

logger = logging.getLogger("codeflow.dead_letters")

PREFIX = "x-dead-letter-"
ORIGINAL_TOPIC = PREFIX + "topic"
ORIGINAL_PARTITION = PREFIX + "partition"
ORIGINAL_OFFSET = PREFIX + "offset"
GROUP = PREFIX + "group"
ATTEMPTS = PREFIX + "attempts"
ERROR_TYPE = PREFIX + "error-type"
ERROR_MESSAGE = PREFIX + "error-message"
ERROR_TRACE = PREFIX + "error-trace"
FAILED_AT = PREFIX + "failed-at"
REPLAYED_FROM = "x-replayed-from"

_MAX_MESSAGE = 1_000
_MAX_TRACE = 8_000


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes],
    error: BaseException,
    *,
    group_id: str,
    attempts: int,
) -> dict[str, str]:
    """The record's own headers plus where it failed, how often, and with what error."""
    headers = {
        name: value.decode("utf-8", errors="replace")
        for name, value in record.headers
        if not name.startswith(PREFIX)
    }
    trace = "".join(traceback.format_exception(error))
    headers.update(
        {
            ORIGINAL_TOPIC: record.topic,
            ORIGINAL_PARTITION: str(record.partition),
            ORIGINAL_OFFSET: str(record.offset),
            GROUP: group_id,
            ATTEMPTS: str(attempts),
            ERROR_TYPE: f"{type(error).__module__}.{type(error).__qualname__}",
            ERROR_MESSAGE: str(error)[:_MAX_MESSAGE],
            ERROR_TRACE: trace[-_MAX_TRACE:],
            FAILED_AT: datetime.now(UTC).isoformat(),
        }
    )
    return headers


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    topics: dict[str, int]


async def replay_dead_letters(
    bootstrap_servers: str,
    dead_letter_topic: str,
    *,
    dry_run: bool = False,
    idle_timeout: float = 30.0,
    security: KafkaSecurity | None = None,
) -> ReplayReport:
    """Publish every not-yet-replayed record of ``dead_letter_topic`` back to its origin.

    Reads up to the end offsets seen when it starts, so records dead-lettered while it runs
    wait for the next replay. With ``dry_run`` it only logs what it would replay. It connects
    with ``security`` (the environment's by default): a principal that may read the
    dead-letter topic and write the topics its records came from.
    """
    security = resolve(security)
    consumer = create_consumer(
        bootstrap_servers,
        security=security,
        group_id=f"{dead_letter_topic}.replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=int(idle_timeout * 1000),
    )
    producer = create_producer(
        bootstrap_servers, client_id="codeflow-dead-letter-replay", security=security
    )
    counts: dict[str, int] = {}
    await consumer.start()
    try:
        await producer.start()
        assignment = await topic_partitions(bootstrap_servers, dead_letter_topic, security=security)
        if not assignment:
            logger.info("replay: %s does not exist or has no partitions", dead_letter_topic)
            return ReplayReport(replayed=0, topics={})
        consumer.assign(assignment)
        end = await consumer.end_offsets(assignment)
        remaining = {tp for tp in assignment if await consumer.position(tp) < end[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=int(idle_timeout * 1000))
            if not batches:
                raise TimeoutError(f"no records from {dead_letter_topic} in {idle_timeout}s")
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= end[tp]:
                        break
                    origin = _origin(record)
                    counts[origin] = counts.get(origin, 0) + 1
                    if dry_run:
                        logger.info(
                            "replay (dry run): would send %s[%d]@%d back to %s",
                            tp.topic,
                            tp.partition,
                            record.offset,
                            origin,
                        )
                        continue
                    await producer.send_and_wait(
                        origin,
                        record.value,
                        key=record.key,
                        headers=_replay_headers(record),
                    )
                if not dry_run:
                    await consumer.commit({tp: min(end[tp], records[-1].offset + 1)})
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await producer.stop()
        await consumer.stop()
    total = sum(counts.values())
    verb = "would replay" if dry_run else "replayed"
    logger.info("replay: %s %d dead letter(s) from %s: %s", verb, total, dead_letter_topic, counts)
    return ReplayReport(replayed=total, topics=counts)


def _origin(record: ConsumerRecord[bytes, bytes]) -> str:
    for name, value in record.headers:
        if name == ORIGINAL_TOPIC:
            return str(value.decode())
    raise ValueError(
        f"{record.topic}[{record.partition}]@{record.offset} has no {ORIGINAL_TOPIC} header"
    )


def _replay_headers(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, bytes]]:
    kept = [(n, v) for n, v in record.headers if not n.startswith(PREFIX) and n != REPLAYED_FROM]
    return [*kept, (REPLAYED_FROM, record.topic.encode())]
