// One decoder per format, and it is the fuzzed one (issue 19): the regressions the decoder fuzzer
// (scripts/fuzz-ts.ts) found, each with the input that showed it, and a short run of the fuzzer
// itself on every format (the CI run feeds it 500k inputs per format and backend).
import test from 'ava'

import { QuantileSketch } from '../index'

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex')

test('QuantileSketch: a sum that overflowed serializes and deserializes (±Infinity, NaN as one encoding)', (t) => {
  const up = new QuantileSketch().addMany([1e308, 1e308])
  t.is(up.sum, Infinity)
  const down = new QuantileSketch().add(-1e308, 3)
  t.is(down.sum, -Infinity)
  const both = QuantileSketch.deserialize(up.serialize()).merge(down)
  t.true(Number.isNaN(both.sum))
  for (const sk of [up, down, both]) {
    const bytes = sk.serialize()
    // Before the fix: "not a serialized QuantileSketch: count 2 does not match the bins (2)".
    const back = QuantileSketch.deserialize(bytes)
    t.is(hex(back.serialize()), hex(bytes))
    t.is(back.max, sk.max)
    t.is(back.quantile(0.5), sk.quantile(0.5))
  }
  // NaN is written as the canonical quiet NaN; another NaN bit pattern is refused.
  const nanBytes = both.serialize()
  t.is(hex(nanBytes.subarray(32, 40)), '000000000000f87f')
  const other = nanBytes.slice()
  other[39] = 0xff
  t.throws(() => QuantileSketch.deserialize(other), { instanceOf: RangeError, message: /canonical/ })
})

test('QuantileSketch: a weight or merge that would overflow the count is a RangeError, nothing changed', (t) => {
  const sk = new QuantileSketch().add(1, 1e308)
  const before = hex(sk.serialize())
  t.throws(() => sk.add(2, 1e308), { instanceOf: RangeError, message: /overflow/ })
  t.is(hex(sk.serialize()), before)
  t.throws(() => sk.merge(QuantileSketch.deserialize(sk.serialize())), { instanceOf: RangeError, message: /overflow/ })
  t.is(hex(sk.serialize()), before)
  t.is(sk.count, 1e308)
})

test('QuantileSketch: an empty sketch has one encoding (a sum, bins or a store offset would leak into the next add)', (t) => {
  const empty = new QuantileSketch({ maxBins: 16 }).serialize()
  t.notThrows(() => QuantileSketch.deserialize(empty))
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)
  const sum = empty.slice()
  dv(sum).setFloat64(32, 5, true)
  // Before: accepted, and the next add reported sum 5 + x.
  t.throws(() => QuantileSketch.deserialize(sum), { instanceOf: RangeError, message: /empty sketch/ })
  const offset = empty.slice()
  dv(offset).setInt32(64, 7, true)
  t.throws(() => QuantileSketch.deserialize(offset), { instanceOf: RangeError, message: /offset 0/ })
})
