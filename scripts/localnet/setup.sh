#!/usr/bin/env bash
# What the local validator's build needs from Debian: libclang (bindgen for rocksdb), protoc (storage protos,
# see scripts/localnet/protobuf-src), OpenSSL headers (built against the system's, not vendored). Idempotent.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
missing=()
for package in libclang-dev protobuf-compiler libssl-dev pkg-config; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" ||
    { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; }
fi
