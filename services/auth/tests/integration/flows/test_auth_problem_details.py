"""Problems tell the person what happened and what to do; the upstream URLs and the libraries'
error text go to the log, never into the answer."""

from __future__ import annotations

import logging

import pytest
from auth_flow_support import sign_in

from codeflow_testing.asgi import reserve_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.mark.parametrize("api", ["closed port", "wrong path"])
async def test_githubs_api_failing_answers_a_problem_without_its_urls_or_errors(
    start_auth, caplog: pytest.LogCaptureFixture, api: str
) -> None:
    closed = reserve_port()  # bound, never listening: connections are refused
    auth = await start_auth()
    broken = {
        "closed port": f"http://127.0.0.1:{closed.getsockname()[1]}",
        "wrong path": f"{auth.emulator_url}/no-such-api",
    }[api]
    auth = await start_auth(github_api_base_url=broken)
    caplog.set_level(logging.WARNING, logger="codeflow.auth")
    async with auth.browser() as browser:
        landed = await sign_in(browser, auth.url)
    closed.close()

    assert landed.status_code == 502
    problem = landed.json()
    assert problem["type"] == "urn:codeflow:problem:github-unavailable"
    for leak in ("http", "127.0.0.1", "no-such-api", "connect", "Error", "attempts"):
        assert leak not in problem["detail"], problem["detail"]
    assert any(broken.split("//")[1] in record.getMessage() for record in caplog.records)
