"""docker-compose.yml: valid by the Compose specification, and the cluster it describes is
the one ARCHITECTURE.md promises (ordered start, health checks, one public port, no secrets).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from codeflow_auth.config import AuthSettings, InsecureConfiguration
from codeflow_contracts.topics import ALL_TOPICS

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the containers listen on
SERVICES = {"auth": 8001, "profiles": 8002, "repositories": 8003, "janitor": 8004}
COMPOSE_DIR = REPO_ROOT / "deploy" / "compose"
DEVELOPMENT_ENV = COMPOSE_DIR / "development.env"
OWN_SECRETS = {
    "auth": {
        "AUTH_DATABASE_URL",
        "AUTH_SECRET",
        "AUTH_INTERNAL_TOKEN",
        "AUTH_JWT_PRIVATE_KEY",
        "AUTH_TOKEN_KEYS",
        "GITHUB_CLIENT_SECRET",
    },
    "profiles": {"PROFILES_DATABASE_URL"},
    "repositories": {"REPOSITORIES_DATABASE_URL", "REPOSITORIES_AUTH_INTERNAL_TOKEN"},
    "janitor": {"JANITOR_DATABASE_URL"},
}
"""The secrets each service may see (a development file may leave some out)."""
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|_KEYS$|DATABASE_URL$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")

CLI = Callable[..., subprocess.CompletedProcess[str]]


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def long_running(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("restart") != "no"
    }


def test_the_compose_file_is_valid_by_the_compose_specification(compose_cli: CLI) -> None:
    for profile_args in ((), ("--profile", "emulator")):
        result = compose_cli(*profile_args, "config", "--quiet")
        assert result.returncode == 0, result.stderr


def test_the_validation_catches_a_misspelt_key(compose_cli: CLI, tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("healthcheck:", "healtcheck:", 1))
    result = compose_cli("config", "--quiet", file=broken)
    assert result.returncode != 0
    assert "healtcheck" in result.stderr


def test_only_the_gateway_publishes_a_port_and_only_on_loopback(
    compose_config: dict[str, Any],
) -> None:
    publishing = {name for name, s in compose_config["services"].items() if s.get("ports")}
    assert publishing == {"gateway"}
    (port,) = compose_config["services"]["gateway"]["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8080", 8080)


def test_the_emulator_is_an_opt_in_profile_published_on_loopback(
    compose_config_with_emulator: dict[str, Any],
) -> None:
    services = compose_config_with_emulator["services"]
    emulator = services["github-emulator"]
    assert emulator["profiles"] == ["emulator"]
    assert [p["host_ip"] for p in emulator["ports"]] == ["127.0.0.1"]
    assert "github.localhost" in emulator["networks"]["default"]["aliases"]
    assert {name for name, s in services.items() if s.get("ports")} == {
        "gateway",
        "github-emulator",
    }


def test_every_long_running_container_has_a_health_check(
    compose_config_with_emulator: dict[str, Any],
) -> None:
    for name, service in long_running(compose_config_with_emulator).items():
        healthcheck = service.get("healthcheck", {})
        assert healthcheck.get("test"), name
        assert not healthcheck.get("disable"), name


def test_a_service_counts_as_healthy_only_once_it_is_ready(
    compose_config: dict[str, Any],
) -> None:
    for name, port in SERVICES.items():
        test = compose_config["services"][name]["healthcheck"]["test"]
        assert test[-1] == f"http://127.0.0.1:{port}/readyz", name


def test_every_dependency_waits_for_health_or_completion(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully"
                if services[dependency].get("restart") == "no"
                else "service_healthy"
            )
            assert how["condition"] == expected, f"{name} -> {dependency}"


def test_each_service_is_migrated_by_its_own_image_before_it_serves(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    for name, port in SERVICES.items():
        service, migrate = services[name], services[f"{name}-migrate"]
        assert migrate["image"] == service["image"] == f"codeflow-{name}:dev"
        assert migrate["command"] == ["migrate"]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"][f"{name}-migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert service["depends_on"]["kafka-topics"]["condition"] == (
            "service_completed_successfully"
        )
        assert service["command"] == ["serve", "--host", ALL_INTERFACES, "--port", str(port)]
        build = service["build"]
        assert build["dockerfile"] == "deploy/docker/Dockerfile"
        assert build["args"] == {"PACKAGE": f"codeflow-{name}", "PORT": str(port)}


def test_the_other_services_wait_for_auth_whose_keys_they_need(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    for name in ("profiles", "repositories", "janitor"):
        assert services[name]["depends_on"]["auth"]["condition"] == "service_healthy"
        assert services[name]["environment"]["CODEFLOW_JWKS_URL"] == (
            "http://auth:8001/auth/.well-known/jwks.json"
        )


def test_repositories_reaches_auths_internal_routes_with_the_credential_auth_expects(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    repositories = services["repositories"]["environment"]
    assert repositories["REPOSITORIES_AUTH_INTERNAL_URL"] == "http://auth:8001"
    assert repositories["REPOSITORIES_AUTH_INTERNAL_TOKEN"]
    assert (
        repositories["REPOSITORIES_AUTH_INTERNAL_TOKEN"]
        == (services["auth"]["environment"]["AUTH_INTERNAL_TOKEN"])
    )


def test_the_gateway_waits_for_every_service_and_routes_to_their_ports(
    compose_config: dict[str, Any],
) -> None:
    gateway = compose_config["services"]["gateway"]
    assert set(gateway["depends_on"]) == set(SERVICES)
    for name, port in SERVICES.items():
        assert gateway["environment"][f"{name.upper()}_UPSTREAM"] == f"{name}:{port}"
    assert gateway["user"] not in ("", "0", "root")
    assert gateway["read_only"] is True


def test_the_topics_job_creates_every_contract_topic(compose_config: dict[str, Any]) -> None:
    script = " ".join(compose_config["services"]["kafka-topics"]["command"])
    for topic in ALL_TOPICS:
        assert topic in script
    assert "--if-not-exists" in script


def test_postgres_gets_one_database_per_service_owned_by_its_own_role(
    compose_config: dict[str, Any],
) -> None:
    init = (COMPOSE_DIR / "postgres-init.sql").read_text()
    # One row per service, each with the password of its own variable...
    rows = dict(re.findall(r"\('(\w+)', :'(\w+)_password'\)", init))
    assert rows == {name: name for name in SERVICES}
    for name in SERVICES:
        assert f"\\getenv {name}_password CODEFLOW_{name.upper()}_PASSWORD" in init
    # ...made a login role with no other privilege, and the owner of its database alone.
    statements = re.findall(r"SELECT format\('([^']*)'", init)
    assert statements == [
        "CREATE ROLE %I LOGIN PASSWORD %L",
        "CREATE DATABASE %I OWNER %I",
        "REVOKE ALL ON DATABASE %I FROM PUBLIC",
    ]
    assert "'codeflow_' || service, 'codeflow_' || service" in init
    for name in SERVICES:
        url = compose_config["services"][name]["environment"][f"{name.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql://codeflow_{name}:"), name
        assert url.endswith(f"@postgres:5432/codeflow_{name}"), name


def test_each_service_connects_with_its_own_role_password_as_postgres_made_it(
    compose_config: dict[str, Any],
) -> None:
    postgres = compose_config["services"]["postgres"]["environment"]
    for name in SERVICES:
        for container in (name, f"{name}-migrate"):
            environment = compose_config["services"][container]["environment"]
            url = environment[f"{name.upper()}_DATABASE_URL"]
            password = url.partition("://")[2].partition("@")[0].partition(":")[2]
            assert password == postgres[f"CODEFLOW_{name.upper()}_PASSWORD"], container
            assert postgres["POSTGRES_PASSWORD"] not in url, container


def test_each_container_sees_only_its_own_secrets(
    compose_config_with_emulator: dict[str, Any],
) -> None:
    services = compose_config_with_emulator["services"]
    for name, own in OWN_SECRETS.items():
        for container in (name, f"{name}-migrate"):
            environment = services[container].get("environment", {})
            seen = {key for key in environment if SECRET_NAME.search(key)}
            assert seen <= own, f"{container}: {sorted(seen - own)}"
    for name in services.keys() - {*OWN_SECRETS, *(f"{n}-migrate" for n in OWN_SECRETS)}:
        environment = services[name].get("environment", {})
        seen = {key for key in environment if SECRET_NAME.search(key)}
        if name == "postgres":
            seen -= {"POSTGRES_PASSWORD", *(f"CODEFLOW_{s.upper()}_PASSWORD" for s in SERVICES)}
        assert not seen, f"{name}: {sorted(seen)}"


def test_every_container_has_a_memory_limit(
    compose_config_with_emulator: dict[str, Any],
) -> None:
    for name, service in compose_config_with_emulator["services"].items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory"), name


def test_every_image_not_built_here_is_pinned_by_its_full_version(
    compose_config_with_emulator: dict[str, Any],
) -> None:
    for name, service in compose_config_with_emulator["services"].items():
        if "build" in service:
            assert service["image"].endswith(":dev"), name
            continue
        tag = service["image"].partition(":")[2]
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?(-[a-z0-9]+)?", tag), f"{name}: {service['image']}"


def test_the_stand_in_s_profile_is_documented() -> None:
    readme = (REPO_ROOT / "deploy" / "README.md").read_text()
    section = readme.partition("## docker compose")[2].partition("\n## ")[0]
    assert "--profile emulator" in section
    assert "github.localhost" in section


def development_secrets() -> set[str]:
    return {
        value
        for path in COMPOSE_DIR.glob("*.env")
        for key, value in read_env_file(path).items()
        if SECRET_NAME.search(key)
    }


def test_the_file_itself_holds_no_secret() -> None:
    text = COMPOSE_FILE.read_text()
    raw = yaml.safe_load(text)
    assert not CREDENTIALS_IN_URL.search(text)
    for name, service in raw["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name
        assert not [key for key in environment if SECRET_NAME.search(key)], name
    secrets = development_secrets()
    assert secrets
    assert not [value for value in secrets if value in text]


def test_settings_come_from_the_development_files_then_ignored_local_ones(
    compose_config: dict[str, Any],
) -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    for name in ("postgres", *SERVICES):
        files = [entry["path"] for entry in raw["services"][name]["env_file"]]
        assert files[:2] == ["deploy/compose/development.env", "deploy/compose/local.env"]
        assert files[2:] == [
            f"deploy/compose/{name}.development.env",
            f"deploy/compose/{name}.local.env",
        ], name
        for local in (files[1], files[3]):
            ignored = subprocess.run(
                ["git", "check-ignore", "-q", local], cwd=REPO_ROOT, check=False
            )
            assert ignored.returncode == 0, f"{local} must be git-ignored"
    assert compose_config["services"]["auth"]["environment"]["CODEFLOW_ENV"] == "development"


def test_the_development_secrets_are_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith(("AUTH_", "GITHUB_", "NEXTAUTH_")) or name == "CODEFLOW_ENV":
            monkeypatch.delenv(name)
    for path in (DEVELOPMENT_ENV, COMPOSE_DIR / "auth.development.env"):
        for name, value in read_env_file(path).items():
            monkeypatch.setenv(name, value)
    AuthSettings().check_secrets()  # accepted as they are: CODEFLOW_ENV=development
    monkeypatch.setenv("CODEFLOW_ENV", "production")
    with pytest.raises(InsecureConfiguration) as refused:
        AuthSettings().check_secrets()
    for variable in (
        "AUTH_SECRET",
        "GITHUB_CLIENT_SECRET",
        "GITHUB_CLIENT_ID",
        "AUTH_INTERNAL_TOKEN",
    ):
        assert variable in str(refused.value)


def run_gateway_script(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """deploy/gateway/gateway.sh with ``-t -q`` (nginx only checks what it rendered)."""
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if nginx is None:
        pytest.skip("nginx is not installed")
    env = {
        "PATH": f"{Path(nginx).parent}:/usr/bin:/bin",
        "GATEWAY_TEMPLATE": str(REPO_ROOT / "deploy" / "gateway" / "nginx.conf.template"),
        "GATEWAY_PREFIX": str(tmp_path),
        "GATEWAY_LISTEN": "127.0.0.1:18080",
        # Container names do not resolve here, and nginx resolves upstreams when it starts.
        **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{port}" for name, port in SERVICES.items()},
        **settings,
    }
    return subprocess.run(
        ["sh", str(REPO_ROOT / "deploy" / "gateway" / "gateway.sh"), "-t", "-q"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


def test_the_gateway_script_renders_a_configuration_nginx_accepts(tmp_path: Path) -> None:
    result = run_gateway_script(tmp_path)

    assert result.returncode == 0, result.stderr
    rendered = (tmp_path / "nginx.conf").read_text()
    assert "{{" not in rendered
    assert "listen 127.0.0.1:18080;" in rendered
    assert os.readlink(tmp_path / "logs" / "access.log") == "/dev/stdout"


def locations(config: str) -> dict[str, str]:
    """Each ``location`` of an nginx configuration by its match, with its block's text."""
    found: dict[str, str] = {}
    for match in re.finditer(r"location\s+([^{;]+?)\s*\{", config):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(config)):
            depth += {"{": 1, "}": -1}.get(config[end], 0)
            if depth == 0:
                break
        found[match.group(1)] = config[match.end() : end]
    return found


