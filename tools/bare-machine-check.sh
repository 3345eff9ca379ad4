#!/usr/bin/env bash
# That a machine as bare as a new one needs nothing by hand: builds a Debian chroot holding
# only Python 3, make, git and CA certificates (debootstrap --variant=minbase), clones this
# repository into it, and runs there, as root, `make up` (then the gateway's /healthz and
# auth's /auth/session through it), `make down` and `make test`, timing each. Everything else
# (uv, a JDK, Maven, nginx, Go, Kafka's jars) the Makefile has to get itself.
#
#   sudo tools/bare-machine-check.sh [ROOT]
#
# ROOT       where the chroot goes (default /var/tmp/codeflow-bare-machine). Made with
#            debootstrap unless it holds a chroot this script made and has not used yet.
# MIRROR     Debian mirror for debootstrap (default: the first one in this machine's apt
#            sources). SUITE: the release (default bookworm, whose Python is 3.11).
# REF        what to clone (default: the branch checked out here; commit it first).
# KEEP=1     keep the chroot afterwards (default: delete it).
# UP_TIMEOUT, TEST_TIMEOUT   seconds (default 1800 and 3600).
# Ports: the chroot shares this machine's network. The ports `make up` and `make test` use
# must be free; to move them, set POSTGRES_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT,
# GATEWAY_PORT, AUTH_PORT, PROFILES_PORT, REPOSITORIES_PORT, JANITOR_PORT,
# GITHUB_EMULATOR_PORT (make up) and TEST_POSTGRES_PORT, TEST_KAFKA_PORT,
# TEST_KAFKA_CONTROLLER_PORT, TEST_GATEWAY_PORT, TEST_SERVICE_PORTS, TEST_GITHUB_EMULATOR_PORT
# (make test, see mk/test.mk): they are passed into the chroot. Keep both sets out of
# 22000-23999, where tests/e2e/test_e2e_test_isolation.py runs clusters of its own, and
# `make up`'s out of the tests' 24xxx; e.g. `make up`'s on 21xxx.
#
# Not part of .ci/run: it downloads a Debian system and every tool, and takes a while.
# Whatever happens, it stops what it started in the chroot and unmounts everything.
set -euo pipefail

ROOT="$(realpath -m "${1:-/var/tmp/codeflow-bare-machine}")"
SUITE="${SUITE:-bookworm}"
UP_TIMEOUT="${UP_TIMEOUT:-1800}"
TEST_TIMEOUT="${TEST_TIMEOUT:-3600}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'bare-machine-check: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run it as root (debootstrap, chroot and mount need it)"
command -v debootstrap >/dev/null || die "needs debootstrap: apt-get install -y debootstrap"

if [ -z "${MIRROR:-}" ]; then
    sources=()
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ ! -f "$file" ] || sources+=("$file")
    done
    MIRROR="$(awk '/^deb / && $2 ~ /debian\/?$/ {print $2; exit}
        /^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' "${sources[@]}" /dev/null)"
    [ -n "$MIRROR" ] || die "no Debian mirror in this machine's apt sources; set MIRROR"
fi
REF="${REF:-$(git -C "$here" symbolic-ref --short HEAD)}"
git_dir="$(cd "$here" && cd "$(git rev-parse --git-common-dir)" && pwd)"

# Every port either command listens on, from the same variables and defaults they read.
port_vars=(POSTGRES_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT GATEWAY_PORT AUTH_PORT PROFILES_PORT
    REPOSITORIES_PORT JANITOR_PORT GITHUB_EMULATOR_PORT TEST_POSTGRES_PORT TEST_KAFKA_PORT
    TEST_KAFKA_CONTROLLER_PORT TEST_GATEWAY_PORT TEST_SERVICE_PORTS TEST_GITHUB_EMULATOR_PORT)
ports=("${POSTGRES_PORT:-5432}" "${KAFKA_PORT:-9092}" "${KAFKA_CONTROLLER_PORT:-9093}"
    "${GATEWAY_PORT:-8080}" "${AUTH_PORT:-8001}" "${PROFILES_PORT:-8002}"
    "${REPOSITORIES_PORT:-8003}" "${JANITOR_PORT:-8004}" "${GITHUB_EMULATOR_PORT:-9000}"
    "${TEST_POSTGRES_PORT:-24432}" "${TEST_KAFKA_PORT:-24092}"
    "${TEST_KAFKA_CONTROLLER_PORT:-24093}" "${TEST_GATEWAY_PORT:-24080}"
    ${TEST_SERVICE_PORTS:-24001 24002 24003 24004} "${TEST_GITHUB_EMULATOR_PORT:-24000}")
busy=()
for port in "${ports[@]}"; do
    if ss -Hltn "sport = :$port" | grep -q .; then busy+=("$port"); fi
