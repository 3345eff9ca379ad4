"""The gateway's nginx configuration as rendered from deploy/gateway/nginx.conf.template."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from codeflow_infra import gateway
from codeflow_infra.cluster import Cluster
from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.config import ConfigError

TEMPLATE = Path(__file__).resolve().parents[4] / "deploy" / "gateway" / "nginx.conf.template"
UPSTREAMS = {
    "auth": "127.0.0.1:18001",
    "profiles": "127.0.0.1:18002",
    "repositories": "127.0.0.1:18003",
    "janitor": "127.0.0.1:18004",
}


def rendered(prefix: Path = Path("/srv/gw"), **overrides: object) -> str:
    settings = gateway.GatewaySettings(prefix=prefix, port=18080, upstreams=UPSTREAMS)
    if overrides:
        settings = gateway.GatewaySettings(**{**settings.__dict__, **overrides})  # type: ignore[arg-type]
    return gateway.render(TEMPLATE.read_text(), settings)


def block(config: str, opening: str) -> str:
    """The text of the block that starts with `opening` (up to its matching brace)."""
    start = config.index(opening + " {")
    depth = 0
    for index in range(start, len(config)):
        if config[index] == "{":
            depth += 1
        elif config[index] == "}":
            depth -= 1
            if depth == 0:
                return config[start : index + 1]
    raise AssertionError(f"unclosed block {opening}")


def test_every_placeholder_is_filled_and_only_loopback_is_listened_on() -> None:
    config = rendered()

    assert "{{" not in config
    assert re.findall(r"^\s*listen (.+);", config, re.MULTILINE) == ["127.0.0.1:18080"]
    for name, address in UPSTREAMS.items():
        assert f"server {address} max_fails=0;" in block(config, f"upstream {name}")


def test_everything_nginx_writes_stays_under_the_prefix() -> None:
    config = rendered(Path("/srv/gw"))

    for directive in ("pid", "client_body_temp_path", "proxy_temp_path", "access_log"):
        [value] = re.findall(rf"^\s*{directive} (\S+)", config, re.MULTILINE)
        assert value.startswith("/srv/gw/"), directive
    assert "error_log stderr" in config


def test_api_routes_strip_their_prefix_towards_their_service() -> None:
    api = block(rendered(), "location /api/")

    for name in ("profiles", "repositories", "janitor"):
        assert f"proxy_pass http://{name}/{name}/;" in block(api, f"location /api/{name}/")
        assert f"proxy_pass http://{name}/{name};" in block(api, f"location = /api/{name}")
    assert "proxy_pass http://auth;" in block(rendered(), "location /auth/")


def test_no_route_reaches_a_service_s_metrics_or_health_endpoints() -> None:
    """A service's /metrics, /healthz and /readyz are for the platform, not the public: every
    proxied path stays under the service's own /<name> prefix, and the proxies that pass the
    path on unchanged do so only from locations under /auth/."""
    config = rendered()

    for upstream, path in re.findall(r"proxy_pass http://(\w+)(\S*);", config):
        assert path == "" or path.startswith(f"/{upstream}"), (upstream, path)
        assert upstream == "auth" or path, upstream
    for opening in ("location /auth/", "location @auth_write", "location /auth/signin/",
                    "location /auth/callback/"):  # fmt: skip
        assert "proxy_pass http://auth;" in block(config, opening)
    assert config.count("proxy_pass http://auth;") == 4


def test_api_calls_are_checked_by_auth_verify_and_carry_its_token() -> None:
    config = rendered()
    api = block(config, "location /api/")
    verify = block(config, "location /_verify/")

    assert "auth_request /_verify;" in api
    assert "auth_request_set $codeflow_token $upstream_http_x_auth_token;" in api
    assert "auth_request_set $codeflow_user_id $upstream_http_x_user_id;" in api
    assert "error_page 401 /_problem/401;" in api
    assert "internal;" in block(config, "location = /_verify")
    assert "rewrite ^ /_verify/$codeflow_verify_keep last;" in block(config, "location = /_verify")
    for kept in ("shortest", "shorter", "window"):
        inner = block(verify, f"location = /_verify/{kept}")
        assert "internal;" in inner
        assert "proxy_pass http://auth/auth/verify?service=$codeflow_service;" in inner
    assert "proxy_pass_request_body off;" in verify
    assert "proxy_set_header Cookie $http_cookie;" in verify
    authorization = block(config, "map $codeflow_token $codeflow_authorization")
    assert 'default "Bearer $codeflow_token";' in authorization


def test_client_supplied_identity_headers_are_always_replaced() -> None:
    server = block(rendered(), "server")

    assert "proxy_set_header Authorization $codeflow_authorization;" in server
    assert "proxy_set_header X-User-Id $codeflow_user_id;" in server


def test_sign_in_and_its_callback_are_rate_limited() -> None:
    config = rendered(signin_rate="5r/s", signin_burst=7)

    assert "zone=signin:1m rate=5r/s;" in config
    assert "limit_req_status 429;" in config
    for path in ("/auth/signin/", "/auth/callback/"):
        assert "limit_req zone=signin burst=7 nodelay;" in block(config, f"location {path}")


def test_the_openapi_documents_are_proxied_to_each_service() -> None:
    config = rendered()

    for name in ("auth", "profiles", "repositories", "janitor"):
        location = block(config, f"location = /api/docs/{name}.json")
        assert f"proxy_pass http://{name}/{name}/openapi.json;" in location


def test_every_error_nginx_makes_has_a_problem_document() -> None:
    config = rendered()
    pages = set(re.findall(r"error_page \d+(?: =\d+)? (/_problem/\S+);", config))

    problems = block(config, "location /_problem/")
    for page in pages:
        assert f"location = {page} " in problems
    assert "default_type application/problem+json;" in problems


def test_a_bad_setting_is_refused_before_nginx_sees_it() -> None:
    with pytest.raises(ConfigError, match="not host:port"):
        rendered(upstreams={**UPSTREAMS, "auth": "127.0.0.1:1; evil"})
    with pytest.raises(ConfigError, match="no upstream address for janitor"):
        rendered(upstreams={k: v for k, v in UPSTREAMS.items() if k != "janitor"})
    with pytest.raises(ConfigError, match="not like 10r/s"):
        rendered(signin_rate="fast")


def test_an_unknown_placeholder_in_the_template_is_an_error() -> None:
    settings = gateway.GatewaySettings(prefix=Path("/x"), port=1, upstreams=UPSTREAMS)

    with pytest.raises(ConfigError, match="unknown value"):
        gateway.render("listen {{ nope }};", settings)


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    nginx = gateway.nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    gateway.write_config(tmp_path, rendered(tmp_path))

    gateway.check_config(nginx, tmp_path)  # raises with nginx's message if it refuses

    result = subprocess.run(
        gateway.nginx_argv(nginx, tmp_path, "-t"), capture_output=True, text=True, check=False
    )
    assert "[warn]" not in result.stderr, result.stderr


def test_session_checks_are_reused_for_safe_requests_only_for_the_configured_window() -> None:
    config = rendered(auth_cache_seconds=7)
    verify = block(config, "location /_verify/")

    assert "proxy_cache verify;" in verify
    assert 'proxy_cache_key "$codeflow_service $http_cookie";' in verify
    assert "proxy_ignore_headers Cache-Control Expires X-Accel-Expires;" in verify
    # 200 only: a 401 is never kept. The window, or one or two seconds less (ADR 0043).
    kept = {
        name: re.findall(r"proxy_cache_valid (.*);", block(verify, f"location = /_verify/{name}"))
        for name in ("shortest", "shorter", "window")
    }
    assert kept == {"shortest": ["200 5s"], "shorter": ["200 6s"], "window": ["200 7s"]}
    keep = block(config, "split_clients $request_id $codeflow_verify_keep")
    assert re.findall(r"(\S+)\s+(\w+);", keep) == [
        ("33.3%", "shortest"),
        ("33.3%", "shorter"),
        ("*", "window"),
    ]
    assert "proxy_no_cache $codeflow_verify_fresh;" in verify
    assert re.search(r"map \$request_method \$codeflow_verify_fresh \{\s*GET 0;\s*HEAD 0;", config)


@pytest.mark.parametrize(
    ("window", "kept"), [(0, ["0s", "0s", "0s"]), (1, ["1s", "1s", "1s"]), (2, ["1s", "1s", "2s"])]
)
def test_a_short_window_keeps_checks_at_least_a_second_and_none_when_off(
    window: int, kept: list[str]
) -> None:
    verify = block(rendered(auth_cache_seconds=window), "location /_verify/")

    assert re.findall(r"proxy_cache_valid 200 (\w+);", verify) == kept


def test_the_auth_cache_window_is_bounded_and_read_from_the_environment() -> None:
    with pytest.raises(ConfigError, match="0 \\(off\\) to 10"):
        rendered(auth_cache_seconds=11)
    assert "proxy_cache_valid 200 10s;" in rendered(auth_cache_seconds=10)
    assert gateway.auth_cache_seconds({}) == gateway.DEFAULT_AUTH_CACHE_SECONDS
    assert gateway.auth_cache_seconds({"GATEWAY_AUTH_CACHE_SECONDS": "0"}) == 0
    with pytest.raises(ConfigError, match="whole seconds"):
        gateway.auth_cache_seconds({"GATEWAY_AUTH_CACHE_SECONDS": "2.5"})


def test_an_auth_cache_window_beyond_10_seconds_is_refused_naming_the_variable() -> None:
    # A signed-out or erased session's copy must not read for long: at most 10 s.
    assert gateway.auth_cache_seconds({"GATEWAY_AUTH_CACHE_SECONDS": "10"}) == 10
    with pytest.raises(ConfigError, match=r"GATEWAY_AUTH_CACHE_SECONDS=30: .*at most 10"):
        gateway.auth_cache_seconds({"GATEWAY_AUTH_CACHE_SECONDS": "30"})


def test_the_sign_in_limit_is_read_from_the_environment() -> None:
    assert gateway.signin_limit({}) == (gateway.DEFAULT_SIGNIN_RATE, gateway.DEFAULT_SIGNIN_BURST)
    limit = {"GATEWAY_SIGNIN_RATE": "300r/s", "GATEWAY_SIGNIN_BURST": "600"}
    assert gateway.signin_limit(limit) == ("300r/s", 600)
    config = rendered(signin_rate="300r/s", signin_burst=600)
    assert "rate=300r/s;" in config
    assert "burst=600 nodelay;" in config
    with pytest.raises(ConfigError, match="GATEWAY_SIGNIN_RATE"):
        gateway.signin_limit({"GATEWAY_SIGNIN_RATE": "fast"})
    with pytest.raises(ConfigError, match="GATEWAY_SIGNIN_BURST"):
        gateway.signin_limit({"GATEWAY_SIGNIN_BURST": "-1"})


def test_workers_run_as_the_launcher_s_user_only_when_it_is_root() -> None:
    assert not re.search(r"^user ", rendered(), re.MULTILINE)
    assert re.search(r"^user root;$", rendered(worker_user="root"), re.MULTILINE)
    with pytest.raises(ConfigError, match="not a user name"):
        rendered(worker_user="root; evil")


def test_the_replicas_of_a_service_are_the_servers_of_its_upstream() -> None:
    config = rendered(upstreams={**UPSTREAMS, "profiles": ["127.0.0.1:18002", "127.0.0.1:18102"]})

    assert "{{" not in config
    profiles = block(config, "upstream profiles")
    assert re.findall(r"server (\S+) max_fails=0;", profiles) == [
        "127.0.0.1:18002",
        "127.0.0.1:18102",
    ]
    assert re.findall(r"server (\S+) max_fails=0;", block(config, "upstream auth")) == [
        "127.0.0.1:18001"
    ]


def test_the_public_origin_is_the_public_url_s_scheme_and_host() -> None:
    public = rendered(public_url="https://codeflow.example.com/app/")
    local = rendered()

    assert re.search(r'"https://codeflow.example.com" 0;', public)
    assert re.search(r'"http://127.0.0.1:18080" 0;', local)  # by default, where it listens
    with pytest.raises(ConfigError, match="public URL"):
        rendered(public_url="codeflow.example.com")
    with pytest.raises(ConfigError, match="public URL"):
        rendered(public_url='https://x.example" 0; default 0; "')


def test_make_up_s_gateway_knows_the_public_url_auth_is_given() -> None:
    env = {"CODEFLOW_LOCAL_DIR": "/srv/cf", "PATH": "/usr/bin", "GATEWAY_PORT": "18080"}
    local = Cluster(ClusterConfig.from_env(env)).gateway_settings()
    public = Cluster(
        ClusterConfig.from_env({**env, "AUTH_URL": "https://codeflow.example.com"})
    ).gateway_settings()

    assert local.public_url == "http://127.0.0.1:18080"
    assert public.public_url == "https://codeflow.example.com"


def test_every_location_with_headers_of_its_own_repeats_the_security_headers() -> None:
    # nginx drops the server's add_header lines in a location that has its own.
    config = rendered(public_url="https://codeflow.example.com")
    openings = re.findall(r"^\s*(location [^{]+?) \{", config, re.MULTILINE)
    with_headers = [o for o in openings if "add_header" in _own_lines(block(config, o))]

    assert with_headers  # the problem pages
    for opening in [*with_headers, "server"]:
        own = _own_lines(block(config, opening))
        for header in ("X-Content-Type-Options", "Referrer-Policy", "Strict-Transport-Security"):
            assert f"add_header {header} " in own, (opening, header)
    assert 'default "max-age=63072000; includeSubDomains";' in config
    assert 'default "";' in block(rendered(), "map $scheme $codeflow_hsts")


def _own_lines(text: str) -> str:
    """A block's text without its nested blocks."""
    inner = text[text.index("{") + 1 : text.rindex("}")]
    while re.search(r"\{[^{}]*\}", inner):
        inner = re.sub(r"\{[^{}]*\}", "", inner)
    return inner


