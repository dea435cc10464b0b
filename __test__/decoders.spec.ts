// One decoder per format, and it is the fuzzed one (issue 19): the regressions the decoder fuzzer
// (scripts/fuzz-ts.ts) found, each with the input that showed it, and a short run of the fuzzer
// itself on every format (the CI run feeds it 500k inputs per format and backend).
import test from 'ava'

import { Experiment, GCounter, Moments, PNCounter, QuantileSketch } from '../index'
import { loadNative } from '../lib/backend/native'
import { clusterViewModel } from '../server/cluster'
import { SharedCounters } from '../server/counters'
import { renderText } from '../server/exposition'
import { NameMapper } from '../server/mapping'
import { restoreSeries, type SeriesState } from '../server/state'
import { Store } from '../server/store'
import { createFuzzer, FORMATS, loadLib, type Failure } from './helpers/decoder-fuzz'

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

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

test('QuantileSketch: rank is at most 1 (a fuzzed input with count 9 answered 1.0000000000000024)', (t) => {
  const input =
    '48535153010000007b14ae47e17a843f100000000000000000000000000022400900000084842e4100000000000008c000000000808441002e00000000000040aa02000010000000000000000000000000000000000010400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000f03f37000000010000000000000000000040'
  const sk = QuantileSketch.deserialize(unhex(input))
  t.is(sk.rank(Infinity), 1)
})

const mkStore = () => new Store({ windows: [60], relativeAccuracy: 0.01, maxSeries: 100, maxSeriesPerMetric: 100, ttlMs: 0, mapper: NameMapper.default(), counters: new SharedCounters() })

test('server state: a series state that would not render as exposition text is refused, the store unchanged', (t) => {
  const now = Date.now()
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    // Before: the gauge's text went into /metrics as it was (a second, forged sample line).
    ['gauge value as text', { key: 'g', type: 'g', count: 1, lastSeen: now, value: '1\nevil_metric 5' }, /value must be a finite number/],
    // Before: NaN in /metrics, then 0 after the next save and load.
    ['counter sum as text', { key: 'c', type: 'c', count: 1, lastSeen: now, sum: 'abc' }, /sum must be a finite number/],
    ['negative count', { key: 'c', type: 'c', count: -3.5, lastSeen: now, sum: 1 }, /count must be a whole number/],
    ['lastSeen as text', { key: 'c', type: 'c', count: 1, lastSeen: 'x', sum: 1 }, /lastSeen/],
    // Before: a sample line `x{="v"} 1`, which no scraper parses (ingest refuses empty tag names).
    ['empty tag name', { key: 'x|:v', type: 'c', count: 1, lastSeen: now, sum: 1 }, /empty name or tag name/],
    ['sketch not a string', { key: 'd', type: 'ms', count: 1, lastSeen: now, sketch: 5 }, /sketch must be a base64 string/],
  ]
  for (const [what, st, message] of bad) {
    const store = mkStore()
    t.throws(() => restoreSeries(store, st as unknown as SeriesState, now), { instanceOf: RangeError, message }, what)
    t.is(store.series.size, 0, `${what}: nothing created`)
  }
  const store = mkStore()
  t.true(restoreSeries(store, { key: 'g|a:b', type: 'g', count: 2, lastSeen: now, value: 1.5 }, now))
  t.is([...renderText(store, 'prometheus')].join('').split('\n').filter((l) => l && !l.startsWith('#')).join(), 'g{a="b"} 1.5')
})

test('server cluster: a node state in Redis that is not one is left out of the cluster view (it was merged as it was)', (t) => {
  const good = { key: 'c', type: 'c', count: 2, lastSeen: 1, sum: 5 }
  const hashes = [new Map([['c', JSON.stringify(good)]]), new Map([['c', JSON.stringify({ ...good, count: '3', sum: '7' })]]), new Map([['c', '{not json']])]
  // Before: count 2 + '3' = '23' and sum '57' (string concatenation), or a SyntaxError.
  const view = clusterViewModel(hashes, 'c')!
  t.is(view.count, 2)
  t.is(view.sum, 5)
})

test('GCounter/PNCounter: a magic that is not UTF-8 is a RangeError (it was a TypeError from TextDecoder)', (t) => {
  for (const h of ['ffffff00ffffef7f7f000000', 'a42928a7000000000000000000000000']) {
    t.throws(() => GCounter.deserialize(unhex(h)), { instanceOf: RangeError, message: /bad magic/ })
    t.throws(() => PNCounter.deserialize(unhex(h)), { instanceOf: RangeError, message: /bad magic/ })
  }
})

test('GCounter: replica ids that differ only by a leading U+FEFF stay two entries through the bytes', (t) => {
  const g = new GCounter({ replica: '\uFEFFa', incarnation: 1 }).inc(1).merge(new GCounter({ replica: 'a', incarnation: 1 }).inc(2))
  t.is(g.value(), 3)
  const bytes = g.serialize()
  const back = GCounter.deserialize(bytes) // before: the decoder dropped the BOM and one entry overwrote the other
  t.is(back.value(), 3)
  t.is(hex(back.serialize()), hex(bytes))
})

