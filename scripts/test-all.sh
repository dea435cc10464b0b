#!/usr/bin/env bash
# npm test: every test. Builds first (cargo and tsc are incremental), then
#   1. the Rust core's tests (x86_64: AVX2 vs scalar, accuracy, units),
#   2. the aarch64 core tests under qemu (NEON vs scalar) and the aarch64 binding cross-build,
#   3. the ava specs on the native backend, and again with HOTSTATS_BACKEND=js.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0
echo "== build"
npm run --silent build
echo "== cargo test (hotstats-core, $(uname -m))"
cargo test -p hotstats-core --release
if [ "${HOTSTATS_SKIP_AARCH64:-0}" != 1 ]; then
  echo "== aarch64 (qemu)"
  bash scripts/test-aarch64.sh
fi
echo "== ava, native backend"
npx ava
echo "== ava, HOTSTATS_BACKEND=js"
HOTSTATS_BACKEND=js npx ava
echo "== all test suites passed"
