/**
 * `npm run bench:metrics`: hotstats' metrics registry against prom-client, in one run (benny
 * medians, ns per operation). Record paths: a bound child's inc, inc with a labels object,
 * Histogram.observe, Summary.observe. Exposition: metrics() over 10k series, timed directly,
 * with the longest event-loop stall while it runs (the gaps of a 1 ms interval timer).
 * Threads: bound-child increments from 1 and from 2 worker_threads, operations per second
 * (medians of 5 runs each, taken in turns).
 * Writes benchmark/results/metrics.json and metrics.md.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import b from 'benny'
import * as prom from 'prom-client'

import * as hs from '../index'

const BATCH = 1000
const ROUTES = Array.from({ length: 8 }, (_, i) => `/api/v1/resource${i}`)
const STATUSES = ['200', '404', '500']
const LABEL_SETS = Array.from({ length: 24 }, (_, i) => ({ route: ROUTES[i % 8], status: STATUSES[i % 3] }))

async function nsPerOp(name: string, cases: Array<[string, () => void]>): Promise<Record<string, number>> {
  const summary = await b.suite(name, ...cases.map(([n, f]) => b.add(n, f, { minSamples: 15, maxTime: 1 })), b.cycle())
  return Object.fromEntries(summary.results.map((r) => [r.name, (r.details.median * 1e9) / BATCH]))
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, c) => a - c)
  return s[s.length >> 1]
}

/**
 * Median ms of `runs` calls, and the longest the event loop was kept from running a 1 ms
 * interval timer meanwhile (ms between two of its calls, less the 1 ms).
 */
async function timeExposition(f: () => Promise<string>, runs: number): Promise<{ ms: number; maxStallMs: number; bytes: number }> {
  const times: number[] = []
  let bytes = 0
  let last = performance.now()
  let maxGap = 0
  const tick = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
  }, 1)
  await new Promise((r) => setTimeout(r, 5))
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    bytes = (await f()).length
    times.push(performance.now() - t0)
    await new Promise((r) => setTimeout(r, 2))
  }
  clearInterval(tick)
  return { ms: median(times), maxStallMs: Math.max(0, maxGap - 1), bytes }
}

/** Operations per second of bound-child increments from `threads` worker_threads at once. */
async function threadThroughput(threads: number, perThread: number): Promise<number> {
  const code = `
    require('tsx/cjs')
    const { parentPort, workerData } = require('node:worker_threads')
    const hs = require(workerData.entry)
    const c = new hs.Counter({ name: 'bench_thread_ops_total', help: 'h', labelNames: ['worker'], registers: [new hs.Registry({ name: 'bench-threads' })] })
    const child = c.labels(String(workerData.id))
    for (let i = 0; i < 1e6; i++) child.inc() // warm up
    parentPort.once('message', () => {
      for (let i = 0; i < workerData.n; i++) child.inc()
      hs.flushAllMetrics()
      parentPort.postMessage('done')
    })
    parentPort.postMessage('ready')
  `
  const entry = join(__dirname, '..', 'index.ts')
  const workers = Array.from({ length: threads }, (_, id) => new Worker(code, { eval: true, workerData: { entry, id, n: perThread } }))
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))))
  const t0 = performance.now()
  const done = workers.map((w) => new Promise((r) => w.once('message', r)))
  for (const w of workers) w.postMessage('go')
  await Promise.all(done)
  const seconds = (performance.now() - t0) / 1000
  await Promise.all(workers.map((w) => w.terminate()))
  return (threads * perThread) / seconds
}

