"""B1 (the dashboard read), B2 (the gateway's and the auth check's cost) and memory.

Seeds ``users`` x ``repos_per_user`` rows straight into ``codeflow_repositories`` with one
``INSERT ... SELECT generate_series``, signs a handful of users in through GitHub's stand-in
for real sessions (with the same number of repositories each), then loads with wrk:

- through the gateway with a session cookie (verify, JWT, query);
- the repositories service directly with a JWT from ``/auth/verify``;
- a bare Starlette + asyncpg endpoint serving the same SQL (``bare_app``);
- pgbench running the same SQL, no HTTP;
- ``/auth/verify`` alone.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from codeflow_bench import load, memory, profiling
from codeflow_bench.database import connected
from codeflow_bench.floor import BARE, ROUNDS, SERVICE, measure_the_floor
from codeflow_bench.plan import Plan
from codeflow_bench.results import Comparison, Run
from codeflow_bench.signin import SESSION_COOKIE, Session, add_github_users, jwt_for, sign_in
from codeflow_bench.stats import HttpResult
from codeflow_bench.target import Target
from codeflow_repositories.repositories.repository import dashboard_statement

logger = logging.getLogger("codeflow.bench")

SEED_PREFIX = "bench-"
PAGE_QUERY_LIMIT = 51  # the service asks for one row more than the page (50) to see a next page
B1_GITHUB_ID_BASE = 8_100_000_000


def dashboard_sql() -> str:
    """The service's own dashboard statement, compiled for asyncpg (``$1`` user, ``$2`` limit)."""
    statement = dashboard_statement(
        "user", include_inactive=False, after=None, limit=PAGE_QUERY_LIMIT
    )
    return str(statement.compile(dialect=asyncpg_dialect.dialect()))  # type: ignore[no-untyped-call]


def pgbench_script(sql: str, users: int) -> str:
    """The same statement for pgbench: a random seeded user, the same limit."""
    body = sql.replace("$1::VARCHAR", f"('{SEED_PREFIX}' || :u)::VARCHAR").replace(
        "$2::INTEGER", str(PAGE_QUERY_LIMIT)
    )
    return f"\\set u random(1, {users})\n" + " ".join(body.split()) + ";\n"


DETAIL_COLUMNS = (
    "description, visibility, default_branch, pushed_at, stargazers_count, html_url, "
    "github_etag, refreshed_at"
)
DETAIL_VALUES = (
    "'The repository number ' || r || ', as GitHub describes it', 'public', 'main', "
    "now() - r * interval '1 hour', r * 7, 'https://github.com/' || 'owner/repo-' || r, "
    "'W/\"' || md5(r::text) || '\"', now()"
)
"""What GitHub says of each seeded repository, as a monitored one carries it (ADR 0023)."""


async def seed_repositories(url: str, users: int, per_user: int) -> None:
    async with connected(url) as connection:
        await connection.execute(
            "DELETE FROM repositories WHERE user_id LIKE $1", f"{SEED_PREFIX}%"
        )
        await connection.execute(
            f"""
            INSERT INTO repositories (id, github_id, name, full_name, owner, is_active, user_id,
                                      {DETAIL_COLUMNS})
            SELECT gen_random_uuid(), u::bigint * 1000 + r, 'repo-' || r,
                   'owner-' || u || '/repo-' || r, 'owner-' || u, true, $1 || u,
                   {DETAIL_VALUES}
            FROM generate_series(1, $2::int) AS u, generate_series(1, $3::int) AS r
            """,  # noqa: S608 - constants, no input
            SEED_PREFIX,
            users,
            per_user,
        )
        await connection.execute("ANALYZE repositories")


async def give_repositories(url: str, user_ids: list[str], per_user: int) -> None:
    """The signed-in users get as many repositories as the seeded ones."""
    async with connected(url) as connection:
        await connection.execute("DELETE FROM repositories WHERE user_id = ANY($1)", user_ids)
        await connection.execute(
            f"""
            INSERT INTO repositories (id, github_id, name, full_name, owner, is_active, user_id,
                                      {DETAIL_COLUMNS})
            SELECT gen_random_uuid(), r, 'repo-' || r, 'me/repo-' || r, 'me', true, uid,
                   {DETAIL_VALUES}
            FROM unnest($1::text[]) AS uid, generate_series(1, $2::int) AS r
            """,  # noqa: S608 - constants, no input
            user_ids,
            per_user,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def expect_page(url: str, header: str, items: int) -> None:
    """One request first: the load must measure answers, not errors."""
    name, _, value = header.partition(": ")
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url, headers={name: value})
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    got = len(response.json().get("items", []))
    if got != items:
        raise RuntimeError(f"{url} returned {got} items, expected {items}")


