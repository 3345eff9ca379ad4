"""Each service's ``/metrics``, scraped on its own port as the platform does (the gateway
routes no ``/metrics``): after a sign-in and a dashboard read through the gateway, the routes
used are counted, and every consumer group's lag comes down to 0 once the events are
consumed."""

from __future__ import annotations

from collections import defaultdict

import httpx
import pytest
from e2e_support import Cluster, GitHubUser, eventually
from prometheus_client.parser import text_string_to_metric_families

from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.config import HOST

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

Samples = dict[str, list[tuple[dict[str, str], float]]]

ROUTES_USED = {
    "auth": [
        ("/auth/signin/github", "302"),
        ("/auth/callback/github", "302"),
        ("/auth/verify", "200"),
    ],
    "profiles": [("/profiles/me", "200")],
    "repositories": [("/repositories", "200")],
}
CONSUMING_THE_SIGN_IN = ("profiles", "janitor")
"""The groups that consume ``UserCreated`` and ``UserActive`` (auth.user-events)."""


async def scrape(config: ClusterConfig, service: str) -> Samples:
    """The samples of every replica of ``service``, by name."""
    samples: Samples = defaultdict(list)
    async with httpx.AsyncClient(timeout=10) as client:
        for port in config.replica_ports(service):
            response = await client.get(f"http://{HOST}:{port}/metrics")
            response.raise_for_status()
            for family in text_string_to_metric_families(response.text):
                for sample in family.samples:
                    samples[sample.name].append((sample.labels, sample.value))
    return samples


def requests_to(samples: Samples, handler: str, status: str) -> float:
    return sum(
        value
        for labels, value in samples["http_requests_total"]
        if labels["handler"] == handler and labels["method"] == "GET" and labels["status"] == status
    )


async def test_after_a_sign_in_and_a_dashboard_read_the_routes_are_counted_and_no_group_lags(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:

        async def profile_created() -> bool:
            return (await browser.get("/api/profiles/me")).status_code == 200

        await eventually(profile_created, timeout=30, what="the profile to be created")
        dashboard = await browser.get("/api/repositories")
        assert dashboard.status_code == 200, dashboard.text

    config = ClusterConfig.from_env()
    for service, routes in ROUTES_USED.items():
        samples = await scrape(config, service)
        for handler, status in routes:
            assert requests_to(samples, handler, status) > 0, (service, handler, status)

    async def every_lag_is_zero() -> dict[str, list[float]] | None:
        lags: dict[str, list[float]] = {}
        for service in ("auth", "profiles", "repositories", "janitor"):
            samples = await scrape(config, service)
            lags[service] = [value for _, value in samples["kafka_consumer_lag"]]
        consumed = all(lags[service] for service in CONSUMING_THE_SIGN_IN)
        return lags if consumed and not any(any(v) for v in lags.values()) else None

    lags = await eventually(every_lag_is_zero, timeout=60, what="every consumer lag to be 0")
    assert all(value == 0 for values in lags.values() for value in values)
