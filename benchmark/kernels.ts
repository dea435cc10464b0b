/**
 * `npm run bench`: sum over Float64Arrays of 16 .. 16M elements, hotstats against its peers, in
 * one run (benny). Prints a table of times and ratios, checks the issue's targets, and writes
 * benchmark/results/kernels.json and kernels.md. The machine is shared and noisy: every figure
 * is a median of benny's samples, and targets are ratios measured in this same run.
 *
 * `npm run bench:kernels-interleaved` (this file with `--interleaved`): the same contenders and
 * targets, timed in >= 5 interleaved rounds (benchmark/interleave.ts: every contender once per
 * round, rotating order); each figure is the median over rounds with its min-max spread, and each
 * target ratio is the median of per-round ratios. Writes kernels-interleaved.json and .md.
 *
 * hotstats is loaded from dist/ (what `npm run build` ships), not from the TypeScript sources
 * through tsx: tsx's module wrappers turn every imported function into a getter call, which
 * measured ~40 ns more per 16-element sum than the shipped code.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import b from 'benny'

import { CLOCK_NOTE, fmtSpread, interleaved, ratio as roundRatio, type Timing } from './interleave'
import { sum as ssSum } from 'simple-statistics'

import { availableBackends, backendInfo, backendKernels, cpuFeatures, NATIVE_CROSSOVER, sum } from '../dist/index'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(join(__dirname, 'addon/build/addon.node')) as { sum(x: Float64Array): number; streamRead(x: Float64Array): number }

function plainLoop(x: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]
  return s
}

function fourAccumulators(x: Float64Array): number {
  let a = 0
  let b2 = 0
  let c = 0
  let d = 0
  const n = x.length
  let i = 0
  for (; i + 3 < n; i += 4) {
    a += x[i]
    b2 += x[i + 1]
    c += x[i + 2]
    d += x[i + 3]
  }
  for (; i < n; i++) a += x[i]
  return a + b2 + (c + d)
}

const SIZES = (process.env.BENCH_SIZES ?? '16,256,4096,65536,1048576,16777216').split(',').map(Number)
const backends = availableBackends()

// Each contender gets its own function literal (so its own V8 feedback and a monomorphic call
// site): sharing one wrapper closure makes every call megamorphic and penalizes the JS loops.
const has = (bk: string) => (backends as string[]).includes(bk)
const k = Object.fromEntries(backends.map((bk) => [bk, backendKernels(bk)]))
function contenders(x: Float64Array): Array<[string, () => void]> {
  const out: Array<[string, () => void]> = [['hotstats auto', () => { sink += sum(x) }]]
  if (has('js')) out.push(['hotstats js', () => { sink += k.js.sum(x) }])
  if (has('scalar')) out.push(['hotstats scalar', () => { sink += k.scalar.sum(x) }])
  if (has('avx2')) out.push(['hotstats avx2', () => { sink += k.avx2.sum(x) }])
  if (has('avx512')) out.push(['hotstats avx512', () => { sink += k.avx512.sum(x) }])
  if (has('neon')) out.push(['hotstats neon', () => { sink += k.neon.sum(x) }])
  out.push(
    ['plain JS loop', () => { sink += plainLoop(x) }],
    ['4-accumulator JS loop', () => { sink += fourAccumulators(x) }],
    ['simple-statistics sum', () => { sink += ssSum(x as unknown as number[]) }],
    ['node-addon-api AVX2 sum', () => { sink += addon.sum(x) }],
    ['streaming read (bandwidth line)', () => { sink += addon.streamRead(x) }],
  )
  return out
}

/** The native backend `auto` picks (the fastest this machine runs), or null on the JS backend. */
function fastestNative(): string | null {
  for (const bk of ['avx512', 'avx2', 'neon', 'scalar']) if (has(bk)) return bk
  return null
}

interface Row {
  size: number
  /** median nanoseconds per call, by contender */
  ns: Record<string, number>
}

let sink = 0

