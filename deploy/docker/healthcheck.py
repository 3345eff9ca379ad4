#!/usr/bin/env python3
"""The image's health check: exit 0 if a URL answers 2xx within two seconds, else 1.

``codeflow-healthcheck [URL]``; the URL defaults to the service's ``/healthz`` on
``CODEFLOW_PORT`` (the GitHub stand-in, which has none, answers on its user list).
Orchestrators that want readiness pass ``.../readyz``.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 2.0
# What answers while the process is alive, by the image's package; the services' /healthz
# for any other.
ALIVE_PATHS = {"codeflow-github-emulator": "/_emulator/users"}


def default_url() -> str:
    path = ALIVE_PATHS.get(os.environ.get("CODEFLOW_PACKAGE", ""), "/healthz")
    return f"http://127.0.0.1:{os.environ['CODEFLOW_PORT']}{path}"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else default_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
