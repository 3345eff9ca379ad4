"""B5: erasing N users through the janitor's saga, against one SQL DELETE per database.

The same rows are seeded twice under two prefixes, straight into each service's database: an
auth user with a GitHub account and a session (both last used 200 days ago, so auth lets the
erasure go ahead), a profile, ``repos_per_user`` repositories and an activity row idle for
200 days. The saga's users are swept by ``python -m codeflow_janitor
sweep --force`` (the running janitor's relay publishes the commands; auth decides and erases,
profiles and repositories delete on auth's event and acknowledge; the janitor completes each
deletion). The baseline
deletes the other prefix's rows with one ``DELETE … = ANY(ids)`` in each database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from codeflow_bench import profiling
from codeflow_bench.database import connected
from codeflow_bench.plan import Plan
from codeflow_bench.results import Comparison, Run
from codeflow_bench.target import Target
from codeflow_janitor.__main__ import run_sweep
from codeflow_janitor.config import JanitorSettings

logger = logging.getLogger("codeflow.bench")

SAGA_PREFIX = "bench-b5-saga-"
RAW_PREFIX = "bench-b5-raw-"
GITHUB_ID_BASE = {SAGA_PREFIX: 8_400_000_000, RAW_PREFIX: 8_500_000_000}

SEED = {
    "auth": [
        """INSERT INTO users (id, name, email, login, last_active_at)
           SELECT $1 || u, 'Bench ' || u, $1 || u || '@bench.example.com', $1 || u,
                  now() - interval '200 days'
           FROM generate_series(1, $2::int) AS u""",
        """INSERT INTO accounts (id, user_id, type, provider, provider_account_id)
           SELECT 'acct-' || $1 || u, $1 || u, 'oauth', 'github', ($3::bigint + u)::text
           FROM generate_series(1, $2::int) AS u""",
        """INSERT INTO sessions (id, session_token, user_id, expires, created_at)
           SELECT 'sess-' || $1 || u, md5($1 || u), $1 || u, now() - interval '170 days',
                  now() - interval '200 days'
           FROM generate_series(1, $2::int) AS u""",
    ],
    "profiles": [
        """INSERT INTO user_profiles (id, user_id, github_id, username, last_active_at,
                                      identity_updated_at, created_at, updated_at)
           SELECT gen_random_uuid(), $1 || u, $3::bigint + u, $1 || u,
                  now() - interval '200 days', now() - interval '300 days',
                  now() - interval '300 days', now() - interval '200 days'
           FROM generate_series(1, $2::int) AS u""",
    ],
    "repositories": [
        """INSERT INTO repositories (id, github_id, name, full_name, owner, is_active, user_id)
           SELECT gen_random_uuid(), $3::bigint + r, 'repo-' || r, $1 || u || '/repo-' || r,
                  $1 || u, true,
                  $1 || u
           FROM generate_series(1, $2::int) AS u, generate_series(1, $4::int) AS r""",
    ],
    "janitor": [
        """INSERT INTO user_activity (user_id, first_seen_at, last_active_at)
           SELECT $1 || u, now() - interval '300 days', now() - interval '200 days'
           FROM generate_series(1, $2::int) AS u""",
    ],
}

CLEAN = {
    "auth": ["DELETE FROM users WHERE id LIKE $1 || '%'"],
    "profiles": [
        "DELETE FROM user_profiles WHERE user_id LIKE $1 || '%'",
        "DELETE FROM login_claims WHERE user_id LIKE $1 || '%'",
        "DELETE FROM deleted_users WHERE user_id LIKE $1 || '%'",
    ],
    "repositories": ["DELETE FROM repositories WHERE user_id LIKE $1 || '%'"],
    "janitor": [
        "DELETE FROM user_activity WHERE user_id LIKE $1 || '%'",
        "DELETE FROM deletions WHERE user_id LIKE $1 || '%'",
    ],
}

RAW_DELETE = {
    "auth": "DELETE FROM users WHERE id = ANY($1::text[])",
    "profiles": "DELETE FROM user_profiles WHERE user_id = ANY($1::text[])",
    "repositories": "DELETE FROM repositories WHERE user_id = ANY($1::text[])",
    "janitor": "DELETE FROM user_activity WHERE user_id = ANY($1::text[])",
}


async def _each(target: Target, statements: dict[str, list[str]], *args: object) -> None:
    for service, sqls in statements.items():
        async with connected(target.database_url(service)) as connection:
            for sql in sqls:
                needed = max((int(n) for n in _placeholders(sql)), default=0)
                await connection.execute(sql, *args[:needed])


def _placeholders(sql: str) -> list[str]:
    import re

    return re.findall(r"\$(\d+)", sql)


async def seed(target: Target, prefix: str, users: int, repos: int) -> None:
    await _each(target, CLEAN, prefix)
    await _each(target, SEED, prefix, users, GITHUB_ID_BASE[prefix], repos)
    for service in SEED:
        async with connected(target.database_url(service)) as connection:
            await connection.execute("ANALYZE")


async def raw_deletes(target: Target, prefix: str, users: int) -> float:
    """One DELETE per database, one after another; their total time in seconds."""
    ids = [f"{prefix}{u}" for u in range(1, users + 1)]
    total = 0.0
    for service, sql in RAW_DELETE.items():
        async with connected(target.database_url(service)) as connection:
            began = time.perf_counter()
            await connection.execute(sql, ids)
            total += time.perf_counter() - began
    return total


async def sweep(target: Target, users: int) -> str:
    """One forced sweep, as ``python -m codeflow_janitor sweep --force`` runs it (in-process,
    so the figure holds no interpreter start); returns its report."""
    settings = JanitorSettings(
        database_url=target.database_url("janitor"),
        max_deletions_per_sweep=users + 1000,
        environment="development",
    )
    report = await run_sweep(settings, dry_run=False, force=True)
    return repr(report)[:500]


async def completed(target: Target, prefix: str) -> int:
    async with connected(target.database_url("janitor")) as connection:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM deletions WHERE user_id LIKE $1 || '%' "
                "AND completed_at IS NOT NULL",
                prefix,
            )
        )


async def rows_left(target: Target, prefix: str) -> dict[str, int]:
    left: dict[str, int] = {}
    for service, sql in (
        ("auth", "SELECT count(*) FROM users WHERE id LIKE $1 || '%'"),
        ("profiles", "SELECT count(*) FROM user_profiles WHERE user_id LIKE $1 || '%'"),
        ("repositories", "SELECT count(*) FROM repositories WHERE user_id LIKE $1 || '%'"),
    ):
        async with connected(target.database_url(service)) as connection:
            left[service] = int(await connection.fetchval(sql, prefix))
    return left


def start_profiles(target: Target, plan: Plan, results_dir: Path) -> list[profiling.Recording]:
    if plan.profile_seconds <= 0:
        return []
    directory = profiling.profile_dir(results_dir)
    services = ("janitor", "repositories")
    return profiling.record_services(target.pid, services, plan.profile_seconds, directory, "b5")


async def run_b5(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    users = plan.b5_users
    logger.info("B5: seeding %d users twice in every database", users)
    await seed(target, RAW_PREFIX, users, plan.repos_per_user)
    await seed(target, SAGA_PREFIX, users, plan.repos_per_user)

    raw_seconds = await raw_deletes(target, RAW_PREFIX, users)

    logger.info("B5: sweeping %d users through the saga", users)
    began = time.perf_counter()
    report = await sweep(target, users)
    swept = time.perf_counter() - began
    recordings = start_profiles(target, plan, results_dir)
    done = 0
    while True:
        done = await completed(target, SAGA_PREFIX)
        elapsed = time.perf_counter() - began
        if done >= users or elapsed > plan.b5_timeout:
            break
        await asyncio.sleep(0.5)
    run.profiles += await profiling.finish_services(
        recordings,
        what="B5, the saga: the {service} service",
        why="The janitor takes three acknowledgements per deletion; auth one command "
        "per user, the others auth's erasure event.",
    )
    run.figures["B5 sweep (s)"] = round(swept, 2)
    run.figures["B5 deletions complete"] = f"{done:,} of {users:,}"
    run.series["B5"] = {
        "users": users,
        "saga_seconds": elapsed,
        "raw_seconds": raw_seconds,
        "completed": done,
        "sweep": report,
    }
    if done < users:
        left = await rows_left(target, SAGA_PREFIX)
        run.notes.append(
            f"B5: {done:,} of {users:,} deletions complete within {plan.b5_timeout:.0f} s "
            f"(rows left: {left}); the figure is the bound, a lower limit of the real time."
        )
    run.figures["B5 saga deletions/s"] = round(done / elapsed, 1) if elapsed else None
    run.compare(
        Comparison(
            "B5",
            f"{users:,} users through the janitor saga, until every ack",
            "time",
            "s",
            elapsed,
            "one DELETE per database",
            raw_seconds,
            higher_is_better=False,
        )
    )
    await _each(target, CLEAN, SAGA_PREFIX)
    await _each(target, CLEAN, RAW_PREFIX)
