#!/usr/bin/env bash
# npm test: every test. Installs the Debian packages the tests start if any is missing (redis-server,
# prometheus/promtool, chromium; the aarch64 cross toolchain and qemu), builds (cargo and tsc are
# incremental), then
#   1. the Rust core's tests (x86_64: AVX2 vs scalar, accuracy, units),
#   2. the aarch64 core tests under qemu (every hotstats-core test, threads included) and the
#      linux-arm64-gnu binding,
#   3. the linux-x64-musl binding, loaded in a musl Node (scripts/smoke-musl.mjs),
#   4. the glibc floor of every linux-gnu binding: nothing above GLIBC_2.17, and each loads on
#      glibc 2.17 itself (scripts/check-glibc-floor.mjs, after its self-test shows it fails a
#      host-linked binary),
#   5. the ava specs on the native backend, and again with HOTSTATS_BACKEND=js,
#   6. the library's specs in Node for arm64 under qemu against the linux-arm64-gnu binding,
#      native and HOTSTATS_BACKEND=js (scripts/test-arm64-node.sh names the specs it leaves to
#      x64, and why).
# The bindings are built by scripts/build-platforms.mjs (npm run build: this machine's;
# linux-gnu ones against glibc 2.17 with napi-rs's cross toolchain). HOTSTATS_SKIP_AARCH64=1
# (2, 6 and the arm64 half of package-install.spec.ts) and HOTSTATS_SKIP_MUSL=1 (3) skip those
# platforms.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0
echo "== system packages the tests start (installed only if missing)"
bash scripts/install-test-servers.sh
if [ "${HOTSTATS_SKIP_AARCH64:-0}" != 1 ]; then
  bash scripts/install-aarch64-tools.sh
fi
echo "== build"
npm run --silent build
echo "== cargo test (hotstats-core, $(uname -m))"
cargo test -p hotstats-core --release
if [ "${HOTSTATS_SKIP_AARCH64:-0}" != 1 ]; then
  echo "== aarch64 (qemu)"
  bash scripts/test-aarch64.sh
fi
if [ "${HOTSTATS_SKIP_MUSL:-0}" != 1 ]; then
  echo "== linux-x64-musl binding (cargo-zigbuild), loaded in a musl Node"
  # Rust's musl std comes from rustup's server, which is not one of the registries every machine
  # of ours reaches: where it cannot be fetched, the musl step is skipped, loudly, not failed.
  if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl ||
    rustup target add x86_64-unknown-linux-musl; then
    node scripts/build-platforms.mjs linux-x64-musl
    node scripts/smoke-musl.mjs
  else
    echo "SKIPPED: linux-x64-musl (rustup could not fetch the x86_64-unknown-linux-musl std here)"
  fi
fi
echo "== glibc floor (2.17) of every linux-gnu binding, and the check's self-test"
node scripts/check-glibc-floor.mjs --self-test --load
node scripts/check-glibc-floor.mjs --load
echo "== ava, native backend"
npx ava
echo "== ava, HOTSTATS_BACKEND=js"
HOTSTATS_BACKEND=js npx ava
if [ "${HOTSTATS_SKIP_AARCH64:-0}" != 1 ]; then
  echo "== ava in Node for arm64 (qemu)"
  bash scripts/test-arm64-node.sh
fi
echo "== all test suites passed"
