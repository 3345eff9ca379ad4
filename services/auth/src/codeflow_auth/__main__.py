"""``python -m codeflow_auth {serve,migrate,restate-users,tokens}``.

``restate-users [USER_ID ...]`` queues one ``UserRestated`` per user auth holds (or per user
named) in auth's outbox, which a running auth publishes: the way to rebuild profiles and the
janitor's activity after they missed events.

``tokens reencrypt`` rewrites every account's GitHub tokens under the first key of
``AUTH_TOKEN_KEYS`` and the newest format, so older keys can be retired; it exits 1 when a
token didn't decrypt (then an old key may still be needed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from codeflow_service.cli import service_main

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def add_auth_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[argparse.Namespace], int]]:
    restate = commands.add_parser(
        "restate-users",
        help="send UserRestated for every user (or those named), to rebuild projections",
    )
    restate.add_argument("user_ids", nargs="*", metavar="USER_ID", help="only these users")
    tokens = commands.add_parser("tokens", help="manage the GitHub tokens auth keeps")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    reencrypt = token_commands.add_parser(
        "reencrypt",
        help="rewrite every account's tokens under the first key of AUTH_TOKEN_KEYS",
    )
    reencrypt.add_argument(
        "--batch-size", type=int, default=500, help="accounts per transaction (500)"
    )
    return {"restate-users": restate_now, "tokens": reencrypt_now}


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


def reencrypt_now(args: argparse.Namespace) -> int:
    from codeflow_auth.config import AuthSettings
    from codeflow_auth.main import token_cipher
    from codeflow_auth.token_rotation import reencrypt_all
    from codeflow_messaging import create_engine, create_session_factory

    if args.batch_size < 1:
        print("--batch-size must be at least 1", file=sys.stderr)
        return 2
    settings = AuthSettings()
    if settings.token_keys is None and settings.environment != "development":
        print("set AUTH_TOKEN_KEYS (the new key first, the old ones after it)", file=sys.stderr)
        return 2
    cipher = token_cipher(settings)

    async def run() -> int:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            report = await reencrypt_all(
                create_session_factory(engine), cipher, batch_size=args.batch_size
            )
        finally:
            await engine.dispose()
        print(
            f"accounts' GitHub tokens under key {cipher.current_kid!r}: "
            f"{report.rewritten} rewritten, {report.current} already current, "
            f"{report.failed} failed to decrypt"
            + (" (left as they were; see the log)" if report.failed else "")
        )
        return 1 if report.failed else 0

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    return service_main(
        name="auth",
        default_port=8001,
        alembic_ini=ALEMBIC_INI,
        argv=argv,
        extend=add_auth_commands,
    )


if __name__ == "__main__":
    sys.exit(main())
