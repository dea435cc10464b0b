// Writes seed inputs for the fuzzers (valid encodings from hotstats itself, plus Redis-style
// sparse HLL strings) into fuzz/corpus/<target>/: cargo-fuzz's targets and scripts/fuzz-ts.ts
// read them. Needs `npm run build:ts` (the bytes are the same on every backend).
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const hs = createRequire(import.meta.url)(join(root, 'dist/index.js'))
const out = (target, name, bytes) => {
  mkdirSync(join(root, 'fuzz/corpus', target), { recursive: true })
  writeFileSync(join(root, 'fuzz/corpus', target, `seed-${name}`), Buffer.from(bytes))
}
out('hll_redis', 'dense-empty', new hs.HyperLogLog().toRedis())
out('hll_redis', 'dense-100', new hs.HyperLogLog().addMany(Array.from({ length: 100 }, (_, i) => `e${i}`)).toRedis())
// sparse: XZERO 16383, VAL 5 x1
out('hll_redis', 'sparse-one', Buffer.concat([Buffer.from('HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80', 'latin1'), Buffer.from([0x7f, 0xfe, 0x90])]))
out('moments', 'empty', new hs.Moments().serialize())
out('moments', 'some', new hs.Moments().addMany([1, 2, 3, 1e9, -5]).serialize())
out('counters', 'g', new hs.GCounter({ replica: 'a', incarnation: 1 }).inc(5).serialize())
out('counters', 'pn', new hs.PNCounter({ replica: 'ü', incarnation: 9 }).inc(3).dec(1).serialize())
out('quantile', 'empty', new hs.QuantileSketch().serialize())
out('quantile', 'mixed', new hs.QuantileSketch({ maxBins: 16 }).addMany([-3, -1, 0, 0, 1, 2, 3, 1e6, 1e-9]).serialize())
// Issue 19: states at the edges the decoders must accept (overflowed sums, NaN moments, weights,
// replica ids with a leading U+FEFF), and the server's state file (scripts/fuzz-ts.ts only).
out('quantile', 'sum-overflow', new hs.QuantileSketch().addMany([1e308, 1e308]).serialize())
out('quantile', 'sum-nan', hs.QuantileSketch.deserialize(new hs.QuantileSketch().addMany([1e308, 1e308]).serialize()).merge(new hs.QuantileSketch().add(-1e308, 3)).serialize())
out('quantile', 'weighted', new hs.QuantileSketch({ relativeAccuracy: 1e-6, maxBins: 4 }).add(0.5, 0.1).add(-2, 0.2).add(0, 0.3).add(1e300, 1e300).serialize())
out('moments', 'overflowed', new hs.Moments().addMany([1e200, -1e200, 3]).serialize())
out('counters', 'bom', new hs.GCounter({ replica: '\uFEFFa', incarnation: 1 }).inc(1).merge(new hs.GCounter({ replica: 'a', incarnation: 1 }).inc(2)).serialize())
{
  const e = new hs.Experiment()
  e.variant('control').expose(1000).convert(31).observe(12.5)
  e.variant('B').expose(990).convert(40)
  for (const v of [3, 1e9, -2]) e.variant('\uFEFFB').observe(v)
  out('experiment', 'three-variants', e.serialize())
  out('experiment', 'empty', new hs.Experiment().serialize())
}
out('hll_redis', 'sparse-mixed', Buffer.concat([Buffer.from('HYLL\x01\0\0\0\0\0\0\0\0\0\0\0', 'latin1'), Buffer.from([0x40, 0x09, 0x8c, 0x03, 0x7f, 0xf0])]))
{
  const req = createRequire(import.meta.url)
  const { Store } = req(join(root, 'dist/server/store.js'))
  const { NameMapper } = req(join(root, 'dist/server/mapping.js'))
  const { SharedCounters } = req(join(root, 'dist/server/counters.js'))
  const { encodeState, restoreSeries } = req(join(root, 'dist/server/state.js'))
  const store = new Store({ windows: [60], relativeAccuracy: 0.01, maxSeries: 100, maxSeriesPerMetric: 100, ttlMs: 0, mapper: NameMapper.default(), counters: new SharedCounters() })
  const b64 = (u) => Buffer.from(u).toString('base64')
  const now = 1_700_000_000_000
  for (const st of [
    { key: 'requests|route:/a,status:200', type: 'c', count: 3, lastSeen: now, sum: 3, comp: 0 },
    { key: 'temperature', type: 'g', count: 2, lastSeen: now, value: -1.5 },
    { key: 'idle', type: 'g', count: 0, lastSeen: now, value: null },
    { key: 'latency|route:/a', type: 'ms', count: 4, lastSeen: now, sketch: b64(new hs.QuantileSketch().addMany([1, 2, 3, 400]).serialize()), welford: [4, 101.5, 119403] },
    { key: 'users', type: 's', count: 2, lastSeen: now, hll: b64(new hs.HyperLogLog().addMany(['u1', 'u2']).toRedis()) },
  ]) {
    restoreSeries(store, st, now)
  }
  out('server_state', 'five-series', encodeState(store))
  out('server_state', 'empty', encodeState(new Store({ windows: [60], relativeAccuracy: 0.01, maxSeries: 1, maxSeriesPerMetric: 1, ttlMs: 0, mapper: NameMapper.default(), counters: new SharedCounters() })))
}
console.log('fuzz seeds written')
