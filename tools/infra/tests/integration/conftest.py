"""The gateway's tests share gateway_support (stand-in services, a gateway in front of them),
the launcher's lifecycle tests launcher_support."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codeflow_infra import gateway

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def nginx() -> str:
    binary = gateway.nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    return binary
