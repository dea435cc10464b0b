// Packs hotstats the way `napi prepublish` publishes it: the main package with
// optionalDependencies on every platform package, and this platform's package holding the
// release binary. Writes tarballs to target/pack/ and prints their paths as JSON.
// Needs `npm run build` first (or scripts/build-platforms.mjs PLATFORM for another platform):
// node scripts/pack.mjs [PLATFORM], linux-x64-gnu by default.
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'target/pack')
const platform = process.argv[2] ?? 'linux-x64-gnu'
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

// The platform's package with its release binary: scripts/build-platforms.mjs leaves every
// platform's in target/npm-artifacts/ (linux-gnu ones linked against glibc 2.17).
const binary = join(root, 'target/npm-artifacts', `hotstats.${platform}.node`)
if (!existsSync(binary)) {
  throw new Error(`${binary} is missing: run npm run build (this machine's) or node scripts/build-platforms.mjs ${platform}`)
}
const pstage = join(out, `stage-${platform}`)
cpSync(join(root, 'npm', platform), pstage, { recursive: true })
copyFileSync(binary, join(pstage, `hotstats.${platform}.node`))
const plat = pack(pstage)
console.log(JSON.stringify({ main, platform: plat }))
