#!/usr/bin/env bash
# Installs the moto EC2 server (PyPI `moto[server]`) that the AWS adapter's tests run against.
#
# Target: ${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}/moto, a Python virtualenv outside the clone
# (the test harness finds `bin/moto_server` there, or wherever NUAGE_MOTO_SERVER points).
# Idempotent: when the venv exists and holds exactly the pinned version, it does nothing.
set -euo pipefail

MOTO_VERSION="5.2.5"
TOOLS_DIR="${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}"
VENV="$TOOLS_DIR/moto"
STAMP="$VENV/.nuage-moto-version"

if [ -x "$VENV/bin/moto_server" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$MOTO_VERSION" ]; then
  echo "moto deps: ready (moto $MOTO_VERSION at $VENV/bin/moto_server)"
  exit 0
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "moto deps: installing python3-venv"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends python3 python3-venv
  PYTHON=python3
fi

mkdir -p "$TOOLS_DIR"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
"$VENV/bin/moto_server" --help >/dev/null
printf '%s\n' "$MOTO_VERSION" > "$STAMP"
echo "moto deps: ready (moto $MOTO_VERSION at $VENV/bin/moto_server)"
