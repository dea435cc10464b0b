// Ingestor: producers write into rings in shared memory, aggregation drains them into sliding
// windows. Checked against a brute-force oracle, a model queue for the ring's indices (with
// wrap-around), and exact totals from 4 worker threads hammering it, on both backends.
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'

import test from 'ava'
import fc from 'fast-check'

import * as hs from '../index'
import { POOL_HEADER, readLayout, RING_HEADER, ringBytes } from '../lib/ingest/ring'
import { exactMoments } from './helpers/oracle'

const entry = join(__dirname, '..', 'index.ts')

function identity(c: hs.IngestCounts): boolean {
  return c.accepted === c.aggregated + c.dropped + c.inFlight
}

test(`windowed stats match a brute-force oracle (${hs.backend()} backend)`, (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), dt: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(700)), v: fc.integer({ min: -4000, max: 4000 }) }), { minLength: 1, maxLength: 300 }),
      fc.constantFrom(1, 5, 20),
      (steps, buckets) => {
        const ing = new hs.Ingestor({ windowMs: 1000, buckets, eventTime: true, threads: 0, capacity: 64, producers: 1 })
        const p = ing.producer()
        let clock = 5_000_000
        const events: { key: string; t: number; v: number }[] = []
        const width = 1000 / buckets
        for (const [i, s] of steps.entries()) {
          clock += s.dt
          if (!p.push(s.key, s.v / 4, { timestamp: clock })) {
            ing.flush()
            if (!p.push(s.key, s.v / 4, { timestamp: clock })) return false
          }
          events.push({ key: s.key, t: clock, v: s.v / 4 })
          if (i % 7 === 0 || i === steps.length - 1) {
            const e = Math.floor(clock / width)
            for (const key of ['a', 'b', 'c']) {
              const live = events.filter((x) => x.key === key && Math.floor(x.t / width) > e - buckets)
              const got = ing.stats(key, clock)
              const sum = live.reduce((a, x) => a + x.v, 0) // quarters: exact
              if (got.count !== live.length || got.sum !== sum) return false
              if (live.length > 0 && (got.min !== Math.min(...live.map((x) => x.v)) || got.max !== Math.max(...live.map((x) => x.v)))) return false
              if (live.length >= 2) {
                const want = exactMoments(live.map((x) => x.v), 1).variance
                if (Math.abs(got.variance - want) > 1e-9 * Math.max(1, want)) return false
              }
              if (live.length > 0) {
                const sorted = live.map((x) => x.v).sort((a, b) => a - b)
                const q = ing.quantile(key, 0.5, clock)
                const rank = Math.floor(0.5 * (sorted.length - 1))
                if (Math.abs(q - sorted[rank]) > 0.01 * Math.abs(sorted[rank]) + 1e-9) return false
              }
            }
            if (!identity(ing.counts())) return false
          }
        }
        return ing.counts().late === 0
      },
    ),
    { numRuns: 60 },
  )
  t.pass()
})

test('the ring follows a model queue through wrap-around, under both full policies', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom<hs.FullPolicy>('reject', 'drop-oldest', 'wait'),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(-1)), { minLength: 1, maxLength: 200 }),
      (policy, ops) => {
        const ing = new hs.Ingestor({ threads: 0, capacity: 16, producers: 1, onFull: policy, eventTime: true })
        const p = ing.producer()
        const model: number[] = []
        let consumed = 0
        let consumedSum = 0
        let next = 0
        for (const op of ops) {
          if (op < 0) {
            ing.flush()
            consumed += model.length
            consumedSum += model.reduce((a, b) => a + b, 0)
            model.length = 0
          } else {
            for (let k = 0; k < op; k++) {
              const full = model.length === 16
              const ok = p.push('k', next, { timestamp: 1 })
              if (full && policy !== 'drop-oldest') {
                if (ok) return false
              } else {
                if (!ok) return false
                if (full) model.shift()
                model.push(next)
              }
              next++
            }
            p.publish()
          }
          const c = ing.counts()
          if (!identity(c) || c.inFlight !== model.length || c.aggregated !== consumed) return false
          if (policy === 'drop-oldest' ? c.rejected !== 0 : c.dropped !== 0) return false
        }
        const s = ing.stats('k', 1)
        return s.count === consumed + model.length && s.sum === consumedSum + model.reduce((a, b) => a + b, 0)
      },
    ),
    { numRuns: 200 },
  )
  t.pass()
})

