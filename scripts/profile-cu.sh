#!/usr/bin/env bash
# The compute-unit profile of the hot instructions: builds the program with the `cu-profile` feature (labelled
# checkpoints that log the units left) beside the deployed build, runs `bench-cu` on it and prints, for every
# transaction that logged checkpoints, the units spent between consecutive ones. The deployed .so is untouched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SBF_HOME=${SBF_HOME:-$HOME/.cache/sbf-offline}
SBF_TARGET_DIR=${SBF_TARGET_DIR:-$HOME/.cache/timelock/target-sbf-profile}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/timelock/target}
"$ROOT/scripts/sbf/setup-toolchain.sh" >/dev/null
sed "s|@SBF_HOME@|$SBF_HOME|g" "$ROOT/scripts/sbf/cargo-config.toml" > "$SBF_HOME/cargo-config.toml"
cd "$ROOT"
RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 __CARGO_TESTS_ONLY_SRC_ROOT="$SBF_HOME/rust-src/library" \
  CARGO_TARGET_DIR="$SBF_TARGET_DIR" \
  cargo +deb196 build --release --locked -p timelock --features cu-profile --config "$SBF_HOME/cargo-config.toml"
cargo build --locked -p timelock-tools --bin bench-cu
TIMELOCK_PROGRAM_SO="$SBF_TARGET_DIR/bpfel-solana-solana/release/libtimelock.so" TIMELOCK_CU_PROFILE=1 \
  "$CARGO_TARGET_DIR/debug/bench-cu" 2>&1 >/dev/null | python3 "$ROOT/scripts/profile-cu.py"
