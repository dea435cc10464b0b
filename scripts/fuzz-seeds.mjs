// Writes seed inputs for the fuzz targets (valid encodings from hotstats itself, plus Redis-style
// sparse HLL strings) into fuzz/corpus/<target>/. Needs `npm run build`.
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
console.log('fuzz seeds written')
