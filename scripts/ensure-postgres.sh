#!/usr/bin/env bash
# Makes a local PostgreSQL usable for the store tests and prints its URL as the last stdout line.
# Safe to run repeatedly: every step checks before it acts. Progress goes to stderr so that
# `SKYGATE_TEST_DATABASE_URL=$(scripts/ensure-postgres.sh)` captures only the URL.
set -euo pipefail

ROLE=skygate
PASSWORD=skygate
DATABASE=skygate_test

say() { echo "ensure-postgres: $*" >&2; }

# Cluster management needs root; use sudo only when not root already.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    sudo -u postgres "$@"
  fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "installing postgresql"
  as_root apt-get update >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

# First cluster listed: "version name port status owner datadir logfile".
cluster_line() { pg_lsclusters --no-header 2>/dev/null | head -n 1; }

if [ -z "$(cluster_line)" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  say "creating cluster $version/main"
  as_root pg_createcluster "$version" main >&2
fi

read -r version name port status _ < <(cluster_line)

if [[ $status != online* ]]; then
  say "starting cluster $version/$name on port $port"
  as_root pg_ctlcluster "$version" "$name" start >&2
fi

for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { say "cluster $version/$name is not accepting connections on 127.0.0.1:$port"; exit 1; }

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  say "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
else
  # A role left over from elsewhere may have another password or no login; make it match the URL.
  psql_admin -c "ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  say "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2
fi

url="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
PGPASSWORD=$PASSWORD psql -X -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DATABASE" -tAc 'SELECT 1' >/dev/null \
  || { say "cannot log in as $ROLE over TCP at 127.0.0.1:$port"; exit 1; }
echo "$url"
