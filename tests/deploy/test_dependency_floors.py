"""An install without the lock file is not vulnerable: every package of the workspace that
ends up depending on a library with a known advisory asks, itself, for a release that fixed
it. (The lock file has newer releases still; the floors are for everyone else.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]

FIXED_IN = {
    "authlib": Version("1.7.2"),  # JWK header injection, alg none, CSRF (2026)
    "starlette": Version("1.3.1"),  # Host header path poisoning, form limits ignored (2026)
    "fastapi": Version("0.133.1"),  # the first to accept the fixed Starlette
    "h11": Version("0.16.0"),  # request smuggling via chunked bodies (2025)
    "pyjwt": Version("2.13.0"),  # key confusion, jku SSRF, JWKS refetch DoS (2026)
    "python-multipart": Version("0.0.32"),  # header and querystring DoS, smuggling (2026)
    "urllib3": Version("2.7.0"),  # decompression bomb, header leak on redirect (2026)
}


def workspace_projects() -> list[Path]:
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    found = [REPO_ROOT / "pyproject.toml"]
    for pattern in members:
        found += sorted(REPO_ROOT.glob(f"{pattern}/pyproject.toml"))
    return found


def locked_graph() -> dict[str, set[str]]:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    graph: dict[str, set[str]] = {}
    for package in lock["package"]:
        deps = {canonicalize_name(d["name"]) for d in package.get("dependencies", [])}
        for extra in package.get("optional-dependencies", {}).values():
            deps |= {canonicalize_name(d["name"]) for d in extra}
        graph[canonicalize_name(package["name"])] = deps
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        for dep in graph.get(name, set()) - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def declared_floors(pyproject: Path) -> dict[str, Version]:
    project = tomllib.loads(pyproject.read_text())["project"]
    floors: dict[str, Version] = {}
    for line in project.get("dependencies", []):
        requirement = Requirement(line)
        for spec in requirement.specifier:
            if spec.operator in (">=", "==", "~="):
                floors[canonicalize_name(requirement.name)] = Version(spec.version)
    return floors


@pytest.mark.parametrize(
    "pyproject", workspace_projects(), ids=lambda p: str(p.parent.relative_to(REPO_ROOT))
)
def test_every_package_asks_for_the_fixed_releases_of_what_it_pulls_in(pyproject: Path) -> None:
    name = canonicalize_name(tomllib.loads(pyproject.read_text())["project"]["name"])
    pulled_in = reachable(locked_graph(), name)
    floors = declared_floors(pyproject)
    missing = {
        library: str(fixed)
        for library, fixed in FIXED_IN.items()
        if library in pulled_in and floors.get(library, Version("0")) < fixed
    }
    assert not missing, f"{pyproject.relative_to(REPO_ROOT)} needs floors: {missing}"


def test_the_lock_file_has_the_fixed_releases() -> None:
    lock = (REPO_ROOT / "uv.lock").read_text()
    for library, fixed in FIXED_IN.items():
        locked = re.search(rf'\nname = "{library}"\nversion = "([^"]+)"', lock)
        assert locked is not None, library
        assert Version(locked.group(1)) >= fixed, library