async function main() {
  const promReg = new prom.Registry()
  const ourReg = new hs.Registry()

  const pUnlabeled = new prom.Counter({ name: 'p_unlabeled_total', help: 'h', registers: [promReg] })
  const pLabeled = new prom.Counter({ name: 'p_labeled_total', help: 'h', labelNames: ['route', 'status'], registers: [promReg] })
  const pChild = pLabeled.labels(ROUTES[0], STATUSES[0])
  const oLabeled = new hs.Counter({ name: 'o_labeled_total', help: 'h', labelNames: ['route', 'status'], registers: [ourReg] })
  const oChild = oLabeled.labels(ROUTES[0], STATUSES[0])
  const oUnlabeled = new hs.Counter({ name: 'o_unlabeled_total', help: 'h', registers: [ourReg] })
  const counters = await nsPerOp('Counter.inc', [
    ['hotstats bound child inc()', () => { for (let i = 0; i < BATCH; i++) oChild.inc() }],
    ['hotstats unlabeled inc()', () => { for (let i = 0; i < BATCH; i++) oUnlabeled.inc() }],
    ['prom-client unlabeled inc()', () => { for (let i = 0; i < BATCH; i++) pUnlabeled.inc() }],
    ['prom-client bound child inc()', () => { for (let i = 0; i < BATCH; i++) pChild.inc() }],
    ['hotstats inc({route, status})', () => { for (let i = 0; i < BATCH; i++) oLabeled.inc(LABEL_SETS[i % 24]) }],
    ['prom-client inc({route, status})', () => { for (let i = 0; i < BATCH; i++) pLabeled.inc(LABEL_SETS[i % 24]) }],
  ])

  const values = Float64Array.from({ length: BATCH }, (_, i) => ((i * 7919) % 1000) / 100)
  const pHist = new prom.Histogram({ name: 'p_hist', help: 'h', registers: [promReg] })
  const oHist = new hs.Histogram({ name: 'o_hist', help: 'h', registers: [ourReg] })
  const pSum = new prom.Summary({ name: 'p_sum', help: 'h', registers: [promReg] })
  const oSum = new hs.Summary({ name: 'o_sum', help: 'h', registers: [ourReg] })
  const observe = await nsPerOp('observe', [
    ['hotstats Histogram.observe', () => { for (let i = 0; i < BATCH; i++) oHist.observe(values[i]) }],
    ['prom-client Histogram.observe', () => { for (let i = 0; i < BATCH; i++) pHist.observe(values[i]) }],
    ['hotstats Summary.observe', () => { for (let i = 0; i < BATCH; i++) oSum.observe(values[i]) }],
    ['prom-client Summary.observe', () => { for (let i = 0; i < BATCH; i++) pSum.observe(values[i]) }],
  ])

  // 10k series: 100 routes × 100 statuses of one labeled counter, in a registry of its own.
  const pBig = new prom.Registry()
  const oBig = new hs.Registry()
  const pWide = new prom.Counter({ name: 'wide_total', help: 'h', labelNames: ['route', 'status'], registers: [pBig] })
  const oWide = new hs.Counter({ name: 'wide_total', help: 'h', labelNames: ['route', 'status'], registers: [oBig] })
  for (let r = 0; r < 100; r++) {
    for (let s = 0; s < 100; s++) {
      pWide.inc({ route: `/r${r}`, status: String(s) }, r + s)
      oWide.inc({ route: `/r${r}`, status: String(s) }, r + s)
    }
  }
  const ourText = await oBig.metrics()
  const promText = await pBig.metrics()
  const lines = (t: string) => t.split('\n').filter((l) => l && !l.startsWith('#')).sort().join('\n')
  if (lines(ourText) !== lines(promText)) throw new Error('the two expositions of the 10k series differ')
  const expoOurs = await timeExposition(() => oBig.metrics(), 30)
  const expoProm = await timeExposition(() => pBig.metrics(), 30)

  // One and two threads take turns, so both see the same (shared, noisy) machine.
  const ones: number[] = []
  const twos: number[] = []
  for (let run = 0; run < 5; run++) {
    ones.push(await threadThroughput(1, 50_000_000))
    twos.push(await threadThroughput(2, 50_000_000))
  }
  const one = median(ones)
  const two = median(twos)

  const rows: string[] = []
  const fmt = (ns: number) => `${ns.toFixed(2)} ns`
  rows.push('| record path | ns/op |', '|---|---|')
  for (const [k, v] of Object.entries({ ...counters, ...observe })) rows.push(`| ${k} | ${fmt(v)} |`)
  rows.push(
    '',
    '| metrics(), 10k series | median ms | longest event-loop stall |',
    '|---|---|---|',
    `| hotstats | ${expoOurs.ms.toFixed(2)} ms | ${expoOurs.maxStallMs.toFixed(1)} ms |`,
    `| prom-client | ${expoProm.ms.toFixed(2)} ms | ${expoProm.maxStallMs.toFixed(1)} ms |`,
    '',
    `Bound-child increments from worker_threads: 1 thread ${(one / 1e6).toFixed(0)}M/s, 2 threads ${(two / 1e6).toFixed(0)}M/s.`,
  )
  const oursBound = counters['hotstats bound child inc()']
  const targets: Array<[string, number, number, 'le' | 'ge', string]> = [
    ['bound child inc within 2× of prom-client unlabeled inc (ours / theirs)', oursBound / counters['prom-client unlabeled inc()'], 2, 'le', '×'],
    ['bound child inc ≥ 40× faster than prom-client bound child', counters['prom-client bound child inc()'] / oursBound, 40, 'ge', '×'],
    ['inc({route, status}) ≥ 10× faster than prom-client', counters['prom-client inc({route, status})'] / counters['hotstats inc({route, status})'], 10, 'ge', '×'],
    ['Histogram.observe ≥ 10× faster', observe['prom-client Histogram.observe'] / observe['hotstats Histogram.observe'], 10, 'ge', '×'],
    ['Summary.observe ≥ 100× faster', observe['prom-client Summary.observe'] / observe['hotstats Summary.observe'], 100, 'ge', '×'],
    ['metrics() for 10k series ≥ 5× faster', expoProm.ms / expoOurs.ms, 5, 'ge', '×'],
    ['metrics() never blocks the loop > 20 ms', expoOurs.maxStallMs, 20, 'le', ' ms'],
    ['2 worker threads ≥ 1.8× the throughput of 1', two / one, 1.8, 'ge', '×'],
  ]
  rows.push('', '| target | measured | met |', '|---|---|---|')
  for (const [name, v, want, dir, unit] of targets) rows.push(`| ${name} | ${v.toFixed(2)}${unit} | ${(dir === 'ge' ? v >= want : v <= want) ? 'yes' : 'no'} |`)
  const md = [`Backend ${hs.backend()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. Medians of benny samples (ns/op over ${BATCH}-op batches).`, '', ...rows, ''].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ date: new Date().toISOString(), backend: hs.backend(), counters, observe, expoOurs, expoProm, threads: { one, two } }, null, 2))
  writeFileSync(join(dir, 'metrics.md'), md)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
