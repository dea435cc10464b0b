// QuantileSketch: the relative-error guarantee against exact quantiles on heavy-tailed data,
// negatives, zeros and 1e-9..1e12; the same bytes from the JS and native backends; staging;
// merge; collapsing; the versioned format and bad input.
import test from 'ava'

import { QuantileSketch, SlidingWindow } from '../index'
import { native } from '../lib/backend/backend'
import { JsQuantileSketch } from '../lib/quantile/js'
import { Rng } from './helpers/oracle'

function gaussian(r: Rng): number {
  // Box-Muller
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next())
}

const families: Array<[string, (r: Rng) => number]> = [
  ['lognormal(0, 2)', (r) => Math.exp(2 * gaussian(r))],
  ['Pareto(1.2)', (r) => 1 / (1 - r.next()) ** (1 / 1.2)],
  ['negatives and zeros', (r) => (r.next() < 0.3 ? 0 : -Math.exp(gaussian(r)) * 100)],
  ['mixed signs, 1e-9..1e12', (r) => (r.next() < 0.5 ? -1 : 1) * 10 ** (-9 + 21 * r.next())],
]

const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]

for (const [name, gen] of families) {
  test(`every quantile within α of the true value at its rank: ${name}`, (t) => {
    const r = new Rng(name.length * 31)
    for (const alpha of [0.01, 0.001]) {
      const xs = Array.from({ length: 30000 }, () => gen(r))
      // 2048 buckets at α = 0.01 span magnitudes over a ratio of ~6e17 before collapsing; α = 0.001
      // and the 1e-9..1e12 family (ratio 1e21, 2420 buckets) need more to stay within α everywhere.
      const sk = new QuantileSketch({ relativeAccuracy: alpha, maxBins: alpha < 0.01 ? 1 << 16 : name.includes('1e12') ? 4096 : 2048 })
      for (const x of xs) sk.add(x) // the staged per-value path
      const sorted = Float64Array.from(xs).sort()
      for (const q of QS) {
        const truth = sorted[Math.floor(q * (xs.length - 1))]
        const got = sk.quantile(q)
        t.true(Math.abs(got - truth) <= alpha * Math.abs(truth) * (1 + 1e-12), `α=${alpha} q=${q}: ${got} vs ${truth}`)
      }
      t.is(sk.count, xs.length)
      t.is(sk.min, sorted[0])
      t.is(sk.max, sorted[sorted.length - 1])
    }
  })
}

test('JS and native backends, staged add and addMany: the same bytes', (t) => {
  const r = new Rng(5)
  const xs = Float64Array.from({ length: 20000 }, () => (r.next() < 0.1 ? 0 : (r.next() < 0.5 ? -1 : 1) * Math.exp(3 * gaussian(r))))
  const staged = new QuantileSketch()
  for (const x of xs) staged.add(x)
  const batch = new QuantileSketch().addMany(xs)
  t.deepEqual(staged.serialize(), batch.serialize())
  const js = new JsQuantileSketch(0.01, 2048)
  js.addMany(xs)
  t.deepEqual(js.serialize(), batch.serialize(), native ? 'native bytes equal the JS port' : 'JS backend')
  for (const q of QS) t.true(Object.is(js.quantile(q), batch.quantile(q)))
  // Small maxBins: collapsing happens, and still the same bytes.
  const jsSmall = new JsQuantileSketch(0.01, 32)
  jsSmall.addMany(xs)
  t.deepEqual(jsSmall.serialize(), new QuantileSketch({ maxBins: 32 }).addMany(xs).serialize())
})

test('min and max follow Math.min/Math.max for signed zeros, in any order and across merges', (t) => {
  for (const xs of [[0, -0], [-0, 0], [0, 0, -0, 0]]) {
    const s = new QuantileSketch().addMany(xs)
    t.true(Object.is(s.min, -0), `min of ${xs.map((x) => (Object.is(x, -0) ? '-0' : '0'))}`)
    t.true(Object.is(s.max, 0))
    const one = new QuantileSketch()
    for (const x of xs) one.add(x).quantile(0.5) // a read between adds: flushes each value alone
    t.true(Object.is(one.min, -0))
  }
  const a = new QuantileSketch().addMany([0])
  a.merge(new QuantileSketch().addMany([-0]))
  t.true(Object.is(a.min, -0))
})

