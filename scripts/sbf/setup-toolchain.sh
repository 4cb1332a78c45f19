#!/usr/bin/env bash
# Offline SBF toolchain: builds Solana programs without downloading platform-tools (GitHub is unreachable on
# the project's machines). Idempotent: every step leaves a stamp under $SBF_HOME and is skipped when the stamp and
# what the step made are both present (a cache can lose files: build outputs get pruned).
# Route and measurements: docs/sbf-toolchain.md. Debian bookworm x86_64.
set -euo pipefail
SBF_HOME=${SBF_HOME:-$HOME/.cache/sbf-offline}
HERE=$(cd "$(dirname "$0")" && pwd)
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
RUSTC_DEB=1.96.0+dfsg1-1~deb12u2
mkdir -p "$SBF_HOME/stamps"
done_() { [ -f "$SBF_HOME/stamps/$1" ]; }
mark() { touch "$SBF_HOME/stamps/$1"; }

# 1. rustc 1.96 (LLVM 22) with its std sources, from bookworm-security; linked into rustup as `deb196`.
if ! done_ rustc || ! rustup toolchain list | grep -q '^deb196'; then
  if ! dpkg -s rust-web-src 2>/dev/null | grep -q "Version: $RUSTC_DEB"; then
    apt-cache show "rustc-web=$RUSTC_DEB" >/dev/null 2>&1 || $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y \
      "rustc-web=$RUSTC_DEB" "cargo-web=$RUSTC_DEB" "rust-web-src=$RUSTC_DEB"
  fi
  rustup toolchain link deb196 /usr
  mark rustc
fi

# 2. libLLVM 23 from Debian sid, unpacked into a private root (the system's apt state is not touched).
if ! done_ llvm23 || [ ! -d "$SBF_HOME/sid-root/usr/lib/llvm-23/lib" ]; then
  A=$SBF_HOME/apt-alt; mkdir -p "$A/lists/partial" "$A/cache/archives/partial"; touch "$A/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" > "$A/sources.list"
  O=(-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "Dir::Etc::SourceList=$A/sources.list"
     -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::status=$A/status")
  apt-get "${O[@]}" update
  (cd "$A/cache/archives" && apt-get "${O[@]}" download libllvm23 llvm-23-dev libc6 libgcc-s1 libstdc++6 \
     libxml2-16 libz3-4 libzstd1 zlib1g libedit2 libffi8 libtinfo6 libbsd0 libmd0)
  rm -rf "$SBF_HOME/sid-root"; mkdir -p "$SBF_HOME/sid-root"
  for f in "$A"/cache/archives/*.deb; do dpkg -x "$f" "$SBF_HOME/sid-root"; done
  mark llvm23
fi

# 3. sbpf-linker 0.2.6 built against that libLLVM 23 (LLVM 22's BPF backend cannot pass stack arguments).
if ! done_ linker || [ ! -x "$SBF_HOME/sbpf-linker-23/target/release/sbpf-linker" ]; then
  S=$SBF_HOME/scratch; mkdir -p "$S/src"
  printf '[package]\nname="s"\nversion="0.0.0"\nedition="2021"\n[dependencies]\nsbpf-linker="=0.2.6"\n' > "$S/Cargo.toml"
  touch "$S/src/lib.rs"
  (cd "$S" && cargo +stable vendor vendor >/dev/null)
  rm -rf "$SBF_HOME/sbpf-linker-23"; cp -r "$S/vendor/sbpf-linker" "$SBF_HOME/sbpf-linker-23"
  cd "$SBF_HOME/sbpf-linker-23"
  rm -f .cargo-checksum.json rust-toolchain.toml
  sed -i 's/^default = \["rust-llvm"\]/default = ["rust-llvm"]\nllvm-23-dyn = ["bpf-linker\/llvm-23"]/' Cargo.toml
  # Its own target dir: `make` exports CARGO_TARGET_DIR for the workspace.
  CARGO_TARGET_DIR=$SBF_HOME/sbpf-linker-23/target LLVM_PREFIX=$SBF_HOME/sid-root/usr/lib/llvm-23 \
  RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined -C link-arg=-Wl,-rpath-link,$SBF_HOME/sid-root/usr/lib/x86_64-linux-gnu" \
    cargo +stable build --release --no-default-features --features llvm-23-dyn --bin sbpf-linker
  cd "$HERE"
  mark linker
fi
sed "s|@SBF_HOME@|$SBF_HOME|g" "$HERE/sbpf-linker23" > "$SBF_HOME/sbpf-linker23"; chmod +x "$SBF_HOME/sbpf-linker23"

# 4. std patched for target_os = "solana" (allocator, panic handler, no .bss).
if ! done_ std || [ ! -d "$SBF_HOME/rust-src/library/std" ] || ! cmp -s "$HERE/std-solana.patch" "$SBF_HOME/std-solana.patch.applied"; then
  rm -rf "$SBF_HOME/rust-src"; mkdir -p "$SBF_HOME/rust-src"
  cp -a /usr/lib/rustlib/src/rust/library "$SBF_HOME/rust-src/"
  (cd "$SBF_HOME/rust-src" && patch -p0 < "$HERE/std-solana.patch")
  cp "$HERE/std-solana.patch" "$SBF_HOME/std-solana.patch.applied"
  mark std
fi

# 5. target spec. (solana-compiler-builtins, patched for rustc 1.96's i128 ABI on BPF, is checked in at
#    scripts/sbf/solana-compiler-builtins and wired by the workspace's [patch.crates-io].)
mkdir -p "$SBF_HOME/targets"; cp "$HERE/bpfel-solana-solana.json" "$SBF_HOME/targets/"
echo "sbf toolchain ready in $SBF_HOME"