test('Moments: the decoder refuses states no adds reach (an empty summary with a min, min above max)', (t) => {
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)
  const empty = new Moments().serialize()
  const withMin = empty.slice()
  dv(withMin).setFloat64(24, -5, true)
  // Before: accepted, and the next add(1) reported min -5.
  t.throws(() => Moments.deserialize(withMin), { instanceOf: RangeError, message: /empty summary/ })
  const some = new Moments().addMany([1, 2, 3]).serialize()
  const swapped = some.slice()
  dv(swapped).setFloat64(24, 3, true)
  dv(swapped).setFloat64(32, 1, true)
  t.throws(() => Moments.deserialize(swapped), { instanceOf: RangeError, message: /ordered/ })
  const negM2 = some.slice()
  dv(negM2).setFloat64(56, -1, true)
  t.throws(() => Moments.deserialize(negM2), { instanceOf: RangeError, message: /M2/ })
})

test('Moments: overflowed moments round-trip (NaN as one encoding); a merge past 2^53 values is refused, nothing changed', (t) => {
  const m = new Moments().addMany([1e200, -1e200, 3])
  t.true(Number.isNaN(m.kurtosis()) || !Number.isFinite(m.kurtosis()))
  const bytes = m.serialize()
  t.is(hex(Moments.deserialize(bytes).serialize()), hex(bytes))
  const full = new Moments().add(1).serialize()
  new DataView(full.buffer).setBigUint64(8, 2n ** 53n, true)
  const big = Moments.deserialize(full)
  const before = hex(big.serialize())
  // Before: merged to 2^53 + 1, which serialized but did not deserialize.
  t.throws(() => big.merge(new Moments().add(2)), { instanceOf: RangeError, message: /2\^53/ })
  t.throws(() => big.add(2), { instanceOf: RangeError, message: /2\^53/ })
  t.is(hex(big.serialize()), before)
})

test('Experiment: names starting with U+FEFF and -0 counts (found by the fuzzer); a merge refused by one variant changes no other', (t) => {
  const e = new Experiment()
  e.variant('\uFEFFB').expose(2)
  e.variant('B').expose(1)
  const bytes = e.serialize()
  // Before: the decoder dropped the BOM, and the two names collided ("appears twice").
  const back = Experiment.deserialize(bytes)
  t.is(hex(back.serialize()), hex(bytes))
  // Exposures -0: a second encoding of 0 (it came back as +0, other bytes).
  const one = new Experiment()
  one.variant('A').expose(0)
  const negZero = one.serialize()
  new DataView(negZero.buffer).setFloat64(12 + 2 + 1, -0, true)
  t.throws(() => Experiment.deserialize(negZero), { instanceOf: RangeError, message: /exposures is -0/ })
  // A full variant B (2^53 values) refuses the merge before variant A changes.
  const target = new Experiment()
  target.variant('A').expose(1).observe(1)
  target.variant('B').observe(1)
  const full = target.serialize()
  // B's Moments count (u64) sits after A's record: 12 + (2 + 1 + 16 + 80) + 2 + 1 + 16 + 8.
  new DataView(full.buffer).setBigUint64(12 + 99 + 19 + 8, 2n ** 53n, true)
  const big = Experiment.deserialize(full)
  const before = hex(big.serialize())
  const incoming = new Experiment()
  incoming.variant('A').expose(5).observe(2)
  incoming.variant('B').observe(3)
  t.throws(() => big.merge(incoming.serialize()), { instanceOf: RangeError, message: /2\^53/ })
  t.is(hex(big.serialize()), before, 'variant A unchanged too')
})

test('one decoder per format: the binding exports no decoder or merge of bytes that nothing calls', (t) => {
  const binding = loadNative().binding as Record<string, unknown> | null
  if (binding === null) return t.pass('native binary not loaded')
  // Deleted in issue 19 (the facades decode these formats in JS, where their state lives).
  for (const name of ['hllFromRedis', 'momentsDeserialize', 'momentsSerialize', 'gcounterMerge', 'pncounterMerge']) t.is(binding[name], undefined, name)
  // What the native backend does decode: the QuantileSketch, whose state is native.
  t.is(typeof (binding.NativeQuantileSketch as { deserialize?: unknown }).deserialize, 'function')
})

test('decoder fuzzer, short run: every format, every input decodes to a valid object or is a RangeError', (t) => {
  const fuzzer = createFuzzer(loadLib('src'))
  const failures: Failure[] = []
  for (const format of FORMATS) {
    const r = fuzzer.fuzzFormat(format, 19, format === 'hll' || format === 'experiment' ? 600 : format === 'server-state' ? 300 : 3000, failures)
    t.log(`${format}: ${r.inputs} inputs, ${r.decoded} decoded, ${r.refused} refused (${r.ms.toFixed(0)} ms)`)
    t.true(r.decoded > 0 && r.refused > 0, `${format}: both outcomes reached`)
  }
  t.deepEqual(failures, [])
})
