/**
 * `npm run bench:sketches`: hotstats' sketches against their peers, in one run (benny medians).
 * Quantiles: per-value add from JS vs @datadog/sketches-js, hdr-histogram-js (JS and wasm),
 * tdigest and prom-client's Summary; addMany over 1M values. HyperLogLog: addMany of short
 * strings vs bloom-filters' HyperLogLog and Redis PFADD over loopback (pipelined, timed directly).
 * Writes benchmark/results/sketches.json and sketches.md.
 *
 * `npm run bench:sketches-interleaved` (`--interleaved`): the contenders behind the targets
 * (QuantileSketch.add vs @datadog/sketches-js and prom-client, addMany over 1M, HyperLogLog.addMany),
 * timed in >= 5 interleaved rounds (benchmark/interleave.ts); medians with min-max spread, target
 * ratios as medians of per-round ratios. Writes sketches-interleaved.json and .md.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { DDSketch } from '@datadog/sketches-js'
import b from 'benny'
import { HyperLogLog as BfHyperLogLog } from 'bloom-filters'
import * as hdr from 'hdr-histogram-js'
import Redis from 'ioredis'
import { Summary, Registry } from 'prom-client'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TDigest } = require('tdigest') as { TDigest: new () => { push(v: number): void } }

import { backend, HyperLogLog, QuantileSketch } from '../dist/index'

import { CLOCK_NOTE, fmtNs, interleaved, ratio as roundRatio, type Timing } from './interleave'

const BATCH = 1000
let sink = 0

function lognormal(n: number, seed = 1): Float64Array {
  const x = new Float64Array(n)
  let s = seed
  const u = () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return (s + 0.5) / 2147483648
  }
  for (let i = 0; i < n; i++) x[i] = Math.exp(Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())) * 100
  return x
}

async function nsPerValue(name: string, cases: Array<[string, () => void]>, perCall: number): Promise<Record<string, number>> {
  const summary = await b.suite(name, ...cases.map(([n, f]) => b.add(n, f, { minSamples: 15, maxTime: 1 })), b.cycle())
  return Object.fromEntries(summary.results.map((r) => [r.name, (r.details.median * 1e9) / perCall]))
}

async function redisPfadd(strings: string[]): Promise<number | null> {
  const port = 16379 + Math.floor(Math.random() * 1000)
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const ok = await new Promise<boolean>((resolve) => {
    proc.once('error', () => resolve(false))
    setTimeout(() => resolve(true), 300)
  })
  if (!ok) return null
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 })
  try {
    const times: number[] = []
    for (let round = 0; round < 5; round++) {
      const t0 = process.hrtime.bigint()
      const pipe = c.pipeline()
      for (let i = 0; i < strings.length; i += 1000) pipe.pfadd(`k${round}`, ...strings.slice(i, i + 1000))
      await pipe.exec()
      times.push(Number(process.hrtime.bigint() - t0) / strings.length)
    }
    times.sort((a, b2) => a - b2)
    return times[2]
  } finally {
    c.disconnect()
    proc.kill()
  }
}

/** `--interleaved`: the targets' contenders, every one once per round, medians with the spread. */
async function mainInterleaved() {
  const rounds = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 7))
  const values = lognormal(BATCH)
  const ours = new QuantileSketch()
  const dd = new DDSketch({ relativeAccuracy: 0.01 })
  const registry = new Registry()
  const summary = new Summary({ name: 'bench_summary', help: 'h', registers: [registry], percentiles: [0.5, 0.9, 0.99] })
  const add = interleaved(
    [
      ['hotstats QuantileSketch.add', () => { for (let i = 0; i < BATCH; i++) ours.add(values[i]) }],
      ['@datadog/sketches-js accept', () => { for (let i = 0; i < BATCH; i++) dd.accept(values[i]) }],
      ['prom-client Summary.observe', () => { for (let i = 0; i < BATCH; i++) summary.observe(values[i]) }],
    ],
    { rounds, perCall: BATCH },
  )
  sink += ours.count
  const big = lognormal(1 << 20, 7)
  const many = interleaved(
    [
      ['hotstats QuantileSketch.addMany (1M)', () => { new QuantileSketch().addMany(big) }],
      ['@datadog/sketches-js accept loop (1M)', () => { const s = new DDSketch({ relativeAccuracy: 0.01 }); for (let i = 0; i < big.length; i++) s.accept(big[i]) }],
    ],
    { rounds, perCall: big.length, sampleMs: 200 },
  )
  const strings = Array.from({ length: 100_000 }, (_, i) => `user-${i}`)
  const hll = interleaved(
    [
      ['hotstats HyperLogLog.addMany (100k strings)', () => { sink += new HyperLogLog().addMany(strings).count() }],
      ['hotstats HyperLogLog.add loop (100k strings)', () => { const h = new HyperLogLog(); for (const s of strings) h.add(s); sink += h.count() }],
    ],
    { rounds, perCall: strings.length, sampleMs: 200 },
  )
  const by = (ts: Timing[], name: string) => ts.find((t) => t.name === name)!
  const spread = (t: Timing) => `${fmtNs(t.median)} (${fmtNs(t.min)}–${fmtNs(t.max)})`
  const rate = (t: Timing) => `${(1e3 / t.median).toFixed(1)}M/s (${(1e3 / t.max).toFixed(1)}–${(1e3 / t.min).toFixed(1)})`
  const rows = ['| contender | ns/value: median (min–max) | values/s: median (range) |', '|---|---|---|']
  for (const t of [...add, ...many, ...hll]) rows.push(`| ${t.name} | ${spread(t)} | ${rate(t)} |`)
  const oursAdd = by(add, 'hotstats QuantileSketch.add')
  const vsDd = roundRatio(by(add, '@datadog/sketches-js accept'), oursAdd)
  const vsProm = roundRatio(by(add, 'prom-client Summary.observe'), oursAdd)
  const manyT = by(many, 'hotstats QuantileSketch.addMany (1M)')
  const hllT = by(hll, 'hotstats HyperLogLog.addMany (100k strings)')
  const r = (q: { median: number; min: number; max: number }) => `${q.median.toFixed(1)}× (${q.min.toFixed(1)}–${q.max.toFixed(1)})`
  const targets: Array<[string, string, boolean]> = [
    ['per-value add ≥ 4× faster than @datadog/sketches-js', r(vsDd), vsDd.median >= 4],
    ['per-value add ≥ 100× faster than prom-client Summary.observe', r(vsProm), vsProm.median >= 100],
    ['addMany over 1M ≥ 100M values/s', rate(manyT), 1e3 / manyT.median >= 100],
    ['HyperLogLog addMany ≥ 20M short strings/s', rate(hllT), 1e3 / hllT.median >= 20],
  ]
  rows.push('', '| target | measured: median (range over rounds) | met |', '|---|---|---|')
  for (const [name, v, met] of targets) rows.push(`| ${name} | ${v} | ${met ? 'yes' : 'no'} |`)
  const md = [
    `Backend ${backend()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. Interleaved: ${rounds} rounds, every contender once per round in rotating order; ${CLOCK_NOTE}; ratios are medians of per-round ratios.`,
    '',
    ...rows,
    '',
  ].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'sketches-interleaved.json'), JSON.stringify({ date: new Date().toISOString(), backend: backend(), rounds, add, many, hll, targets }, null, 2))
  writeFileSync(join(dir, 'sketches-interleaved.md'), md)
  if (Number.isNaN(sink)) console.log('')
}

