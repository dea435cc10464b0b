#!/usr/bin/env bash
# Installs Debian packages for the tests: bash scripts/apt-install.sh [--arch ARCH] WHAT PKG...
# (WHAT says what they are for; --arch adds a foreign dpkg architecture first, e.g. arm64).
# The callers check their binaries first and come here only when something is missing.
# As root: apt-get. Otherwise sudo (non-interactively, or with a prompt on a terminal). With
# neither: prints the one command that installs them and fails.
set -euo pipefail
arch=""
if [ "${1:-}" = --arch ]; then
  arch="$2"
  shift 2
fi
what="$1"
shift
pkgs="$*"

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs"
[ -z "$arch" ] || cmd="dpkg --add-architecture $arch && $cmd"

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  as_root=(sudo)
else
  {
    echo "error: $what missing (Debian packages: $pkgs); installing them needs root, and this"
    echo "is not root and has no usable sudo. Install them once as root, then run the tests again:"
    echo
    echo "  su -c '$cmd'"
    echo
  } >&2
  exit 1
fi

command -v apt-get >/dev/null 2>&1 || {
  echo "error: $what missing, and this is not a Debian-like system (no apt-get): install the equivalent of: $pkgs" >&2
  exit 1
}

echo "installing $what (Debian packages: $pkgs)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run() {
  if ! ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive "$@" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "error: '$*' failed while installing $what; the command that installs them: $cmd" >&2
    exit 1
  fi
}
[ -z "$arch" ] || run dpkg --add-architecture "$arch"
run apt-get update -qq
# shellcheck disable=SC2086
run apt-get install -y -qq $pkgs
