// SlidingWindow against a brute-force oracle (every event kept, the window recomputed from
// scratch): exact count, sum, min and max as time moves on, quantiles within the sketch's
// accuracy, uniques within HyperLogLog's error, late events counted. Runs on both backends; the
// JS port is also compared with the native window directly.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'
import fc from 'fast-check'

import * as hs from '../index'
import { JsSlidingWindow } from '../lib/window/js'
import * as hll from '../lib/hll/js'

interface Ev {
  key: string
  t: number
  v: number
  u?: string
}

/** Live events at `now`: epoch in (E − buckets, E] (the clock only moves forward here). */
function live(events: Ev[], key: string, now: number, windowMs: number, buckets: number): Ev[] {
  const width = windowMs / buckets
  const e = Math.floor(now / width)
  return events.filter((x) => x.key === key && Math.floor(x.t / width) > e - buckets && Math.floor(x.t / width) <= e)
}

test(`count, sum, min and max are exact as time moves on (${hs.backend()} backend)`, (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), dt: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(900)), v: fc.integer({ min: -4000, max: 4000 }) }), { minLength: 1, maxLength: 400 }),
      fc.constantFrom(1, 4, 10, 60),
      (steps, buckets) => {
        let clock = 1_000_000
        const w = new hs.SlidingWindow({ windowMs: 1000, buckets, clock: () => clock })
        const events: Ev[] = []
        for (const [i, s] of steps.entries()) {
          clock += s.dt
          w.record(s.key, s.v / 4)
          events.push({ key: s.key, t: clock, v: s.v / 4 })
          if (i % 5 === 0 || i === steps.length - 1) {
            for (const key of ['a', 'b', 'c']) {
              const l = live(events, key, clock, 1000, buckets)
              const got = w.stats(key)
              const sum = l.reduce((a, x) => a + x.v, 0) // quarters: exact
              if (got.count !== l.length || got.sum !== sum) return false
              if (l.length > 0 && (got.min !== Math.min(...l.map((x) => x.v)) || got.max !== Math.max(...l.map((x) => x.v)))) return false
              if (l.length === 0 && !Number.isNaN(got.min)) return false
              if (got.rate !== l.length) return false
            }
          }
        }
        return w.late === 0
      },
    ),
    { numRuns: 150 },
  )
  t.pass()
})

test('quantiles and uniques over the live buckets only', (t) => {
  let clock = 0
  const w = new hs.SlidingWindow({ windowMs: 60_000, buckets: 60, clock: () => clock })
  for (let i = 0; i < 3000; i++) {
    clock = i * 20 // minute 0: values 1..3000, users u0..u2999
    w.record('/', i + 1, { unique: `u${i}` })
  }
  for (let i = 0; i < 3000; i++) {
    clock = 60_000 + i * 20 // minute 1: values 5001..8000, users v0..v2999
    w.record('/', 5001 + i, { unique: `v${i}` })
  }
  clock = 119_999
  const s = w.stats('/')
  t.is(s.count, 3000)
  t.is(s.sum, (5001 + 8000) * 1500)
  t.true(Math.abs(s.uniques - 3000) < 60, `${s.uniques}`)
  const qs = [0, 0.25, 0.5, 0.9, 0.99, 1]
  const got = w.quantiles('/', qs)
  qs.forEach((q, i) => {
    const exact = 5001 + Math.floor(q * 2999)
    t.true(Math.abs(got[i] - exact) <= 0.0101 * exact, `q ${q}: ${got[i]} vs ${exact}`)
  })
  t.is(w.stats('/', 200_000).count, 0)
  t.deepEqual(w.stats('nope'), { count: 0, sum: 0, min: NaN, max: NaN, mean: NaN, variance: NaN, rate: 0, uniques: 0 })
})

test('event time: events within the allowed lateness count, older ones are dropped and counted', (t) => {
  const w = new hs.SlidingWindow({ windowMs: 10_000, buckets: 10, eventTime: true, allowedLatenessMs: 2_000 })
  const times = [5_000, 9_000, 7_500, 6_999, 12_000, 9_999, 10_001, 3_000]
  // Watermarks: 5000, 9000, 9000 (7500 ok), 9000 (6999 < 7000: late), 12000, 12000 (9999 < 10000: late), ok, late.
  for (const ts of times) w.record('k', 1, { timestamp: ts })
  t.is(w.late, 3)
  const s = w.stats('k') // read at the watermark, 12 000: epochs 3..12 live
  t.is(s.count, 5) // 5000, 9000, 7500, 12000 and 10001, all in epochs 5..12
  t.is(w.stats('k', 15_500).count, 4) // epochs 6..15: epoch 5's event (5000) has expired

  t.throws(() => w.record('k', 1), { instanceOf: TypeError, message: /timestamp/ })
})

