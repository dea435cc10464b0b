#!/usr/bin/env bash
# Installs Debian's aarch64 cross toolchain and qemu (see DEVELOPERS.md) if missing.
# Called by npm test (scripts/test-all.sh) and scripts/test-aarch64.sh; safe to run again, and
# quiet when all are present.
set -euo pipefail
cd "$(dirname "$0")"
need=0
for f in /usr/bin/qemu-aarch64-static /usr/bin/aarch64-linux-gnu-gcc /usr/bin/rustc; do
  [ -x "$f" ] || need=1
done
[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] || need=1
[ -d /usr/aarch64-linux-gnu/lib ] || need=1
if [ "$need" = 0 ]; then exit 0; fi
bash ./apt-install.sh --arch arm64 "the aarch64 cross toolchain and qemu (for the NEON tests)" \
  rustc-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
