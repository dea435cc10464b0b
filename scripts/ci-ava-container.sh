#!/bin/sh
# CI's test-linux job: the ava specs inside a node:<version>-slim (Debian 12) or
# node:<version>-alpine (musl) container, as root, with the checkout (npm ci done, binding and
# dist/ in place) mounted. Installs what the specs start (redis-server, prometheus/promtool,
# chromium), then runs ava on the native backend and on the JS backend. POSIX sh: Alpine has
# no bash until this installs it.
set -eu
cd "$(dirname "$0")/.."
if command -v apk >/dev/null 2>&1; then
  apk add --no-cache bash curl redis chromium >/dev/null
  # Alpine's prometheus is another major version; the release Debian 12 ships, as elsewhere.
  PATH="$(bash scripts/install-prometheus-release.sh /opt/prometheus/bin):$PATH"
  export PATH
else
  bash scripts/install-test-servers.sh
fi
# The dashboard spec drives /usr/bin/chromium (Debian's path; Alpine's package may name it
# chromium-browser only). HOTSTATS_CHROMIUM names the browser where that path cannot exist.
if [ ! -e /usr/bin/chromium ] && command -v chromium-browser >/dev/null 2>&1; then
  ln -s "$(command -v chromium-browser)" /usr/bin/chromium
fi
HOTSTATS_CHROMIUM=/usr/bin/chromium
export HOTSTATS_CHROMIUM
echo "redis-server: $(command -v redis-server), prometheus: $(command -v prometheus), chromium: $HOTSTATS_CHROMIUM"
echo "== ava, native backend"
npx ava
echo "== ava, HOTSTATS_BACKEND=js"
HOTSTATS_BACKEND=js npx ava
