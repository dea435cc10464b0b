/**
 * `npm run bench:cpu`: prints the CPU features and backend in use,
 * then a short benchmark of `sum` on each backend against a plain JS loop.
 */
import { availableBackends, backendInfo, backendKernels, cpuFeatures, sum } from '../index'

function plainSum(x: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]
  return s
}

/** Median nanoseconds per call over a few timed batches. */
function time(f: () => number, n: number): number {
  const reps = Math.max(3, Math.floor(4_000_000 / Math.max(n, 16)))
  const samples: number[] = []
  let sink = 0
  for (let b = 0; b < 7; b++) {
    const t0 = process.hrtime.bigint()
    for (let r = 0; r < reps; r++) sink += f()
    samples.push(Number(process.hrtime.bigint() - t0) / reps)
  }
  if (Number.isNaN(sink)) console.log('')
  samples.sort((a, b) => a - b)
  return samples[3]
}

const info = backendInfo()
console.log('hotstats CPU-feature benchmark')
console.log(`  platform: ${info.platform ?? process.platform + '-' + process.arch}`)
console.log(`  CPU features: ${cpuFeatures().join(', ') || '(native binary not loaded)'}`)
console.log(`  backend in use: ${info.backend}${info.reason ? ` (${info.reason})` : ''}`)
console.log(`  native crossover: inputs shorter than ${info.crossover} elements use the JS kernels\n`)

const sizes = [16, 256, 4096, 65536, 1 << 20]
const backends = availableBackends()
const header = ['n', 'plain JS loop', 'hotstats auto', ...backends.map((b) => `hotstats ${b}`)]
console.log(header.map((h) => h.padStart(16)).join(''))
for (const n of sizes) {
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e3
  const base = time(() => plainSum(x), n)
  const cells = [String(n), `${(n / base).toFixed(2)} el/ns`]
  const auto = time(() => sum(x), n)
  cells.push(`${(base / auto).toFixed(2)}x`)
  for (const b of backends) {
    const k = backendKernels(b)
    cells.push(`${(base / time(() => k.sum(x), n)).toFixed(2)}x`)
  }
  console.log(cells.map((c) => c.padStart(16)).join(''))
}
console.log('\n(x = speed relative to the plain JS loop, median of 7 batches; higher is faster.)')
console.log('Full benchmark with peers: npm run bench')