test('the JS port gives the native window the same answers', (t) => {
  if (hs.backend() === 'js') {
    t.pass('JS backend: the oracle tests above cover the port')
    return
  }
  let clock = 0
  const w = new hs.SlidingWindow({ windowMs: 5_000, buckets: 5, clock: () => clock })
  const port = new JsSlidingWindow(5_000, 5, 0.01, 5_000)
  const id = port.keyId('k')
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  for (let i = 0; i < 20_000; i++) {
    clock += rand() < 0.01 ? 900 : 1
    const v = Math.exp(rand() * 10) - 100
    const u = `user${Math.floor(rand() * 5000)}`
    w.record('k', v, { unique: u })
    port.record(id, v, clock, hll.pattern(u))
    if (i % 1000 === 999) {
      const n = w.stats('k')
      const j = port.stats(id, clock)
      t.deepEqual([n.count, n.sum, n.min, n.max, n.mean, n.variance, n.rate, n.uniques], j)
      t.deepEqual(w.quantiles('k', [0.1, 0.5, 0.99]), [0.1, 0.5, 0.99].map((q) => port.sketch(id, clock).quantile(q)))
    }
  }
})

test('bad input: a clear error and nothing recorded', (t) => {
  const bad: [string, () => unknown, any][] = [
    ['windowMs 0', () => new hs.SlidingWindow({ windowMs: 0 }), RangeError],
    ['buckets 0', () => new hs.SlidingWindow({ buckets: 0 }), RangeError],
    ['buckets 1.5', () => new hs.SlidingWindow({ buckets: 1.5 }), RangeError],
    ['buckets string', () => new hs.SlidingWindow({ buckets: '6' as any }), TypeError],
    ['accuracy 1', () => new hs.SlidingWindow({ relativeAccuracy: 1 }), RangeError],
    ['lateness -1', () => new hs.SlidingWindow({ eventTime: true, allowedLatenessMs: -1 }), RangeError],
  ]
  for (const [name, f, type] of bad) t.throws(f, { instanceOf: type }, name)
  let clock = 1000
  const w = new hs.SlidingWindow({ windowMs: 1000, buckets: 10, clock: () => clock })
  w.record('k', 1)
  t.throws(() => w.record('k', NaN), { instanceOf: RangeError })
  t.throws(() => w.record('k', '1' as any), { instanceOf: TypeError })
  t.throws(() => w.record(5 as any, 1), { instanceOf: TypeError })
  t.throws(() => w.record('k', 1, { unique: 5 as any }), { instanceOf: TypeError })
  clock = NaN
  t.throws(() => w.record('k', 1), { instanceOf: RangeError })
  clock = 1000
  t.throws(() => w.quantiles('k', [1.5]), { instanceOf: RangeError })
  t.is(w.stats('k').count, 1)
})

test(`maxKeys: records for new keys past it are refused and counted; expiry and delete make room (${hs.backend()} backend)`, (t) => {
  let clock = 10_000
  const w = new hs.SlidingWindow({ windowMs: 1000, buckets: 10, maxKeys: 3, clock: () => clock })
  t.is(w.maxKeys, 3)
  t.is(new hs.SlidingWindow().maxKeys, 10_000)
  for (const k of ['a', 'b', 'c']) w.record(k, 1)
  for (let i = 0; i < 50; i++) w.record(`new${i % 10}`, 1, { unique: 'u' })
  w.record('a', 2) // a held key still records
  t.is(w.refusedRecords, 50)
  t.is(w.refusedKeys(), 10)
  t.deepEqual(w.keys, ['a', 'b', 'c'])
  t.is(w.stats('new1').count, 0)
  t.is(w.stats('a').count, 2)
  // delete makes room at once.
  t.true(w.delete('b'))
  w.record('d', 5)
  t.deepEqual(w.keys, ['a', 'c', 'd'])
  t.is(w.refusedRecords, 50)
  // Keys that went quiet make room once their window has passed.
  clock += 600
  w.record('d', 6)
  clock += 500 // a and c last wrote 1100 ms ago: expired; d 500 ms ago: live
  w.record('e', 7)
  t.deepEqual(w.keys, ['d', 'e'])
  t.is(w.stats('d').count, 1) // its first event (at 10 000) has left too
  t.is(w.refusedRecords, 50)

  for (const [opts, type] of [
    [{ maxKeys: 0 }, RangeError],
    [{ maxKeys: 1.5 }, RangeError],
    [{ maxKeys: 2 ** 20 + 1 }, RangeError],
    [{ maxKeys: '10' }, TypeError],
  ] as const)
    t.throws(() => new hs.SlidingWindow(opts as any), { instanceOf: type, message: /maxKeys/ }, JSON.stringify(opts))
})

