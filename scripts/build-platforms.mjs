// Builds hotstats' release bindings, one per platform asked for, the way they are published:
//
//   node scripts/build-platforms.mjs [host | linux-x64-gnu | linux-arm64-gnu | linux-x64-musl]...
//
// (no argument: host). Every artifact lands in target/npm-artifacts/hotstats.<platform>.node,
// which scripts/pack.mjs packs; the host's also lands beside package.json (where lib/native.ts
// loads a local build), with native.d.ts.
//
// linux-*-gnu: linked against glibc 2.17 with napi-rs's cross toolchain (gcc 4.8.5 and a glibc
// 2.17 sysroot from npm; `napi build --use-napi-cross`; scripts/napi-cross-toolchain.mjs fetches
// it), so the binary loads on any glibc >= 2.17 (CentOS 7, Amazon Linux 2, RHEL 8, Debian 11,
// Ubuntu 20.04, ...). scripts/check-glibc-floor.mjs checks each one right after it is built.
//
// linux-arm64-gnu: compiled by rustup's rustc when it has the aarch64 std (CI), else by Debian's
// (/usr/bin/rustc with libstd-rust-web-dev:arm64, as scripts/test-aarch64.sh does); either way
// the linker and the C runtime come from the cross toolchain.
//
// linux-x64-musl: napi's `-x` route, cargo-zigbuild (crates.io) with zig from PyPI's ziglang
// (scripts/install-musl-tools.sh installs them, and the musl Node that scripts/smoke-musl.mjs uses).
//
// Other hosts (macOS, Windows, Linux on arm64 or musl) build `host` with a plain `napi build`
// (on Alpine, that is the musl binding).
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ensureCrossToolchain } from './napi-cross-toolchain.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const artifacts = join(root, 'target/npm-artifacts')
const manifest = 'crates/hotstats-node/Cargo.toml'

const PLATFORMS = {
  'linux-x64-gnu': { triple: 'x86_64-unknown-linux-gnu' },
  'linux-arm64-gnu': { triple: 'aarch64-unknown-linux-gnu' },
  'linux-x64-musl': { triple: 'x86_64-unknown-linux-musl' },
}

function isGlibcHost() {
  const report = process.report?.getReport()
  return Boolean(report?.header?.glibcVersionRuntime)
}

/** The napi-rs platform name of this machine. */
function hostPlatform() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isGlibcHost() ? 'gnu' : 'musl'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function run(cmd, args, env = {}, base = process.env) {
  console.log(`$ ${[cmd, ...args].join(' ')}`)
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...base, ...env } })
  if (res.error) throw res.error
  if (res.status !== 0) throw new Error(`${cmd} exited with ${res.status ?? res.signal}`)
}

function napi(args, env, base) {
  run(process.execPath, [join(root, 'node_modules/@napi-rs/cli/dist/cli.js'), 'build', ...args], env, base)
}

/**
 * This environment without the compiler, linker and C toolchain settings for `triple` that a
 * caller may have set (scripts/test-aarch64.sh sets Debian's aarch64 gcc as the linker): napi
 * keeps a variable that is already set, and the binding must link with the cross toolchain.
 */
function scrubbedEnv(triple) {
  const t = triple.toUpperCase().replace(/[-.]/g, '_')
  const names = new Set(['RUSTC', `CARGO_TARGET_${t}_LINKER`, 'TARGET_SYSROOT', 'BINDGEN_EXTRA_CLANG_ARGS'])
  for (const tool of ['CC', 'CXX', 'AR', 'RANLIB', 'READELF', 'C_INCLUDE_PATH', 'CFLAGS', 'CXXFLAGS']) {
    names.add(`TARGET_${tool}`)
    names.add(`${tool}_${triple}`)
    names.add(`${tool}_${triple.replace(/[-.]/g, '_')}`)
  }
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !names.has(k)))
}

function checkFloor(file) {
  run(process.execPath, [join(root, 'scripts/check-glibc-floor.mjs'), file])
}

