#!/usr/bin/env bash
# Installs Debian's aarch64 cross toolchain and qemu (see DEVELOPERS.md) if missing.
# Used by .ci/run; safe to run again.
set -euo pipefail
need=0
for f in /usr/bin/qemu-aarch64-static /usr/bin/aarch64-linux-gnu-gcc /usr/bin/rustc; do
  [ -x "$f" ] || need=1
done
[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] || need=1
if [ "$need" = 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO dpkg --add-architecture arm64
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rustc-web libstd-rust-web-dev:arm64 \
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static >/dev/null