async function runSize(n: number): Promise<Row> {
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e3 + 1
  const big = n >= 1 << 20
  const ns: Record<string, number> = {}
  const summary = await b.suite(
    `sum, n=${n}`,
    ...contenders(x).map(([name, body]) => b.add(name, body, { minSamples: big ? 8 : 20, maxTime: big ? 2 : 0.6 })),
    b.cycle(),
  )
  for (const r of summary.results) {
    ns[r.name] = r.details.median * 1e9
  }
  return { size: n, ns }
}

/**
 * The crossover sweep behind NATIVE_CROSSOVER: JS backend vs the native backend on short
 * inputs (one Node-API call costs ~100+ ns before any work; the JS kernels win below some length).
 */
async function crossoverSweep(): Promise<Array<{ size: number; js: number; native: number }>> {
  const native = fastestNative()
  if (!native) return []
  const out: Array<{ size: number; js: number; native: number }> = []
  for (const n of [16, 24, 32, 48, 64, 96, 128, 192, 256]) {
    const x = new Float64Array(n)
    for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e3 + 1
    const kn = k[native]
    const summary = await b.suite(
      `crossover, n=${n}`,
      b.add('js', () => { sink += k.js.sum(x) }, { minSamples: 20, maxTime: 0.4 }),
      b.add(native, () => { sink += kn.sum(x) }, { minSamples: 20, maxTime: 0.4 }),
    )
    const ns = Object.fromEntries(summary.results.map((r) => [r.name, r.details.median * 1e9]))
    out.push({ size: n, js: ns.js, native: ns[native] })
  }
  return out
}