test('collapsing keeps memory bounded and the high quantiles accurate', (t) => {
  const xs = Array.from({ length: 5000 }, (_, i) => 1.002 ** i * 1e-6)
  const sk = new QuantileSketch({ relativeAccuracy: 0.01, maxBins: 100 }).addMany(xs)
  const b = sk.serialize()
  t.true(b.length <= 24 + 40 + 16 + 8 * 100, `${b.length} bytes`)
  for (const q of [0.9, 0.99, 1]) {
    const truth = xs[Math.floor(q * (xs.length - 1))]
    t.true(Math.abs(sk.quantile(q) - truth) <= 0.01 * truth * (1 + 1e-12))
  }
  // The low end is where accuracy goes: q=0 is clamped to the exact min, q=0.01 is not within α.
  const low = xs[Math.floor(0.01 * (xs.length - 1))]
  t.true(Math.abs(sk.quantile(0.01) - low) > 0.01 * low)
})

test('merge: parts merged equal the whole; a different α is an error and changes nothing', (t) => {
  const r = new Rng(9)
  const xs = Array.from({ length: 12000 }, () => Math.exp(2 * gaussian(r)) - 3)
  const whole = new QuantileSketch().addMany(xs)
  const merged = new QuantileSketch()
  for (let i = 0; i < 4; i++) merged.merge(new QuantileSketch().addMany(xs.slice(i * 3000, (i + 1) * 3000)))
  for (const q of QS) t.is(merged.quantile(q), whole.quantile(q))
  t.is(merged.count, whole.count)
  const before = merged.serialize()
  t.throws(() => merged.merge(new QuantileSketch({ relativeAccuracy: 0.02 })), { instanceOf: RangeError, message: /relativeAccuracy/ })
  t.deepEqual(merged.serialize(), before)
})

test('rank, mean, empty sketch', (t) => {
  const e = new QuantileSketch()
  t.true(Number.isNaN(e.quantile(0.5)))
  t.true(Number.isNaN(e.rank(1)))
  t.true(Number.isNaN(e.min))
  t.is(e.count, 0)
  const sk = new QuantileSketch().addMany(Array.from({ length: 1000 }, (_, i) => i + 1))
  t.true(Math.abs(sk.rank(500) - 0.5) <= 0.01)
  t.is(sk.mean, 500.5)
  t.deepEqual(sk.quantiles([0, 1]), [1, 1000])
})

test('serialize round-trip; truncated or corrupted bytes are errors on both decoders', (t) => {
  const sk = new QuantileSketch().addMany([-5, -1, 0, 0, 1, 2, 3, 1e6])
  const b = sk.serialize()
  const back = QuantileSketch.deserialize(b)
  t.deepEqual(back.serialize(), b)
  t.is(back.quantile(0.5), sk.quantile(0.5))
  const corruptions: Array<[string, (u: Uint8Array) => void]> = [
    ['magic', (u) => (u[0] = 0)],
    ['version', (u) => (u[4] = 9)],
    ['alpha', (u) => new DataView(u.buffer).setFloat64(8, 1.5, true)],
    ['count', (u) => new DataView(u.buffer).setFloat64(24, 99, true)],
    ['bin count', (u) => new DataView(u.buffer).setFloat64(u.length - 8, -1, true)],
    ['store length', (u) => new DataView(u.buffer).setUint32(68, 4000, true)],
  ]
  for (const [what, f] of corruptions) {
    const u = b.slice()
    f(u)
    t.throws(() => QuantileSketch.deserialize(u), { instanceOf: RangeError }, what)
    if (native) t.throws(() => native!.NativeQuantileSketch.deserialize(u), { message: /not a serialized QuantileSketch/ }, `native ${what}`)
  }
  for (let cut = 0; cut < b.length; cut += 7) {
    t.throws(() => QuantileSketch.deserialize(b.slice(0, cut)), { instanceOf: RangeError })
    if (native) t.throws(() => native!.NativeQuantileSketch.deserialize(b.slice(0, cut)))
  }
})

