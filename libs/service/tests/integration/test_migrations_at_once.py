"""Two pods starting at once both migrate: the advisory lock makes one wait for the other,
which then finds nothing to do. Real processes, as the init containers are, on the real
PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from textwrap import dedent

import pytest
from sqlalchemy import text

from codeflow_messaging import create_engine
from codeflow_service.migrations import MIGRATIONS_LOCK_CLASS, migrations_lock_key
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration

URL_VARIABLE = "WIDGETS_DATABASE_URL"
MIGRATION = '''
    """Create the widgets (no IF NOT EXISTS: a second run would fail)."""
    import sqlalchemy as sa
    from alembic import op

    revision = "0001"
    down_revision = None


    def upgrade() -> None:
        op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))


    def downgrade() -> None:
        op.drop_table("widgets")
'''


@pytest.fixture
def alembic_ini(tmp_path: Path) -> Path:
    """An Alembic project of one migration, whose env.py is every service's."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(
        "from sqlalchemy import MetaData\n"
        "from codeflow_service.migrations import run_migrations\n"
        f"run_migrations(MetaData(), url_variables=({URL_VARIABLE!r},))\n"
    )
    (versions / "0001_widgets.py").write_text(dedent(MIGRATION))
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        dedent(
            """\
            [alembic]
            script_location = %(here)s/migrations
            [loggers]
            keys = root,alembic
            [handlers]
            keys = stderr
            [formatters]
            keys = plain
            [logger_root]
            level = WARNING
            handlers = stderr
            [logger_alembic]
            level = INFO
            handlers =
            qualname = alembic
            [handler_stderr]
            class = StreamHandler
            args = (sys.stderr,)
            formatter = plain
            [formatter_plain]
            format = %(message)s
            """
        )
    )
    return ini


async def migrate(alembic_ini: Path, database_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(alembic_ini),
        "upgrade",
        "head",
        env={**os.environ, URL_VARIABLE: database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_two_migrations_started_together_apply_the_schema_once_one_after_the_other(
    alembic_ini: Path, database_url: str
) -> None:
    key = migrations_lock_key(URL_VARIABLE)
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            # The test holds the migrations' lock first, so that both processes must queue
            # for it: what is seen then is the lock, not a race won by timing.
            await holder.execute(
                text("SELECT pg_advisory_lock(:c, :k)"), {"c": MIGRATIONS_LOCK_CLASS, "k": key}
            )
            await holder.commit()
            first, second = (
                await migrate(alembic_ini, database_url),
                await migrate(alembic_ini, database_url),
            )

            async def waiting_for_the_lock() -> int:
                count = await observer.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND NOT granted AND classid = :c AND objid = :k AND objsubid = 2"
                    ),
                    {"c": MIGRATIONS_LOCK_CLASS, "k": key & 0xFFFFFFFF},
                )
                await observer.commit()
                return int(count or 0)

            async def both_wait() -> bool:
                return await waiting_for_the_lock() == 2

            await wait_until(both_wait, timeout=60, what="both migrations to wait for the lock")
            await holder.execute(
                text("SELECT pg_advisory_unlock(:c, :k)"), {"c": MIGRATIONS_LOCK_CLASS, "k": key}
            )
            await holder.commit()
            outputs = await asyncio.wait_for(
                asyncio.gather(first.communicate(), second.communicate()), timeout=120
            )

            assert (first.returncode, second.returncode) == (0, 0), outputs
            logs = [stderr.decode() for _, stderr in outputs]
            # One ran the migration; the other, let in after it, found the schema at head.
            assert sorted("Running upgrade  -> 0001" in log for log in logs) == [False, True]
            assert await observer.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
            assert await observer.scalar(text("SELECT to_regclass('widgets') IS NOT NULL"))
            await observer.commit()
            assert await waiting_for_the_lock() == 0
    finally:
        await engine.dispose()
