#!/bin/sh
# The image's entrypoint: `python -m codeflow_<service> ARGS`, the module named by the
# package the image was built for (CODEFLOW_PACKAGE, e.g. codeflow-auth -> codeflow_auth).
#
# `serve` listens on 0.0.0.0 and the image's port (CODEFLOW_PORT) unless ARGS say otherwise:
# argparse keeps the last --host/--port given, so the caller's own win. The GitHub stand-in
# has no commands: it serves when run with no command word, so `serve` is dropped for it.
set -eu

module="$(printf '%s' "${CODEFLOW_PACKAGE:?the image names no package}" | tr '-' '_')"

if [ "${1:-}" = "serve" ]; then
    shift
    set -- --host 0.0.0.0 --port "${CODEFLOW_PORT:?the image names no port}" "$@"
    [ "$module" = codeflow_github_emulator ] || set -- serve "$@"
fi

exec python -m "$module" "$@"
