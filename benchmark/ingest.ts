/**
 * `npm run bench:ingest`: the Ingestor against a pure-JS aggregator with the same algorithms
 * (lib/window/js.ts recording on the calling thread, and lib/ingest/js.ts draining the same
 * rings on the main event loop) and prom-client's Summary with maxAgeSeconds (the windowed-
 * quantile peer), in one run.
 *
 * - Per event (benny medians over 1000-event batches): a push into the ingestor, a pure-JS
 *   record, a prom-client windowed observe. Plus the whole process's CPU per event while one
 *   producer pushes flat out (the aggregation thread's share included).
 * - Throughput: events/s accepted (and aggregated) from 1 and from 2 worker threads.
 * - A windowed quantile over 60 full buckets: median ms per query.
 * - Event-loop delay: the main thread's monitorEventLoopDelay p99 while 2 workers push 1M
 *   events/s in total, with native aggregation and with the pure-JS aggregator.
 * Writes benchmark/results/ingest.json and ingest.md.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'

import b from 'benny'
import * as prom from 'prom-client'

import * as hs from '../index'
import { JsIngestCore } from '../lib/ingest/js'
import { JsSlidingWindow } from '../lib/window/js'
import { createPool } from '../lib/ingest/ring'

const BATCH = 1000
const entry = join(__dirname, '..', 'index.ts')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function median(xs: number[]): number {
  const s = [...xs].sort((a, c) => a - c)
  return s[s.length >> 1]
}

async function perEvent(): Promise<Record<string, number>> {
  const ing = new hs.Ingestor({ capacity: 1 << 20 })
  const p = ing.producer()
  const id = p.key('latency')
  const js = new JsSlidingWindow(60_000, 60, 0.01, 60_000)
  const jsId = js.keyId('latency')
  const summary = new prom.Summary({ name: 'latency_seconds', help: 'l', percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 5, registers: [] })
  let x = 0
  const result = await b.suite(
    'per event',
    b.add('hotstats Producer.push', () => {
      for (let i = 0; i < BATCH; i++) p.push(id, (x++ & 1023) + 1)
    }),
    b.add('pure JS window record', () => {
      const t = Date.now()
      for (let i = 0; i < BATCH; i++) js.record(jsId, (x++ & 1023) + 1, t, -1)
    }),
    b.add('prom-client Summary (maxAgeSeconds) observe', () => {
      for (let i = 0; i < BATCH; i++) summary.observe((x++ & 1023) + 1)
    }),
    b.cycle(),
  )
  const out = Object.fromEntries(result.results.map((r) => [r.name, (r.details.median * 1e9) / BATCH]))
  const c = ing.counts()
  out['hotstats accepted fraction'] = c.accepted / (c.accepted + c.rejected)
  await ing.close()
  return out
}

/** Whole-process CPU ns per event while this thread pushes flat out for `ms` (aggregation included). */
async function cpuPerEvent(ms: number): Promise<{ cpuNs: number; accepted: number; rejected: number }> {
  const ing = new hs.Ingestor()
  const p = ing.producer()
  const id = p.key('latency')
  const c0 = process.cpuUsage()
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) p.push(id, (x++ & 1023) + 1)
  await ing.drain(5000)
  const c1 = process.cpuUsage(c0)
  const counts = ing.counts()
  await ing.close()
  return { cpuNs: ((c1.user + c1.system) * 1000) / counts.aggregated, accepted: counts.accepted, rejected: counts.rejected }
}

/**
 * Workers push into `handle` for `ms` ms, each at `perSecond` events/s (0: flat out).
 * Resolves with the events they had accepted in total.
 */