test('bad input: RangeError/TypeError, state unchanged', (t) => {
  t.throws(() => new QuantileSketch({ relativeAccuracy: 0 }), { instanceOf: RangeError })
  t.throws(() => new QuantileSketch({ maxBins: 0.5 }), { instanceOf: RangeError })
  const sk = new QuantileSketch().addMany([1, 2, 3])
  const before = sk.serialize()
  t.throws(() => sk.add(NaN), { instanceOf: RangeError })
  t.throws(() => sk.add(Infinity), { instanceOf: RangeError })
  t.throws(() => sk.add('1' as unknown as number), { instanceOf: TypeError }) // a non-number is a TypeError in every class (issue 18)
  t.throws(() => sk.add(1, -2), { instanceOf: RangeError })
  t.throws(() => sk.addMany([1, 2, NaN]), { instanceOf: RangeError, message: /values\[2\]/ })
  t.throws(() => sk.addMany('x' as unknown as number[]), { instanceOf: TypeError })
  t.throws(() => sk.quantile(1.5), { instanceOf: RangeError })
  t.throws(() => sk.quantiles([0.5, -1]), { instanceOf: RangeError, message: /qs\[1\]/ })
  t.deepEqual(sk.serialize(), before)
  sk.add(10, 2.5)
  t.is(sk.count, 5.5)
})

test('every finite double has a bucket: α below 1e-6 is refused, and at 1e-6 every backend gives the same bytes (issue 19)', (t) => {
  // At α = 1e-8 the bucket index of 1e300 left int32: the native backends answered p75 ≈ 2.95e18
  // for these values where the JS backend said 1e300, and their bytes differed.
  const xs = Float64Array.from([1e300, 1e-300, 5, 1e200, 3e250])
  for (const a of [1e-8, 9.99e-7, 0, -1, 1, NaN]) {
    t.throws(() => new QuantileSketch({ relativeAccuracy: a }), { instanceOf: RangeError, message: /\[1e-6, 1\)/ }, `α=${a}`)
    t.throws(() => new SlidingWindow({ relativeAccuracy: a }), { instanceOf: RangeError }, `window α=${a}`)
  }
  // Bytes written with such an α (as earlier versions allowed) are refused by every decoder.
  const old = new QuantileSketch().addMany(xs).serialize()
  new DataView(old.buffer, old.byteOffset).setFloat64(8, 1e-8, true)
  t.throws(() => QuantileSketch.deserialize(old), { instanceOf: RangeError, message: /relativeAccuracy/ })
  if (native) t.throws(() => native!.NativeQuantileSketch.deserialize(old), { message: /relativeAccuracy/ })
  // At the bound: the extremes of the double range index within ±2^30 ...
  const js = new JsQuantileSketch(1e-6, 2048)
  for (const x of [Number.MAX_VALUE, js.mapping.minIndexable, 1e300, 1e-300]) {
    const i = js.mapping.index(x)
    t.true(Math.abs(i) < 2 ** 30, `index of ${x} is ${i}`)
    t.true(Math.abs(js.mapping.value(i) - x) <= 1e-6 * x * (1 + 1e-9), `bucket of ${x}`)
  }
  // ... and the facade (native when loaded) and the JS port agree bit for bit, one value at a
  // time and in bulk, on the input and on the extremes.
  const wide = Float64Array.from([...xs, Number.MAX_VALUE, -Number.MAX_VALUE, 3 * 2.2250738585072014e-308, -1e-300, 0])
  for (const input of [xs, wide]) {
    const bulk = new QuantileSketch({ relativeAccuracy: 1e-6 }).addMany(input)
    const staged = new QuantileSketch({ relativeAccuracy: 1e-6 })
    for (const x of input) staged.add(x)
    const port = new JsQuantileSketch(1e-6, 2048)
    port.addMany(input)
    t.deepEqual(bulk.serialize(), port.serialize())
    t.deepEqual(staged.serialize(), port.serialize())
    for (const q of QS) t.true(Object.is(bulk.quantile(q), port.quantile(q)), `q=${q}`)
    t.deepEqual(QuantileSketch.deserialize(bulk.serialize()).serialize(), bulk.serialize())
  }
})
