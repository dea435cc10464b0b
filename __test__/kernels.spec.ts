// The public kernels against independent references. Runs on whatever backend the environment
// selects (npm test runs this file natively and with HOTSTATS_BACKEND=js).
import test from 'ava'

import * as hs from '../index'
import { exactMoments, fsum, naiveSum, Rng, ulpDistance } from './helpers/oracle'

const is = (a: number, b: number) => Object.is(a, b)

test('reports the backend the environment asked for', (t) => {
  const want = process.env.HOTSTATS_BACKEND
  if (want && want !== 'auto') t.is(hs.backend(), want)
  t.true(hs.BACKEND_NAMES.includes(hs.backend()))
  const info = hs.backendInfo()
  t.is(info.backend, hs.backend())
  if (info.backend === 'js') t.truthy(info.reason)
  t.true(Array.isArray(hs.cpuFeatures()))
})

test('empty input', (t) => {
  const e = new Float64Array(0)
  t.true(is(hs.sum(e), 0))
  t.true(Number.isNaN(hs.mean(e)))
  t.true(Number.isNaN(hs.min(e)))
  t.true(Number.isNaN(hs.max(e)))
  t.true(Number.isNaN(hs.variance(e)))
  t.true(Number.isNaN(hs.stddev(e)))
  const s = hs.summarize([])
  t.is(s.count, 0)
  t.true(is(s.sum, 0))
  for (const k of ['mean', 'min', 'max', 'variance', 'stddev'] as const) t.true(Number.isNaN(s[k]), k)
})

test('NaN propagates to sum, mean, min, max and variance, at any position and size', (t) => {
  for (const n of [1, 5, 16, 17, 100, 1000, 5000]) {
    for (const pos of [0, n >> 1, n - 1]) {
      const x = new Float64Array(n).fill(1.5)
      x[pos] = NaN
      t.true(Number.isNaN(hs.sum(x)), `sum n=${n} pos=${pos}`)
      t.true(Number.isNaN(hs.mean(x)))
      t.true(Number.isNaN(hs.min(x)))
      t.true(Number.isNaN(hs.max(x)))
      t.true(Number.isNaN(hs.variance(x)))
    }
  }
})

test('min/max follow Math.min/Math.max: -0 < +0, infinities', (t) => {
  for (const n of [2, 3, 16, 33, 300, 4096]) {
    const x = new Float64Array(n) // all +0
    x[n - 1] = -0
    t.true(is(hs.min(x), -0), `min n=${n}`)
    t.true(is(hs.max(x), 0), `max n=${n}`)
    x.fill(-0)
    t.true(is(hs.max(x), -0))
    t.true(is(hs.min(x), -0))
    x[1] = Infinity
    x[0] = -Infinity
    t.is(hs.max(x), Infinity)
    t.is(hs.min(x), -Infinity)
  }
  const r = new Rng(7)
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + r.below(3000)
    const xs = Array.from({ length: n }, () => r.logUniform(-10, 10))
    t.true(is(hs.min(xs), Math.min(...xs)))
    t.true(is(hs.max(xs), Math.max(...xs)))
  }
})

test('infinities: sum is IEEE (inf + -inf is NaN), variance NaN', (t) => {
  t.is(hs.sum([1, Infinity, 2]), Infinity)
  t.is(hs.sum(new Float64Array(100).fill(-Infinity)), -Infinity)
  t.true(Number.isNaN(hs.sum([Infinity, -Infinity])))
  t.true(Number.isNaN(hs.variance([1, Infinity, 3])))
  t.is(hs.sum(new Float64Array(64).fill(1.7976931348623157e308)), Infinity)
})

