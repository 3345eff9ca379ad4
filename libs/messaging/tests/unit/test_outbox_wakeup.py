"""The relay's wake-ups: notifications of new outbox rows coalesce, so a burst of them starts
one round, not one each; with none, the relay still polls at its (long) fallback interval."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from codeflow_messaging import OutboxRelay
from codeflow_messaging.outbox_notifications import Wakeup


async def test_a_burst_of_notifications_wakes_the_waiter_once() -> None:
    wakeup = Wakeup()
    for _ in range(100):
        wakeup.notify()

    assert await wakeup.wait(timeout=5) is True
    assert await wakeup.wait(timeout=0.01) is False


async def test_a_wait_with_no_notification_ends_at_its_timeout() -> None:
    wakeup = Wakeup()
    loop = asyncio.get_running_loop()
    began = loop.time()

    assert await wakeup.wait(timeout=0.05) is False
    assert loop.time() - began >= 0.04


async def test_a_notification_arriving_while_nobody_waits_is_kept_for_the_next_wait() -> None:
    wakeup = Wakeup()
    wakeup.notify()
    await asyncio.sleep(0)

    assert await wakeup.wait(timeout=0.01) is True


async def test_a_notification_wakes_a_waiter_at_once() -> None:
    wakeup = Wakeup()
    waiter = asyncio.create_task(wakeup.wait(timeout=30))
    await asyncio.sleep(0)
    wakeup.notify()

    assert await asyncio.wait_for(waiter, timeout=1) is True


class RelayCountingRounds(OutboxRelay):
    """Counts its publishing passes instead of publishing; the first lasts until released."""

    def __init__(self) -> None:
        super().__init__(
            sessions=None,  # type: ignore[arg-type]
            producer_factory=_no_producer,
            poll_interval=30,
            listen=False,
        )
        self.passes = 0
        self.first_pass_started = asyncio.Event()
        self.release_first_pass = asyncio.Event()

    async def _publish_until(self, deadline: float | None) -> tuple[int, bool]:
        self.passes += 1
        if self.passes == 1:
            self.first_pass_started.set()
            await self.release_first_pass.wait()
        return 0, True


def _no_producer() -> AIOKafkaProducer:
    raise AssertionError("the relay under test never publishes")


async def test_a_burst_of_wake_ups_during_a_round_starts_one_more_round_not_one_each() -> None:
    relay = RelayCountingRounds()
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.first_pass_started.wait(), timeout=5)
        for _ in range(50):
            relay.wake()
        relay.release_first_pass.set()
        await asyncio.sleep(0.2)

        assert relay.passes == 2
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_with_no_wake_up_the_relay_waits_for_its_fallback_poll() -> None:
    relay = RelayCountingRounds()
    relay.release_first_pass.set()
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)
        assert relay.passes == 1

        relay.wake()
        await asyncio.sleep(0.1)
        assert relay.passes == 2
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
