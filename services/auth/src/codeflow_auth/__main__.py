"""``python -m codeflow_auth {serve,migrate,restate-users}``.

``restate-users [USER_ID ...]`` queues one ``UserRestated`` per user auth holds (or per user
named) in auth's outbox, which a running auth publishes: the way to rebuild profiles and the
janitor's activity after they missed events.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from codeflow_service.cli import service_main

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def add_restate_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[argparse.Namespace], int]]:
    restate = commands.add_parser(
        "restate-users",
        help="send UserRestated for every user (or those named), to rebuild projections",
    )
    restate.add_argument("user_ids", nargs="*", metavar="USER_ID", help="only these users")
    return {"restate-users": restate_now}


def restate_now(args: argparse.Namespace) -> int:
    from codeflow_auth.config import AuthSettings
    from codeflow_auth.restatement import restate_all
    from codeflow_messaging import create_engine, create_session_factory

    async def run() -> int:
        engine = create_engine(AuthSettings().database_url, pool_size=1)
        try:
            return await restate_all(create_session_factory(engine), only=args.user_ids)
        finally:
            await engine.dispose()

    restated = asyncio.run(run())
    print(f"queued UserRestated for {restated} user(s); a running auth publishes them")
    return 0


def main(argv: list[str] | None = None) -> int:
    return service_main(
        name="auth",
        default_port=8001,
        alembic_ini=ALEMBIC_INI,
        argv=argv,
        extend=add_restate_command,
    )


if __name__ == "__main__":
    sys.exit(main())
