// Checks that linux-gnu bindings load on glibc 2.17: no symbol version above GLIBC_2.17.
//
//   node scripts/check-glibc-floor.mjs [--max 2.17] [--load] [FILE.node...]
//   node scripts/check-glibc-floor.mjs --self-test [--load]
//
// With no FILE it checks every hotstats.linux-*-gnu.node in target/npm-artifacts/ and beside
// package.json (and fails if there is none). For each file it reads the ELF's version needs
// (`readelf -V`, the .gnu.version_r the dynamic loader checks at load time): the highest
// GLIBC_x.y a non-weak entry asks for is the oldest glibc the file loads on. Above --max it
// fails and names the symbols that pull it up (`readelf --dyn-syms`). It also checks that the
// ELF machine matches the platform in the name (a linux-arm64-gnu.node must be AArch64).
// --load also loads each file on glibc 2.17 itself (loadOnGlibc217 below): the sysroot of the
// napi cross toolchain has a whole glibc 2.17, ld.so included.
//
// --self-test shows the check can fail: it links one tiny Rust cdylib (threads and stat, the
// calls that pull a Debian 12 link up to GLIBC_2.34) twice, with the host's cc and with the napi
// cross toolchain's gcc, and expects the first to fail the check (when the host glibc is above
// the floor) and the second to pass; with --load, the same of loading them on glibc 2.17.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const MACHINES = { x64: 'X86-64', arm64: 'AArch64' }

