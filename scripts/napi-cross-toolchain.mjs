// napi-rs's cross toolchains (gcc 4.8.5 with a glibc 2.17 sysroot), from the npm packages
// @napi-rs/cross-toolchain-x64-target-*, unpacked where `napi build --use-napi-cross` looks first
// (~/.napi-rs/cross-toolchain/<@napi-rs/cross-toolchain version>/<triple>), so napi uses them as
// its own. Why not napi's own download: @napi-rs/cross-toolchain 1.0.5 asks npm for target
// packages of its own version, which were never published (x86_64's newest is 1.0.0, aarch64's
// 1.0.3), and unpacks them with @napi-rs/lzma, whose binary needs Node >= 22.20. Why not
// devDependencies: the packages carry `cpu: ["x64"]`, so `npm ci` would fail (EBADPLATFORM) on
// arm64 and macOS machines, and every install would fetch ~93 MB that only these builds use.
// So they are fetched here, at the pinned versions and sha512 below, with `npm pack`.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))

/** Pinned packages (the newest published per target; x64 hosts only, none are published for arm64 hosts), with npm's sha512. */
export const TOOLCHAINS = {
  'x86_64-unknown-linux-gnu': {
    pkg: '@napi-rs/cross-toolchain-x64-target-x86_64',
    version: '1.0.0',
    integrity: 'sha512-lecoghCfoTAX9MLFcIx9/nL9M8xdkZ9n8Pki8qjKUNzjiq1zbECdEbzIZAMMHRtrXxifK9dAyYuh8gSxNbr2og==',
  },
  'aarch64-unknown-linux-gnu': {
    pkg: '@napi-rs/cross-toolchain-x64-target-aarch64',
    version: '1.0.3',
    integrity: 'sha512-EMFcy/ahFsmCY3BI1tMC3wRUYZ+cDuILg7nP1micaKXW1tO1+RvUB1CC6QYe+cv2W4Tuz9wr3qcFExWyjgWf2w==',
  },
}

/**
 * Makes sure napi's cross toolchain for `triple` is unpacked where `napi build --use-napi-cross`
 * looks for it, and returns that directory.
 */
export function ensureCrossToolchain(triple) {
  const spec = TOOLCHAINS[triple]
  if (!spec) throw new Error(`no napi cross toolchain pinned for ${triple}`)
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the napi cross toolchains published on npm run on Linux x64 only (this is ${process.platform}-${process.arch})`)
  }
  const { version } = require('@napi-rs/cross-toolchain/package.json')
  const dest = join(homedir(), '.napi-rs', 'cross-toolchain', version, triple)
  if (existsSync(join(dest, 'package.json'))) return dest
  for (const tool of ['tar', 'xz']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      execFileSync('bash', [join(root, 'scripts/apt-install.sh'), `${tool} (to unpack the napi cross toolchain)`, tool === 'xz' ? 'xz-utils' : 'tar'], { stdio: 'inherit' })
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'napi-cross-'))
  try {
    console.error(`fetching ${spec.pkg}@${spec.version} (napi-rs's cross toolchain for ${triple}) from npm`)
    const out = execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', '--json', `${spec.pkg}@${spec.version}`], {
      cwd: tmp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const tgz = join(tmp, JSON.parse(out)[0].filename)
    const got = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`
    if (got !== spec.integrity) throw new Error(`${spec.pkg}@${spec.version}: integrity ${got}, expected ${spec.integrity}`)
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, `package/${triple}.tar.xz`])
    const unpacked = join(tmp, 'toolchain')
    mkdirSync(unpacked)
    execFileSync('tar', ['-xJf', join(tmp, `package/${triple}.tar.xz`), '-C', unpacked])
    if (!existsSync(join(unpacked, 'package.json'))) throw new Error(`${spec.pkg}: unexpected archive layout`)
    mkdirSync(dirname(dest), { recursive: true })
    rmSync(dest, { recursive: true, force: true })
    renameSync(unpacked, dest)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  console.error(`napi cross toolchain for ${triple}: ${dest}`)
  return dest
}


/** The cross gcc of `triple`'s toolchain (fetched if needed). */
export function crossGcc(triple) {
  return join(ensureCrossToolchain(triple), 'bin', `${triple}-gcc`)
}
