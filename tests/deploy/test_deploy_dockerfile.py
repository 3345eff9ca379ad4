"""deploy/docker: the one Dockerfile of every service image, read instruction by instruction
(test_deploy_image_build.py builds it without a Docker engine), and the two scripts it
installs, run for real.
"""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER = REPO_ROOT / "deploy" / "docker"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|_KEYS?\b|CREDENTIAL", re.IGNORECASE)


Stages = dict[str, list[tuple[str, str]]]


def test_the_image_is_built_in_stages_and_runs_on_python_3_11_slim(
    dockerfile: list[tuple[str, str]], dockerfile_stages: Stages
) -> None:
    assert list(dockerfile_stages) == ["build", "runtime"]
    build, runtime = dockerfile_stages.values()
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    (default,) = [args for kw, args in dockerfile if kw == "ARG"][:1]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", default)
    assert ("COPY", "--from=build /app /app") in runtime


def test_dependencies_come_from_the_lock_file_without_dev_tools(
    dockerfile: list[tuple[str, str]],
) -> None:
    syncs = [args for kw, args in dockerfile if kw == "RUN" and "uv sync" in args]
    assert syncs
    for sync in syncs:
        assert "--locked" in sync
        assert "--no-dev" in sync
        assert '--package "${PACKAGE}"' in sync


def test_the_service_runs_as_an_unprivileged_numeric_user(dockerfile_stages: Stages) -> None:
    runtime = dockerfile_stages["runtime"]
    users = [args for kw, args in runtime if kw == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    user = users[-1].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0
    assert [kw for kw, _ in runtime].index("USER") > max(
        i for i, (kw, _) in enumerate(runtime) if kw in ("RUN", "COPY")
    )


def test_the_image_has_a_health_check_and_an_entrypoint(dockerfile_stages: Stages) -> None:
    runtime = dockerfile_stages["runtime"]
    (healthcheck,) = [args for kw, args in runtime if kw == "HEALTHCHECK"]
    assert 'CMD ["codeflow-healthcheck"]' in healthcheck
    assert ("ENTRYPOINT", '["codeflow-entrypoint"]') in runtime
    assert ("CMD", '["serve"]') in runtime


def test_no_secret_enters_the_image(dockerfile: list[tuple[str, str]]) -> None:
    assert not [args for kw, args in dockerfile if kw == "ADD"], "use COPY, never ADD"
    for keyword, arguments in dockerfile:
        if keyword in ("ARG", "ENV"):
            assert not SECRET_NAME.search(arguments), arguments
        if keyword == "COPY":
            assert not re.search(r"\.env\b|\.pem\b|\.key\b|secret", arguments), arguments
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".git", ".venv", ".local", "**/.env", "**/*.env", "**/*.pem", "**/tests"):
        assert pattern in ignored


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A `python` on PATH that prints the arguments it was given, one per line."""
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done\n')
    python.chmod(0o755)
    return tmp_path


def run_entrypoint(fake_python: Path, *args: str, package: str = "codeflow-auth") -> list[str]:
    result = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
        env={
            "PATH": f"{fake_python}:/usr/bin:/bin",
            "CODEFLOW_PACKAGE": package,
            "CODEFLOW_PORT": "8001",
        },
    )
    return result.stdout.splitlines()


def test_serve_listens_on_every_interface_and_the_image_port(fake_python: Path) -> None:
    assert run_entrypoint(fake_python, "serve") == [
        "-m",
        "codeflow_auth",
        "serve",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--port",
        "8001",
    ]
    # The caller's own options come last, and argparse keeps the last.
    assert run_entrypoint(fake_python, "serve", "--port", "8100")[-2:] == ["--port", "8100"]


def test_the_stand_in_serves_without_a_command_word(fake_python: Path) -> None:
    stand_in = "codeflow-github-emulator"
    assert run_entrypoint(fake_python, "serve", "--log-level", "debug", package=stand_in) == [
        "-m",
        "codeflow_github_emulator",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--port",
        "8001",
        "--log-level",
        "debug",
    ]
    # docker-compose.yml gives it its options alone; they pass through.
    assert run_entrypoint(fake_python, "--port", "9000", package=stand_in) == [
        "-m",
        "codeflow_github_emulator",
        "--port",
        "9000",
    ]


def test_other_commands_pass_through_unchanged(fake_python: Path) -> None:
    assert run_entrypoint(fake_python, "migrate") == ["-m", "codeflow_auth", "migrate"]
    assert run_entrypoint(fake_python, "sweep", "--dry-run", package="codeflow-janitor") == [
        "-m",
        "codeflow_janitor",
        "sweep",
        "--dry-run",
    ]


class Answer(http.server.BaseHTTPRequestHandler):
    """200 on the services' /healthz and the stand-in's user list, 503 on anything else."""

    requested: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requested.append(self.path)
        self.send_response(200 if self.path in ("/healthz", "/_emulator/users") else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def healthcheck(*args: str, port: str = "1", package: str = "codeflow-auth") -> int:
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py"), *args],
        capture_output=True,
        timeout=10,
        check=False,
        env={"CODEFLOW_PORT": port, "CODEFLOW_PACKAGE": package},
    ).returncode


def test_the_health_check_passes_only_on_a_2xx_answer(server: str) -> None:
    assert healthcheck(f"{server}/healthz") == 0
    assert healthcheck(f"{server}/readyz") == 1
    assert healthcheck(port=server.rsplit(":", 1)[1]) == 0  # /healthz on CODEFLOW_PORT
    assert healthcheck("http://127.0.0.1:1/healthz") == 1  # nobody listens


def test_the_stand_ins_health_check_asks_its_user_list(server: str) -> None:
    Answer.requested.clear()
    assert healthcheck(port=server.rsplit(":", 1)[1], package="codeflow-github-emulator") == 0
    assert Answer.requested == ["/_emulator/users"]  # it has no /healthz