function cmpVersion(a, b) {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

function readelf(args) {
  return execFileSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
}

/** The glibc versions `file` needs: [{ version, weak, lib }] from .gnu.version_r. */
export function glibcNeeds(file) {
  const needs = []
  let lib = null
  for (const line of readelf(['-V', file]).split('\n')) {
    const f = /File: (\S+)/.exec(line)
    if (f) lib = f[1]
    const n = /Name: GLIBC_([0-9.]+)\s+Flags: (\S+)/.exec(line)
    if (n) needs.push({ version: n[1], weak: n[2].includes('WEAK'), lib })
  }
  return needs
}

/** Checks one file; returns { ok, floor, lines } where lines explain the result. */
export function checkFile(file, max) {
  const lines = []
  let ok = true
  const header = readelf(['-h', file])
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim() ?? '?'
  const arch = /linux-(x64|arm64)-gnu/.exec(basename(file))?.[1]
  if (arch && !machine.includes(MACHINES[arch])) {
    ok = false
    lines.push(`  ELF machine is ${machine}, but the name says ${arch}`)
  }
  const needs = glibcNeeds(file)
  if (needs.length === 0) {
    ok = false
    lines.push('  no GLIBC version needs at all: not a dynamically linked glibc binary')
  }
  const strong = needs.filter((n) => !n.weak).map((n) => n.version)
  const floor = strong.sort(cmpVersion).at(-1) ?? '?'
  const above = [...new Set(strong.filter((v) => cmpVersion(v, max) > 0))]
  if (above.length) {
    ok = false
    const syms = readelf(['--dyn-syms', file])
      .split('\n')
      .map((l) => /\s(\S+)@GLIBC_([0-9.]+)/.exec(l))
      .filter((m) => m && cmpVersion(m[2], max) > 0)
      .map((m) => `${m[1]}@GLIBC_${m[2]}`)
    lines.push(`  needs ${above.map((v) => `GLIBC_${v}`).join(', ')} (above GLIBC_${max}): ${[...new Set(syms)].join(' ')}`)
  }
  const weak = needs.filter((n) => n.weak && cmpVersion(n.version, max) > 0).map((n) => `GLIBC_${n.version}`)
  if (weak.length) lines.push(`  weak only (the loader does not require them): ${weak.join(', ')}`)
  return { ok, floor, machine, lines }
}

const TRIPLES = { x64: 'x86_64-unknown-linux-gnu', arm64: 'aarch64-unknown-linux-gnu' }

/**
 * Loads `file` with dlopen(RTLD_NOW) in a small program linked against, and run on, glibc 2.17
 * itself: the cross toolchain's sysroot, through its own ld.so (under qemu-aarch64 for arm64).
 * The program defines the napi_* functions the binding imports (as Node does), so the load
 * fails only for what glibc 2.17 lacks. Returns { ok, output }.
 */
async function loadOnGlibc217(file) {
  const arch = /linux-(x64|arm64)-gnu/.exec(basename(file))?.[1]
  if (!arch) return { ok: false, output: 'not a linux-{x64,arm64}-gnu binding name' }
  const triple = TRIPLES[arch]
  const { ensureCrossToolchain } = await import('./napi-cross-toolchain.mjs')
  const tc = ensureCrossToolchain(triple)
  const sysroot = join(tc, triple, 'sysroot')
  const dir = join(root, 'target/glibc-floor-load', arch)
  mkdirSync(dir, { recursive: true })
  const napiImports = [
    ...new Set(
      readelf(['--dyn-syms', file])
        .split('\n')
        .map((l) => /\sUND\s+(napi_\w+|node_api_\w+)/.exec(l)?.[1])
        .filter(Boolean),
    ),
  ].sort()
  const src = join(dir, 'load.c')
  writeFileSync(
    src,
    [
      '/* Written by scripts/check-glibc-floor.mjs: dlopen a binding on glibc 2.17. */',
      '#include <dlfcn.h>',
      '#include <stdio.h>',
      '#include <gnu/libc-version.h>',
      ...napiImports.map((n) => `int ${n}(void) { return 1; }`),
      'int main(int argc, char **argv) {',
      '  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);',
      '  if (!h) { printf("glibc %s: dlopen failed: %s\\n", gnu_get_libc_version(), dlerror()); return 1; }',
      '  printf("glibc %s: dlopen(RTLD_NOW) ok, napi_register_module_v1 %s\\n", gnu_get_libc_version(),',
      '         dlsym(h, "napi_register_module_v1") ? "found" : "MISSING");',
      '  return dlsym(h, "napi_register_module_v1") ? 0 : 1;',
      '}',
      '',
    ].join('\n'),
  )
  const exe = join(dir, 'load')
  execFileSync(join(tc, 'bin', `${triple}-gcc`), ['-O1', '-rdynamic', '-o', exe, src, '-ldl'], { stdio: 'inherit' })
  const libdirs = ['lib64', 'lib', 'usr/lib64', 'usr/lib'].map((d) => join(sysroot, d)).join(':')
  const ldso = join(sysroot, arch === 'x64' ? 'lib64/ld-linux-x86-64.so.2' : 'lib/ld-linux-aarch64.so.1')
  const [cmd, args] =
    arch === 'x64'
      ? [ldso, ['--library-path', libdirs, exe, file]]
      : // qemu-user crashes running ld.so by hand; -L makes the exe's /lib/ld-linux-aarch64.so.1 the sysroot's.
        ['qemu-aarch64-static', ['-L', sysroot, '-E', `LD_LIBRARY_PATH=${libdirs}`, exe, file]]
  const res = spawnSync(cmd, args.map((a) => (a === file ? resolve(file) : a)), { encoding: 'utf8' })
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? res.error.message : ''}`.trim()
  return { ok: res.status === 0, output }
}

function defaultFiles() {
  const files = []
  for (const dir of [join(root, 'target/npm-artifacts'), root]) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (/^hotstats\.linux-.*-gnu\.node$/.test(f)) files.push(join(dir, f))
  }
  return files
}

async function check(files, max, load) {
  let failed = 0
  for (const file of files) {
    const { ok, floor, machine, lines } = checkFile(file, max)
    const name = file.startsWith(root) ? file.slice(root.length + 1) : file
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${machine}, glibc >= ${floor} (floor ${max})`)
    for (const l of lines) console.log(l)
    if (!ok) failed++
    if (load) {
      const loaded = await loadOnGlibc217(file)
      console.log(`${loaded.ok ? 'ok  ' : 'FAIL'} ${name} loads on glibc 2.17: ${loaded.output}`)
      if (!loaded.ok) failed++
    }
  }
  return failed
}