function producers(handle: hs.IngestorHandle, threads: number, ms: number, perSecond: number): Promise<number> {
  const code = `
    require('tsx/cjs')
    const { workerData, parentPort } = require('node:worker_threads')
    const hs = require(workerData.entry)
    const p = hs.Ingestor.producer(workerData.handle)
    const id = p.key('latency')
    const nap = new Int32Array(new SharedArrayBuffer(4))
    const t0 = performance.now()
    let accepted = 0, sent = 0, x = 0
    for (;;) {
      const now = performance.now() - t0
      if (now >= workerData.ms) break
      if (workerData.perSecond > 0 && sent >= (now / 1000) * workerData.perSecond) { Atomics.wait(nap, 0, 0, 1); continue }
      for (let i = 0; i < 1000; i++) if (p.push(id, (x++ & 1023) + 1)) accepted++
      sent += 1000
    }
    p.close()
    parentPort.postMessage(accepted)
  `
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { entry, handle, ms, perSecond } })
          w.once('message', resolve)
          w.once('error', reject)
        }),
    ),
  ).then((xs) => xs.reduce((a, c) => a + c, 0))
}

/** Accepted events/s from `threads` workers pushing flat out (the median of 3 runs). */
async function throughput(threads: number): Promise<{ perSecond: number; rejectedShare: number }> {
  const runs: Array<{ perSecond: number; rejectedShare: number }> = []
  for (let r = 0; r < 3; r++) {
    const ing = new hs.Ingestor()
    // Each worker times its own `ms` from after it has loaded.
    const ms = 2000
    const accepted = await producers(ing.handle, threads, ms, 0)
    const c = ing.counts()
    await ing.close()
    runs.push({ perSecond: accepted / (ms / 1000), rejectedShare: c.rejected / (c.accepted + c.rejected) })
  }
  return runs.sort((a, c) => a.perSecond - c.perSecond)[1]
}

/** Median ms of a windowed quantile over 60 full buckets; and prom-client's summary read. */
async function queryTimes(): Promise<{ hotstats: number; prom: number }> {
  const ing = new hs.Ingestor({ eventTime: true, allowedLatenessMs: 60_000, threads: 0 })
  const p = ing.producer()
  const id = p.key('latency')
  const t0 = 1_700_000_000_000
  let x = 1
  for (let i = 0; i < 600_000; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    if (!p.push(id, 1 + (x % 100_000) / 100, { timestamp: t0 + (i / 600_000) * 60_000 })) ing.flush()
  }
  ing.flush()
  const now = t0 + 59_999
  const ours: number[] = []
  for (let i = 0; i < 200; i++) {
    const s = performance.now()
    ing.quantiles('latency', [0.5, 0.9, 0.99], now)
    ours.push(performance.now() - s)
  }
  const summary = new prom.Summary({ name: 'q_seconds', help: 'q', percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 5, registers: [] })
  for (let i = 0; i < 600_000; i++) summary.observe(1 + (i % 100_000) / 100)
  const theirs: number[] = []
  for (let i = 0; i < 50; i++) {
    const s = performance.now()
    await summary.get()
    theirs.push(performance.now() - s)
  }
  await ing.close()
  return { hotstats: median(ours), prom: median(theirs) }
}

/** The main thread's event-loop delay (ms) while 2 workers push 1M events/s in total. */
async function loopDelay(aggregator: 'native' | 'pure JS'): Promise<{ p50: number; p99: number; max: number; aggregated: number }> {
  let handle: hs.IngestorHandle
  let finish: () => Promise<number>
  if (aggregator === 'native') {
    const ing = new hs.Ingestor()
    handle = ing.handle
    finish = async () => {
      await ing.close()
      return ing.counts().aggregated
    }
  } else {
    const pool = createPool({ rings: 4, capacity: 1 << 16, keyLogBytes: 1 << 12, eventTime: false, policy: 'reject' })
    const core = new JsIngestCore(pool, 60_000, 60, 0.01, 60_000)
    const timer = setInterval(() => core.flush(), 5)
    handle = { pool, waitTimeoutMs: 1000 }
    finish = async () => {
      clearInterval(timer)
      core.close()
      return core.counts()[1]
    }
  }
  const h = monitorEventLoopDelay({ resolution: 1 })
  const running = producers(handle, 2, 3000, 500_000)
  await sleep(800) // the workers start up
  h.enable()
  await running
  h.disable()
  const aggregated = await finish()
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, aggregated }
}

