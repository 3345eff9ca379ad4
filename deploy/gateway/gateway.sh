#!/bin/sh
# The gateway in a container: render deploy/gateway/nginx.conf.template for container
# networking, then run nginx in the foreground as the container's (unprivileged) user.
#
# Settings (all optional): GATEWAY_TEMPLATE, GATEWAY_PREFIX (a writable directory),
# GATEWAY_LISTEN, AUTH_UPSTREAM, PROFILES_UPSTREAM, REPOSITORIES_UPSTREAM, JANITOR_UPSTREAM
# (host:port of each service; replicas behind one address, so the template's extra server
# lines stay empty), GATEWAY_SIGNIN_RATE, GATEWAY_SIGNIN_BURST, GATEWAY_WRITE_RATE,
# GATEWAY_WRITE_BURST (writes to /auth/ and /api/ per client address),
# GATEWAY_CONNECTION_LIMIT (requests under way at once per client address),
# GATEWAY_AUTH_CACHE_SECONDS (how long a session check is reused by GET/HEAD; 0 = never,
# at most 10), AUTH_URL (where browsers reach CodeFlow, as auth is told: writes under /api/
# are accepted from its origin only), GATEWAY_TRUSTED_PROXIES (addresses or networks of
# proxies in front, an ingress, whose X-Forwarded-For is believed; none by default),
# GATEWAY_WEB_ROOT (the folder of the web dashboard served at /, the repository's web/;
# /etc/codeflow/web by default, and where it is missing / answers the 404 problem).
# Arguments are passed to nginx, e.g. `-t` to only check the configuration.
set -eu

template="${GATEWAY_TEMPLATE:-/etc/codeflow/nginx.conf.template}"
prefix="${GATEWAY_PREFIX:-/tmp/gateway}"

fail() {
    echo "gateway.sh: $*" >&2
    exit 1
}

auth_cache_seconds="${GATEWAY_AUTH_CACHE_SECONDS:-5}"
case "$auth_cache_seconds" in
    '' | *[!0-9]*) fail "GATEWAY_AUTH_CACHE_SECONDS=$auth_cache_seconds: give whole seconds" ;;
esac
[ "$auth_cache_seconds" -le 10 ] ||
    fail "GATEWAY_AUTH_CACHE_SECONDS=$auth_cache_seconds: give 0 (off) to at most 10 seconds"
# A check's answer is kept the whole window, or one or two seconds less but at least 1 s.
auth_cache_floor=$((auth_cache_seconds < 1 ? auth_cache_seconds : 1))
auth_cache_shorter=$((auth_cache_seconds - 1 > auth_cache_floor ? auth_cache_seconds - 1 : auth_cache_floor))
auth_cache_shortest=$((auth_cache_seconds - 2 > auth_cache_floor ? auth_cache_seconds - 2 : auth_cache_floor))

public_url="${AUTH_URL:-${NEXTAUTH_URL:-http://127.0.0.1:8080}}"
public_origin="$(printf '%s' "$public_url" | sed -E 's|^(https?://[^/?#]+).*$|\1|')"
case "$public_origin" in
    http://* | https://*) ;;
    *) fail "AUTH_URL=$public_url is not like https://codeflow.example.com" ;;
esac
case "${public_origin#*://}" in
    '' | *[!A-Za-z0-9.:-]*) fail "AUTH_URL=$public_url is not like https://codeflow.example.com" ;;
esac
hsts=""
case "$public_origin" in
    https://*) hsts="max-age=63072000; includeSubDomains" ;;
esac

web_root="${GATEWAY_WEB_ROOT:-/etc/codeflow/web}"
case "$web_root" in
    /*) ;;
    *) fail "GATEWAY_WEB_ROOT=$web_root: give an absolute path" ;;
esac
case "$web_root" in
    *[!A-Za-z0-9._/+@-]*) fail "GATEWAY_WEB_ROOT=$web_root: give a plain path (letters, digits, . _ / + @ -)" ;;
esac

# The realip directives, on one line (sed replaces within a line).
real_ip="# No trusted proxy (GATEWAY_TRUSTED_PROXIES): a client is its connection."
proxies="$(printf '%s' "${GATEWAY_TRUSTED_PROXIES:-}" | tr ',' ' ')"
if [ -n "$(printf '%s' "$proxies" | tr -d ' ')" ]; then
    real_ip=""
    for proxy in $proxies; do
        case "$proxy" in
            *[!0-9A-Fa-f.:/]* | */*/*) fail "GATEWAY_TRUSTED_PROXIES: $proxy is not an address or a network" ;;
        esac
        real_ip="${real_ip}set_real_ip_from $proxy; "
    done
    real_ip="${real_ip}real_ip_header X-Forwarded-For; real_ip_recursive on;"
fi

mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/cache"
# The JSON access log goes to the container's output, like the error log.
ln -sf /dev/stdout "$prefix/logs/access.log"

sed \
    -e "s|{{ *prefix *}}|$prefix|g" \
    -e "s|{{ *user_directive *}}||g" \
    -e "s|{{ *public_origin *}}|$public_origin|g" \
    -e "s|{{ *hsts *}}|$hsts|g" \
    -e "s|{{ *real_ip *}}|$real_ip|g" \
    -e "s|{{ *web_root *}}|$web_root|g" \
    -e "s|{{ *listen *}}|${GATEWAY_LISTEN:-0.0.0.0:8080}|g" \
    -e "s|{{ *signin_rate *}}|${GATEWAY_SIGNIN_RATE:-10r/s}|g" \
    -e "s|{{ *signin_burst *}}|${GATEWAY_SIGNIN_BURST:-20}|g" \
    -e "s|{{ *write_rate *}}|${GATEWAY_WRITE_RATE:-10r/s}|g" \
    -e "s|{{ *write_burst *}}|${GATEWAY_WRITE_BURST:-40}|g" \
    -e "s|{{ *connection_limit *}}|${GATEWAY_CONNECTION_LIMIT:-100}|g" \
    -e "s|{{ *auth_cache_seconds *}}|$auth_cache_seconds|g" \
    -e "s|{{ *auth_cache_shorter *}}|$auth_cache_shorter|g" \
    -e "s|{{ *auth_cache_shortest *}}|$auth_cache_shortest|g" \
    -e "s|{{ *auth_upstream *}}|${AUTH_UPSTREAM:-auth:8001}|g" \
    -e "s|{{ *profiles_upstream *}}|${PROFILES_UPSTREAM:-profiles:8002}|g" \
    -e "s|{{ *repositories_upstream *}}|${REPOSITORIES_UPSTREAM:-repositories:8003}|g" \
    -e "s|{{ *janitor_upstream *}}|${JANITOR_UPSTREAM:-janitor:8004}|g" \
    -e "s|{{ *[a-z]*_replicas *}}||g" \
    "$template" > "$prefix/nginx.conf"

if grep -n '{{' "$prefix/nginx.conf" >&2; then
    fail "the template names a value this script does not fill in"
fi

exec nginx -p "$prefix/" -c "$prefix/nginx.conf" -e stderr "$@"