def http_point(result: HttpResult) -> dict[str, Any]:
    return {
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
        "errors": result.errors,
        "non_2xx": result.non_2xx,
    }


async def run_b1_b2(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    repos_url = target.database_url("repositories")
    logger.info("B1: seeding %d users x %d repositories", plan.users, plan.repos_per_user)
    await seed_repositories(repos_url, plan.users, plan.repos_per_user)
    logins = await add_github_users(target, "bench-b1", plan.sessions, B1_GITHUB_ID_BASE)
    sessions: list[Session] = [await sign_in(target, login) for login in logins]
    await give_repositories(repos_url, [s.user_id for s in sessions], plan.repos_per_user)

    cookies = [f"Cookie: {SESSION_COOKIE}={s.cookie}" for s in sessions]
    user_headers = [f"X-User-Id: {s.user_id}" for s in sessions]

    sql = dashboard_sql()
    port = free_port()
    gateway_url = f"{target.gateway_url}/api/repositories"
    direct_url = f"{target.service_urls['repositories']}/repositories"
    bare_url = f"http://127.0.0.1:{port}/repositories"
    verify_url = f"{target.service_urls['auth']}/auth/verify?service=repositories"
    series: dict[str, dict[str, Any]] = {
        "gateway": {},
        "direct": {},
        "bare": {},
        "pgbench": {},
        "verify": {},
    }
    run.series["B1"] = series
    run.figures["B1 SQL"] = " ".join(sql.split())

    async def tokens() -> list[str]:
        return [f"Authorization: Bearer {await jwt_for(target, s)}" for s in sessions]

    def measure(url: str, headers: list[str], c: int) -> HttpResult:
        load.wrk(url, headers, connections=c, seconds=plan.warmup_seconds)
        return load.wrk(url, headers, connections=c, seconds=plan.http_seconds)

    env = {"BENCH_DATABASE_URL": repos_url, "BENCH_DASHBOARD_SQL": sql}
    with load.served(
        "codeflow_bench.bare_app:create_app",
        port=port,
        env=env,
        log=results_dir / "logs" / "bare_app.log",
    ) as bare:
        # At rest, the services beside the bare app: the same window on the same machine.
        await asyncio.sleep(2)
        run.memory["idle"] = memory.snapshot(target)
        run.memory["idle"][memory.LIBRARIES_ALONE] = await asyncio.to_thread(
            memory.libraries_alone_mb
        )
        idle_cpu = await asyncio.to_thread(
            memory.idle_cpu_percent,
            target,
            plan.idle_seconds,
            beside={memory.IDLE_BASELINE: bare.pid},
        )
        for piece, share in idle_cpu.items():
            run.figures[memory.idle_cpu_figure(piece)] = share
        await expect_page(bare_url, user_headers[0], plan.repos_per_user)
        await expect_page(gateway_url, cookies[0], plan.repos_per_user)
        await expect_page(direct_url, (await tokens())[0], plan.repos_per_user)
        for c in plan.concurrencies:
            logger.info("B1: concurrency %d", c)
            series["bare"][str(c)] = http_point(
                await asyncio.to_thread(measure, bare_url, user_headers, c)
            )
            if c == max(plan.concurrencies):
                with memory.PeakSampler(target) as sampler:
                    gateway = await asyncio.to_thread(measure, gateway_url, cookies, c)
                run.memory[f"under B1 (peak, gateway c={c})"] = sampler.peak
            else:
                gateway = await asyncio.to_thread(measure, gateway_url, cookies, c)
            series["gateway"][str(c)] = http_point(gateway)
            direct_headers = await tokens()
            series["direct"][str(c)] = http_point(
                await asyncio.to_thread(measure, direct_url, direct_headers, c)
            )
            series["verify"][str(c)] = http_point(
                await asyncio.to_thread(measure, verify_url, cookies, c)
            )
            tx, p50, p99 = await asyncio.to_thread(
                load.pgbench,
                host=target.postgres_host,
                port=target.postgres_port,
                database="codeflow_repositories",
                script=pgbench_script(sql, plan.users),
                clients=c,
                seconds=plan.http_seconds,
            )
            series["pgbench"][str(c)] = {
                "rps": tx.tps,
                "p50_ms": p50,
                "p99_ms": p99,
                "requests": tx.transactions,
                "errors": tx.failed,
                "non_2xx": 0,
            }

        nginx_alone = await asyncio.to_thread(
            load.wrk,
            f"{target.gateway_url}/healthz",
            ["Accept: */*"],
            connections=max(plan.concurrencies),
            seconds=plan.http_seconds,
        )
        run.figures[f"gateway alone (nginx /healthz, c={max(plan.concurrencies)}) req/s"] = (
            nginx_alone.rps
        )
        # The web framework's own share: a health check does no I/O on any side, so this
        # is FastAPI (dependencies, validation, response model) against bare Starlette.
        await measure_the_floor(
            run,
            results_dir,
            urls={
                SERVICE: f"{target.service_urls['repositories']}/healthz",
                BARE: f"http://127.0.0.1:{port}/healthz",
            },
            port=free_port(),
            concurrency=max(plan.concurrencies),
            warmup_seconds=plan.warmup_seconds,
            window_seconds=max(1.0, plan.http_seconds / ROUNDS),
        )

        # Where the time goes under the heaviest load: the two Python processes on the path.
        if plan.profile_seconds > 0:
            await profile_gateway_path(target, plan, run, results_dir, gateway_url, cookies)

    for label, points in series.items():
        for level, point in points.items():
            if point["errors"] or point["non_2xx"]:
                run.errors.append(
                    f"B1 {label} c={level}: {point['errors']} socket errors, "
                    f"{point['non_2xx']} non-2xx answers"
                )
    add_comparisons(run, series, plan)


METRICS = {"throughput": ("req/s", "rps", True), "p50": ("ms", "p50_ms", False),
           "p99": ("ms", "p99_ms", False)}  # fmt: skip
"""Each metric's unit, its key in a series' point, and whether higher is better."""

LABELS = {"gateway": "gateway", "direct": "direct with JWT", "bare": "bare ASGI",
          "pgbench": "pgbench (same SQL)", "verify": "/auth/verify alone"}  # fmt: skip

COMPARISONS = (
    ("B1", "gateway", "bare", ("throughput", "p50", "p99")),
    ("B1", "gateway", "pgbench", ("throughput",)),
    ("B1", "bare", "pgbench", ("throughput",)),
    ("B2", "direct", "bare", ("throughput", "p99")),
    ("B2", "gateway", "direct", ("throughput",)),
    ("B2", "verify", "bare", ("throughput", "p50")),
)
"""(benchmark, measured series, baseline series, metrics), in the report's order."""


def add_comparisons(run: Run, series: dict[str, dict[str, Any]], plan: Plan) -> None:
    for c in map(str, plan.concurrencies):
        for benchmark, measured, baseline, metrics in COMPARISONS:
            for metric in metrics:
                unit, key, higher_is_better = METRICS[metric]
                run.compare(
                    Comparison(
                        benchmark,
                        f"{LABELS[measured]} c={c}",
                        metric,
                        unit,
                        series[measured][c][key],
                        LABELS[baseline],
                        series[baseline][c][key],
                        higher_is_better=higher_is_better,
                    )
                )


async def profile_gateway_path(
    target: Target,
    plan: Plan,
    run: Run,
    results_dir: Path,
    gateway_url: str,
    cookies: list[str],
) -> None:
    c = max(plan.concurrencies)
    out = profiling.profile_dir(results_dir)
    services = ("repositories", "auth")
    recordings = profiling.record_services(target.pid, services, plan.profile_seconds, out, "b1")
    await asyncio.to_thread(
        load.wrk, gateway_url, cookies, connections=c, seconds=plan.profile_seconds + 1
    )
    run.profiles += await profiling.finish_services(
        recordings,
        what=f"B1 through the gateway, c={c}: the {{service}} service",
        why="B1 through the gateway: auth checks each session once per reuse window"
        " (GATEWAY_AUTH_CACHE_SECONDS), repositories serves every request.",
    )
