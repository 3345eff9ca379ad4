"""The emulator closes an idle connection after its clients do, never as one sends on it."""

from __future__ import annotations

import httpx

from codeflow_github_emulator.__main__ import server_config


def test_the_emulator_keeps_an_idle_connection_longer_than_an_httpx_client_does() -> None:
    # Auth's GitHub client and the end-to-end tests' browsers use httpx's default limits.
    client_keeps = httpx.Limits().keepalive_expiry
    assert client_keeps is not None
    assert client_keeps < server_config(["--port", "9000"]).timeout_keep_alive
