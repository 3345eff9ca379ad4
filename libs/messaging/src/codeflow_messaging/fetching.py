"""How a consumer waits for records: at once when they come, quietly while none do (ADR 0033).

Two layers wait. Kafka holds a fetch until a record arrives or ``fetch_max_wait_ms`` passes,
and aiokafka's background fetcher keeps one such fetch in flight per broker; ``getmany``
hands over what was fetched, or waits up to ``batch_timeout_ms`` for it. Both return as soon
as a record is there, so their length only spaces out the empty answers an idle service pays
for, with one exception aiokafka makes: once a partition's fetched records have waited
100 ms (its fetcher's ``prefetch_backoff``), it fetches the broker's other partitions
without that one, and while Kafka holds that fetch for partitions with nothing new, the
first one, its records handed over meanwhile, cannot be fetched again. A backlog on it
stood still for the rest of the hold. :func:`hold_fetches_while_records_wait` makes the
fetcher wait until the records are taken instead (ADR 0044).

FastStream's batch subscriber adds a third wait of its own: after an empty ``getmany`` it
sleeps ``batch_timeout_ms`` before asking again, and a record arriving meanwhile waits for
the sleep to end. :func:`fetch_without_pause` takes that sleep out.
"""

from __future__ import annotations

import logging
from itertools import chain
from typing import Any

logger = logging.getLogger("codeflow.consumer")

CONSUMER_OPTIONS: dict[str, Any] = {
    "batch_timeout_ms": 1_000,
    "fetch_max_wait_ms": 5_000,
    "consumer_timeout_ms": 1_000,
}
"""Options of every consumer group's subscriber, beside aiokafka's defaults.

``batch_timeout_ms`` is how long ``getmany`` waits for records; ``fetch_max_wait_ms`` how
long Kafka holds a fetch that found nothing (well under the client's 40 s request timeout);
``consumer_timeout_ms`` how often aiokafka's fetch loop looks round when nothing woke it
(every event it waits for, a fetch answered, records consumed, a rebalance, wakes it at
once). Heartbeats (every 3 s) and the session timeout (10 s), which decide how soon a dead
member's partitions move (ADR 0010), are left as they are.
"""


RECORDS_WAIT_SECONDS = 30.0
"""How long records fetched for one partition hold back the next fetch from its broker while
the consumer has not taken them (aiokafka's ``prefetch_backoff``, 0.1 s by default)."""


def hold_fetches_while_records_wait(consumer: Any) -> bool:
    """Make aiokafka's ``consumer`` fetch again only once the records it fetched were taken
    (or after :data:`RECORDS_WAIT_SECONDS`), instead of fetching the other partitions alone
    after 100 ms; whether it could.

    A consumer group here takes every partition's records through one ``getmany`` and applies
    them a batch at a time, so a fetch of the others gains it nothing while records wait; and
    Kafka holds such a fetch for up to ``fetch_max_wait_ms`` when they have nothing new, with
    the waiting partition unable to fetch again until it answers. Once its records are taken,
    the next fetch asks for every partition and comes back as soon as one has records.

    aiokafka has no consumer option for this; the fetcher (made when the consumer starts) is
    set directly. ``False`` when ``consumer`` has no fetcher of that shape (not started, or an
    aiokafka release that changed it): it then fetches as aiokafka does.
    """
    fetcher = getattr(consumer, "_fetcher", None)
    if not hasattr(fetcher, "_prefetch_backoff"):
        return False
    fetcher._prefetch_backoff = RECORDS_WAIT_SECONDS  # type: ignore[union-attr]
    return True


def fetch_without_pause(subscriber: Any) -> None:
    """Make a FastStream batch ``subscriber`` ask for records again at once after a
    ``getmany`` that found none, instead of sleeping ``batch_timeout_ms`` first, and hold its
    consumer's fetches while fetched records wait (:func:`hold_fetches_while_records_wait`).

    ``getmany`` already waited that long for records, so the sleep saves nothing, and a
    record that arrives during it waits for it to end. Raises ``TypeError`` if
    ``subscriber`` is not a batch subscriber of the shape this replaces.
    """
    if not all(
        hasattr(subscriber, name) for name in ("get_msg", "batch_timeout_ms", "max_records")
    ):
        raise TypeError(f"not a FastStream batch subscriber: {subscriber!r}")

    held: Any = None  # the consumer whose fetcher was set: once, not on every batch

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        nonlocal held
        if consumer is not held:
            held = consumer
            if not hold_fetches_while_records_wait(consumer):
                logger.error(
                    "%r has no fetcher to hold while fetched records wait (has aiokafka "
                    "changed?): a backlog on one partition may stand still behind idle ones",
                    consumer,
                )
        fetched = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        return tuple(chain.from_iterable(fetched.values()))

    subscriber.get_msg = get_msg