function worker(data: Record<string, unknown>, body: string): Promise<{ accepted: number; sum: number }> {
  const code = `
    require('tsx/cjs')
    const { workerData, parentPort } = require('node:worker_threads')
    const hs = require(workerData.entry)
    ;(async () => { ${body} })().then((r) => parentPort.postMessage(r))
  `
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { entry, ...data } })
    let result: { accepted: number; sum: number } | undefined
    w.once('message', (r) => (result = r))
    w.once('error', reject)
    w.once('exit', () => (result ? resolve(result) : reject(new Error('worker exited without a result'))))
  })
}

test('4 worker threads hammer it: accepted = aggregated + in flight at every read, exact totals at the end', async (t) => {
  const ing = new hs.Ingestor({ capacity: 1 << 12, producers: 8, onFull: 'wait', waitTimeoutMs: 10_000 })
  const HAMMER = `
    const p = hs.Ingestor.producer(workerData.handle)
    const id = p.key('k' + (workerData.id % 2))
    const chunk = new Float64Array(1000)
    let accepted = 0, sum = 0
    for (let round = 0; round < 250; round++) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = (round * 1000 + i) % 97
      let at = 0
      while (at < chunk.length) {
        const n = p.pushValues(id, chunk.subarray(at))
        for (let i = at; i < at + n; i++) sum += chunk[i]
        accepted += n
        at += n
        if (at < chunk.length) await p.drain(1000)
      }
    }
    p.close()
    return { accepted, sum }
  `
  let reads = 0
  let ok = true
  let last = 0
  const sampler = setInterval(() => {
    const c = ing.counts()
    reads++
    if (!identity(c) || c.aggregated < last) ok = false
    last = c.aggregated
  }, 1)
  const results = await Promise.all([0, 1, 2, 3].map((id) => worker({ handle: ing.handle, id }, HAMMER)))
  clearInterval(sampler)
  t.true(ok, 'accepted = aggregated + dropped + in flight at every read')
  t.true(reads > 10)
  t.is(await ing.close(), 0)
  const c = ing.counts()
  const accepted = results.reduce((a, r) => a + r.accepted, 0)
  t.is(accepted, 1_000_000, 'the wait policy with drain loses nothing')
  t.deepEqual([c.accepted, c.aggregated, c.inFlight, c.dropped, c.late, c.invalid], [accepted, accepted, 0, 0, 0, 0])
  const [a, b] = [ing.stats('k0'), ing.stats('k1')]
  t.is(a.count + b.count, accepted)
  t.is(a.sum + b.sum, results.reduce((s, r) => s + r.sum, 0))
})

test('a worker that exits without closing its producer gives the ring back and loses nothing', async (t) => {
  // Two rings, three workers one after another: the third claims a ring only if an earlier
  // worker's ring came back when that worker ended.
  const ing = new hs.Ingestor({ capacity: 1 << 12, producers: 2 })
  const LEAVE_OPEN = `
    const p = hs.Ingestor.producer(workerData.handle)
    let sum = 0
    for (let i = 0; i < 1000; i++) {
      const v = (workerData.id * 1000 + i) % 89
      if (p.push('k', v)) sum += v
    }
    return { accepted: p.counts.accepted, sum } // no p.close()
  `
  const results = []
  for (const id of [0, 1, 2]) results.push(await worker({ handle: ing.handle, id }, LEAVE_OPEN))
  t.deepEqual(
    results.map((r) => r.accepted),
    [1000, 1000, 1000],
  )
  t.is(await ing.close(), 0)
  const s = ing.stats('k')
  t.is(s.count, 3000)
  t.is(
    s.sum,
    results.reduce((a, r) => a + r.sum, 0),
  )
})

