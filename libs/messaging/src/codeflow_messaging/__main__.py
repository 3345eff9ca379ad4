"""``python -m codeflow_messaging``: operators' commands.

- ``replay-dead-letters TOPIC [--dry-run]``: publish a dead-letter topic's records back,
  connecting as the environment's ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*`` and
  ``KAFKA_SSL_*`` say (:mod:`codeflow_messaging.security`).
- ``outbox list|retry|discard [ROW_ID ...|--all] [--database-url URL]``: the outbox rows
  the relay set aside (Kafka refused them). Exit status: 0 done; 1 some given row is not
  set aside (nothing was changed); 2 usage error; 3 the database could not be used
  (unreachable, or no outbox table in it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from codeflow_messaging.database import SessionFactory, create_engine, create_session_factory
from codeflow_messaging.dead_letters import replay_dead_letters
from codeflow_messaging.outbox_admin import (
    NotSetAside,
    SetAsideRow,
    discard_set_aside,
    list_set_aside,
    retry_set_aside,
)
from codeflow_messaging.security import KafkaSecurity, KafkaSecurityError

EXIT_NOT_SET_ASIDE = 1
EXIT_DATABASE_ERROR = 3


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
    # The outbox command has a parser of its own, which takes row ids before and after
    # options alike (argparse's subcommands can't).
    commands.add_parser(
        "outbox",
        add_help=False,
        help="list, retry or discard the outbox rows set aside because Kafka refused them "
        "(outbox -h for more)",
    ).add_argument("arguments", nargs=argparse.REMAINDER)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["outbox"]:
        return outbox_main(argv[1:])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.bootstrap_servers:
        parser.error("set KAFKA_BOOTSTRAP_SERVERS or pass --bootstrap-servers")
    if not args.topic.endswith(".dlq"):
        parser.error(f"{args.topic!r} is not a dead-letter topic (they end in .dlq)")
    try:
        security = KafkaSecurity.from_env()
    except KafkaSecurityError as exc:
        parser.error(str(exc))
    security.warn_if_unauthenticated("replay-dead-letters")
    report = asyncio.run(
        replay_dead_letters(
            args.bootstrap_servers, args.topic, dry_run=args.dry_run, security=security
        )
    )
    verb = "would replay" if args.dry_run else "replayed"
    print(
        f"{verb} {report.replayed} dead letter(s)",
        *(f"{t}: {n}" for t, n in report.topics.items()),
        sep="\n  ",
    )
    return 0


def outbox_main(argv: list[str]) -> int:
    """``python -m codeflow_messaging outbox list|retry|discard [ROW_ID ...|--all]``."""
    parser = argparse.ArgumentParser(
        prog="python -m codeflow_messaging outbox",
        description=(
            "Outbox rows Kafka refused too often are set aside: the relay no longer tries "
            "them, and their key's later messages wait behind them. retry makes rows pending "
            "again (once the cause is fixed, e.g. the topic's max.message.bytes raised); "
            "discard deletes them, printing them first, and releases the messages behind "
            "them. Exit status: 0 done; 1 a given row is not set aside (nothing changed); "
            "2 usage error; 3 the database could not be used (unreachable, or no outbox "
            "table in it)."
        ),
    )
    parser.add_argument("action", choices=["list", "retry", "discard"])
    parser.add_argument("row_ids", nargs="*", type=int, metavar="ROW_ID")
    parser.add_argument("--all", action="store_true", help="every set-aside row")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="the service's database (default: $DATABASE_URL)",
    )
    args = parser.parse_intermixed_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    if args.action == "list" and (args.row_ids or args.all):
        parser.error("outbox list takes no ROW_ID and no --all")
    if args.action != "list" and bool(args.row_ids) == args.all:
        parser.error(f"outbox {args.action} needs ROW_ID ... or --all (not both)")
    ids = None if args.all else args.row_ids
    actions: dict[str, Callable[[SessionFactory], Awaitable[None]]] = {
        "list": _list,
        "retry": lambda sessions: _retry(sessions, ids),
        "discard": lambda sessions: _discard(sessions, ids),
    }
    try:
        asyncio.run(_with_sessions(args.database_url, actions[args.action]))
    except NotSetAside as exc:
        print(f"nothing changed: {exc}", file=sys.stderr)
        return EXIT_NOT_SET_ASIDE
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"could not use the database: {reason}", file=sys.stderr)
        return EXIT_DATABASE_ERROR
    return 0


async def _with_sessions(url: str, action: Callable[[SessionFactory], Awaitable[None]]) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await action(create_session_factory(engine))
    finally:
        await engine.dispose()


async def _list(sessions: SessionFactory) -> None:
    rows = await list_set_aside(sessions)
    if not rows:
        print("no outbox row is set aside")
    _print(rows)


async def _retry(sessions: SessionFactory, ids: list[int] | None) -> None:
    rows = await retry_set_aside(sessions, ids)
    print(f"retrying {len(rows)} row(s); the relay publishes them on its next round:")
    _print(rows)


async def _discard(sessions: SessionFactory, ids: list[int] | None) -> None:
    def show(rows: list[SetAsideRow]) -> None:
        print(f"discarding {len(rows)} row(s), never to be published:")
        _print(rows)

    await discard_set_aside(sessions, ids, before=show)
    print("discarded")


def _print(rows: list[SetAsideRow]) -> None:
    for row in rows:
        print(row.describe())


if __name__ == "__main__":
    sys.exit(main())