def test_no_proxy_is_trusted_unless_named() -> None:
    assert "set_real_ip_from" not in rendered()
    assert gateway.trusted_proxies({}) == ()

    config = rendered(trusted_proxies=("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"))

    for address in ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"):
        assert f"set_real_ip_from {address};" in config
    assert "real_ip_header X-Forwarded-For;" in config
    assert "real_ip_recursive on;" in config


def test_the_trusted_proxies_are_read_from_the_environment_and_checked() -> None:
    named = {"GATEWAY_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 2001:db8::/32 "}

    assert gateway.trusted_proxies(named) == ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32")
    with pytest.raises(ConfigError, match="GATEWAY_TRUSTED_PROXIES"):
        gateway.trusted_proxies({"GATEWAY_TRUSTED_PROXIES": "ingress.local"})
    with pytest.raises(ConfigError, match="trusted proxy"):
        rendered(trusted_proxies=("10.0.0.1; evil",))


def test_make_up_s_gateway_trusts_the_proxies_named_in_its_environment() -> None:
    env = {"CODEFLOW_LOCAL_DIR": "/srv/cf", "PATH": "/usr/bin"}
    settings = Cluster(
        ClusterConfig.from_env({**env, "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8"})
    ).gateway_settings()

    assert settings.trusted_proxies == ("10.0.0.0/8",)


