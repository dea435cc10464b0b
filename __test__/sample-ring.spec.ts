// SampleRing: the last N values in order through wrap-around (a model array), summarized like
// the kernels summarize the same values; bad input changes nothing. Both backends.
import test from 'ava'
import fc from 'fast-check'

import * as hs from '../index'
import { exactMoments, fsum } from './helpers/oracle'

test(`keeps the last N in order and summarizes them (${hs.backend()} backend)`, (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 200 }), (n, xs) => {
      const r = new hs.SampleRing(n)
      for (const x of xs) r.push(x / 8)
      const want = xs.slice(Math.max(0, xs.length - n)).map((x) => x / 8)
      const got = Array.from(r.values())
      if (got.length !== want.length || got.some((v, i) => v !== want[i])) return false
      if (want.length === 0) return r.size === 0
      const s = r.summary()
      if (s.count !== want.length || s.sum !== fsum(want) || s.min !== Math.min(...want) || s.max !== Math.max(...want)) return false
      if (want.length >= 2 && Math.abs(s.variance - exactMoments(want, 1).variance) > 1e-12 * Math.max(1, exactMoments(want, 1).variance)) return false
      return true
    }),
  )
  t.pass()
})

test('bad input throws and changes nothing', (t) => {
  t.throws(() => new hs.SampleRing(0), { instanceOf: RangeError })
  t.throws(() => new hs.SampleRing('3' as never), { instanceOf: TypeError })
  const r = new hs.SampleRing(3)
  r.pushAll([1, 2])
  t.throws(() => r.push(NaN), { instanceOf: RangeError })
  t.throws(() => r.pushAll([3, Infinity]), { instanceOf: RangeError })
  t.deepEqual(Array.from(r.values()), [1, 2])
  r.clear()
  t.is(r.size, 0)
})
