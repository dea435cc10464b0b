// The packed tarballs, as users get them: scripts/pack.mjs packs the main package (with the
// optionalDependencies napi prepublish adds) and the linux-x64-gnu and linux-arm64-gnu platform
// packages; each platform's pair installs into a fresh project (hotstats from the local tarballs
// only; its runtime dependencies from npm's cache or the registry), and `require('hotstats')`
// there loads the binding from the platform package and computes on the native backend: x64
// (AVX-512 or AVX2) in this Node, arm64 (NEON) in Node for arm64 under qemu
// (scripts/arm64-node.mjs). Both give the same bits as the JS backend. Then the platform package
// is broken (the other architecture's binary) and removed: the same checks no longer pass, and
// HOTSTATS_BACKEND=native fails naming the package.
// HOTSTATS_SKIP_AARCH64=1 (npm test's switch for the qemu part) skips the arm64 half.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'

import { platformName } from '../lib/backend/native'

const root = join(__dirname, '..')
const x64Binary = join(root, 'target/npm-artifacts/hotstats.linux-x64-gnu.node')
const arm64Binary = join(root, 'target/npm-artifacts/hotstats.linux-arm64-gnu.node')
// The host drives both installs; under the arm64 ava run (scripts/test-arm64-node.sh) this spec
// is not selected.
// Its children choose their backends themselves, so npm test's HOTSTATS_BACKEND=js run would
// repeat it exactly: it runs in the other.
const host =
  platformName() === 'linux-x64-gnu' && existsSync(x64Binary) && existsSync(join(root, 'dist/index.js')) && process.env.HOTSTATS_BACKEND === undefined
const withArm64 = process.env.HOTSTATS_SKIP_AARCH64 !== '1'
const hostTest = host ? test.serial : test.skip
const arm64Test = host && withArm64 ? test.serial : test.skip

const consumer = readFileSync(join(__dirname, 'fixtures/package-consumer.cjs'), 'utf8')
const dirs: string[] = []

interface Output {
  backend: string
  from: string | null
  platform: string
  bits: Record<string, unknown>
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
  delete env.HOTSTATS_BACKEND
  delete env.HOTSTATS_NATIVE_PATH
  return env
}

let packed: { main: string; platforms: Record<string, string> } | null = null
function tarballs(): { main: string; platforms: Record<string, string> } {
  if (!packed) {
    const out = mkdtempSync(join(tmpdir(), 'hotstats-pack-'))
    dirs.push(out)
    const platforms = withArm64 ? ['linux-x64-gnu', 'linux-arm64-gnu'] : ['linux-x64-gnu']
    const res = execFileSync(process.execPath, [join(root, 'scripts/pack.mjs'), ...platforms, '--out', out], { encoding: 'utf8' })
    packed = JSON.parse(res.trim().split('\n').pop()!)
  }
  return packed!
}

/**
 * A fresh project depending on the main tarball, with the platform tarball as an optional
 * dependency (as the main package lists it): npm installs it only when its os/cpu/libc fields
 * match the target, which `--os/--cpu/--libc` set (npm's way to install for another machine).
 */
function install(platform: string, target: { os: string; cpu: string; libc: string }): string {
  const { main, platforms } = tarballs()
  const dir = mkdtempSync(join(tmpdir(), `hotstats-consumer-${platform}-`))
  dirs.push(dir)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      dependencies: { hotstats: `file:${main}` },
      optionalDependencies: { [`hotstats-${platform}`]: `file:${platforms[platform]}` },
    }),
  )
  writeFileSync(join(dir, 'consumer.cjs'), consumer)
  // The main package's other optionalDependencies (the platform packages not under test) are
  // not published: npm skips them, as it skips any optional dependency that fails.
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `--os=${target.os}`, `--cpu=${target.cpu}`, `--libc=${target.libc}`], {
    cwd: dir,
    env: baseEnv(),
    stdio: 'pipe',
  })
  return dir
}

const X64 = { os: 'linux', cpu: 'x64', libc: 'glibc' }
const ARM64 = { os: 'linux', cpu: 'arm64', libc: 'glibc' }

