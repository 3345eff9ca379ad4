#!/usr/bin/env bash
# Gets the tools a make target needs, when they are missing, so that a new Debian machine with
# only Python 3.11, make and git needs nothing done by hand (mk/bootstrap.mk calls it).
#
#   mk/bootstrap.sh TOOL ...      TOOL: uv java maven nginx go wrk chromium make
#
# When everything is there it only looks, and says nothing. Otherwise:
# - system packages (a JDK, Maven, nginx, Go, wrk, Chromium and its driver for the browser
#   tests) come from apt-get when running as root,
#   with a policy-rc.d in place so that no package starts a system service (nginx would take
#   port 80); not root, it stops at once and prints the one command to run;
# - uv is installed into the user's tools (~/.local/bin) with pip, which needs no root.
set -euo pipefail

export PATH="$HOME/.local/bin:$PATH"
command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || export PATH="$PATH:/usr/local/go/bin"

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[ $# -gt 0 ] || usage

say() { printf 'bootstrap: %s\n' "$*" >&2; }

has_nginx() {
    # The same lookup as the launcher's (tools/infra gateway.py): $NGINX, /usr/sbin/nginx, PATH.
    [ -n "${NGINX:-}" ] && [ -x "$NGINX" ] && return 0
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null
}

has_java() {
    [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && return 0
    command -v java >/dev/null
}

has_pip() { python3 -m pip --version >/dev/null 2>&1; }

apt_packages=()
want_uv=
for tool in "$@"; do
    case "$tool" in
        uv) command -v uv >/dev/null || want_uv=1 ;;
        java) has_java || apt_packages+=(openjdk-17-jdk-headless) ;;
        maven) command -v mvn >/dev/null || apt_packages+=(maven) ;;
        nginx) has_nginx || apt_packages+=(nginx) ;;
        go) command -v go >/dev/null || apt_packages+=(golang-go) ;;
        wrk) command -v wrk >/dev/null || apt_packages+=(wrk) ;;
        # The browser tests drive the distribution's Chromium (Playwright downloads none).
        chromium) [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
            apt_packages+=(chromium chromium-driver) ;;
        make) command -v make >/dev/null || apt_packages+=(make) ;;
        *) say "unknown tool: $tool"; usage ;;
    esac
done
# Maven, pip and Go's module download fetch over HTTPS.
if [ ${#apt_packages[@]} -gt 0 ] || [ -n "$want_uv" ]; then
    [ -e /etc/ssl/certs/ca-certificates.crt ] || apt_packages+=(ca-certificates)
fi
# uv comes from pip; pip, when missing, from the system's packages.
[ -z "$want_uv" ] || has_pip || apt_packages+=(python3-pip)

if [ ${#apt_packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "missing: ${apt_packages[*]}. Run this, then the same make command again:"
        printf '\n    sudo apt-get install -y %s\n\n' "${apt_packages[*]}" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null; then
        say "missing: ${apt_packages[*]}, and there is no apt-get to install them with"
        exit 1
    fi
    say "installing ${apt_packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # Install only: no package may start a system service.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        made_policy=1
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -q
    apt-get install -y -q "${apt_packages[@]}"
    if [ -n "$made_policy" ]; then
        rm -f "$policy"
        trap - EXIT
    fi
fi

if [ -n "$want_uv" ]; then
    say "installing uv into $HOME/.local/bin with pip"
    # Debian marks its Python as externally managed; a --user install leaves the system's
    # packages alone, which is what that marker protects.
    flags=(--user --quiet)
    if python3 -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
        flags+=(--break-system-packages)
    fi
    python3 -m pip install "${flags[@]}" uv
    command -v uv >/dev/null || { say "uv was installed but is not on PATH"; exit 1; }
fi
