#!/usr/bin/env bash
# Makes sure the local services the tests talk to are answering: PostgreSQL on 127.0.0.1:5432
# (trust auth, user postgres) and, for the OpenStack stack, MariaDB and RabbitMQ. They come from
# Debian's packages on this kind of machine; a stopped one is started with its usual command.
# Idempotent: does nothing when they answer.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! answers 5432; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "services: installing PostgreSQL"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q postgresql
  fi
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! answers 3306 && command -v mariadbd >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
if ! answers 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
  echo "services: starting RabbitMQ"
  rabbitmq-server -detached || true
fi
for i in $(seq 1 30); do answers 5432 && break; sleep 1; done
answers 5432 || { echo "services: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
echo "services: ready"
