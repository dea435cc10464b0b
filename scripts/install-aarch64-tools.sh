#!/usr/bin/env bash
# Installs Debian's aarch64 cross toolchain and qemu if missing, and the host's arm64 glibc and
# libstdc++ (libc6:arm64, libstdc++6:arm64): qemu-aarch64-static runs the test binaries and Node
# for arm64 without -L, so /lib/ld-linux-aarch64.so.1 and the libraries come from these.
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
for f in /lib/ld-linux-aarch64.so.1 /usr/lib/aarch64-linux-gnu/libc.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6; do
  [ -e "$f" ] || need=1
done
if [ "$need" = 0 ]; then exit 0; fi
bash ./apt-install.sh --arch arm64 "the aarch64 cross toolchain and qemu (for the NEON tests)" \
  rustc-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
  libc6:arm64 libstdc++6:arm64
