// Packs hotstats the way `napi prepublish` publishes it: the main package with
// optionalDependencies on every platform package, and platform packages holding the release
// binaries.
//
//   node scripts/pack.mjs [PLATFORM...] [--out DIR]
//
// PLATFORM defaults to linux-x64-gnu; each one's binary is target/npm-artifacts/
// hotstats.<PLATFORM>.node, where scripts/build-platforms.mjs leaves every platform's (linux-gnu
// ones linked against glibc 2.17). Writes the tarballs to DIR (default target/pack/, emptied
// first) and prints their paths as JSON:
// {"main", "platform" (the first PLATFORM's), "platforms": {PLATFORM: tarball}}.
// Needs `npm run build` first (this machine's), or scripts/build-platforms.mjs PLATFORM.
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const out = outAt >= 0 ? resolve(args.splice(outAt, 2)[1]) : join(root, 'target/pack')
const platforms = args.length > 0 ? args : ['linux-x64-gnu']
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const npmBin = process.platform === 'win32' ? 'npm.cmd' : 'npm'
function pack(dir) {
  const res = execFileSync(npmBin, ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' })
  return join(out, JSON.parse(res)[0].filename)
}

// Main package, staged with the optionalDependencies napi prepublish would add.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const stage = join(out, 'stage-main')
mkdirSync(stage, { recursive: true })
for (const f of ['dist', 'bin', 'server/dashboard', 'docs', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
  if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true })
}
const targets = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']
pkg.optionalDependencies = Object.fromEntries(targets.map((t) => [`hotstats-${t}`, pkg.version]))
delete pkg.devDependencies
delete pkg.scripts
writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2))
const main = pack(stage)

// The platform packages, each with its release binary.
const packed = {}
for (const platform of platforms) {
  const name = `hotstats.${platform}.node`
  const binary = join(root, 'target/npm-artifacts', name)
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run npm run build (this machine's) or node scripts/build-platforms.mjs ${platform}`)
  }
  if (!existsSync(join(root, 'npm', platform, 'package.json'))) throw new Error(`npm/${platform}/package.json: no such platform package`)
  const pstage = join(out, `stage-${platform}`)
  cpSync(join(root, 'npm', platform), pstage, { recursive: true })
  copyFileSync(binary, join(pstage, name))
  packed[platform] = pack(pstage)
}
console.log(JSON.stringify({ main, platform: packed[platforms[0]], platforms: packed }))
