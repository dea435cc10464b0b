#!/usr/bin/env bash
# npm run lint: what CI's lint job runs (.github/workflows/ci.yml, .ci/run). Runs all three checks
# and fails if any failed. Needs node_modules (npm install) for tsc; builds nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
check() {
  echo "== $*"
  "$@" || failed+=("$*")
}
check cargo fmt --all -- --check
check npx tsc --noEmit -p tsconfig.json
check cargo clippy --workspace --all-targets --release -- -D warnings
if [ "${#failed[@]}" != 0 ]; then
  printf 'lint failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== lint passed"
