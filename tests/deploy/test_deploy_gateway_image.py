"""deploy/gateway/Dockerfile, built without a Docker engine as the services' images are
(ADR 0020): the context Docker would send (.dockerignore), its COPYs replayed into a
directory standing for the image, then the image's own gateway.sh rendering the image's own
template for nginx, which accepts it, with the dashboard's files where it serves them from.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "deploy/gateway/Dockerfile"
TMP = "/tmp"  # noqa: S108 - a mount point, not a file made here
UPSTREAMS = ("AUTH", "PROFILES", "REPOSITORIES", "JANITOR")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (REPO_ROOT / DOCKERFILE).read_text())
    lines = (line.strip() for line in text.splitlines())
    pairs = (line.partition(" ") for line in lines if line and not line.startswith("#"))
    return [(keyword.upper(), arguments.strip()) for keyword, _, arguments in pairs]


@pytest.fixture(scope="module")
def image(
    build_context_of: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The image's files: what each COPY takes from the build context, under a directory."""
    context = build_context_of(DOCKERFILE)
    root = tmp_path_factory.mktemp("gateway-image")
    for keyword, arguments in instructions():
        if keyword != "COPY":
            continue
        *sources, destination = shlex.split(arguments)
        target = root / destination.lstrip("/")
        for source in sources:
            found = context / source
            assert found.exists(), f"COPY {source}: not in the build context"
            if found.is_dir():
                shutil.copytree(found, target, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, target / found.name)
    return root


def test_the_image_is_a_pinned_nginx_run_as_its_unprivileged_user() -> None:
    found = dict(instructions())
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", found["FROM"]), found["FROM"]
    assert found["USER"].split(":")[0] not in ("0", "root")
    assert found["ENTRYPOINT"] == '["/bin/sh", "/etc/codeflow/gateway.sh"]'
    assert "/healthz" in found["HEALTHCHECK"]


def test_the_image_carries_the_template_the_script_and_the_dashboard(image: Path) -> None:
    etc = image / "etc" / "codeflow"
    for name in ("nginx.conf.template", "gateway.sh"):
        assert (etc / name).read_text() == (REPO_ROOT / "deploy" / "gateway" / name).read_text()
    web = {p.relative_to(REPO_ROOT / "web") for p in (REPO_ROOT / "web").rglob("*") if p.is_file()}
    baked = {p.relative_to(etc / "web") for p in (etc / "web").rglob("*") if p.is_file()}
    assert baked == web - {Path("README.md")}


def test_the_image_s_script_renders_a_configuration_nginx_accepts_serving_the_dashboard(
    image: Path, tmp_path: Path
) -> None:
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if nginx is None:
        pytest.skip("nginx is not installed")
    etc = image / "etc" / "codeflow"
    checked = subprocess.run(
        ["sh", str(etc / "gateway.sh"), "-t", "-q"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={
            "PATH": f"{Path(nginx).parent}:/usr/bin:/bin",
            # The image's defaults, but under the directory standing for the image.
            "GATEWAY_TEMPLATE": str(etc / "nginx.conf.template"),
            "GATEWAY_WEB_ROOT": str(etc / "web"),
            "GATEWAY_PREFIX": str(tmp_path),
            "GATEWAY_LISTEN": "127.0.0.1:18080",
            # Service names don't resolve here, and nginx resolves upstreams when it starts.
            **{f"{name}_UPSTREAM": "127.0.0.1:1" for name in UPSTREAMS},
        },
    )

    assert checked.returncode == 0, checked.stderr
    (root,) = re.findall(r"^\s*root (\S+);", (tmp_path / "nginx.conf").read_text(), re.M)
    assert (Path(root) / "index.html").is_file()


def test_kubernetes_runs_the_gateway_image_with_nothing_mounted_over_it(
    k8s_base: list[dict[str, Any]],
) -> None:
    (gateway,) = (
        d for d in k8s_base if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway"
    )
    (container,) = gateway["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("codeflow-gateway:")
    assert "command" not in container
    assert {m["mountPath"] for m in container["volumeMounts"]} == {TMP}
