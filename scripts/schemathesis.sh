#!/usr/bin/env bash
# Schemathesis (PyPI), pinned, in a virtual environment under $HOME/.cache (installed on first use): `schemathesis.sh
# install` only installs; anything else runs `schemathesis` with these arguments and the project's format hooks.
set -euo pipefail
VERSION=4.32.5
VENV="$HOME/.cache/timelock/schemathesis-$VERSION"
# A venv cannot be moved (its scripts name their interpreter's path): a marker says the install finished.
if [ ! -e "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" 2>/dev/null || {
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    rm -rf "$VENV"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
  touch "$VENV/.installed"
fi
[ "${1:-}" = install ] && exit 0
HERE="$(cd "$(dirname "$0")/../tests/schemathesis" && pwd)"
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
exec "$VENV/bin/schemathesis" --config-file "$HERE/schemathesis.toml" "$@"