test('a producer dropped without close() is given back when it is garbage-collected', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const ing = new hs.Ingestor({ capacity: 1 << 10, producers: 1 })
  ;(() => {
    // From the handle, as a worker does (ingestor.producer() keeps its producers to close them).
    const p = hs.Ingestor.producer(ing.handle)
    p.push('k', 2.5)
  })()
  t.throws(() => hs.Ingestor.producer(ing.handle), { instanceOf: RangeError }, 'the only ring is still owned')
  let again: hs.Producer | undefined
  for (let i = 0; i < 200 && !again; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 10))
    ing.flush()
    try {
      again = hs.Ingestor.producer(ing.handle)
    } catch {
      // not collected or not drained yet
    }
  }
  t.truthy(again, 'the ring came back')
  again!.push('k', 4)
  again!.close()
  await ing.close()
  t.is(ing.stats('k').sum, 6.5)
})

test('close() while a worker pushes loses nothing that was accepted', async (t) => {
  const ing = new hs.Ingestor({ capacity: 1 << 10, producers: 2 })
  const PUSH = `
    const p = hs.Ingestor.producer(workerData.handle)
    const id = p.key('k')
    let accepted = 0, sum = 0, i = 0
    for (;;) {
      const v = i++ % 13
      if (p.push(id, v)) { accepted++; sum += v; continue }
      if (p.closed) break
      await p.drain(1000)
    }
    return { accepted, sum }
  `
  const done = worker({ handle: ing.handle }, PUSH)
  // Close once the worker is well under way; a worker that died or stalls fails the test at a
  // deadline instead of hanging it.
  let failed: unknown = null
  done.catch((e) => (failed = e))
  const deadline = Date.now() + 60_000
  while (ing.counts().accepted < 100_000) {
    if (failed !== null) throw failed
    if (Date.now() > deadline) {
      await ing.close(0)
      t.fail(`the worker accepted ${ing.counts().accepted} events in 60 s, not 100000`)
      return
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  const pending = await ing.close(5000)
  const r = await done
  t.is(pending, 0)
  t.true(r.accepted > 0)
  const s = ing.stats('k')
  t.is(s.count, r.accepted)
  t.is(s.sum, r.sum)
  t.true(identity(ing.counts()))
})

test('reject and drop-oldest are counted; uniques and quantiles come through', (t) => {
  for (const onFull of ['reject', 'drop-oldest'] as const) {
    const ing = new hs.Ingestor({ threads: 0, capacity: 16, producers: 1, onFull })
    const p = ing.producer()
    let accepted = 0
    for (let i = 0; i < 40; i++) if (p.push('lat', i, { unique: `user${i % 5}` })) accepted++
    const s = ing.stats('lat')
    const c = ing.counts()
    if (onFull === 'reject') {
      t.deepEqual([accepted, c.rejected, c.dropped, s.count, s.min, s.max], [16, 24, 0, 16, 0, 15])
      t.deepEqual(p.counts, { accepted: 16, rejected: 24, dropped: 0 })
    } else {
      t.deepEqual([accepted, c.rejected, c.dropped, s.count, s.min, s.max], [40, 0, 24, 16, 24, 39])
    }
    t.is(s.uniques, 5)
    t.true(identity(c))
  }
})

test('threads and the CPU budget are reported', (t) => {
  const ing = new hs.Ingestor()
  const cpu = ing.cpu
  if (hs.backend() === 'js') {
    t.is(ing.threads, 0)
  } else {
    t.true(cpu.affinity >= 1 && cpu.cpus >= 1)
    t.true(ing.threads >= 1 && ing.threads <= Math.max(1, Math.floor(cpu.cpus)))
  }
  t.is(new hs.Ingestor({ threads: 0 }).threads, 0)
})

test('bad input throws and changes nothing; garbage in the shared memory never crashes', (t) => {
  t.throws(() => new hs.Ingestor({ capacity: 100 }), { instanceOf: RangeError })
  t.throws(() => new hs.Ingestor({ onFull: 'block' as never }), { instanceOf: RangeError })
  t.throws(() => new hs.Ingestor({ windowMs: -1 }), { instanceOf: RangeError })
  t.throws(() => new hs.Ingestor({ threads: 1.5 }), { instanceOf: RangeError })
  t.throws(() => hs.Ingestor.producer({ pool: new SharedArrayBuffer(8), waitTimeoutMs: 1 }), { instanceOf: TypeError })
  t.throws(() => hs.Ingestor.producer({ pool: new SharedArrayBuffer(4096), waitTimeoutMs: 1 }), { instanceOf: RangeError })
  const ing = new hs.Ingestor({ threads: 0, capacity: 64, producers: 1 })
  const p = ing.producer()
  t.throws(() => p.push('k', NaN), { instanceOf: RangeError })
  t.throws(() => p.push('k', '1' as never), { instanceOf: TypeError })
  t.throws(() => p.push(7, 1), { instanceOf: RangeError })
  t.throws(() => p.push('k', 1, { unique: 3 as never }), { instanceOf: TypeError })
  t.throws(() => p.pushValues('k', [1, Infinity]), { instanceOf: RangeError })
  t.deepEqual(ing.counts(), { accepted: 0, aggregated: 0, inFlight: 0, dropped: 0, rejected: 0, late: 0, invalid: 0 })
  t.throws(() => ing.producer(), { instanceOf: RangeError, message: /raise `producers`/ })
  p.push('k', 1)
  p.publish()
  ing.flush()
  t.deepEqual(ing.counts(), { accepted: 1, aggregated: 1, inFlight: 0, dropped: 0, rejected: 0, late: 0, invalid: 0 })
  // Scribble over the ring's slots and key log (not the pool or ring headers, so head and tail
  // stay sane) while published events wait in it: the consumer reads wrong events, never
  // crashes, and keeps its books. Every event accepted is aggregated (none dropped, none left in
  // flight after a flush), and every aggregated event is counted once: recorded under some key
  // (a scribbled key log can name new keys), late, or invalid (a bad key id, value or pattern).
  const bytes = new Uint8Array(ing.handle.pool)
  const { capacity } = readLayout(ing.handle.pool)
  const ringStart = POOL_HEADER
  const slotsStart = ringStart + RING_HEADER
  const ringEnd = ringStart + ringBytes(readLayout(ing.handle.pool))
  let x = 12345
  const scribble = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      if (x >>> 28 === 0) bytes[i] = x & 255
    }
  }
  let pushed = 1
  for (let round = 0; round < 50; round++) {
    for (let k = 0; k < capacity / 2; k++) if (p.push('k', k)) pushed++
    p.publish()
    scribble(slotsStart, ringEnd)
    ing.flush()
    const c = ing.counts()
    t.true(identity(c), `round ${round}: ${JSON.stringify(c)}`)
    t.is(c.accepted, pushed)
    t.is(c.inFlight, 0)
    t.is(c.dropped, 0)
    let recorded = 0
    for (const k of ing.keys) recorded += ing.stats(k).count
    t.is(recorded + c.late + c.invalid, c.aggregated, `round ${round}: every aggregated event counted once`)
  }
  t.true(ing.counts().invalid > 0, 'garbage events were counted invalid')
  // Then the ring header too (head, tail, key counts: anything): still no crash, and every count
  // stays a whole number >= 0.
  for (let round = 0; round < 20; round++) {
    scribble(ringStart, ringEnd)
    ing.flush()
    for (const k of ing.keys) ing.stats(k)
    for (const v of Object.values(ing.counts())) t.true(Number.isInteger(v) && v >= 0, `count ${v}`)
  }
})
