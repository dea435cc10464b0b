// SlidingWindow against a brute-force oracle (every event kept, the window recomputed from
// scratch): exact count, sum, min and max as time moves on, quantiles within the sketch's
// accuracy, uniques within HyperLogLog's error, late events counted. Runs on both backends; the
// JS port is also compared with the native window directly.
import test from 'ava'
import fc from 'fast-check'

import * as hs from '../index'
import { JsSlidingWindow } from '../lib/js/window'
import * as hll from '../lib/js/hll'

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