function fmt(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`
  return `${(ns / 1e6).toFixed(2)} ms`
}

async function main() {
  if (process.argv.includes('--interleaved')) return mainInterleaved()
  const info = backendInfo()
  console.log(`hotstats kernels benchmark: backend ${info.backend}, CPU features ${cpuFeatures().join(' ')}, crossover ${NATIVE_CROSSOVER}`)
  const sweep = process.env.BENCH_SKIP_CROSSOVER ? [] : await crossoverSweep()
  const rows: Row[] = []
  for (const n of SIZES) rows.push(await runSize(n))
  const firstNativeWin = sweep.find((r) => r.native < r.js)?.size ?? null

  // Table: median time per call, and speed relative to the plain JS loop (higher is faster).
  const names = contenders(new Float64Array(0)).map(([name]) => name)
  const lines: string[] = []
  lines.push(`| contender | ${rows.map((r) => `n=${r.size}`).join(' | ')} |`)
  lines.push(`|---|${rows.map(() => '---').join('|')}|`)
  for (const name of names) {
    lines.push(`| ${name} | ${rows.map((r) => `${fmt(r.ns[name])} (${(r.ns['plain JS loop'] / r.ns[name]).toFixed(2)}×)`).join(' | ')} |`)
  }
  const at = (n: number) => rows.find((r) => r.size === n)
  const targets: Array<{ target: string; value: string; met: boolean | null }> = []
  const ratio = (n: number, a: string, bb: string) => {
    const r = at(n)
    return r ? r.ns[bb] / r.ns[a] : NaN
  }
  // 1. auto never slower than the plain JS loop (at most 1.1x its time at 16)
  for (const r of rows) {
    const t = r.ns['hotstats auto'] / r.ns['plain JS loop']
    const limit = r.size === 16 ? 1.1 : 1.0
    targets.push({ target: `auto sum time <= ${limit}× plain JS loop at n=${r.size}`, value: `${t.toFixed(2)}×`, met: t <= limit })
  }
  const r65 = ratio(65536, 'hotstats auto', '4-accumulator JS loop')
  targets.push({ target: 'auto sum >= 2× faster than the 4-accumulator JS loop at 65536', value: `${r65.toFixed(2)}×`, met: r65 >= 2 })
  for (const n of [4096, 65536]) {
    const r = ratio(n, 'hotstats auto', 'hotstats js')
    targets.push({ target: `auto sum >= 5× faster than hotstats' JS backend at ${n}`, value: `${r.toFixed(2)}×`, met: r >= 5 })
  }
  const nativeName = `hotstats ${fastestNative() ?? 'scalar'}`
  const r16 = at(16)
  if (r16) {
    const o = r16.ns[nativeName] / r16.ns['node-addon-api AVX2 sum']
    targets.push({ target: `napi-rs call (${nativeName}, n=16) within 1.25× of the node-addon-api addon`, value: `${o.toFixed(2)}×`, met: o <= 1.25 })
  }
  const r16m = at(16777216)
  if (r16m) {
    const f = r16m.ns['streaming read (bandwidth line)'] / r16m.ns['hotstats auto']
    targets.push({ target: 'auto sum at 16M reaches >= 70% of the streaming-read line', value: `${(f * 100).toFixed(0)}%`, met: f >= 0.7 })
  }
  const md = [
    `Machine: ${process.platform}-${process.arch}, ${cpuFeatures().join(' ')}; Node ${process.version}; backend ${info.backend}; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Median time per call (speed relative to the plain JS loop; higher is faster):',
    '',
    ...lines,
    '',
    ...(sweep.length
      ? [
          `Crossover sweep (median ns per sum; NATIVE_CROSSOVER = ${NATIVE_CROSSOVER}; first length where native wins: ${firstNativeWin ?? 'none measured'}):`,
          '',
          `| n | ${sweep.map((r) => r.size).join(' | ')} |`,
          `|---|${sweep.map(() => '---').join('|')}|`,
          `| JS kernels | ${sweep.map((r) => r.js.toFixed(0)).join(' | ')} |`,
          `| native | ${sweep.map((r) => r.native.toFixed(0)).join(' | ')} |`,
          '',
        ]
      : []),
    '| target | measured | met |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
    '',
  ].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'kernels.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpuFeatures: cpuFeatures(), backend: info.backend, crossover: NATIVE_CROSSOVER, sweep, rows, targets }, null, 2))
  writeFileSync(join(dir, 'kernels.md'), md)
  if (Number.isNaN(sink)) console.log('(sink)')
}

function makeInput(n: number): Float64Array {
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e3 + 1
  return x
}

/** `--interleaved`: every contender once per round, >= 5 rounds, medians with the spread. */
async function mainInterleaved() {
  const info = backendInfo()
  const rounds = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 7))
  console.log(`hotstats kernels benchmark, interleaved (${rounds} rounds): backend ${info.backend}, CPU features ${cpuFeatures().join(' ')}, crossover ${NATIVE_CROSSOVER}`)
  const rows: Array<{ size: number; t: Record<string, Timing> }> = []
  for (const n of SIZES) {
    const x = makeInput(n)
    const ts = interleaved(contenders(x), { rounds, sampleMs: n >= 1 << 20 ? 150 : 60 })
    rows.push({ size: n, t: Object.fromEntries(ts.map((t) => [t.name, t])) })
    console.log(`n=${n}: ${ts.map((t) => `${t.name} ${fmtSpread(t)}`).join(' | ')}`)
  }
  const native = fastestNative()
  const sweep: Array<{ size: number; js: Timing; native: Timing }> = []
  if (native && !process.env.BENCH_SKIP_CROSSOVER) {
    for (const n of [16, 24, 32, 48, 64, 96, 128, 192, 256]) {
      const x = makeInput(n)
      const kn = k[native]
      const [tj, tn] = interleaved([['js', () => { sink += k.js.sum(x) }], [native, () => { sink += kn.sum(x) }]], { rounds, sampleMs: 40 })
      sweep.push({ size: n, js: tj, native: tn })
    }
  }
  const names = contenders(new Float64Array(0)).map(([name]) => name)
  const lines: string[] = []
  lines.push(`| contender | ${rows.map((r) => `n=${r.size}`).join(' | ')} |`)
  lines.push(`|---|${rows.map(() => '---').join('|')}|`)
  for (const name of names) {
    lines.push(`| ${name} | ${rows.map((r) => `${fmtSpread(r.t[name])}; ${roundRatio(r.t['plain JS loop'], r.t[name]).median.toFixed(2)}×`).join(' | ')} |`)
  }
  const at = (n: number) => rows.find((r) => r.size === n)
  /** How many times faster `fast` is than `slow` at n: median of per-round ratios, with range. */
  const faster = (n: number, fast: string, slow: string) => {
    const r = at(n)
    return r && r.t[fast] && r.t[slow] ? roundRatio(r.t[slow], r.t[fast]) : null
  }
  const range = (q: { median: number; min: number; max: number }, digits = 2) => `${q.median.toFixed(digits)}× (${q.min.toFixed(digits)}–${q.max.toFixed(digits)})`
  const targets: Array<{ target: string; value: string; met: boolean | null }> = []
  for (const r of rows) {
    const q = roundRatio(r.t['hotstats auto'], r.t['plain JS loop'])
    const limit = r.size === 16 ? 1.1 : 1.0
    targets.push({ target: `auto sum time <= ${limit}× plain JS loop at n=${r.size}`, value: range(q), met: q.median <= limit })
  }
  const r65 = faster(65536, 'hotstats auto', '4-accumulator JS loop')
  if (r65) targets.push({ target: 'auto sum >= 2× faster than the 4-accumulator JS loop at 65536', value: range(r65), met: r65.median >= 2 })
  for (const n of [4096, 65536]) {
    const q = faster(n, 'hotstats auto', 'hotstats js')
    if (q) targets.push({ target: `auto sum >= 5× faster than hotstats' JS backend at ${n}`, value: range(q), met: q.median >= 5 })
  }
  const nativeName = `hotstats ${native ?? 'scalar'}`
  const o = faster(16, 'node-addon-api AVX2 sum', nativeName)
  if (o) targets.push({ target: `napi-rs call (${nativeName}, n=16) within 1.25× of the node-addon-api addon`, value: range(o), met: o.median <= 1.25 })
  const f = faster(16777216, 'hotstats auto', 'streaming read (bandwidth line)')
  if (f) targets.push({ target: 'auto sum at 16M reaches >= 70% of the streaming-read line', value: `${(f.median * 100).toFixed(0)}% (${(f.min * 100).toFixed(0)}–${(f.max * 100).toFixed(0)}%)`, met: f.median >= 0.7 })
  const firstNativeWin = sweep.find((r) => roundRatio(r.native, r.js).median < 1)?.size ?? null
  const md = [
    `Machine: ${process.platform}-${process.arch}, ${cpuFeatures().join(' ')}; Node ${process.version}; backend ${info.backend}; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Interleaved: ${rounds} rounds, every contender once per round in rotating order; ${CLOCK_NOTE}. Each cell: median time per call (min–max over the rounds); speed relative to the plain JS loop (median of per-round ratios; higher is faster).`,
    '',
    ...lines,
    '',
    ...(sweep.length
      ? [
          `Crossover sweep (median ns per sum over the rounds, min–max; NATIVE_CROSSOVER = ${NATIVE_CROSSOVER}; first length where native wins: ${firstNativeWin ?? 'none measured'}):`,
          '',
          `| n | ${sweep.map((r) => r.size).join(' | ')} |`,
          `|---|${sweep.map(() => '---').join('|')}|`,
          `| JS kernels | ${sweep.map((r) => `${r.js.median.toFixed(0)} (${r.js.min.toFixed(0)}–${r.js.max.toFixed(0)})`).join(' | ')} |`,
          `| native (${native}) | ${sweep.map((r) => `${r.native.median.toFixed(0)} (${r.native.min.toFixed(0)}–${r.native.max.toFixed(0)})`).join(' | ')} |`,
          '',
        ]
      : []),
    '| target | measured: median of per-round ratios (min–max) | met |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
    '',
  ].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(
    join(dir, 'kernels-interleaved.json'),
    JSON.stringify({ date: new Date().toISOString(), node: process.version, cpuFeatures: cpuFeatures(), backend: info.backend, crossover: NATIVE_CROSSOVER, rounds, rows, sweep, targets }, null, 2),
  )
  writeFileSync(join(dir, 'kernels-interleaved.md'), md)
  if (Number.isNaN(sink)) console.log('(sink)')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
