"""The nginx gateway: its configuration rendered from deploy/gateway, and its process.

nginx runs from the distribution's package (`/usr/sbin/nginx`) with a prefix directory of
its own (`.local/gateway/`: the rendered `nginx.conf`, nginx's pid file, temp paths and the
JSON access log in `logs/access.log`). Its error log goes to stderr, which the launcher
appends to `.local/logs/gateway.log`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from codeflow_infra.components import Component
from codeflow_infra.config import HOST, ConfigError

logger = logging.getLogger("codeflow_infra")

#: The upstream names the template routes to, one per service.
UPSTREAMS = ("auth", "profiles", "repositories", "janitor")
DEFAULT_NGINX = "/usr/sbin/nginx"
DEFAULT_SIGNIN_RATE = "10r/s"
DEFAULT_SIGNIN_BURST = 20
DEFAULT_WRITE_RATE = "10r/s"
DEFAULT_WRITE_BURST = 40
DEFAULT_CONNECTION_LIMIT = 100
DEFAULT_AUTH_CACHE_SECONDS = 5
MAX_AUTH_CACHE_SECONDS = 10
"""A copy of a signed-out or erased session's cookie reads for at most this long."""
HSTS = "max-age=63072000; includeSubDomains"
"""Strict-Transport-Security, sent when the public URL is https: two years, subdomains too."""
CLIENT_TIMEOUT_SECONDS = 10
"""How long the gateway waits for a client's headers, for each read of its body, and for each
write of an answer to it (client_header_timeout, client_body_timeout, send_timeout)."""
VERIFY_TIMEOUT_SECONDS = 3
"""How long the gateway waits for one replica of auth to answer a session check."""
UPSTREAM_DEADLINE_SECONDS = 20
"""Every request is answered within this, by a service or as a problem: the template's
timeouts (a session check waits 3 s for a replica of auth, a request 6 s for a replica of
its service; a read that times out is sent once more, to another replica)."""

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_RATE = re.compile(r"^[1-9][0-9]*r/[sm]$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-]+:[0-9]{1,5}$")
_WEB_ROOT = re.compile(r"^/[A-Za-z0-9._/+@-]*$")
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)


class GatewayError(RuntimeError):
    """nginx is missing, or refuses the rendered configuration."""


@dataclass(frozen=True)
class GatewaySettings:
    """What the template needs: where to listen, where each service is, the sign-in limit,
    and how long auth's answer for a session is reused by safe requests (0: never)."""

    prefix: Path
    port: int
    upstreams: Mapping[str, str | Sequence[str]]
    """Each service's address (``host:port``), or the addresses of its replicas: requests
    are shared among them."""
    listen_host: str = HOST
    signin_rate: str = DEFAULT_SIGNIN_RATE
    signin_burst: int = DEFAULT_SIGNIN_BURST
    write_rate: str = DEFAULT_WRITE_RATE
    """Writes (not GET, HEAD, OPTIONS) to /auth/ and /api/ one client address may make."""
    write_burst: int = DEFAULT_WRITE_BURST
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    """Requests one client address may have under way at once."""
    auth_cache_seconds: int = DEFAULT_AUTH_CACHE_SECONDS
    worker_user: str | None = None
    trusted_proxies: Sequence[str] = ()
    """Addresses or networks of proxies in front (an ingress) whose ``X-Forwarded-For`` is
    believed; none by default, so a client's address is the connection's."""
    public_url: str = ""
    """Where browsers reach CodeFlow (auth's ``AUTH_URL``); its origin is the one browsers
    may write to /api/ from. Empty: where the gateway listens."""
    web_root: Path | None = None
    """The folder of the web dashboard the gateway serves at ``/`` (the repository's
    ``web/``). None: an empty folder under the prefix, so ``/`` answers the 404 problem."""

    @property
    def public_origin(self) -> str:
        """The public URL's scheme and host, as a browser's ``Origin`` header names it (and
        as auth judges its own writes: scheme and netloc, as given)."""
        url = self.public_url or f"http://{self.listen_host}:{self.port}"
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"public URL {url!r} is not like https://codeflow.example.com")
        return origin

    def values(self) -> dict[str, str]:
        missing = [name for name in UPSTREAMS if name not in self.upstreams]
        if missing:
            raise ConfigError(f"no upstream address for {', '.join(missing)}")
        servers = {name: _addresses(self.upstreams[name]) for name in UPSTREAMS}
        for name, addresses in servers.items():
            if not addresses:
                raise ConfigError(f"no upstream address for {name}")
            for address in addresses:
                if not _ADDRESS.fullmatch(address):
                    raise ConfigError(f"upstream {name}: {address!r} is not host:port")
        if not _RATE.fullmatch(self.signin_rate):
            raise ConfigError(f"sign-in rate {self.signin_rate!r} is not like 10r/s")
        if not _RATE.fullmatch(self.write_rate):
            raise ConfigError(f"write rate {self.write_rate!r} is not like 10r/s")
        if self.write_burst < 1 or self.connection_limit < 1:
            raise ConfigError("the write burst and the connection limit are 1 or more")
        if self.worker_user is not None and not _USER.fullmatch(self.worker_user):
            raise ConfigError(f"worker user {self.worker_user!r} is not a user name")
        for proxy in self.trusted_proxies:
            if not _is_network(proxy):
                raise ConfigError(f"trusted proxy {proxy!r} is not an address or a network")
        web_root = self.web_root or self.prefix / "web"
        if not _WEB_ROOT.fullmatch(str(web_root)):
            raise ConfigError(f"web root {str(web_root)!r} is not an absolute, plain path")
        if not 0 <= self.auth_cache_seconds <= MAX_AUTH_CACHE_SECONDS:
            raise ConfigError(
                f"auth cache of {self.auth_cache_seconds} s: give 0 (off) to "
                f"{MAX_AUTH_CACHE_SECONDS} seconds"
            )
        return {
            "prefix": str(self.prefix),
            "public_origin": self.public_origin,
            "real_ip": _real_ip(self.trusted_proxies),
            "hsts": HSTS if self.public_origin.startswith("https://") else "",
            "listen": f"{self.listen_host}:{self.port}",
            "web_root": str(web_root),
            "signin_rate": self.signin_rate,
            "signin_burst": str(self.signin_burst),
            "write_rate": self.write_rate,
            "write_burst": str(self.write_burst),
            "connection_limit": str(self.connection_limit),
            "auth_cache_seconds": str(self.auth_cache_seconds),
            "auth_cache_shorter": str(_kept_less(self.auth_cache_seconds, 1)),
            "auth_cache_shortest": str(_kept_less(self.auth_cache_seconds, 2)),
            "user_directive": f"user {self.worker_user};" if self.worker_user else "",
            **{f"{name}_upstream": servers[name][0] for name in UPSTREAMS},
            # The replicas beyond the first, as more `server` lines of the same upstream.
            **{
                f"{name}_replicas": "".join(
                    f"\n        server {address} max_fails=0;" for address in servers[name][1:]
                )
                for name in UPSTREAMS
            },
        }


