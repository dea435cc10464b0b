#!/usr/bin/env bash
# The ava specs in Node 20 for arm64 (the host's exact version, scripts/arm64-node.mjs) under
# qemu-user, against the aarch64 binding (target/npm-artifacts/hotstats.linux-arm64-gnu.node, from
# scripts/test-aarch64.sh): native (NEON), then HOTSTATS_BACKEND=js. Worker threads, the libuv
# pool and child processes run under qemu too (qemu without -L; see scripts/arm64-node.mjs).
# Called by npm test (scripts/test-all.sh) after scripts/test-aarch64.sh.
#
# Emulated Node runs JS ~10-30x slower than this machine, so the run is the library's specs: the
# ones that go through the binding or whose code paths differ by architecture. Not run here (each
# runs natively on x64 in npm test, on both backends):
#   server*.spec.ts (7 specs)    the service: JS on the public API only (nothing in it is
#                                architecture-specific), starting redis-server, prometheus and
#                                chromium; minutes each under qemu.
#   metrics-{aggregator,cluster,fake-timers,http,prom-client,prometheus,protobuf,pushgateway}
#                                prom-client parity: TS formatting, HTTP and comparisons with
#                                prom-client, Prometheus and Pushgateway over the metrics store, whose
#                                native part metrics.spec.ts and metrics-threads.spec.ts run here.
#   decoders.spec.ts             the decoder fuzzer's regressions and a short fuzz run: CPU-bound
#                                JS, and the decoders are JS on every backend except QuantileSketch's
#                                native one, which quantile.spec.ts runs here (and the server's
#                                state file, the service's).
#   types.spec.ts                compiles the dist types with tsc: no library code runs.
#   package.spec.ts              the x64 install (it skips itself on arm64);
#   package-install.spec.ts      drives both installs from the host (the arm64 one in this Node).
# Two tests of metrics.spec.ts measure the machine rather than the code, and qemu-user's differs:
#   "startTimer records elapsed seconds..." bounds a 15 ms timer's elapsed time by 5 s (21 s here,
#   emulated on a loaded machine); "collectDefaultMetrics: ..." wants process_resident_memory_bytes
#   > 1e6, and qemu-user fakes most of /proc/self/stat with zeros (process.memoryUsage().rss is 0).
# The HOTSTATS_BACKEND=js run leaves out three: backends (it compares every backend, JS included,
# in the native run already), errors (each case sets its own HOTSTATS_BACKEND in a child process,
# so it would run the same cases again) and async (3.5 min under qemu; its subject is the native
# tasks on the libuv pool and buffers freed while they are pending, and the JS twins' bits are
# checked by the x64 JS run).
#
# Measured on the project's 2-core machine, shared with other jobs (load average ~4): native run
# (20 specs, 140 tests) 6.1 min, js run (17 specs, 112 tests) 6 min; 12.1 min wall and 1214 s of
# CPU (user+sys) in all. (Under load ~12 an earlier native run took 16 min for 495 s of CPU.)
set -euo pipefail
cd "$(dirname "$0")/.."

SPECS=(
  backends kernels async threads ingest errors input-rules
  quantile hyperloglog moments counters unique window sample-ring native-histogram
  inference spc experiment metrics metrics-threads
)
JS_SKIP=" backends errors async "
NOT_HERE=(
  --match '!startTimer records elapsed seconds*'
  --match '!collectDefaultMetrics: process, event-loop and GC metrics*'
)

bash scripts/install-aarch64-tools.sh
binding=target/npm-artifacts/hotstats.linux-arm64-gnu.node
if [ ! -f "$binding" ]; then
  echo "error: $binding is missing; scripts/test-aarch64.sh builds it" >&2
  exit 1
fi
# Where a local build's binary goes (napi build --platform), so the specs load it as on x64.
ln -sfn "$binding" hotstats.linux-arm64-gnu.node

bin="$(node scripts/arm64-node.mjs)"
export PATH="$bin:$PATH"
unset NODE_EXTRA_CA_CERTS

# A binding that fails to load would send every spec to the JS fallback, passing: check first.
got="$(env -u HOTSTATS_BACKEND node --require tsx/cjs -e '
  const hs = require("./index.ts"); const i = hs.backendInfo()
  console.log(`${process.arch} ${process.version} ${i.backend} ${i.nativeFrom}`)')"
echo "arm64 Node under qemu: $got"
read -r arch version backend _ <<<"$got"
if [ "$arch" != arm64 ] || [ "$backend" != neon ]; then
  echo "error: expected arm64 Node on the neon backend, got: $got" >&2
  exit 1
fi

ava() {
  node node_modules/ava/entrypoints/cli.mjs "${NOT_HERE[@]}" "$@"
}
files=()
for s in "${SPECS[@]}"; do files+=("__test__/$s.spec.ts"); done
start=$SECONDS
echo "== ava in Node $version for arm64 (qemu), native backend: ${#files[@]} specs"
(
  unset HOTSTATS_BACKEND
  ava "${files[@]}"
)
echo "(native: $((SECONDS - start)) s)"

files=()
for s in "${SPECS[@]}"; do
  case "$JS_SKIP" in *" $s "*) ;; *) files+=("__test__/$s.spec.ts") ;; esac
done
start=$SECONDS
echo "== ava in Node $version for arm64 (qemu), HOTSTATS_BACKEND=js: ${#files[@]} specs"
HOTSTATS_BACKEND=js ava "${files[@]}"
echo "(js: $((SECONDS - start)) s)"
