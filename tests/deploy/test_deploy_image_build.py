"""deploy/docker/Dockerfile, built as Docker would build it, without a Docker engine.

For every image (the four services and the GitHub stand-in): the build context Docker would
send (docker's own SDK applies .dockerignore), then the build stage's instructions in order,
read from the Dockerfile: its ARGs and ENVs, what each COPY copies, and each RUN, run as it
stands with ``sh -c``. The image's directories (/app, /usr/local/bin) are a temporary
directory's; /usr/local/bin/python3.11 there is this machine's Python 3.11; uv's cache mount
is uv's cache here. The one RUN not run installs uv with pip: the image's /usr/local/bin/uv
is this machine's uv if that is the pinned version, else the pinned one run by it. Then the
service answers ``--help`` through the image's entrypoint, and the stand-in serves with the
image's default command until its health check passes.

Slow (a virtual environment per image): ``make deploy-check`` runs it, not ``make test``.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

pytestmark = pytest.mark.image

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "deploy/docker/Dockerfile"
# The images docker-compose.yml builds, and the port each serves on.
IMAGES = {
    "codeflow-auth": "8001",
    "codeflow-profiles": "8002",
    "codeflow-repositories": "8003",
    "codeflow-janitor": "8004",
    "codeflow-github-emulator": "9000",
}
STAND_IN = "codeflow-github-emulator"
# Where the stand-in serves while the check runs it; like every port the project's tools
# listen on, below Linux's range for outgoing connections.
STAND_IN_PORT = os.environ.get("DEPLOY_CHECK_PORT", "27000")
# The image's own directories, made inside a temporary directory.
IMAGE_DIRECTORIES = ("/app", "/usr/local/bin")
# The PATH of the python images, before the Dockerfile's ENV adds to it.
BASE_IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
# What a build here takes from this machine: uv's cache (the cache mount's stand-in), and
# how this machine reaches the network (its proxies and certificates), as a builder's own.
MACHINE_SETTINGS = {
    "HOME",
    "UV_CACHE_DIR",
    "XDG_CACHE_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    *(f"{name}_proxy" for name in ("http", "https", "all", "no")),
    *(f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")),
}
VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
UV_INSTALL = re.compile(r"\bpip install\b.*\buv==")

Stages = dict[str, list[tuple[str, str]]]


@dataclass
class Image:
    """A built image's files under ``root``, and what the build saw along the way."""

    root: Path
    variables: dict[str, str] = field(default_factory=dict)
    # The distributions installed after each `uv sync` of the build stage, in order.
    installed_after_each_sync: list[set[str]] = field(default_factory=list)

    def path(self, image_path: str) -> Path:
        """Where a path of the image is in this build."""
        return self.root / image_path.lstrip("/")

    def reroot(self, value: str) -> str:
        """A value with the image's own directories (paths, or PATH-like lists) made ours."""
        return ":".join(
            str(self.path(part))
            if any(part == d or part.startswith(d + "/") for d in IMAGE_DIRECTORIES)
            else part
            for part in value.split(":")
        )

    def expand(self, value: str) -> str:
        return VARIABLE.sub(lambda m: self.variables.get(m[1] or m[2], ""), value)

    def declare(self, arguments: str, build_args: Mapping[str, str]) -> None:
        """An ARG: the value the build passes, else its default."""
        name, _, default = arguments.partition("=")
        self.variables[name] = build_args.get(name, self.expand(default))

    def set_variables(self, arguments: str) -> None:
        """An ENV (or a stage's runtime settings): ``NAME=value`` pairs, quoted as in a shell."""
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            self.variables[name] = self.reroot(self.expand(value))


@pytest.fixture(scope="session")
def build_context(build_context_of: Callable[[str], Path]) -> Path:
    """The files `docker build -f deploy/docker/Dockerfile .` sends, unpacked."""
    return build_context_of(DOCKERFILE)


def image_python(root: Path) -> None:
    """/usr/local/bin/python3.11 of the image: this machine's Python 3.11."""
    bin_dir = root / "usr" / "local" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for name in ("python3.11", "python3", "python"):
        (bin_dir / name).symlink_to(base)


