"""Who closes an idle HTTP connection first: always the client, never the service.

A client that sends a request on a kept-alive connection at the moment the server closes it
gets no answer (httpx: ``ReadError``; nginx: a 502 for a request it may not send twice). So
the services' server keeps an idle connection longer than any client of theirs keeps one:
the gateway's upstream connections and the services' own HTTP clients (httpx).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from codeflow_service.cli import server_config
from codeflow_testing import asgi

REPO_ROOT = Path(__file__).resolve().parents[4]
GATEWAY_TEMPLATE = REPO_ROOT / "deploy" / "gateway" / "nginx.conf.template"
NGINX_UPSTREAM_KEEPALIVE_DEFAULT = 60.0
"""nginx's ``keepalive_timeout`` in an ``upstream`` block when none is given."""
SERVED = server_config("example", host="127.0.0.1", port=8000).timeout_keep_alive
"""How long a service keeps an idle connection."""


def _gateway_upstream_idle_seconds() -> list[float]:
    blocks = re.findall(r"upstream \w+ \{(.*?)\}", GATEWAY_TEMPLATE.read_text(), re.S)
    assert blocks, "no upstream blocks found in the gateway's template"
    seconds = []
    for block in blocks:
        given = re.search(r"keepalive_timeout (\d+)s;", block)
        seconds.append(float(given[1]) if given else NGINX_UPSTREAM_KEEPALIVE_DEFAULT)
    return seconds


def test_a_service_keeps_an_idle_connection_longer_than_the_gateway_does() -> None:
    assert all(kept < SERVED for kept in _gateway_upstream_idle_seconds())


def test_a_service_keeps_an_idle_connection_longer_than_an_httpx_client_does() -> None:
    # The repositories service's GitHub client (to auth) and the JWKS client use httpx's
    # default limits.
    client_keeps = httpx.Limits().keepalive_expiry
    assert client_keeps is not None
    assert client_keeps < SERVED


def test_the_tests_servers_keep_idle_connections_as_the_services_do() -> None:
    # Stand-ins (GitHub's, a service replica) served in tests close idle connections no
    # sooner than the services, or their clients meet the race the services avoid.
    assert SERVED == asgi.KEEP_ALIVE_SECONDS
