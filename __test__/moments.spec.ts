// Moments: streaming updates and Pébay merges against exact rational arithmetic, merge laws
// on hostile data, the same bits from the JS and native paths, and the versioned format.
import test from 'ava'

import { Moments } from '../index'
import * as jsm from '../lib/moments/js'
import { exactCentralSums, exactMoments, Rng } from './helpers/oracle'

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)))

function hostile(r: Rng, n: number, kind: number): number[] {
  switch (kind % 4) {
    case 0: // large offset, tiny skewed spread
      return Array.from({ length: n }, () => 1e9 + -Math.log(1 - r.next()) * 1e-3)
    case 1: // negative offset, lognormal-ish spread
      return Array.from({ length: n }, () => -3e12 + Math.exp(3 * (r.next() - 0.5)))
    case 2: // wide magnitudes
      return Array.from({ length: n }, () => r.logUniform(-3, 6))
    default: // small integers with heavy ties
      return Array.from({ length: n }, () => Math.floor(r.next() * 5))
  }
}

test('streaming moments agree with exact rational arithmetic on hostile data', (t) => {
  const r = new Rng(21)
  for (let trial = 0; trial < 12; trial++) {
    const x = hostile(r, 500 + r.below(3000), trial)
    const m = new Moments().addMany(x)
    const ex = exactMoments(x, 0)
    const cs = exactCentralSums(x)
    t.true(rel(m.mean, ex.mean) <= 1e-12, `trial ${trial} mean ${m.mean} vs ${ex.mean}`)
    t.true(rel(m.variance(0), ex.variance) <= 1e-12, `trial ${trial} variance ${m.variance(0)} vs ${ex.variance}`)
    const n = x.length
    const skew = (Math.sqrt(n) * cs.m3) / cs.m2 ** 1.5
    const kurt = (n * cs.m4) / (cs.m2 * cs.m2) - 3
    t.true(Math.abs(m.skewness() - skew) <= 1e-9 * Math.max(1, Math.abs(skew)), `trial ${trial} skewness ${m.skewness()} vs ${skew}`)
    t.true(Math.abs(m.kurtosis() - kurt) <= 1e-9 * Math.max(1, Math.abs(kurt)), `trial ${trial} kurtosis ${m.kurtosis()} vs ${kurt}`)
  }
})

test('merging the parts equals summarizing the whole within 1e-12 relative', (t) => {
  const r = new Rng(22)
  for (let trial = 0; trial < 12; trial++) {
    const x = hostile(r, 4000, trial)
    const whole = new Moments().addMany(x)
    for (const parts of [2, 3, 10, 97]) {
      const size = Math.ceil(x.length / parts)
      const merged = new Moments()
      // Merge in a shuffled order: the result must not depend on it beyond rounding.
      const chunks = r.shuffle(Array.from({ length: parts }, (_, i) => x.slice(i * size, (i + 1) * size)))
      for (const c of chunks) merged.merge(new Moments().addMany(c))
      t.is(merged.count, whole.count)
      t.is(merged.min, whole.min)
      t.is(merged.max, whole.max)
      for (const [name, a, b] of [
        ['mean', merged.mean, whole.mean],
        ['variance', merged.variance(), whole.variance()],
        ['skewness', merged.skewness(), whole.skewness()],
        ['kurtosis', merged.kurtosis(), whole.kurtosis()],
      ] as const) {
        t.true(rel(a, b) <= 1e-12 || Math.abs(a - b) <= 1e-12, `trial ${trial}, ${parts} parts: ${name} ${a} vs ${b}`)
      }
    }
  }
})

test('empty and tiny summaries; merge with empty is the identity', (t) => {
  const e = new Moments()
  t.is(e.count, 0)
  for (const v of [e.mean, e.min, e.max, e.variance(), e.skewness(), e.kurtosis()]) t.true(Number.isNaN(v))
  const one = new Moments().add(5)
  t.is(one.mean, 5)
  t.is(one.variance(0), 0)
  t.true(Number.isNaN(one.variance()))
  const m = new Moments().addMany([1, 2, 3, 4])
  const before = m.serialize()
  m.merge(new Moments())
  t.deepEqual(m.serialize(), before)
  t.deepEqual(new Moments().merge(m).serialize(), before)
})

test('JS and native paths give the same bits', (t) => {
  const r = new Rng(23)
  const x = hostile(r, 5000, 0)
  const viaAdd = new Moments()
  for (const v of x) viaAdd.add(v) // JS, one at a time
  const viaMany = new Moments().addMany(x) // native batch when the binary is loaded
  t.deepEqual(viaMany.serialize(), viaAdd.serialize())
  const state = jsm.newState()
  jsm.addMany(state, Float64Array.from(x))
  t.deepEqual(jsm.serialize(state), viaAdd.serialize())
})

test('serialize/deserialize round-trip; bad bytes are RangeErrors; bad input TypeErrors', (t) => {
  const m = new Moments().addMany([3, 1, 4, 1, 5, 9, 2, 6])
  const b = m.serialize()
  t.is(b.length, 80)
  const back = Moments.deserialize(b)
  t.deepEqual(back.serialize(), b)
  t.is(back.mean, m.mean)
  const bad = (f: (u: Uint8Array) => void) => {
    const u = b.slice()
    f(u)
    return u
  }
  for (const u of [b.slice(0, 79), bad((u) => (u[0] = 0)), bad((u) => (u[4] = 2)), bad((u) => (u[6] = 1)), bad((u) => u.fill(0, 8, 16))]) {
    t.throws(() => Moments.deserialize(u), { instanceOf: RangeError, message: /not serialized Moments/ })
  }
  t.throws(() => m.add('3' as unknown as number), { instanceOf: TypeError })
  t.throws(() => m.addMany({} as unknown as number[]), { instanceOf: TypeError, message: /^xs must be/ })
  t.throws(() => m.merge({} as unknown as Moments), { instanceOf: TypeError })
  t.throws(() => m.variance(-1), { instanceOf: RangeError })
  t.deepEqual(m.serialize(), b, 'unchanged after bad input')
})