def copy(image: Image, arguments: str, context: Path, workdir: Path) -> None:
    """A COPY from the build context: directories' contents into the destination, files into
    it when it ends with / (or several are copied), else to it."""
    words = shlex.split(arguments)
    flags = [word for word in words if word.startswith("--")]
    *sources, destination = [word for word in words if not word.startswith("--")]
    assert not [flag for flag in flags if not flag.startswith("--chmod=")], arguments
    target = image.path(destination) if destination.startswith("/") else workdir / destination
    into = destination.endswith("/") or len(sources) > 1
    for source in sources:
        matches = sorted(context.glob(source)) if re.search(r"[*?\[]", source) else []
        paths = matches or [context / source]
        for path in paths:
            assert path.exists(), f"COPY {arguments}: {source} is not in the build context"
            if path.is_dir():
                shutil.copytree(path, target, symlinks=True, dirs_exist_ok=True)
                continue
            file_target = target / path.name if into or matches else target
            file_target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, file_target)
            if flags:
                file_target.chmod(int(flags[0].removeprefix("--chmod="), 8))


def installed(environment: Path) -> set[str]:
    site_packages = list(environment.glob("lib/python*/site-packages"))
    return {
        str(distribution.metadata["Name"]).lower().replace("_", "-")
        for distribution in metadata.distributions(path=[str(p) for p in site_packages])
    }


