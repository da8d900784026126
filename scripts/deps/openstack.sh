#!/usr/bin/env bash
# Installs the real OpenStack services (from PyPI) that the OpenStack adapter's tests run against:
# Keystone, Placement, Glance, Neutron, Nova and Cinder in one virtualenv.
#
# Target: ${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}/openstack (about 700 MB, outside the clone).
# Idempotent: when the venv exists and was built from exactly these pins, it does nothing.
# The stack itself is started by scripts/openstack/start-stack (MariaDB and RabbitMQ from Debian).
set -euo pipefail

TOOLS_DIR="${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}"
VENV="$TOOLS_DIR/openstack"

PINS=(
  "keystone==30.0.0"
  "openstack-placement==16.0.0"
  "glance==33.0.0"
  "neutron==29.0.0"
  "nova==34.0.0"
  "cinder==29.0.0"
  "keystonemiddleware==13.0.1"
  "PyMySQL==1.2.4"
)
STAMP_WANTED="$(printf '%s\n' "${PINS[@]}")"
STAMP_FILE="$VENV/.nuage-pins"

if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP_WANTED" && -x "$VENV/bin/python" ]] \
  && "$VENV/bin/python" -c 'import keystone, nova, neutron, glance, placement, cinder, pymysql' 2>/dev/null; then
  echo "openstack: venv up to date at $VENV"
  exit 0
fi

# MariaDB and RabbitMQ: the stack needs both (the machine kind usually runs them already).
if ! command -v mariadbd >/dev/null 2>&1 || ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "openstack: installing mariadb-server and rabbitmq-server from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server rabbitmq-server >/dev/null
fi

PYTHON="${NUAGE_PYTHON:-python3}"
echo "openstack: building venv at $VENV with $("$PYTHON" --version)"
rm -rf "$VENV"
mkdir -p "$TOOLS_DIR"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "${PINS[@]}"
"$VENV/bin/python" -c 'import keystone, nova, neutron, glance, placement, cinder, pymysql'
printf '%s\n' "${PINS[@]}" >"$STAMP_FILE"
echo "openstack: venv ready at $VENV ($(du -sh "$VENV" | cut -f1))"
