#!/usr/bin/env bash
# CI on runners without Debian's package (macOS, Windows, Alpine): puts prometheus and promtool
# from the official release into DIR (default: ./target/prometheus/bin), checked against the
# release's sha256sums.txt. The version is Debian 12's (2.42.0), so the specs see the same
# Prometheus everywhere. Prints DIR; the caller puts it on PATH. Safe to run again.
set -euo pipefail
VERSION=2.42.0
dir="${1:-target/prometheus/bin}"
case "$(uname -s)" in
  Linux) os=linux ext=tar.gz exe= ;;
  Darwin) os=darwin ext=tar.gz exe= ;;
  MINGW* | MSYS* | CYGWIN*) os=windows ext=zip exe=.exe ;;
  *) echo "install-prometheus-release: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-prometheus-release: unsupported CPU $(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$dir"
if "$dir/promtool$exe" --version 2>&1 | grep -q "version $VERSION "; then
  echo "$dir"
  exit 0
fi
name="prometheus-$VERSION.$os-$arch"
url="https://github.com/prometheus/prometheus/releases/download/v$VERSION"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
fetch "$url/$name.$ext" "$work/$name.$ext"
fetch "$url/sha256sums.txt" "$work/sha256sums.txt"
want="$(awk -v f="$name.$ext" '$2 == f { print $1 }' "$work/sha256sums.txt")"
if command -v sha256sum >/dev/null 2>&1; then
  got="$(sha256sum "$work/$name.$ext" | awk '{ print $1 }')"
else
  got="$(shasum -a 256 "$work/$name.$ext" | awk '{ print $1 }')"
fi
if [ -z "$want" ] || [ "$want" != "$got" ]; then
  echo "install-prometheus-release: checksum mismatch for $name.$ext (want '$want', got '$got')" >&2
  exit 1
fi
if [ "$ext" = zip ]; then
  if command -v unzip >/dev/null 2>&1; then unzip -q "$work/$name.$ext" -d "$work"; else 7z x -y -o"$work" "$work/$name.$ext" >/dev/null; fi
else
  tar -xzf "$work/$name.$ext" -C "$work"
fi
cp "$work/$name/prometheus$exe" "$work/$name/promtool$exe" "$dir/"
"$dir/promtool$exe" --version >&2
echo "$dir"