async function selfTest(max) {
  const { crossGcc } = await import('./napi-cross-toolchain.mjs')
  const dir = join(root, 'target/glibc-floor-self-test')
  mkdirSync(dir, { recursive: true })
  const src = join(dir, 'fixture.rs')
  writeFileSync(
    src,
    [
      '// Written by scripts/check-glibc-floor.mjs --self-test: calls that a binding makes too.',
      '#[no_mangle]',
      'pub extern "C" fn napi_register_module_v1() -> u64 {',
      '    let t = std::thread::spawn(|| std::fs::metadata("/").map(|m| m.len()).unwrap_or(0));',
      '    t.join().unwrap_or(0)',
      '}',
      '',
    ].join('\n'),
  )
  const build = (name, linker) => {
    const out = join(dir, `${name}.linux-x64-gnu.node`)
    const args = ['--edition', '2021', '--crate-type', 'cdylib', '-C', 'opt-level=1', '-o', out, src]
    if (linker) args.push('-C', `linker=${linker}`)
    execFileSync('rustc', args, { stdio: 'inherit' })
    return out
  }
  const hostGlibc = process.report.getReport().header.glibcVersionRuntime
  let bad = 0
  const host = checkFile(build('host-linked', null), max)
  const cross = checkFile(build('napi-cross-linked', crossGcc('x86_64-unknown-linux-gnu')), max)
  console.log(`self-test, linked with the host cc (glibc ${hostGlibc}): glibc >= ${host.floor}, check ${host.ok ? 'passed' : 'failed'}`)
  for (const l of host.lines) console.log(l)
  console.log(`self-test, linked with the napi cross gcc: glibc >= ${cross.floor}, check ${cross.ok ? 'passed' : 'failed'}`)
  for (const l of cross.lines) console.log(l)
  if (cmpVersion(hostGlibc, max) > 0 && host.ok) {
    console.log(`FAIL self-test: the host-linked fixture (glibc ${hostGlibc}) passed the check; it cannot catch a regression`)
    bad++
  }
  if (!cross.ok) {
    console.log('FAIL self-test: the fixture linked against the 2.17 sysroot failed the check')
    bad++
  }
  if (load) {
    const hostLoad = await loadOnGlibc217(join(dir, 'host-linked.linux-x64-gnu.node'))
    const crossLoad = await loadOnGlibc217(join(dir, 'napi-cross-linked.linux-x64-gnu.node'))
    console.log(`self-test, host-linked fixture on glibc 2.17: ${hostLoad.output}`)
    console.log(`self-test, cross-linked fixture on glibc 2.17: ${crossLoad.output}`)
    if (hostLoad.ok && cmpVersion(hostGlibc, max) > 0) {
      console.log('FAIL self-test: the host-linked fixture loaded on glibc 2.17; the load test cannot catch a regression')
      bad++
    }
    if (!crossLoad.ok) {
      console.log('FAIL self-test: the cross-linked fixture did not load on glibc 2.17')
      bad++
    }
  }
  if (!bad) console.log('self-test passed: the check fails a host-linked binary and passes a 2.17-linked one')
  return bad
}

const argv = process.argv.slice(2)
let max = '2.17'
const i = argv.indexOf('--max')
if (i >= 0) {
  max = argv[i + 1]
  argv.splice(i, 2)
}
if (process.platform !== 'linux' || spawnSync('readelf', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('check-glibc-floor: needs Linux and readelf (binutils)')
  process.exit(1)
}
const load = argv.includes('--load')
if (load) argv.splice(argv.indexOf('--load'), 1)
if (argv[0] === '--self-test') {
  process.exit((await selfTest(max)) ? 1 : 0)
}
const files = argv.length ? argv : defaultFiles()
if (files.length === 0) {
  console.error('check-glibc-floor: no hotstats.linux-*-gnu.node to check (build first)')
  process.exit(1)
}
process.exit((await check(files, max, load)) ? 1 : 0)
