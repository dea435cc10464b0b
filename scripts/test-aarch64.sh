#!/usr/bin/env bash
# Cross-builds hotstats for aarch64 with Debian's toolchain and runs every hotstats-core test
# (unit tests, the threaded ingest and metrics-store tests, NEON vs scalar, accuracy, scipy and
# SPC references) under qemu-user.
#
# Threads work under qemu-user as long as ld.so and libc.so.6 come from the same glibc build: qemu
# runs without -L, so the binaries' /lib/ld-linux-aarch64.so.1 and libc.so.6 both come from the
# host's libc6:arm64. (`-L /usr/aarch64-linux-gnu` paired the cross package's ld.so
# (libc6-arm64-cross) with the host's libc6:arm64 libc.so.6, and the first pthread_create spun
# forever; that is why these tests once ran on the main thread only.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-aarch64-tools.sh
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static
T=aarch64-unknown-linux-gnu
DIR=target/aarch64
echo "== aarch64: cargo test -p hotstats-core, every target, threads included (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR
echo "== aarch64: the Node binding (linux-arm64-gnu package; glibc 2.17, napi-rs's cross toolchain)"
node scripts/build-platforms.mjs linux-arm64-gnu
