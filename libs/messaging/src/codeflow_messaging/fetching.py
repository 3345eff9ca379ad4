"""How a consumer waits for records: at once when they come, quietly while none do (ADR 0033).

Two layers wait. Kafka holds a fetch until a record arrives or ``fetch_max_wait_ms`` passes,
and aiokafka's background fetcher keeps one such fetch in flight per broker; ``getmany``
hands over what was fetched, or waits up to ``batch_timeout_ms`` for it. Both return as soon
as a record is there, and their length spaces out the empty answers an idle service pays
for. Kafka's hold is kept short all the same (ADR 0044): once a partition's fetched records
have waited 100 ms, aiokafka fetches the other partitions without it, and while Kafka holds
that fetch for partitions with nothing new, the first one, its records handed over, cannot
be fetched again; a backlog on it stands still for the rest of the hold. FastStream's batch
subscriber adds a third wait of its own: after an empty ``getmany`` it sleeps
``batch_timeout_ms`` before asking again, and a record arriving meanwhile waits for the
sleep to end. :func:`fetch_without_pause` takes that sleep out.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

CONSUMER_OPTIONS: dict[str, Any] = {
    "batch_timeout_ms": 1_000,
    "fetch_max_wait_ms": 500,
    "consumer_timeout_ms": 1_000,
}
"""Options of every consumer group's subscriber, beside aiokafka's defaults.

``batch_timeout_ms`` is how long ``getmany`` waits for records; ``fetch_max_wait_ms`` how
long Kafka holds a fetch that found nothing (Kafka's default: a backlog may stand still that
long, see above);
``consumer_timeout_ms`` how often aiokafka's fetch loop looks round when nothing woke it
(every event it waits for, a fetch answered, records consumed, a rebalance, wakes it at
once). Heartbeats (every 3 s) and the session timeout (10 s), which decide how soon a dead
member's partitions move (ADR 0010), are left as they are.
"""


def fetch_without_pause(subscriber: Any) -> None:
    """Make a FastStream batch ``subscriber`` ask for records again at once after a
    ``getmany`` that found none, instead of sleeping ``batch_timeout_ms`` first.

    ``getmany`` already waited that long for records, so the sleep saves nothing, and a
    record that arrives during it waits for it to end. Raises ``TypeError`` if
    ``subscriber`` is not a batch subscriber of the shape this replaces.
    """
    if not all(
        hasattr(subscriber, name) for name in ("get_msg", "batch_timeout_ms", "max_records")
    ):
        raise TypeError(f"not a FastStream batch subscriber: {subscriber!r}")

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        fetched = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        return tuple(chain.from_iterable(fetched.values()))

    subscriber.get_msg = get_msg