def test_writes_and_requests_at_once_are_limited_per_client_address() -> None:
    config = rendered(write_rate="3r/s", write_burst=9, connection_limit=7)

    assert "zone=writes:10m rate=3r/s;" in config
    assert "limit_req zone=writes burst=9 nodelay;" in block(config, "location /api/")
    assert "limit_req zone=writes burst=9 nodelay;" in block(config, "location @auth_write")
    assert "limit_conn per_address 7;" in block(config, "server")
    assert "limit_conn_status 429;" in config
    assert "error_page 429 /_problem/429;" in block(config, "location /api/")


def test_the_write_and_connection_limits_are_read_from_the_environment() -> None:
    assert gateway.write_limit({}) == (gateway.DEFAULT_WRITE_RATE, gateway.DEFAULT_WRITE_BURST)
    assert gateway.write_limit({"GATEWAY_WRITE_RATE": "50r/s", "GATEWAY_WRITE_BURST": "99"}) == (
        "50r/s",
        99,
    )
    assert gateway.connection_limit({}) == gateway.DEFAULT_CONNECTION_LIMIT
    assert gateway.connection_limit({"GATEWAY_CONNECTION_LIMIT": "500"}) == 500
    with pytest.raises(ConfigError, match="GATEWAY_WRITE_RATE"):
        gateway.write_limit({"GATEWAY_WRITE_RATE": "lots"})
    with pytest.raises(ConfigError, match="GATEWAY_WRITE_BURST"):
        gateway.write_limit({"GATEWAY_WRITE_BURST": "0"})
    with pytest.raises(ConfigError, match="GATEWAY_CONNECTION_LIMIT"):
        gateway.connection_limit({"GATEWAY_CONNECTION_LIMIT": "0"})


