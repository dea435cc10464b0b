#!/usr/bin/env bash
# Fuzzes every decoder that ships (issue 19). The one Rust decoder users' bytes reach, the
# QuantileSketch's on the native backend, runs under cargo-fuzz for FUZZ_SECONDS (default 60: some
# 10^7 inputs) on the committed corpus in fuzz/corpus/quantile/; then scripts/fuzz-ts.ts drives
# the public decoders of each backend (JS: HyperLogLog, Moments, GCounter/PNCounter, the server's
# state file, and QuantileSketch on the JS backend) over fuzz/corpus/. cargo-fuzz runs on stable
# here through RUSTC_BOOTSTRAP and without a sanitizer (-s none): the decoder is safe Rust, and the
# target asserts round trips.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
SECONDS_EACH="${FUZZ_SECONDS:-60}"
for t in quantile; do
  echo "== fuzz $t (${SECONDS_EACH}s)"
  # A scratch copy of the corpus: new inputs found in CI are not written into the checkout.
  work="$(mktemp -d)"
  cp -r "corpus/$t/." "$work/"
  log="$work.log"
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -s none "$work" -- -max_total_time="$SECONDS_EACH" >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz target $t failed"
    exit 1
  fi
  grep -E "^Done" "$log" || tail -5 "$log"
  rm -rf "$work" "$log"
done
echo "cargo-fuzz: every target passed"

# The decoders users' bytes reach on each backend (issue 19): the JS decoders (HyperLogLog,
# Moments, GCounter/PNCounter, Experiment, the server's state file, and QuantileSketch on the JS
# backend) and the native QuantileSketch decoder, through the public API of dist/, FUZZ_TS_INPUTS
# inputs per format per backend (default 500000: 10^6 per format per run). Measured on the 2-core
# machine, quiet: ~4.5 minutes per backend (hll 55 s, moments 13, counters 24, quantile 29,
# experiment 29, server-state 125).
cd ..
npm run --silent build:ts
for backend in native js; do
  echo "== fuzz the decoders that ship, HOTSTATS_BACKEND=$backend"
  HOTSTATS_BACKEND="$backend" node --import tsx scripts/fuzz-ts.ts
done
echo "fuzzing passed"
