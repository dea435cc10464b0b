// One set of series per metric name in the whole process: worker_threads record into their own
// staging, flush on a timer and when they exit, and any thread's read sees exact totals.
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import test from 'ava'

import * as hs from '../index'

const entry = join(__dirname, '..', 'index.ts')

function runWorker(data: Record<string, unknown>, body: string): Promise<number> {
  const code = `
    require('tsx/cjs')
    const { workerData } = require('node:worker_threads')
    const hs = require(workerData.entry)
    ${body}
  `
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { entry, ...data } })
    w.once('error', reject)
    w.once('exit', resolve)
  })
}

const RECORD = `
  const r = new hs.Registry({ name: workerData.registry })
  const c = new hs.Counter({ name: 'ops_total', help: 'ops', labelNames: ['route', 'status'], registers: [r] })
  const s = new hs.Summary({ name: 'work_seconds', help: 'w', percentiles: [0, 1], registers: [r] })
  const bound = c.labels('/bound', '200')
  for (let i = 0; i < workerData.n; i++) {
    c.inc({ route: '/r' + (i % 4), status: i % 3 === 0 ? 500 : 200 })
    bound.inc(2)
    if (i % 10 === 0) s.observe(workerData.id * 1000 + (i % 7))
  }
`

async function totals(r: hs.Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await r.metrics()).split('\n')) {
    const m = /^(\w+)(\{.*\})? (\S+)$/.exec(line)
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]))
  }
  return out
}

test('4 workers × 1M labeled increments: exact totals in the main thread after they exit', async (t) => {
  const registry = `threads-${process.pid}-a`
  const n = 1_000_000
  const codes = await Promise.all([1, 2, 3, 4].map((id) => runWorker({ registry, n, id }, RECORD)))
  t.deepEqual(codes, [0, 0, 0, 0])
  const got = await totals(new hs.Registry({ name: registry }))
  // Per worker: route /r(i%4) gets n/4; status 500 for i%3 == 0.
  let expected500 = 0
  for (let i = 0; i < n; i++) if (i % 3 === 0) expected500++
  let sum = 0
  for (const [k, v] of got) if (k.startsWith('ops_total{route="/r')) sum += v
  t.is(sum, 4 * n)
  let fiveHundreds = 0
  for (const [k, v] of got) if (k.includes('status="500"')) fiveHundreds += v
  t.is(fiveHundreds, 4 * expected500)
  t.is(got.get('ops_total{route="/bound",status="200"}'), 4 * 2 * n)
  t.is(got.get('work_seconds_count'), 4 * (n / 10))
  t.is(got.get('work_seconds{quantile="0"}'), 1000)
  t.is(got.get('work_seconds{quantile="1"}'), 4006)
})

test('a worker that calls process.exit right after recording loses nothing, and the main thread goes on', async (t) => {
  const registry = `threads-${process.pid}-b`
  const r = new hs.Registry({ name: registry })
  const main = new hs.Counter({ name: 'ops_total', help: 'ops', labelNames: ['route', 'status'], registers: [r] })
  main.inc({ route: '/main', status: 200 }, 7)
  const code = await runWorker({ registry, n: 50_000, id: 9 }, `${RECORD}\nprocess.exit(0)`)
  t.is(code, 0)
  // A second worker that only reads sees the first worker's records too (native backend: one
  // store in the process; the JS backend's replicas only hear of changes made while they
  // listen, so a thread started later misses earlier ones, as the README says).
  const seen = await runWorker(
    { registry },
    `const r = new hs.Registry({ name: workerData.registry })
     r.metrics().then((text) => process.exit(text.includes('ops_total{route="/bound",status="200"} 100000') ? 42 : 1))`,
  )
  t.is(seen, hs.backend() === 'js' ? 1 : 42)
  main.inc({ route: '/main', status: 200 })
  const got = await totals(r)
  t.is(got.get('ops_total{route="/main",status="200"}'), 8)
  t.is(got.get('ops_total{route="/bound",status="200"}'), 100_000)
  t.is(got.get('work_seconds_count'), 5000)
})
