"""B6: complete sign-in flows per second against GitHub's stand-in."""

from __future__ import annotations

import logging
from pathlib import Path

from codeflow_bench.plan import Plan
from codeflow_bench.results import Run
from codeflow_bench.signin import add_github_users, sign_in, sign_in_flows
from codeflow_bench.stats import percentile
from codeflow_bench.target import Target

logger = logging.getLogger("codeflow.bench")

B6_GITHUB_ID_BASE = 8_200_000_000
B6_USERS = 32


async def run_b6(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    logins = await add_github_users(target, "bench-b6", B6_USERS, B6_GITHUB_ID_BASE)
    # Warm-up: every user exists in auth before the clock starts (the first flow creates it).
    for login in logins:
        await sign_in(target, login)
    flows = await sign_in_flows(
        target, logins, concurrency=plan.b6_concurrency, seconds=plan.b6_seconds
    )
    run.figures[f"B6 sign-in flows/s (auth direct, concurrency {plan.b6_concurrency})"] = round(
        flows.per_second, 1
    )
    run.figures["B6 flow p50 (ms)"] = round(percentile(flows.durations_ms, 50), 1)
    run.figures["B6 flow p99 (ms)"] = round(percentile(flows.durations_ms, 99), 1)
    run.figures["B6 flows completed / failed"] = f"{flows.flows} / {flows.failures}"
    run.series["B6"] = {
        "flows": flows.flows,
        "failures": flows.failures,
        "seconds": flows.seconds,
        "per_second": flows.per_second,
    }
    run.notes.append(
        "B6 runs each flow (auth sign-in → stand-in authorize → auth callback → /auth/session) "
        "against auth directly: through the gateway, /auth/signin/ and /auth/callback/ are "
        "rate-limited to 10 requests/s per client address (burst 20), i.e. about 5 flows/s "
        "from one address, by design."
    )
    if flows.failures:
        run.errors.append(f"B6: {flows.failures} sign-in flows failed; first: {flows.first_error}")
    if flows.flows == 0:
        raise RuntimeError("B6: no sign-in flow completed")