test('number[] and Float64Array views give the same answers; views respect byteOffset and length', (t) => {
  const r = new Rng(3)
  const base = new Float64Array(5000).map(() => r.logUniform(-3, 3))
  for (const [off, len] of [[0, 0], [1, 15], [3, 17], [7, 256], [11, 4000]]) {
    const view = base.subarray(off, off + len)
    const copy = Array.from(view)
    t.true(is(hs.sum(view), hs.sum(copy)))
    t.true(is(hs.sum(view), fsum(copy)) || ulpDistance(hs.sum(view), fsum(copy)) <= 2)
    t.deepEqual(hs.summarize(view), hs.summarize(copy))
    const onBuffer = new Float64Array(base.buffer, off * 8, len)
    t.true(is(hs.sum(onBuffer), hs.sum(view)))
  }
})

test('bad input is a TypeError or RangeError naming the argument', (t) => {
  for (const bad of [undefined, null, 3, 'abc', {}, new Float32Array(3), new Uint8Array(4), new DataView(new ArrayBuffer(8))]) {
    for (const f of [hs.sum, hs.mean, hs.min, hs.max, hs.variance, hs.stddev, hs.summarize] as Array<(x: unknown) => unknown>) {
      const err = t.throws(() => f(bad), { instanceOf: TypeError })
      t.regex(err!.message, /^x must be a Float64Array or an array of numbers/)
    }
  }
  const err = t.throws(() => hs.sum([1, '2' as unknown as number, 3]), { instanceOf: TypeError })
  t.regex(err!.message, /x\[1\] is string/)
  t.throws(() => hs.variance([1, 2, 3], { ddof: -1 }), { instanceOf: RangeError, message: /options\.ddof/ })
  t.throws(() => hs.variance([1, 2, 3], { ddof: NaN }), { instanceOf: RangeError, message: /options\.ddof/ })
  t.throws(() => hs.variance([1, 2, 3], { ddof: '1' as unknown as number }), { instanceOf: TypeError, message: /options\.ddof/ })
  t.throws(() => hs.summarize([1, 2, 3], 5 as unknown as object), { instanceOf: TypeError, message: /options/ })
})

test('inputs are never modified', (t) => {
  const r = new Rng(11)
  const x = new Float64Array(3000).map(() => r.logUniform(-5, 5))
  const before = x.slice()
  hs.summarize(x)
  hs.sum(x)
  hs.variance(x, { ddof: 0 })
  t.deepEqual(x, before)
})

// ---- accuracy -------------------------------------------------------------------------------

function absorption(r: Rng, n: number): number[] {
  const v = Array.from({ length: n }, () => r.next())
  for (let i = 0; i < 4; i++) v.push(1e16, -1e16)
  r.shuffle(v)
  return [1e16, ...v, -1e16]
}

function wideCancellation(r: Rng, n: number): number[] {
  const v: number[] = []
  for (let i = 0; i < n; i++) {
    const x = r.logUniform(-20, 20)
    v.push(x)
    if (Math.abs(x) >= 1) v.push(-x)
  }
  return r.shuffle(v)
}

function heavyCancellation(r: Rng, n: number): number[] {
  const v = Array.from({ length: n }, () => r.logUniform(-5, 17))
  v.push(-fsum(v), r.logUniform(-3, 0))
  return r.shuffle(v)
}

for (const [name, make] of [
  ['a few 1e16 among small values', absorption],
  ['magnitudes 1e-20..1e20 with heavy cancellation', wideCancellation],
  ['total near zero (condition number ~1e20)', heavyCancellation],
] as const) {
  test(`sum within 2 ulp of the exactly rounded sum where naive summation fails: ${name}`, (t) => {
    const r = new Rng(name.length)
    let naiveFails = 0
    const trials = 60
    for (let trial = 0; trial < trials; trial++) {
      const x = make(r, 16 + r.below(3000))
      const exact = fsum(x)
      const got = hs.sum(x)
      t.true(ulpDistance(got, exact) <= 2, `trial ${trial}: ${got} vs exact ${exact}`)
      const naive = naiveSum(x)
      if (Math.abs(naive - exact) > 1e-3 * Math.abs(exact)) naiveFails++
    }
    // The same check fails for naive summation: relative error above 1e-3 in (nearly) every trial.
    t.true(naiveFails >= trials * 0.9, `naive failed only ${naiveFails}/${trials}`)
  })
}

