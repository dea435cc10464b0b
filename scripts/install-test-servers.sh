#!/usr/bin/env bash
# Installs the real servers the tests start (Debian packages): redis-server, prometheus (server and promtool). Safe to run again.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server prometheus >/dev/null
