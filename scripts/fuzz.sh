#!/usr/bin/env bash
# Runs every cargo-fuzz target (the Rust decoders that ship) for FUZZ_SECONDS each (default 60) on
# the committed corpora in fuzz/corpus/, then the decoder fuzzer of what each backend ships
# (scripts/fuzz-ts.ts) on the same corpora. cargo-fuzz runs on stable here through RUSTC_BOOTSTRAP and
# without a sanitizer (-s none): every decoder is safe Rust, and the targets assert round trips.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
SECONDS_EACH="${FUZZ_SECONDS:-60}"
for t in moments counters quantile; do
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
# Moments, GCounter/PNCounter, and QuantileSketch on the JS backend) and the native QuantileSketch
# decoder, through the public API of dist/, FUZZ_TS_INPUTS inputs per format per backend
# (default 500000: 10^6 per format per run). About 5 minutes per backend on the 2-core machine.
cd ..
npm run --silent build:ts
for backend in native js; do
  echo "== fuzz the decoders that ship, HOTSTATS_BACKEND=$backend"
  HOTSTATS_BACKEND="$backend" node --import tsx scripts/fuzz-ts.ts
done
echo "fuzzing passed"