def test_the_gateway_sends_auth_only_paths_under_auth_never_its_internal_routes(
    tmp_path: Path,
) -> None:
    # Auth's /internal/... routes are for the services alone: no location names them, a
    # proxy to auth passes on only paths under /auth/, and / answers by itself.
    result = run_gateway_script(tmp_path)
    assert result.returncode == 0, result.stderr
    found = locations((tmp_path / "nginx.conf").read_text())

    assert not [match for match in found if "internal" in match.lower()]
    assert "proxy_pass" not in found["/"]
    to_auth = {
        match: re.findall(r"proxy_pass http://auth(\S*);", block)
        for match, block in found.items()
        if "proxy_pass http://auth" in block
    }
    assert to_auth
    for match, paths in to_auth.items():
        for path in paths:
            if path:
                assert path.startswith("/auth/"), (match, path)
            else:  # the client's own path, which only an /auth/ location lets through
                assert match.startswith("/auth/") or match == "@auth_write", match


def test_the_gateway_script_refuses_an_auth_cache_window_beyond_10_seconds(
    tmp_path: Path,
) -> None:
    refused = run_gateway_script(tmp_path, GATEWAY_AUTH_CACHE_SECONDS="30")
    kept = run_gateway_script(tmp_path, GATEWAY_AUTH_CACHE_SECONDS="10")

    assert refused.returncode != 0
    assert "GATEWAY_AUTH_CACHE_SECONDS=30" in refused.stderr
    assert kept.returncode == 0, kept.stderr
    assert "proxy_cache_valid 200 10s;" in (tmp_path / "nginx.conf").read_text()


