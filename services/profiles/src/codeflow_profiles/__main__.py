"""``python -m codeflow_profiles {serve,migrate}``: run the service, or migrate its database."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeflow_profiles")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service (and its Kafka consumer)")
    serve.add_argument("--host", default=os.environ.get("PROFILES_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PROFILES_PORT", "8002")))
    commands.add_parser("migrate", help="apply the database migrations (alembic upgrade head)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if args.command == "migrate":
        from alembic import command
        from alembic.config import Config

        command.upgrade(Config(str(ALEMBIC_INI)), "head")
        return 0

    import uvicorn

    uvicorn.run(
        "codeflow_profiles.main:create_app",
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
