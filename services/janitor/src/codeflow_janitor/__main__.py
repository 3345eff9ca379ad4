"""``python -m codeflow_janitor {serve,migrate,sweep}``.

``sweep`` runs one sweep against the database and prints its report as JSON; a running
janitor's outbox relay then publishes the commands. Exit status: 0 done (or dry run),
3 refused by the safety limit, 4 another sweep is running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.sweeps.service import SweepPolicy, SweepReport, sweep_inactive_users

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
EXIT_REFUSED = 3
EXIT_BUSY = 4


async def run_sweep(settings: JanitorSettings, *, dry_run: bool, force: bool) -> SweepReport:
    """One sweep in its own transaction, with an engine of its own."""
    from codeflow_messaging import create_engine, create_session_factory, transaction

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await sweep_inactive_users(
                session,
                SweepPolicy.from_settings(settings),
                now=datetime.now(UTC),
                dry_run=dry_run,
                force=force,
            )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeflow_janitor")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service, its consumer and its jobs")
    serve.add_argument("--host", default=os.environ.get("JANITOR_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("JANITOR_PORT", "8004")))
    commands.add_parser("migrate", help="apply the database migrations (alembic upgrade head)")
    sweep = commands.add_parser("sweep", help="sweep inactive users now and print the report")
    sweep.add_argument("--dry-run", action="store_true", help="count and check; issue nothing")
    sweep.add_argument(
        "--force", action="store_true", help="override the share limit (JANITOR_MAX_DELETION_SHARE)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if args.command == "migrate":
        from alembic import command
        from alembic.config import Config

        command.upgrade(Config(str(ALEMBIC_INI)), "head")
        return 0

    if args.command == "sweep":
        from codeflow_janitor.sweeps.schemas import SweepResult

        report = asyncio.run(run_sweep(JanitorSettings(), dry_run=args.dry_run, force=args.force))
        print(SweepResult.of(report).model_dump_json(indent=2))
        return {"refused": EXIT_REFUSED, "busy": EXIT_BUSY}.get(report.outcome, 0)

    import uvicorn

    uvicorn.run(
        "codeflow_janitor.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
