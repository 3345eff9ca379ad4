"""``python -m codeflow_<service> {serve,migrate,...}``: every service's command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codeflow_service.logs import LogFormatError, configure_logging

if TYPE_CHECKING:
    import uvicorn

Command = Callable[[argparse.Namespace], int]
Extension = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], dict[str, Command]]


def service_main(
    *,
    name: str,
    default_port: int,
    alembic_ini: Path,
    argv: Sequence[str] | None = None,
    extend: Extension | None = None,
) -> int:
    """Parse ``argv`` and run ``serve`` (uvicorn on ``codeflow_<name>.main:create_app``),
    ``migrate`` (``alembic upgrade head``), or a command ``extend`` adds."""
    prefix = name.upper()
    parser = argparse.ArgumentParser(prog=f"python -m codeflow_{name}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service and its Kafka consumers")
    serve.add_argument("--host", default=os.environ.get(f"{prefix}_HOST", "127.0.0.1"))
    serve.add_argument(
        "--port", type=int, default=int(os.environ.get(f"{prefix}_PORT", str(default_port)))
    )
    commands.add_parser("migrate", help="apply the database migrations (alembic upgrade head)")
    extra = extend(commands) if extend is not None else {}
    args = parser.parse_args(argv)
    try:
        configure_logging(name)
    except LogFormatError as error:
        parser.error(str(error))

    if args.command in extra:
        return extra[args.command](args)
    if args.command == "migrate":
        from alembic import command
        from alembic.config import Config

        config = Config(str(alembic_ini))
        # Alembic's lines too in LOG_FORMAT, not in alembic.ini's format of its own.
        config.attributes["configure_logger"] = False
        command.upgrade(config, "head")
        return 0

    from codeflow_service.server import run_server

    run_server(server_config(name, host=args.host, port=args.port))
    return 0


def server_config(name: str, *, host: str, port: int) -> uvicorn.Config:
    """How ``serve`` runs service ``name``: uvicorn on its app factory, behind the gateway."""
    import uvicorn

    from codeflow_service.server import KEEP_ALIVE_SECONDS

    return uvicorn.Config(
        f"codeflow_{name}.main:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        # Only the gateway's X-Forwarded-* headers are believed; in containers it isn't on
        # loopback, so deployments name it (uvicorn's own variable).
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Uvicorn's own lines (errors, start and stop) go through the handler configured
        # above, in the same format as the service's.
        log_config=None,
    )