done
[ ${#busy[@]} -eq 0 ] || die "ports in use on this machine: ${busy[*]} (see the header for moving them)"

marker="$ROOT/.codeflow-bare-machine"
if [ -e "$ROOT" ]; then
    [ -f "$marker" ] && [ "$(cat "$marker")" = fresh ] ||
        die "$ROOT exists and is not a fresh chroot of this script's; remove it or pick another"
    say "reusing the untouched chroot in $ROOT"
else
    say "debootstrap $SUITE (minbase + python3, make, git, ca-certificates) into $ROOT"
    started=$SECONDS
    timeout 1200 debootstrap --variant=minbase --include=python3,make,git,ca-certificates \
        "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $ROOT.debootstrap.log"
    rm -f "$ROOT.debootstrap.log"
    echo fresh >"$marker"
    say "debootstrap took $((SECONDS - started)) s"
fi

mounted=()
in_chroot_env=()
cleanup() {
    local status=$?
    set +e
    if [ -f "$ROOT/root/codeflow/Makefile" ] && [ -n "${ran_up:-}" ]; then
        timeout 300 chroot "$ROOT" env "${in_chroot_env[@]}" \
            bash -c 'cd /root/codeflow && make down' >/dev/null 2>&1
    fi
    # Whatever still runs in the chroot was started by this script: stop it, by pid.
    local pid pids=()
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && pids+=("$pid")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        echo "stopping ${#pids[@]} processes left in the chroot: ${pids[*]}" >&2
        kill -TERM "${pids[@]}" 2>/dev/null
        sleep 5
        kill -KILL "${pids[@]}" 2>/dev/null
        sleep 1
    fi
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}"
    done
    if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then
        echo "still mounted under $ROOT:" >&2
        findmnt -rn -o TARGET | grep "^$ROOT/" >&2
        status=1
    elif [ "${KEEP:-}" != 1 ]; then
        rm -rf "$ROOT"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bind() { # bind SOURCE TARGET [mount options]
    mkdir -p "$2"
    mount "${@:3}" "$1" "$2"
    mounted+=("$2")
}
bind proc "$ROOT/proc" -t proc
bind sysfs "$ROOT/sys" -t sysfs
bind /dev "$ROOT/dev" --rbind
mount --make-rslave "$ROOT/dev"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The certificate authorities this machine adds to Debian's (a proxy's, say), so that the
# chroot reaches the network as this machine does.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null
    # uv trusts its own list unless told to read the system's.
    extra_ca=1
fi
echo used >"$marker"

say "cloning $REF into /root/codeflow"
bind "$git_dir" "$ROOT/mnt/codeflow.git" --bind -o ro
chroot "$ROOT" git clone -q --no-hardlinks --branch "$REF" /mnt/codeflow.git /root/codeflow
umount "$ROOT/mnt/codeflow.git"
unset 'mounted[-1]'

in_chroot_env=(-i HOME=/root LANG=C.UTF-8 TERM=dumb
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
[ -z "${extra_ca:-}" ] || in_chroot_env+=(SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
for var in "${port_vars[@]}"; do
    [ -z "${!var:-}" ] || in_chroot_env+=("$var=${!var}")
done
in_chroot() { # in_chroot NAME SECONDS COMMAND: run COMMAND in the clone, time-limited and timed
    local name=$1 limit=$2 started=$SECONDS
    say "in the chroot: $3"
    timeout --kill-after=30 "$limit" chroot "$ROOT" env "${in_chroot_env[@]}" \
        bash -c "cd /root/codeflow && $3" ||
        die "$name failed or timed out after $((SECONDS - started)) s"
    timings+=("$name: $((SECONDS - started)) s")
}
timings=()

in_chroot 'nothing but Python, make and git' 120 'python3 --version && make --version | head -1 && git --version &&
    ! command -v uv && ! command -v java && ! command -v mvn && ! command -v go &&
    ! test -x /usr/sbin/nginx && echo "nothing else installed"'
ran_up=1
in_chroot 'make up' "$UP_TIMEOUT" 'make up'
gateway="http://127.0.0.1:${GATEWAY_PORT:-8080}"
in_chroot 'the gateway answers' 60 "python3 -c 'import sys, urllib.request as u
for path in (\"/healthz\", \"/auth/session\"):
    with u.urlopen(\"$gateway\" + path, timeout=10) as r:
        print(path, r.status, r.read(200).decode())
'"
in_chroot 'make down' 300 'make down'
ran_up=
in_chroot 'make test' "$TEST_TIMEOUT" 'make test'

say "all passed on a bare $SUITE:"
printf '  %s\n' "${timings[@]}" >&2
