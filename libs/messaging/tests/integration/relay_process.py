"""An outbox relay in its own process, for crash tests.

With ``--die-after-publish`` it kills itself with SIGKILL at the worst moment: after Kafka
acknowledged a round's messages and before the rows are marked published.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_messaging import (
    OutboxRelay,
    create_engine,
    create_producer,
    create_session_factory,
)


class RelayThatDiesAfterPublishing(OutboxRelay):
    async def mark_published(self, session: AsyncSession, ids: Sequence[int]) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--die-after-publish", action="store_true")
    args = parser.parse_args()
    relay_class = RelayThatDiesAfterPublishing if args.die_after_publish else OutboxRelay
    engine = create_engine(args.database_url)
    relay = relay_class(
        create_session_factory(engine),
        lambda: create_producer(args.bootstrap_servers, client_id="relay-process"),
    )
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main())