test(`idle keys expire: gone from keys once their window is empty, and back afresh on a new record (${hs.backend()} backend)`, (t) => {
  let clock = 0
  const w = new hs.SlidingWindow({ windowMs: 60_000, buckets: 60, clock: () => clock })
  for (let i = 0; i < 1000; i++) w.record(`quiet${i}`, i, { unique: `u${i}` })
  clock = 30_000
  w.record('busy', 1)
  t.is(w.size, 1001)
  clock = 59_999 // second 0 is still in the window
  t.is(w.size, 1001)
  t.is(w.stats('quiet7').count, 1)
  clock = 60_000 // it has left: the quiet keys go, their reads do not change
  t.is(w.stats('quiet7').count, 0)
  t.deepEqual(w.keys, ['busy'])
  t.is(w.stats('quiet7').count, 0)
  t.deepEqual(w.quantiles('quiet7', [0.5]), [NaN])
  t.is(w.stats('busy').count, 1)
  // The sweep also runs from record: a key that went quiet is not kept by writes to others.
  clock = 95_000
  w.record('other', 1)
  t.deepEqual(w.keys, ['other'])
  // A returning key starts afresh (its old events are gone) and counts uniques from zero.
  w.record('quiet7', 42, { unique: 'x' })
  t.deepEqual(
    { ...w.stats('quiet7') },
    { count: 1, sum: 42, min: 42, max: 42, mean: 42, variance: NaN, rate: 1 / 60, uniques: 1 },
  )

  // Event time: keys expire by the newest timestamp (the watermark reads use).
  const ev = new hs.SlidingWindow({ windowMs: 10_000, buckets: 10, eventTime: true, allowedLatenessMs: 1_000 })
  ev.record('old', 1, { timestamp: 5_000 })
  ev.record('new', 1, { timestamp: 14_999 })
  t.deepEqual(ev.keys, ['old', 'new'])
  ev.record('new', 1, { timestamp: 15_000 })
  t.deepEqual(ev.keys, ['new'])
  t.is(ev.stats('new').count, 2)
})

test(`delete(key) forgets a key and its staged events (${hs.backend()} backend)`, (t) => {
  let clock = 1_000
  const w = new hs.SlidingWindow({ windowMs: 1000, buckets: 10, clock: () => clock })
  for (let i = 0; i < 100; i++) {
    w.record('a', i, { unique: `u${i}` })
    w.record('b', i)
  }
  const b = w.stats('b')
  t.true(w.delete('a'))
  t.false(w.delete('a'))
  t.false(w.delete('never'))
  t.deepEqual(w.keys, ['b'])
  t.is(w.stats('a').count, 0)
  t.deepEqual(w.stats('b'), b)
  w.record('a', 7)
  t.like(w.stats('a'), { count: 1, sum: 7, uniques: 0 })
  t.deepEqual(w.keys, ['b', 'a'])
  t.throws(() => w.delete(5 as any), { instanceOf: TypeError })
})

test(`uniques per bucket: sparse until they fill, the same estimate as a HyperLogLog (${hs.backend()} backend)`, (t) => {
  for (const n of [1, 100, 255, 256, 257, 300, 5000]) {
    let clock = 0
    const w = new hs.SlidingWindow({ windowMs: 10_000, buckets: 10, clock: () => clock })
    const all = new hs.HyperLogLog()
    const last = new hs.HyperLogLog()
    for (let b = 0; b < 12; b++) {
      clock = b * 1000
      for (let i = 0; i < n; i++) {
        const u = `user${b}:${i}`
        w.record('k', 1, { unique: i % 2 ? u : new TextEncoder().encode(u) })
        if (b >= 2) all.add(u)
        if (b === 11) last.add(u)
      }
    }
    t.is(w.stats('k').uniques, all.count(), `${n} per bucket, 10 live buckets`)
    t.is(w.stats('k', 20_999).uniques, last.count(), `${n} per bucket, the newest bucket alone`)
  }
})

/** Runs the memory probe in a fresh process (with --expose-gc) on this backend. */
function probe(what: 'churn' | 'uniques'): Record<string, any> {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, 'helpers', 'window-memory.ts'), what], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

test(`memory: quiet keys are freed, and a few uniques per bucket cost bytes, not 16 KiB (${hs.backend()} backend)`, (t) => {
  // Kept forever (before issue 18): +140 MB (native) / +240 MB (JS) per round of 5000 keys.
  const churn = probe('churn')
  t.is(churn.backend, hs.backend())
  t.is(churn.keys, 5000)
  const grew = churn.rssAfterRound[5] - churn.rssAfterRound[1]
  t.true(grew < 40 * 2 ** 20, `rss grew ${(grew / 2 ** 20).toFixed(1)} MiB over rounds 2..6: ${churn.rssAfterRound}`)
  // Dense per bucket (before): 345 MB (native) / 423 MB (JS) for 2000 keys x 10 buckets.
  const u = probe('uniques')
  t.is(u.uniques, 10)
  t.true(u.rssDelta < 80 * 2 ** 20, `2000 keys x 10 buckets with uniques: +${(u.rssDelta / 2 ** 20).toFixed(1)} MiB`)
})