async function main() {
  if (hs.backend() === 'js') console.log('note: the JS backend is loaded; the ingestor rows measure the JS fallback')
  const per = await perEvent()
  const cpu = await cpuPerEvent(2000)
  const one = await throughput(1)
  const two = await throughput(2)
  const query = await queryTimes()
  const delayNative = await loopDelay('native')
  const delayJs = await loopDelay('pure JS')

  const push = per['hotstats Producer.push']
  const promObserve = per['prom-client Summary (maxAgeSeconds) observe']
  const rows: string[] = [
    '| per event | ns |',
    '|---|---|',
    `| hotstats Producer.push (producer thread) | ${push.toFixed(2)} |`,
    `| hotstats, whole process CPU (push + aggregation thread) | ${cpu.cpuNs.toFixed(2)} |`,
    `| pure JS, same algorithms, on the calling thread | ${per['pure JS window record'].toFixed(2)} |`,
    `| prom-client Summary, maxAgeSeconds 60, 5 age buckets | ${promObserve.toFixed(2)} |`,
    '',
    '| throughput into the ingestor | events/s accepted and aggregated | refused (ring full) |',
    '|---|---|---|',
    `| 1 producer thread | ${(one.perSecond / 1e6).toFixed(1)}M | ${(one.rejectedShare * 100).toFixed(1)}% |`,
    `| 2 producer threads | ${(two.perSecond / 1e6).toFixed(1)}M | ${(two.rejectedShare * 100).toFixed(1)}% |`,
    '',
    '| windowed quantiles (p50, p90, p99) over 60 full buckets, 600k events | median ms |',
    '|---|---|',
    `| hotstats Ingestor.quantiles | ${query.hotstats.toFixed(3)} |`,
    `| prom-client Summary.get() | ${query.prom.toFixed(3)} |`,
    '',
    '| main event-loop delay, 2 workers pushing 1M events/s | p50 ms | p99 ms | max ms | events aggregated |',
    '|---|---|---|---|---|',
    `| native aggregation thread | ${delayNative.p50.toFixed(2)} | ${delayNative.p99.toFixed(2)} | ${delayNative.max.toFixed(2)} | ${delayNative.aggregated} |`,
    `| pure-JS aggregator on the main loop | ${delayJs.p50.toFixed(2)} | ${delayJs.p99.toFixed(2)} | ${delayJs.max.toFixed(2)} | ${delayJs.aggregated} |`,
  ]
  const targets: Array<[string, number, number, 'le' | 'ge', string]> = [
    ['≥ 20M events/s from one producer thread', one.perSecond / 1e6, 20, 'ge', 'M/s'],
    ['more with two producer threads (2 / 1)', two.perSecond / one.perSecond, 1, 'ge', '×'],
    ['windowed quantile over 60 buckets < 1 ms', query.hotstats, 1, 'le', ' ms'],
    ['per event ≥ 100× cheaper than prom-client windowed Summary (push)', promObserve / push, 100, 'ge', '×'],
    ['… counting the aggregation thread too (whole-process CPU)', promObserve / cpu.cpuNs, 100, 'ge', '×'],
    ['event-loop delay p99 < 5 ms at 1M events/s from workers', delayNative.p99, 5, 'le', ' ms'],
  ]
  rows.push('', '| target | measured | met |', '|---|---|---|')
  for (const [name, v, want, dir, unit] of targets) rows.push(`| ${name} | ${v.toFixed(2)}${unit} | ${(dir === 'ge' ? v >= want : v <= want) ? 'yes' : 'no'} |`)
  const cpus = new hs.Ingestor({ threads: 0 }).cpu
  const threads = new hs.Ingestor().threads
  const md = [
    `Backend ${hs.backend()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; CPU budget ${cpus.cpus} (quota ${cpus.quota ?? 'none'}, affinity ${cpus.affinity}) → ${threads} aggregation thread(s). Per-event rows: medians of benny samples over ${BATCH}-event batches.`,
    '',
    ...rows,
    '',
  ].join('\n')
  console.log('\n' + md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'ingest.json'), JSON.stringify({ date: new Date().toISOString(), backend: hs.backend(), per, cpu, one, two, query, delayNative, delayJs, cpus, threads }, null, 2))
  writeFileSync(join(dir, 'ingest.md'), md)
  process.exit(0)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
