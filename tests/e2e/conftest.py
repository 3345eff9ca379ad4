"""End-to-end tests: the whole local cluster, reached through the gateway as a browser would.

Run with ``make test-e2e``, which starts a cluster of the tests' own in ``.local/test`` on
ports of its own and deletes it afterwards. They refuse `make up`'s cluster (``.local``):
they sign people in, erase them and sweep with force.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from codeflow_infra.cluster_config import ClusterConfig

sys.path.insert(0, str(Path(__file__).parent))

from e2e_support import Cluster, GitHubUser
from playwright.async_api import BrowserContext, Page
from web_browser import chromium, chromium_missing, screenshots_dir

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
async def cluster() -> Cluster:
    # The same ports and addresses `make up` uses, from the same environment variables.
    config = ClusterConfig.from_env()
    if config.infra.is_make_ups:
        pytest.fail(
            "these tests sign people in, erase them and sweep with force: not in the cluster "
            f"`make up` keeps in {config.infra.local_dir}. Run them with `make test-e2e` "
            "(E2E_TESTS=<paths> narrows it), which starts a cluster of their own",
            pytrace=False,
        )
    gateway = os.environ.get("CODEFLOW_GATEWAY_URL", config.gateway_url)
    emulator = os.environ.get("CODEFLOW_EMULATOR_URL", config.emulator_url)
    database = os.environ.get("DATABASE_URL", config.infra.postgres_url)
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            (await client.get(f"{gateway}/healthz")).raise_for_status()
            (await client.get(f"{emulator}/_emulator/users")).raise_for_status()
        except httpx.HTTPError as error:
            pytest.fail(
                f"the local cluster is not answering ({error}); run `make up` first, or "
                "`make test-e2e`, which starts it",
                pytrace=False,
            )
    return Cluster(gateway_url=gateway, emulator_url=emulator, maintenance_url=database)


@pytest.fixture
async def github_user(cluster: Cluster) -> GitHubUser:
    """A GitHub account of this test's own, so tests never share a user."""
    return await _new_github_user(cluster)


@pytest.fixture
async def other_github_user(cluster: Cluster) -> GitHubUser:
    """A second account of the test's own: someone else on GitHub."""
    return await _new_github_user(cluster)


async def _new_github_user(cluster: Cluster) -> GitHubUser:
    suffix = uuid.uuid4().hex[:10]
    user = GitHubUser(
        id=int(uuid.uuid4().int % 9_000_000_000) + 5_000_000_000,
        login=f"e2e-{suffix}",
        email=f"e2e-{suffix}@example.com",
    )
    await cluster.add_github_user(user)
    return user


@pytest.fixture
async def browser(cluster: Cluster) -> AsyncIterator[BrowserContext]:
    """Debian's Chromium, headless, with a profile of its own (web_browser)."""
    missing = chromium_missing()
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    async with chromium(cluster.gateway_url) as context:
        yield context


@pytest.fixture
async def page(browser: BrowserContext) -> Page:
    return await browser.new_page()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the browser tests left their screenshots (they stay after the run)."""
    folder = screenshots_dir()
    shots = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if shots:
        terminalreporter.write_sep("-", "screenshots of the web dashboard")
        terminalreporter.write_line(f"{len(shots)} in {folder}")
