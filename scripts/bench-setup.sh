#!/usr/bin/env bash
# What a newcomer waits for: `make demo` (to its summary) and `make test` on a fresh clone from an empty cache
# (a new $HOME: no build outputs, no SBF toolchain, no crates downloaded), then `make test` again on another new
# clone path with that cache warm. Writes target/bench/setup.json (rows cold_demo_s, cold_test_s, warm_test_s).
# Takes about 40 minutes on 2 cores: run it by hand (`make bench-setup`), not in CI. Logs: target/bench/setup-logs/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REAL_HOME=$HOME
export RUSTUP_HOME=${RUSTUP_HOME:-$REAL_HOME/.rustup}
export PATH="$REAL_HOME/.cargo/bin:$PATH"
WORK=$(mktemp -d /tmp/timelock-setup-bench.XXXXXX)
LOGS=$ROOT/target/bench/setup-logs
mkdir -p "$LOGS"
trap 'rm -rf "$WORK"' EXIT
unset CARGO_TARGET_DIR SBF_HOME TIMELOCK_LOCALNET_BIN

fresh_clone() { git clone -q "$ROOT" "$WORK/$1"; echo "$WORK/$1"; }

# Seconds that `make $2` takes in a fresh clone named $1 with $HOME=$3.
timed_make() {
  local clone; clone=$(fresh_clone "$1")
  local start; start=$(date +%s)
  HOME=$3 CARGO_HOME=$3/.cargo TIMELOCK_DEMO_EXIT=1 make -C "$clone" "$2" >"$LOGS/$1.log" 2>&1 ||
    { tail -40 "$LOGS/$1.log" >&2; echo "bench-setup: make $2 failed in $clone" >&2; exit 1; }
  echo $(( $(date +%s) - start ))
}

mkdir -p "$WORK/home-demo" "$WORK/home-test"
cold_demo=$(timed_make demo demo "$WORK/home-demo")
echo "cold make demo: ${cold_demo}s" >&2
cold_test=$(timed_make test test "$WORK/home-test")
echo "cold make test: ${cold_test}s" >&2
warm_test=$(timed_make test-again test "$WORK/home-test")
echo "warm make test (new clone path): ${warm_test}s" >&2

mkdir -p "$ROOT/target/bench"
cat >"$ROOT/target/bench/setup.json" <<JSON
{"name": "setup", "rows": {
  "cold_demo_s": {"value": $cold_demo, "unit": "s"},
  "cold_test_s": {"value": $cold_test, "unit": "s"},
  "warm_test_s": {"value": $warm_test, "unit": "s"}
}}
JSON
cat "$ROOT/target/bench/setup.json"
