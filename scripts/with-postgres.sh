#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a PostgreSQL server: the caller's when DATABASE_URL is set;
# otherwise a throwaway cluster made with initdb/pg_ctl in a temp dir (installed from Debian when missing),
# stopped and removed afterwards. Tests make their own databases in it (`#[sqlx::test]`).
set -euo pipefail
if [ -n "${DATABASE_URL:-}" ]; then exec "$@"; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
BIN=$(server_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "with-postgres: no PostgreSQL server binaries; installing Debian's postgresql" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql ||
    { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }
  BIN=$(server_bin)
fi
DIR=$(mktemp -d /tmp/timelock-pg.XXXXXX)
PORT=${TIMELOCK_PG_PORT:-$((20000 + RANDOM % 20000))}
RUN_AS=()
if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DIR"
  RUN_AS=(runuser -u postgres --)
fi
"${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
trap '"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: throwaway PostgreSQL at $DATABASE_URL" >&2
"$@"