def install_uv(image: Image) -> None:
    """What the RUN that installs uv with pip leaves: /usr/local/bin/uv, the pinned version.
    This machine's uv if it is that version, else that version run by this machine's uv."""
    host = shutil.which("uv")
    assert host is not None, "uv is not on PATH"
    pinned = image.variables["UV_VERSION"]
    version = subprocess.run(
        [host, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()[1]
    uv = image.path("/usr/local/bin/uv")
    if version == pinned:
        uv.symlink_to(host)
    else:
        uv.write_text(f'#!/bin/sh\nexec "{host}" tool run --quiet --from "uv=={pinned}" uv "$@"\n')
        uv.chmod(0o755)


def run(image: Image, arguments: str, workdir: Path) -> None:
    """A RUN as it stands, with the stage's ARGs and ENVs; a cache mount is uv's cache here."""
    command = arguments
    while command.startswith("--"):
        flag, _, command = command.partition(" ")
        assert flag.startswith("--mount=type=cache,"), f"RUN {arguments}: {flag} is not handled"
    assert not command.startswith("["), "RUN in exec form is not handled"
    if UV_INSTALL.search(command):
        install_uv(image)
        return
    environment = {
        "PATH": image.reroot(BASE_IMAGE_PATH),
        **{name: value for name, value in os.environ.items() if name in MACHINE_SETTINGS},
        **image.variables,
    }
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"RUN {command}\n{result.stdout}\n{result.stderr}"
    if "uv sync" in command:
        image.installed_after_each_sync.append(
            installed(Path(image.variables["UV_PROJECT_ENVIRONMENT"]))
        )


def build(stages: Stages, context: Path, root: Path, build_args: Mapping[str, str]) -> Image:
    """The build stage, instruction by instruction, then the runtime stage's settings and
    its own files from the context (its RUNs make a user, which a build here can't)."""
    image = Image(root)
    image_python(root)
    workdir = root
    for keyword, arguments in stages["build"][1:]:
        if keyword == "ARG":
            image.declare(arguments, build_args)
        elif keyword == "ENV":
            image.set_variables(arguments)
        elif keyword == "WORKDIR":
            workdir = image.path(arguments)
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            copy(image, arguments, context, workdir)
        elif keyword == "RUN":
            run(image, arguments, workdir)
        else:
            pytest.fail(f"the build stage's {keyword} is not handled here")

    image.variables = {"PATH": image.reroot(BASE_IMAGE_PATH)}
    for keyword, arguments in stages["runtime"][1:]:
        if keyword == "ARG":
            image.declare(arguments, build_args)
        elif keyword == "ENV":
            image.set_variables(arguments)
        elif keyword == "COPY" and "--from=" not in arguments:
            copy(image, arguments, context, root)
        elif keyword == "COPY":
            source, destination = shlex.split(arguments)[-2:]
            assert (source, destination) == ("/app", "/app"), arguments
    return image


@pytest.fixture(scope="module", params=list(IMAGES))
def image(
    request: pytest.FixtureRequest,
    dockerfile_stages: Stages,
    build_context: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Image:
    package: str = request.param
    port = STAND_IN_PORT if package == STAND_IN else IMAGES[package]
    root = tmp_path_factory.mktemp(package)
    return build(dockerfile_stages, build_context, root, {"PACKAGE": package, "PORT": port})


def json_form(arguments: str) -> list[str]:
    words = yaml.safe_load(arguments)
    assert isinstance(words, list), f"{arguments}: use the JSON (exec) form"
    return [str(word) for word in words]


def instruction(stages: Stages, keyword: str) -> str:
    (arguments,) = [args for kw, args in stages["runtime"] if kw == keyword]
    return arguments


def start(image: Image, stages: Stages, *args: str) -> subprocess.Popen[str]:
    """The image's ENTRYPOINT with ``args`` (its CMD if none), in its WORKDIR."""
    entrypoint = json_form(instruction(stages, "ENTRYPOINT"))
    command = list(args) or json_form(instruction(stages, "CMD"))
    executable = shutil.which(entrypoint[0], path=image.variables["PATH"])
    assert executable is not None, f"{entrypoint[0]} is not on the image's PATH"
    return subprocess.Popen(
        [executable, *entrypoint[1:], *command],
        cwd=image.path(instruction(stages, "WORKDIR")),
        env=image.variables,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_every_image_compose_builds_is_checked(compose_config_with_emulator: Any) -> None:
    built = {
        service["build"]["args"]["PACKAGE"]: service["build"]["args"]["PORT"]
        for service in compose_config_with_emulator["services"].values()
        if "build" in service
    }
    assert built == IMAGES


def test_dependencies_install_in_a_layer_before_the_sources(dockerfile_stages: Stages) -> None:
    build_stage = dockerfile_stages["build"]
    syncs = [i for i, (kw, args) in enumerate(build_stage) if kw == "RUN" and "uv sync" in args]
    assert len(syncs) == 2, "one sync of the dependencies, one of the workspace's packages"
    dependencies, packages = (build_stage[i][1] for i in syncs)
    assert "--no-install-workspace" in dependencies
    assert "--no-install-workspace" not in packages

    copied_before = {
        source
        for kw, args in build_stage[: syncs[0]]
        if kw == "COPY"
        for source in shlex.split(args)[:-1]
    }
    members = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    manifests = {
        str(PurePosixPath(path.relative_to(REPO_ROOT)))
        for pattern in members["workspace"]["members"]
        for path in REPO_ROOT.glob(f"{pattern}/pyproject.toml")
    }
    assert copied_before == {"pyproject.toml", "uv.lock"} | manifests

    copied_between = {
        source
        for kw, args in build_stage[syncs[0] : syncs[1]]
        if kw == "COPY"
        for source in shlex.split(args)[:-1]
    }
    assert copied_between == {"libs", "services", "tools"}


def test_the_dependency_layer_holds_every_third_party_package(image: Image) -> None:
    dependencies, everything = image.installed_after_each_sync
    workspace = {name for name in everything if name.startswith("codeflow")}
    assert workspace, "the package itself is installed"
    assert not dependencies & workspace, "no workspace package before the sources are copied"
    assert dependencies == everything - workspace, "a source change reinstalls no dependency"


def test_the_service_answers_help_through_the_image_entrypoint(
    image: Image, dockerfile_stages: Stages
) -> None:
    process = start(image, dockerfile_stages, "--help")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert output.startswith("usage: python -m codeflow_"), output


@pytest.fixture
def stand_in(image: Image, dockerfile_stages: Stages) -> Iterator[subprocess.Popen[str]]:
    """The stand-in's image run with its default command."""
    process = start(image, dockerfile_stages)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


# Only the stand-in: the services need PostgreSQL and Kafka to serve.
@pytest.mark.parametrize("image", [STAND_IN], indirect=True)
def test_the_stand_in_serves_with_its_default_command_and_passes_its_health_check(
    image: Image, dockerfile_stages: Stages, stand_in: subprocess.Popen[str]
) -> None:
    health = json_form(instruction(dockerfile_stages, "HEALTHCHECK").partition("CMD ")[2])
    checker = shutil.which(health[0], path=image.variables["PATH"])
    assert checker is not None, f"{health[0]} is not on the image's PATH"
    deadline = time.monotonic() + 60  # a busy machine starts it slowly
    while True:
        assert stand_in.poll() is None, stand_in.communicate()[0]
        check = subprocess.run(
            [checker, *health[1:]],
            env=image.variables,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check.returncode == 0:
            break
        assert time.monotonic() < deadline, check.stderr
        time.sleep(0.5)
    connection = http.client.HTTPConnection("127.0.0.1", int(STAND_IN_PORT), timeout=5)
    try:
        connection.request("GET", "/user")
        assert connection.getresponse().status == 401  # GitHub's answer without a token
    finally:
        connection.close()
