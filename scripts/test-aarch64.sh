#!/usr/bin/env bash
# Cross-builds hotstats for aarch64 with Debian's toolchain and runs the core's NEON tests
# under qemu-user (DEVELOPERS.md). Threads hang under this qemu, so only main-thread test
# targets run here (harness = false, or libtest with one thread on the main thread).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-aarch64-tools.sh
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
T=aarch64-unknown-linux-gnu
DIR=target/aarch64
echo "== aarch64: NEON vs scalar differential test (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR --test backends_main_thread
echo "== aarch64: accuracy against the fsum oracle (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR --test accuracy
echo "== aarch64: distribution functions against scipy (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR --test special_scipy
echo "== aarch64: statistical tests against scipy (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR --test inference_scipy
echo "== aarch64: control charts against the reference (qemu)"
cargo test -p hotstats-core --release --target $T --target-dir $DIR --test spc_reference
echo "== aarch64: the Node binding (linux-arm64-gnu package; glibc 2.17, napi-rs's cross toolchain)"
node scripts/build-platforms.mjs linux-arm64-gnu
