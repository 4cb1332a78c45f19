#!/usr/bin/env bash
# Builds target/deploy/timelock.so with the offline SBF toolchain (scripts/sbf/setup-toolchain.sh).
# Users who have Solana's platform-tools can run `anchor build` (or `cargo build-sbf`) instead: same output path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SBF_HOME=${SBF_HOME:-$HOME/.cache/sbf-offline}
SBF_TARGET_DIR=${SBF_TARGET_DIR:-$HOME/.cache/timelock/target-sbf}
"$ROOT/scripts/sbf/setup-toolchain.sh" >/dev/null
sed "s|@SBF_HOME@|$SBF_HOME|g" "$ROOT/scripts/sbf/cargo-config.toml" > "$SBF_HOME/cargo-config.toml"
cd "$ROOT"
RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 __CARGO_TESTS_ONLY_SRC_ROOT="$SBF_HOME/rust-src/library" \
  CARGO_TARGET_DIR="$SBF_TARGET_DIR" \
  cargo +deb196 build --release --locked -p timelock --config "$SBF_HOME/cargo-config.toml"
mkdir -p target/deploy
cp "$SBF_TARGET_DIR/bpfel-solana-solana/release/libtimelock.so" target/deploy/timelock.so
cp programs/timelock/program-keypair.json target/deploy/timelock-keypair.json
ls -l target/deploy/timelock.so