def test_slow_clients_are_cut_off_and_every_core_serves() -> None:
    config = rendered()

    assert re.search(r"^worker_processes auto;", config, re.MULTILINE)
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert f"{directive} {gateway.CLIENT_TIMEOUT_SECONDS}s;" in config


def test_make_up_s_gateway_takes_its_limits_from_its_environment() -> None:
    env = {"CODEFLOW_LOCAL_DIR": "/srv/cf", "PATH": "/usr/bin"}
    limits = {
        "GATEWAY_WRITE_RATE": "500r/s",
        "GATEWAY_WRITE_BURST": "1000",
        "GATEWAY_CONNECTION_LIMIT": "900",
    }
    settings = Cluster(ClusterConfig.from_env({**env, **limits})).gateway_settings()

    assert (settings.write_rate, settings.write_burst) == ("500r/s", 1000)
    assert settings.connection_limit == 900


def test_a_sign_in_burst_of_0_is_refused_before_nginx_sees_it() -> None:
    # nginx refuses `burst=0` ("invalid burst value") and would not start.
    with pytest.raises(ConfigError, match="GATEWAY_SIGNIN_BURST"):
        gateway.signin_limit({"GATEWAY_SIGNIN_BURST": "0"})


def test_the_web_dashboard_is_served_from_the_web_root_at_slash() -> None:
    site = block(rendered(web_root=Path("/srv/codeflow/web")), "location /")

    assert "root /srv/codeflow/web;" in site
    assert "try_files $uri =404;" in site
    assert "try_files /index.html =404;" in block(site, "location = /")
    for extension, media_type in (
        ("html", "text/html"),
        ("js", "text/javascript"),
        ("css", "text/css"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
    ):
        assert re.search(rf"\b{re.escape(media_type)} {extension};", site), extension


def test_the_web_dashboard_s_answers_forbid_other_origins_and_are_revalidated() -> None:
    site = block(rendered(), "location /")
    [policy] = re.findall(r'add_header Content-Security-Policy "([^"]+)" always;', site)
    directives = dict(part.split(" ", 1) for part in policy.split("; "))

    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert all("*" not in value and "http" not in value for value in directives.values())
    # The location has headers of its own, so it repeats the server's (nginx drops them).
    for header in ("X-Request-Id", "X-Content-Type-Options nosniff", "Referrer-Policy"):
        assert f"add_header {header}" in site
    assert 'add_header Cache-Control "no-cache" always;' in site
    assert "etag on;" in site


def test_without_a_web_root_the_gateway_serves_an_empty_folder_under_its_prefix() -> None:
    site = block(rendered(Path("/srv/gw")), "location /")

    assert "root /srv/gw/web;" in site


def test_make_up_s_gateway_serves_the_repository_s_web_folder() -> None:
    env = {"CODEFLOW_LOCAL_DIR": "/srv/cf", "PATH": "/usr/bin"}
    config = ClusterConfig.from_env(env)

    settings = Cluster(config).gateway_settings()

    assert config.infra.repo_root is not None
    assert settings.web_root == config.infra.repo_root / "web"
    assert (config.infra.repo_root / "web" / "index.html").is_file()


def test_a_web_root_nginx_would_read_as_more_than_a_path_is_refused() -> None:
    for bad in ("relative/web", "/srv/web; evil", "/srv/my web", "/srv/{web}"):
        with pytest.raises(ConfigError, match="web root"):
            rendered(web_root=Path(bad))