test('sum of ordinary data (the certified fast pass) is within 1 ulp of the exactly rounded sum', (t) => {
  const r = new Rng(17)
  let worst = 0
  for (let trial = 0; trial < 200; trial++) {
    const n = 17 + r.below(20000)
    const shift = r.logUniform(-3, 3)
    const x = new Float64Array(n).map(() => shift + r.logUniform(-2, 2))
    const d = ulpDistance(hs.sum(x), fsum(x))
    worst = Math.max(worst, d)
    t.true(d <= 1, `trial ${trial}: ${d} ulps`)
  }
  t.log(`worst: ${worst} ulp`)
})

test('variance and mean agree with exact rational arithmetic on hostile inputs', (t) => {
  const r = new Rng(99)
  let worst = 0
  for (let trial = 0; trial < 40; trial++) {
    const n = 2 + r.below(2000)
    const offset = [1e9, -3e12, 1e15, 0.5, 1e-8][trial % 5]
    const spread = Math.abs(offset) * [1e-9, 1e-6, 1e-12, 1][trial % 4]
    const x = Array.from({ length: n }, () => offset + spread * (r.next() - 0.5))
    for (const ddof of [0, 1]) {
      const ref = exactMoments(x, ddof)
      const got = hs.variance(x, { ddof })
      const rel = ref.variance === 0 ? Math.abs(got) : Math.abs(got - ref.variance) / ref.variance
      worst = Math.max(worst, rel)
      t.true(rel <= 1e-13, `trial ${trial} ddof ${ddof}: ${got} vs ${ref.variance} (rel ${rel})`)
      t.true(ulpDistance(hs.mean(x), ref.mean) <= 1)
    }
  }
  t.log(`worst relative variance error: ${worst.toExponential(2)}`)
})

test('the textbook one-pass variance fails the same check (so the check can fail)', (t) => {
  const x = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 7) * 1e-3)
  const ref = exactMoments(x, 1).variance
  let s = 0
  let s2 = 0
  for (const v of x) {
    s += v
    s2 += v * v
  }
  const textbook = (s2 - (s * s) / x.length) / (x.length - 1)
  t.true(Math.abs(textbook - ref) / ref > 1e-3)
  t.true(Math.abs(hs.variance(x) - ref) / ref <= 1e-13)
})

test('ddof: population vs sample, NaN when n - ddof <= 0', (t) => {
  t.is(hs.variance([1, 2, 3, 4], { ddof: 0 }), 1.25)
  t.is(hs.variance([1, 2, 3, 4]), 5 / 3)
  t.is(hs.stddev([2, 4, 4, 4, 5, 5, 7, 9], { ddof: 0 }), 2)
  t.true(Number.isNaN(hs.variance([5])))
  t.is(hs.variance([5], { ddof: 0 }), 0)
  t.true(Number.isNaN(hs.variance([1, 2], { ddof: 2 })))
  t.is(hs.variance(new Float64Array(1000).fill(3.25)), 0)
})

test('summarize agrees with the single-purpose kernels', (t) => {
  const r = new Rng(5)
  for (const n of [1, 2, 15, 16, 17, 47, 48, 49, 255, 256, 257, 10000]) {
    const x = new Float64Array(n).map(() => r.logUniform(-6, 6))
    const s = hs.summarize(x)
    t.is(s.count, n)
    t.true(is(s.sum, hs.sum(x)))
    t.true(is(s.mean, hs.mean(x)))
    t.true(is(s.min, hs.min(x)))
    t.true(is(s.max, hs.max(x)))
    t.true(is(s.variance, hs.variance(x)))
    t.true(is(s.stddev, hs.stddev(x)))
  }
})
