"""``python -m codeflow_messaging replay-dead-letters TOPIC [--dry-run]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from codeflow_messaging.dead_letters import replay_dead_letters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeflow_messaging")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser(
        "replay-dead-letters",
        help="publish the records of a dead-letter topic back to the topics they came from",
    )
    replay.add_argument("topic", help="the dead-letter topic, <topic>.<group>.dlq")
    replay.add_argument("--dry-run", action="store_true", help="list, don't publish")
    replay.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.bootstrap_servers:
        parser.error("set KAFKA_BOOTSTRAP_SERVERS or pass --bootstrap-servers")
    if not args.topic.endswith(".dlq"):
        parser.error(f"{args.topic!r} is not a dead-letter topic (they end in .dlq)")
    report = asyncio.run(
        replay_dead_letters(args.bootstrap_servers, args.topic, dry_run=args.dry_run)
    )
    verb = "would replay" if args.dry_run else "replayed"
    print(
        f"{verb} {report.replayed} dead letter(s)",
        *(f"{t}: {n}" for t, n in report.topics.items()),
        sep="\n  ",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
