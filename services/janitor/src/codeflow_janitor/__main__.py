"""``python -m codeflow_janitor {serve,migrate,sweep}``.

``sweep`` runs one sweep against the database and prints its report as JSON; a running
janitor's outbox relay then publishes the commands. Exit status: 0 done (or dry run),
3 refused by the safety limit, 4 another sweep is running.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.sweeps.service import SweepPolicy, SweepReport, sweep_inactive_users
from codeflow_service.cli import service_main

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


def add_sweep_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[argparse.Namespace], int]]:
    sweep = commands.add_parser("sweep", help="sweep inactive users now and print the report")
    sweep.add_argument("--dry-run", action="store_true", help="count and check; issue nothing")
    sweep.add_argument(
        "--force", action="store_true", help="override the share limit (JANITOR_MAX_DELETION_SHARE)"
    )
    return {"sweep": sweep_now}


def sweep_now(args: argparse.Namespace) -> int:
    from codeflow_janitor.sweeps.schemas import SweepResult

    report = asyncio.run(run_sweep(JanitorSettings(), dry_run=args.dry_run, force=args.force))
    print(SweepResult.of(report).model_dump_json(indent=2))
    return {"refused": EXIT_REFUSED, "busy": EXIT_BUSY}.get(report.outcome, 0)


def main(argv: list[str] | None = None) -> int:
    return service_main(
        name="janitor",
        default_port=8004,
        alembic_ini=ALEMBIC_INI,
        argv=argv,
        extend=add_sweep_command,
    )


if __name__ == "__main__":
    sys.exit(main())
