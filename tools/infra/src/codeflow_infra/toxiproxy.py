"""Toxiproxy: a real TCP proxy to put between a service and PostgreSQL or Kafka, whose faults
(latency, a cut, a slow close, a reset) a test or the fault soak switches on and off.

The server is Shopify's, built from its Go module with ``go install`` into
``deploy/toxiproxy/bin`` (git-ignored) the first time it is needed, then run as a component
of its own on loopback. :class:`Toxiproxy` speaks its HTTP API.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from codeflow_infra import processes
from codeflow_infra.components import Component, ComponentError
from codeflow_infra.config import HOST, ConfigError, InfraConfig

logger = logging.getLogger("codeflow_infra")

MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"
VERSION = "v2.5.0"
BUILD_TIMEOUT = 600.0


def binary_path(config: InfraConfig) -> Path:
    if config.repo_root is None:
        raise ConfigError("cannot find the CodeFlow repository; set CODEFLOW_REPO_ROOT")
    return config.repo_root / "deploy" / "toxiproxy" / "bin" / f"toxiproxy-server-{VERSION}"


def ensure_binary(config: InfraConfig) -> Path:
    """The server's binary, built with ``go install`` unless it is there already."""
    path = binary_path(config)
    if path.exists():
        return path
    go = shutil.which("go")
    if go is None:
        raise ComponentError(
            "Toxiproxy is built from its Go module, and there is no `go` on PATH: install Go"
        )
    logger.info("building Toxiproxy %s with go install (once)", VERSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as build:
        env = dict(os.environ, GOBIN=build)
        done = subprocess.run(
            [go, "install", f"{MODULE}@{VERSION}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise ComponentError(f"go install {MODULE}@{VERSION} failed:\n{done.stderr[-3000:]}")
        # Moved in one step, so a build that dies half-way leaves no binary behind.
        (Path(build) / "server").rename(path)
    return path


def server(config: InfraConfig, port: int, *, name: str = "toxiproxy") -> Component:
    """The Toxiproxy server on 127.0.0.1:``port``, with the infrastructure's pid and log
    directories (start it, wait until ready, stop it as any component)."""
    return Component(
        name=name,
        argv=[str(ensure_binary(config)), "-host", HOST, "-port", str(port)],
        port=port,
        ready_path="/version",
        run_dir=config.run_dir,
        logs_dir=config.logs_dir,
        cwd=config.local_dir,
        marker=f"toxiproxy-server-{VERSION}",
    )


class Toxiproxy:
    """The API of a running Toxiproxy server: proxies, and the toxics on them."""

    def __init__(self, port: int) -> None:
        self._client = httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=10)

    async def __aenter__(self) -> Toxiproxy:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def proxy(self, name: str, *, upstream: str, listen_port: int) -> str:
        """Create proxy ``name`` from 127.0.0.1:``listen_port`` to ``upstream`` (``host:port``);
        returns the address to connect to instead of the upstream."""
        if processes.port_accepts(HOST, listen_port):
            raise ComponentError(f"proxy {name}: port {listen_port} is taken")
        listen = f"{HOST}:{listen_port}"
        await self._call("POST", "/proxies", {"name": name, "listen": listen, "upstream": upstream})
        return listen

    async def add_toxic(
        self,
        proxy: str,
        kind: str,
        attributes: Mapping[str, Any],
        *,
        name: str | None = None,
        stream: str = "downstream",
    ) -> str:
        """Add a toxic (``latency``, ``timeout``, ``slow_close``, ``reset_peer``,
        ``bandwidth``, ...) to ``proxy``; returns its name."""
        toxic = name or f"{kind}_{stream}"
        await self._call(
            "POST",
            f"/proxies/{proxy}/toxics",
            {"name": toxic, "type": kind, "stream": stream, "attributes": dict(attributes)},
        )
        return toxic

    async def remove_toxic(self, proxy: str, toxic: str) -> None:
        await self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")

    async def cut(self, proxy: str) -> None:
        """Close every connection through ``proxy`` and refuse new ones."""
        await self._call("POST", f"/proxies/{proxy}", {"enabled": False})

    async def restore(self, proxy: str) -> None:
        await self._call("POST", f"/proxies/{proxy}", {"enabled": True})

    async def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        await self._call("POST", "/reset")

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> None:
        response = await self._client.request(method, path, json=body)
        if response.status_code >= 300:
            raise ComponentError(
                f"Toxiproxy {method} {path}: {response.status_code} {response.text.strip()}"
            )
