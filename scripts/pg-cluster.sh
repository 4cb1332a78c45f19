#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a directory: `init DIR PORT` (initdb, then start), `start DIR PORT`,
# `stop DIR`. Trust authentication, user postgres, listening on 127.0.0.1:PORT only. Used by with-postgres.sh
# and by the tests that restart their own server (the outage drill). Installs Debian's server when missing.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
BIN=$(server_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "pg-cluster: no PostgreSQL server binaries; installing Debian's postgresql" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql ||
    { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }
  BIN=$(server_bin)
fi
RUN_AS=()
if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN_AS=(runuser -u postgres --)
fi
command=$1 DIR=$2
start() {
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $1 -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
}
case "$command" in
  init)
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    "${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
    start "$3" ;;
  start) start "$3" ;;
  stop) "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null ;;
  *) echo "usage: pg-cluster.sh init|start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