async function main() {
  if (process.argv.includes('--interleaved')) return mainInterleaved()
  await hdr.initWebAssembly()
  const values = lognormal(BATCH)
  const ours = new QuantileSketch()
  const dd = new DDSketch({ relativeAccuracy: 0.01 })
  const hdrJs = hdr.build({ bitBucketSize: 64, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 2 })
  const hdrWasm = hdr.build({ bitBucketSize: 64, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 2, useWebAssembly: true })
  const td = new TDigest()
  const registry = new Registry()
  const summary = new Summary({ name: 'bench_summary', help: 'h', registers: [registry], percentiles: [0.5, 0.9, 0.99] })
  const summaryAged = new Summary({ name: 'bench_summary_aged', help: 'h', registers: [registry], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 })

  const add = await nsPerValue(
    `per-value add (${BATCH} values per call)`,
    [
      ['hotstats QuantileSketch.add', () => { for (let i = 0; i < BATCH; i++) ours.add(values[i]) }],
      ['@datadog/sketches-js accept', () => { for (let i = 0; i < BATCH; i++) dd.accept(values[i]) }],
      ['hdr-histogram-js (JS) recordValue', () => { for (let i = 0; i < BATCH; i++) hdrJs.recordValue(values[i]) }],
      ['hdr-histogram-js (wasm) recordValue', () => { for (let i = 0; i < BATCH; i++) hdrWasm.recordValue(values[i]) }],
      ['tdigest push', () => { for (let i = 0; i < BATCH; i++) td.push(values[i]) }],
      ['prom-client Summary.observe', () => { for (let i = 0; i < BATCH; i++) summary.observe(values[i]) }],
      ['prom-client Summary.observe (maxAgeSeconds)', () => { for (let i = 0; i < BATCH; i++) summaryAged.observe(values[i]) }],
    ],
    BATCH,
  )
  sink += ours.count

  const big = lognormal(1 << 20, 7)
  const many = await nsPerValue('addMany, 1M values', [
    ['hotstats QuantileSketch.addMany', () => { new QuantileSketch().addMany(big) }],
    ['@datadog/sketches-js accept loop', () => { const s = new DDSketch({ relativeAccuracy: 0.01 }); for (let i = 0; i < big.length; i++) s.accept(big[i]) }],
  ], big.length)

  const strings = Array.from({ length: 100_000 }, (_, i) => `user-${i}`)
  const hll = await nsPerValue('HyperLogLog, 100k short strings', [
    ['hotstats HyperLogLog.addMany', () => { sink += new HyperLogLog().addMany(strings).count() }],
    ['hotstats HyperLogLog.add loop', () => { const h = new HyperLogLog(); for (const s of strings) h.add(s); sink += h.count() }],
  ], strings.length)
  // bloom-filters' HyperLogLog is ~100× slower: a smaller input keeps the run short (ns/string is comparable).
  const fewer = strings.slice(0, 2000)
  const bf = await b.suite('bloom-filters HyperLogLog, 2k strings', b.add('bloom-filters HyperLogLog.update', () => { const h = new BfHyperLogLog(16384); for (const s of fewer) h.update(s); sink += h.count() }, { minSamples: 5, maxTime: 1 }), b.cycle())
  hll['bloom-filters HyperLogLog.update'] = (bf.results[0].details.median * 1e9) / fewer.length
  const redisNs = await redisPfadd(strings)

  // Memory per sketch holding 100k lognormal values (serialized or heap bytes, as labelled).
  const filled = lognormal(100_000, 3)
  const oursBytes = new QuantileSketch().addMany(filled).serialize().length
  const ddFilled = new DDSketch({ relativeAccuracy: 0.01 })
  for (const v of filled) ddFilled.accept(v)
  const ddBytes = ddFilled.toProto().length

  const rows: string[] = []
  const fmt = (ns: number) => `${ns.toFixed(1)} ns`
  rows.push('| per-value add (JS, one value per call) | ns/value | hotstats is ×faster |', '|---|---|---|')
  const oursAdd = add['hotstats QuantileSketch.add']
  for (const [k, v] of Object.entries(add)) rows.push(`| ${k} | ${fmt(v)} | ${(v / oursAdd).toFixed(1)}× |`)
  rows.push('', '| bulk | ns/value | values/s |', '|---|---|---|')
  for (const [k, v] of Object.entries(many)) rows.push(`| ${k} (1M) | ${fmt(v)} | ${(1e9 / v / 1e6).toFixed(0)}M |`)
  for (const [k, v] of Object.entries(hll)) rows.push(`| ${k} | ${fmt(v)} | ${(1e9 / v / 1e6).toFixed(1)}M |`)
  if (redisNs !== null) rows.push(`| Redis PFADD, pipelined over loopback | ${fmt(redisNs)} | ${(1e9 / redisNs / 1e6).toFixed(1)}M |`)
  rows.push('', `Memory, 100k lognormal values at α = 0.01: hotstats serialized ${oursBytes} bytes; @datadog/sketches-js protobuf ${ddBytes} bytes; HyperLogLog: 16384 bytes of registers (Redis dense: 12304).`)

  const targets = [
    ['per-value add ≥ 4× faster than @datadog/sketches-js', add['@datadog/sketches-js accept'] / oursAdd, 4, '×'],
    ['per-value add ≥ 100× faster than prom-client Summary.observe', add['prom-client Summary.observe'] / oursAdd, 100, '×'],
    ['addMany over 1M ≥ 100M values/s', 1e3 / many['hotstats QuantileSketch.addMany'], 100, 'M/s'],
    ['HyperLogLog addMany ≥ 20M short strings/s', 1e3 / hll['hotstats HyperLogLog.addMany'], 20, 'M/s'],
  ] as const
  rows.push('', '| target | measured | met |', '|---|---|---|')
  for (const [name, v, want, unit] of targets) rows.push(`| ${name} | ${v.toFixed(1)}${unit} | ${v >= want ? 'yes' : 'no'} |`)
  const md = [`Backend ${backend()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. Medians of benny samples.`, '', ...rows, ''].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'sketches.json'), JSON.stringify({ date: new Date().toISOString(), backend: backend(), add, many, hll, redisNs, oursBytes, ddBytes }, null, 2))
  writeFileSync(join(dir, 'sketches.md'), md)
  if (Number.isNaN(sink)) console.log('')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
