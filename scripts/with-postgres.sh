#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a PostgreSQL server: the caller's when DATABASE_URL is set;
# otherwise a throwaway cluster (scripts/pg-cluster.sh) in a temp dir, stopped and removed afterwards. Tests make
# their own databases in it (`#[sqlx::test]`).
set -euo pipefail
if [ -n "${DATABASE_URL:-}" ]; then exec "$@"; fi
CLUSTER="$(dirname "$0")/pg-cluster.sh"
DIR=$(mktemp -d /tmp/timelock-pg.XXXXXX)
PORT=${TIMELOCK_PG_PORT:-$((20000 + RANDOM % 20000))}
"$CLUSTER" init "$DIR" "$PORT"
trap '"$CLUSTER" stop "$DIR" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: throwaway PostgreSQL at $DATABASE_URL" >&2
"$@"
