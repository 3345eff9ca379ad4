"""A consumer in its own process, for crash tests: applies ``effects`` rows, optionally slowly."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserActive
from codeflow_messaging import create_broker, create_engine, create_session_factory

sys.path.insert(0, str(Path(__file__).parent))

from messaging_support import effect_consumer, record_effects


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group-id", required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per message")
    args = parser.parse_args()

    async def slow_effect(session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
        await record_effects(session, envelopes)
        await asyncio.sleep(args.delay * len(envelopes))

    sessions = create_session_factory(create_engine(args.database_url))
    broker = create_broker(args.bootstrap_servers, client_id="consumer-process")
    effect_consumer(sessions, args.topic, args.group_id, handler=slow_effect).subscribe(broker)
    await broker.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