function run(node: string, dir: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(node, ['consumer.cjs'], { cwd: dir, env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 240_000 })
  if (r.error) throw r.error
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function output(r: Run, what: string): Output {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Output
}

// x64 native's bits, recorded before its package is broken on purpose.
let x64: Output | null = null

// The JS backend's bits on this machine: what every native backend must give.
let oracle: Output | null = null
function jsBits(dir: string): Record<string, unknown> {
  if (!oracle) oracle = output(run(process.execPath, dir, { HOTSTATS_BACKEND: 'js' }), 'the JS backend')
  return oracle.bits
}

/**
 * The checks fail without a working platform package: first with the other architecture's
 * binary in it (cross-wired packages; `wrongBinary`), then with the package gone. Auto falls back
 * to JS (so `backend` and `from` no longer match), and HOTSTATS_BACKEND=native fails, naming the
 * package. (Not a truncated binary: dlopen maps the missing pages and the process dies of SIGBUS.)
 */
function withoutWorkingPackage(t: import('ava').ExecutionContext, node: string, dir: string, platform: string, wrongBinary: string) {
  const pkgDir = join(dir, 'node_modules', `hotstats-${platform}`)
  copyFileSync(wrongBinary, join(pkgDir, `hotstats.${platform}.node`))
  for (const state of ['broken', 'missing']) {
    if (state === 'missing') rmSync(pkgDir, { recursive: true })
    const auto = output(run(node, dir), `${platform}, package ${state}`)
    t.is(auto.backend, 'js', `${platform}, package ${state}: falls back to the JS backend`)
    t.is(auto.from, null, `${platform}, package ${state}: no binding loaded`)
    const forced = run(node, dir, { HOTSTATS_BACKEND: 'native' })
    t.not(forced.status, 0, `${platform}, package ${state}: HOTSTATS_BACKEND=native fails`)
    t.true(forced.stderr.includes(`hotstats-${platform}`), `${platform}, package ${state}: the error names the package: ${forced.stderr}`)
  }
}

test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

hostTest('linux-x64-gnu: the packed main and platform tarballs install into a fresh project and load the native backend', (t) => {
  const dir = install('linux-x64-gnu', X64)
  const installed = JSON.parse(readFileSync(join(dir, 'node_modules/hotstats/package.json'), 'utf8'))
  t.truthy(installed.optionalDependencies['hotstats-linux-x64-gnu'])
  const out = output(run(process.execPath, dir), 'linux-x64-gnu')
  x64 = out
  const js = jsBits(dir)
  const flags = readFileSync('/proc/cpuinfo', 'utf8')
  t.is(out.backend, /\bavx512f\b/.test(flags) ? 'avx512' : /\bavx2\b/.test(flags) ? 'avx2' : 'scalar', 'the fastest backend this CPU runs')
  t.is(out.from, 'hotstats-linux-x64-gnu')
  t.deepEqual(out.bits, js, 'the same bits as the JS backend')
  withoutWorkingPackage(t, process.execPath, dir, 'linux-x64-gnu', existsSync(arm64Binary) ? arm64Binary : join(__dirname, 'fixtures/package-consumer.cjs'))
})

arm64Test('linux-arm64-gnu: the packed tarballs install into a fresh project and load NEON in Node for arm64 (qemu), with the bits of x64 and JS', (t) => {
  t.true(existsSync(arm64Binary), `${arm64Binary} is built by scripts/test-aarch64.sh (scripts/build-platforms.mjs linux-arm64-gnu)`)
  // Its cpu field keeps it off this x64 machine's own installs.
  const here = install('linux-arm64-gnu', X64)
  t.false(existsSync(join(here, 'node_modules/hotstats-linux-arm64-gnu')), 'npm skips the arm64 package for x64')
  const dir = install('linux-arm64-gnu', ARM64)
  const node = join(execFileSync(process.execPath, [join(root, 'scripts/arm64-node.mjs')], { encoding: 'utf8' }).trim(), 'node')
  const out = output(run(node, dir), 'linux-arm64-gnu')
  t.is(out.platform, 'linux-arm64')
  t.is(out.backend, 'neon')
  t.is(out.from, 'hotstats-linux-arm64-gnu')
  let js: Record<string, unknown>
  if (x64 && oracle) {
    js = oracle.bits
  } else {
    const x64Dir = install('linux-x64-gnu', X64)
    x64 = output(run(process.execPath, x64Dir), 'linux-x64-gnu')
    js = jsBits(x64Dir)
  }
  t.is(x64.from, 'hotstats-linux-x64-gnu')
  t.deepEqual(out.bits, x64.bits, 'the same bits as x64 native')
  t.deepEqual(out.bits, js, 'the same bits as the JS backend')
  withoutWorkingPackage(t, node, dir, 'linux-arm64-gnu', x64Binary)
})
