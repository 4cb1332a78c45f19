#!/usr/bin/env bash
# What a newcomer waits for: `make demo` (to its summary) and `make test` on a fresh clone from an empty cache
# (a new $HOME: no build outputs, no SBF toolchain, no crates downloaded), then `make test` again on another new
# clone path with that cache warm. Writes target/bench/setup.json (rows cold_demo_s, cold_test_s, warm_test_s).
# `scripts/bench-setup.sh cold_demo` measures one row again and keeps the others. Takes about 40 minutes on
# 2 cores for all three: run it by hand (`make bench-setup`) on an otherwise idle machine, not in CI. System
# packages (PostgreSQL, Node.js, the SBF toolchain's Debian packages) are not removed, so their install is not
# counted. Logs: target/bench/setup-logs/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REAL_HOME=$HOME
export RUSTUP_HOME=${RUSTUP_HOME:-$REAL_HOME/.rustup}
export PATH="$REAL_HOME/.cargo/bin:$PATH"
WORK=$(mktemp -d /tmp/timelock-setup-bench.XXXXXX)
LOGS=$ROOT/target/bench/setup-logs
ROWS=$ROOT/target/bench/setup-rows
mkdir -p "$LOGS" "$ROWS"
trap 'rm -rf "$WORK"' EXIT
unset CARGO_TARGET_DIR SBF_HOME TIMELOCK_LOCALNET_BIN DATABASE_URL

# Records the seconds that `make $2` takes in a fresh clone named $1 with $HOME=$3 as row $1_s.
timed_make() {
  local clone=$WORK/$1
  git clone -q "$ROOT" "$clone"
  local start; start=$(date +%s)
  HOME=$3 CARGO_HOME=$3/.cargo TIMELOCK_DEMO_EXIT=1 make -C "$clone" "$2" >"$LOGS/$1.log" 2>&1 ||
    { tail -40 "$LOGS/$1.log" >&2; echo "bench-setup: make $2 failed in $clone" >&2; exit 1; }
  echo $(( $(date +%s) - start )) >"$ROWS/$1_s"
  echo "$1: make $2 took $(cat "$ROWS/$1_s")s" >&2
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(cold_demo cold_test warm_test)
mkdir -p "$WORK/home-demo" "$WORK/home-test"
for row in "${wanted[@]}"; do
  case $row in
    cold_demo) timed_make cold_demo demo "$WORK/home-demo" ;;
    cold_test) timed_make cold_test test "$WORK/home-test" ;;
    # Warm: the cache `cold_test` left, a clone at a path the cache has never seen.
    warm_test)
      [ -d "$WORK/home-test/.cache/timelock" ] || timed_make cold_test test "$WORK/home-test"
      timed_make warm_test test "$WORK/home-test" ;;
    *) echo "bench-setup: unknown row $row (cold_demo, cold_test, warm_test)" >&2; exit 2 ;;
  esac
done

rows=()
for file in "$ROWS"/*_s; do
  rows+=("\"$(basename "$file")\": {\"value\": $(cat "$file"), \"unit\": \"s\"}")
done
(IFS=,; echo "{\"name\": \"setup\", \"rows\": {${rows[*]}}}") >"$ROOT/target/bench/setup.json"
cat "$ROOT/target/bench/setup.json"