def test_the_gateway_script_takes_the_public_origin_from_auth_url(tmp_path: Path) -> None:
    public = run_gateway_script(tmp_path, AUTH_URL="https://codeflow.example.com/app")
    rendered = (tmp_path / "nginx.conf").read_text()
    refused = run_gateway_script(tmp_path, AUTH_URL="codeflow.example.com")

    assert public.returncode == 0, public.stderr
    assert '"https://codeflow.example.com" 0;' in rendered
    assert 'default "max-age=63072000; includeSubDomains";' in rendered  # HSTS over https
    assert refused.returncode != 0
    assert "AUTH_URL=codeflow.example.com" in refused.stderr


def test_the_gateway_knows_the_public_url_the_services_know(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]

    assert (
        services["gateway"]["environment"]["AUTH_URL"]
        == (services["auth"]["environment"]["AUTH_URL"])
    )


def test_the_services_believe_forwarded_headers_from_the_gateway_only(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    gateway_address = services["gateway"]["networks"]["default"]["ipv4_address"]
    subnets = [c["subnet"] for c in compose_config["networks"]["default"]["ipam"]["config"]]

    assert any(ipaddress.ip_address(gateway_address) in ipaddress.ip_network(s) for s in subnets)
    for name in SERVICES:
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == gateway_address, name


def test_the_services_log_json_lines(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name in SERVICES:
        assert services[name]["environment"]["LOG_FORMAT"] == "json", name


def test_the_gateway_script_trusts_only_the_proxies_it_is_given(tmp_path: Path) -> None:
    nobody = run_gateway_script(tmp_path)
    assert nobody.returncode == 0, nobody.stderr
    assert "set_real_ip_from" not in (tmp_path / "nginx.conf").read_text()

    ingress = run_gateway_script(tmp_path, GATEWAY_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7")
    assert ingress.returncode == 0, ingress.stderr
    rendered = (tmp_path / "nginx.conf").read_text()
    assert "set_real_ip_from 10.0.0.0/8; set_real_ip_from 192.0.2.7;" in rendered
    assert "real_ip_header X-Forwarded-For; real_ip_recursive on;" in rendered

    named = run_gateway_script(tmp_path, GATEWAY_TRUSTED_PROXIES="ingress.local")
    assert named.returncode != 0
    assert "GATEWAY_TRUSTED_PROXIES" in named.stderr


def test_the_gateway_script_serves_the_web_root_it_is_given(tmp_path: Path) -> None:
    default = run_gateway_script(tmp_path)
    default_root = re.findall(r"^\s*root (\S+);", (tmp_path / "nginx.conf").read_text(), re.M)
    given = run_gateway_script(tmp_path, GATEWAY_WEB_ROOT=str(REPO_ROOT / "web"))
    given_root = re.findall(r"^\s*root (\S+);", (tmp_path / "nginx.conf").read_text(), re.M)
    refused = run_gateway_script(tmp_path, GATEWAY_WEB_ROOT="/srv/web; evil")

    assert default.returncode == 0, default.stderr
    assert default_root == ["/etc/codeflow/web"]
    assert given.returncode == 0, given.stderr
    assert given_root == [str(REPO_ROOT / "web")]
    assert refused.returncode != 0
    assert "GATEWAY_WEB_ROOT" in refused.stderr


def test_compose_s_gateway_serves_the_repository_s_web_folder(
    compose_config: dict[str, Any],
) -> None:
    gateway = compose_config["services"]["gateway"]
    mounts = {volume["target"]: volume for volume in gateway["volumes"]}

    web = mounts["/etc/codeflow/web"]
    assert Path(web["source"]) == REPO_ROOT / "web"
    assert web["read_only"] is True
    assert gateway["environment"].get("GATEWAY_WEB_ROOT", "/etc/codeflow/web") == (
        "/etc/codeflow/web"
    )
