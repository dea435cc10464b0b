#!/usr/bin/env bash
# Installs what the ava specs start (Debian packages), if missing: redis-server, prometheus
# (server and promtool), prometheus-pushgateway, chromium (/usr/bin/chromium, driven by playwright-core).
# Called by npm test (scripts/test-all.sh); safe to run again, and quiet when all are present.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
for pair in redis-server:redis-server prometheus:prometheus promtool:prometheus prometheus-pushgateway:prometheus-pushgateway chromium:chromium; do
  bin="${pair%%:*}" pkg="${pair#*:}"
  if ! command -v "$bin" >/dev/null 2>&1; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done
[ "${#missing[@]}" = 0 ] && exit 0
bash ./apt-install.sh "the test servers" "${missing[@]}"