def _kept_less(window: int, seconds: int) -> int:
    """How long a session check is kept when kept ``seconds`` less than the ``window``: at
    least 1 s (nothing when the window is 0). nginx picks among these per check."""
    return max(window - seconds, min(window, 1))


def _real_ip(proxies: Sequence[str]) -> str:
    """The realip directives: the client's address is the last in X-Forwarded-For that is
    not a trusted proxy's; nothing at all when no proxy is trusted."""
    if not proxies:
        return "# No trusted proxy (GATEWAY_TRUSTED_PROXIES): a client is its connection."
    lines = [f"set_real_ip_from {proxy};" for proxy in proxies]
    lines += ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;"]
    return "\n    ".join(lines)


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _addresses(upstream: str | Sequence[str]) -> list[str]:
    return [upstream] if isinstance(upstream, str) else list(upstream)


def worker_user() -> str | None:
    """Who nginx's workers should run as: the launcher's own user when it is root.

    Started by root, nginx would run its workers as ``nobody``, who can't reach a prefix
    inside a private directory (a checkout under /root, a temporary directory), and so
    can't write the session-check cache or buffered request bodies there. Started by anyone
    else, nginx can't switch users and needs no directive.
    """
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(os.geteuid()).pw_name


def auth_cache_seconds(environ: Mapping[str, str]) -> int:
    """``GATEWAY_AUTH_CACHE_SECONDS``, or the default when it is unset or empty."""
    raw = environ.get("GATEWAY_AUTH_CACHE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_AUTH_CACHE_SECONDS
    if not raw.isdigit():
        raise ConfigError(
            f"GATEWAY_AUTH_CACHE_SECONDS={raw!r}: give whole seconds, 0 to {MAX_AUTH_CACHE_SECONDS}"
        )
    seconds = int(raw)
    if seconds > MAX_AUTH_CACHE_SECONDS:
        raise ConfigError(
            f"GATEWAY_AUTH_CACHE_SECONDS={seconds}: give 0 (off) to at most "
            f"{MAX_AUTH_CACHE_SECONDS} seconds; a session signed out elsewhere or erased can "
            "still read for that long"
        )
    return seconds


def trusted_proxies(environ: Mapping[str, str]) -> tuple[str, ...]:
    """``GATEWAY_TRUSTED_PROXIES``: addresses or networks (CIDR), separated by commas or
    spaces, of the proxies whose ``X-Forwarded-For`` the gateway believes; none if unset."""
    raw = environ.get("GATEWAY_TRUSTED_PROXIES", "")
    proxies = tuple(item for item in re.split(r"[\s,]+", raw) if item)
    for proxy in proxies:
        if not _is_network(proxy):
            raise ConfigError(
                f"GATEWAY_TRUSTED_PROXIES: {proxy!r} is not an address or a network like 10.0.0.0/8"
            )
    return proxies


def signin_limit(environ: Mapping[str, str]) -> tuple[str, int]:
    """``GATEWAY_SIGNIN_RATE`` (like ``10r/s``) and ``GATEWAY_SIGNIN_BURST``: how many
    sign-in requests one client address may make, or the defaults."""
    rate = environ.get("GATEWAY_SIGNIN_RATE", "").strip() or DEFAULT_SIGNIN_RATE
    if not _RATE.fullmatch(rate):
        raise ConfigError(f"GATEWAY_SIGNIN_RATE={rate!r}: give requests per second, like 10r/s")
    return rate, _positive(environ, "GATEWAY_SIGNIN_BURST", DEFAULT_SIGNIN_BURST)


def write_limit(environ: Mapping[str, str]) -> tuple[str, int]:
    """``GATEWAY_WRITE_RATE`` (like ``10r/s``) and ``GATEWAY_WRITE_BURST``: how many writes
    to /auth/ and /api/ one client address may make, or the defaults."""
    rate = environ.get("GATEWAY_WRITE_RATE", "").strip() or DEFAULT_WRITE_RATE
    if not _RATE.fullmatch(rate):
        raise ConfigError(f"GATEWAY_WRITE_RATE={rate!r}: give requests per second, like 10r/s")
    return rate, _positive(environ, "GATEWAY_WRITE_BURST", DEFAULT_WRITE_BURST)


def connection_limit(environ: Mapping[str, str]) -> int:
    """``GATEWAY_CONNECTION_LIMIT``: requests one client address may have under way at once."""
    return _positive(environ, "GATEWAY_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT)


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r}: give a whole number of requests, 1 or more")
    return int(raw)


def template_path(repo_root: Path | None) -> Path:
    if repo_root is None:
        raise ConfigError("cannot find deploy/gateway of the CodeFlow repository")
    return repo_root / "deploy" / "gateway" / "nginx.conf.template"


def web_root_path(repo_root: Path | None) -> Path:
    if repo_root is None:
        raise ConfigError("cannot find web/ of the CodeFlow repository")
    return repo_root / "web"


def render(template: str, settings: GatewaySettings) -> str:
    """Fill the template's `{{ name }}` placeholders; an unknown name is an error."""
    values = settings.values()

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(f"the gateway template names an unknown value {{{{ {name} }}}}")
        return values[name]

    return _PLACEHOLDER.sub(substitute, template)


def nginx_binary(environ: Mapping[str, str] | None = None) -> str | None:
    """`NGINX` if set, else /usr/sbin/nginx, else nginx on PATH; None if there is none."""
    env = os.environ if environ is None else environ
    configured = env.get("NGINX", "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access(DEFAULT_NGINX, os.X_OK):
        return DEFAULT_NGINX
    return shutil.which("nginx")


def nginx_argv(nginx: str, prefix: Path, *extra: str) -> list[str]:
    # -e: nginx opens its error log before reading the configuration; by default that is a
    # file under /var/log, which an unprivileged user cannot write.
    return [nginx, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "stderr", *extra]


def prepare_prefix(prefix: Path) -> None:
    # nginx makes cache/verify inside cache/ itself, for its worker processes' user only.
    # web/ is the web root when none is given: empty, so `/` answers the 404 problem.
    for sub in ("logs", "tmp", "cache", "web"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)


def write_config(prefix: Path, content: str) -> bool:
    """Write `prefix/nginx.conf` unless it already holds `content`; True if it changed."""
    prepare_prefix(prefix)
    path = prefix / "nginx.conf"
    if path.exists() and path.read_text() == content:
        return False
    path.write_text(content)
    return True


def check_config(nginx: str, prefix: Path) -> None:
    """Run `nginx -t` on the rendered configuration; raise with nginx's words if it fails."""
    result = subprocess.run(
        nginx_argv(nginx, prefix, "-t", "-q"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise GatewayError(f"nginx rejects {prefix / 'nginx.conf'}:\n{result.stderr.strip()}")


def gateway_component(
    *, nginx: str, prefix: Path, port: int, run_dir: Path, logs_dir: Path
) -> Component:
    """The gateway as a cluster component: ready when its own /healthz answers."""
    return Component(
        name="gateway",
        argv=nginx_argv(nginx, prefix),
        port=port,
        ready_path="/healthz",
        run_dir=run_dir,
        logs_dir=logs_dir,
        cwd=prefix,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        # The master renames itself "nginx: master process ..." but keeps its arguments.
        marker=str(prefix / "nginx.conf"),
        # SIGQUIT: finish the requests in flight, then exit (SIGTERM would drop them).
        stop_signal=signal.SIGQUIT,
    )


def reload(component: Component) -> bool:
    """Ask a running gateway to read its configuration again; False if it does not run."""
    pid = component.pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGHUP)
    logger.info("gateway reloading its configuration")
    return True