function place(platform, built, isHost) {
  mkdirSync(artifacts, { recursive: true })
  const dest = join(artifacts, `hotstats.${platform}.node`)
  if (built !== dest) copyFileSync(built, dest)
  console.log(`${platform}: ${dest}${isHost ? ` (and ${join(root, `hotstats.${platform}.node`)})` : ''}`)
  return dest
}

function buildGnu(platform, isHost) {
  const { triple } = PLATFORMS[platform]
  ensureCrossToolchain(triple)
  const env = {}
  const args = ['--platform', '--release', '--manifest-path', manifest, '--no-js', '--target', triple, '--use-napi-cross']
  args.push('--target-dir', targetDir(platform))
  if (!hasRustupStd(triple)) {
    // Here rustup has no aarch64 std: Debian's rustc has one (libstd-rust-web-dev:arm64).
    bash('install-aarch64-tools.sh')
    env.RUSTC = '/usr/bin/rustc'
  }
  if (isHost) args.push('--output-dir', '.', '--dts', 'native.d.ts')
  else args.push('--output-dir', 'target/npm-artifacts', '--dts', 'native.d.ts')
  napi(args, env, scrubbedEnv(triple))
  const built = join(root, isHost ? '.' : 'target/npm-artifacts', `hotstats.${platform}.node`)
  const dest = place(platform, built, isHost)
  checkFloor(dest)
}

/**
 * Each platform builds in its own target dir: the linker and C compiler settings of a cross
 * build are part of cargo's fingerprints, also for the host's build scripts and proc macros, so
 * builds sharing target/ (with each other or with `cargo test`) would rebuild each other's.
 */
function targetDir(platform) {
  return `target/napi/${platform}`
}

/** Whether rustup's (the default) rustc has the std for `triple`. */
function hasRustupStd(triple) {
  const res = spawnSync('rustc', ['--print', 'target-libdir', '--target', triple], { encoding: 'utf8' })
  const dir = res.status === 0 ? res.stdout.trim() : ''
  return dir !== '' && existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('libstd-'))
}

function bash(script) {
  run('bash', [join(root, 'scripts', script)])
}

/** Runs scripts/install-musl-tools.sh build and returns the variables it exports. */
function muslTools() {
  const out = execFileSync('bash', [join(root, 'scripts/install-musl-tools.sh'), 'build'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  return Object.fromEntries([...out.matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1], m[2]]))
}

function buildMusl(platform, isHost) {
  // cargo-zigbuild links with zig's musl; napi adds `-C target-feature=-crt-static` for musl.
  const env = muslTools()
  const { triple } = PLATFORMS[platform]
  const args = ['--platform', '--release', '--manifest-path', manifest, '--no-js', '--target', triple, '-x']
  args.push('--target-dir', targetDir(platform))
  if (isHost) args.push('--output-dir', '.', '--dts', 'native.d.ts')
  else args.push('--output-dir', 'target/npm-artifacts', '--dts', 'native.d.ts')
  napi(args, env)
  place(platform, join(root, isHost ? '.' : 'target/npm-artifacts', `hotstats.${platform}.node`), isHost)
}

function buildPlain(platform) {
  napi(['--platform', '--release', '--manifest-path', manifest, '--output-dir', '.', '--no-js', '--dts', 'native.d.ts'])
  place(platform, join(root, `hotstats.${platform}.node`), true)
}

const host = hostPlatform()
const asked = process.argv.slice(2)
const wanted = (asked.length ? asked : ['host']).map((p) => (p === 'host' ? host : p))
for (const platform of wanted) {
  const isHost = platform === host
  const crossable = process.platform === 'linux' && process.arch === 'x64'
  if (platform.endsWith('-gnu') && platform.startsWith('linux-') && crossable) buildGnu(platform, isHost)
  else if (platform === 'linux-x64-musl' && crossable && !isHost) buildMusl(platform, isHost)
  else if (isHost) buildPlain(platform)
  else throw new Error(`cannot build ${platform} on ${host} (known: host, ${Object.keys(PLATFORMS).join(', ')})`)
}
