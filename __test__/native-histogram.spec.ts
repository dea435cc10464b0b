// Prometheus native-histogram interop: the export read back by a protobuf decoder built from
// Prometheus's field numbers, the quantiles a real Prometheus server (Debian package, native
// histograms enabled) computes from a scrape of it, and the import.
import { createServer } from 'node:http'

import test from 'ava'
import protobuf from 'protobufjs'

import { encodeNativeHistogramFamily, PROMETHEUS_PROTOBUF_CONTENT_TYPE, QuantileSketch, type NativeHistogram } from '../index'
import { startPrometheus } from './helpers/prometheus'
import { Rng } from './helpers/oracle'

// The message shapes of io.prometheus.client (metrics.proto in prometheus/client_model), the
// fields this test reads.
const { root } = protobuf.parse(`
syntax = "proto3";
package io.prometheus.client;
message LabelPair { string name = 1; string value = 2; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  uint64 sample_count = 1; double sample_sum = 2; sint32 schema = 5; double zero_threshold = 6;
  uint64 zero_count = 7; repeated BucketSpan negative_span = 9; repeated sint64 negative_delta = 10;
  repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13;
}
message Metric { repeated LabelPair label = 1; Histogram histogram = 7; }
message MetricFamily { string name = 1; string help = 2; int32 type = 3; repeated Metric metric = 4; }
`)
const MetricFamily = root.lookupType('io.prometheus.client.MetricFamily')

function gaussian(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next())
}

/** Absolute bucket counts by index, rebuilt from spans and deltas (an independent decoder). */
function buckets(spans: Array<{ offset: number; length: number }>, deltas: number[]): Map<number, number> {
  const out = new Map<number, number>()
  let j = 0
  let c = 0
  let d = 0
  spans.forEach((s, n) => {
    j = n === 0 ? s.offset : j + s.offset
    for (let k = 0; k < s.length; k++, j++) {
      c += deltas[d++]
      if (c > 0) out.set(j, c)
    }
  })
  return out
}

/** The sorted values around rank q·n, the range a correct quantile must fall in (then ± tol). */
function exactRange(sorted: Float64Array, q: number): [number, number] {
  const n = sorted.length
  const lo = Math.max(0, Math.floor(q * n) - 1)
  const hi = Math.min(n - 1, Math.ceil(q * n) + 1)
  return [sorted[lo], sorted[hi]]
}

const QS = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]

test('export: protobuf decodes to the sketch buckets; every value within the stated bound', (t) => {
  const r = new Rng(3)
  const xs = Float64Array.from({ length: 30000 }, () => (r.next() < 0.05 ? 0 : (r.next() < 0.3 ? -1 : 1) * Math.exp(2 * gaussian(r))))
  const sorted = xs.slice().sort()
  const sk = new QuantileSketch().addMany(xs)
  for (const schema of [8, 3, 0, -4]) {
    const h = sk.toPrometheusNativeHistogram({ schema })
    const bytes = encodeNativeHistogramFamily('latency_seconds', 'Request latency.', [{ labels: { route: '/a"b\\c' }, histogram: h }])
    const reader = protobuf.Reader.create(bytes)
    const fam = MetricFamily.toObject(MetricFamily.decodeDelimited(reader), { longs: Number, defaults: true }) as {
      name: string
      type: number
      metric: Array<{ label: Array<{ name: string; value: string }>; histogram: Record<string, never> & { sampleCount: number; sampleSum: number; schema: number; zeroThreshold: number; zeroCount: number; positiveSpan: []; positiveDelta: number[]; negativeSpan: []; negativeDelta: number[] } }>
    }
    t.is(reader.pos, bytes.length, 'exactly one delimited message')
    t.is(fam.name, 'latency_seconds')
    t.is(fam.type, 4)
    t.deepEqual(fam.metric[0].label, [{ name: 'route', value: '/a"b\\c' }])
    const ph = fam.metric[0].histogram
    t.is(ph.schema, schema)
    t.is(ph.sampleCount, xs.length)
    t.is(ph.sampleSum, sk.sum)
    t.is(ph.zeroCount, xs.filter((x) => x === 0).length)
    const pos = buckets(ph.positiveSpan, ph.positiveDelta)
    const neg = buckets(ph.negativeSpan, ph.negativeDelta)
    t.is([...pos.values(), ...neg.values()].reduce((a, b) => a + b, 0) + ph.zeroCount, xs.length)
    // Quantiles read off the decoded buckets (rank q·n, cumulative from the most negative
    // bucket up) fall in buckets that hold the exact quantile up to one sketch bin (α).
    const base = 2 ** (2 ** -schema)
    const nNeg = [...neg.values()].reduce((a, b) => a + b, 0) + ph.zeroCount
    const ascending = [...pos].sort((a, b) => a[0] - b[0])
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      let left = q * xs.length - nNeg
      const [j] = ascending.find(([, c]) => (left -= c) <= 0) ?? [NaN]
      const [lo, hi] = exactRange(sorted, q)
      t.true(base ** (j - 1) / 1.0101 <= hi && lo <= base ** j * 1.0101, `schema ${schema}, q=${q}: bucket ${j} = (${base ** (j - 1)}, ${base ** j}] vs exact [${lo}, ${hi}]`)
    }
  }
})

test('import: count and sum kept, quantiles within the stated bound, bad layouts rejected', (t) => {
  const r = new Rng(4)
  const xs = Float64Array.from({ length: 20000 }, () => (r.next() < 0.02 ? 0 : (r.next() < 0.4 ? -1 : 1) * Math.exp(1.5 * gaussian(r))))
  const sorted = xs.slice().sort()
  const h = new QuantileSketch().addMany(xs).toPrometheusNativeHistogram({ schema: 5 })
  const back = QuantileSketch.fromPrometheusNativeHistogram(h)
  t.is(back.count, xs.length)
  t.is(back.sum, h.sum)
  const base = 2 ** (2 ** -5)
  const tol = (1.01 * base * (1 + (base - 1) / (base + 1)) - 1) * 1.000001
  for (const q of QS) {
    const [lo, hi] = exactRange(sorted, q)
    const v = back.quantile(q)
    const a = Math.min(lo * (1 - Math.sign(lo) * tol), lo * (1 + Math.sign(lo) * tol))
    const b = Math.max(hi * (1 + Math.sign(hi) * tol), hi * (1 - Math.sign(hi) * tol))
    t.true(v >= a && v <= b, `q=${q}: ${v} outside [${a}, ${b}]`)
  }
  const bad: Array<[string, Partial<NativeHistogram>]> = [
    ['schema', { schema: 9 }],
    ['schema', { schema: 1.5 }],
    ['Deltas', { positiveDeltas: [1, -5] }],
    ['Deltas has', { positiveDeltas: [...h.positiveDeltas, 1] }],
    ['Spans', { positiveSpans: [{ offset: 0, length: -1 }] }],
    ['zeroCount', { zeroCount: -1 }],
  ]
  for (const [msg, patch] of bad) {
    t.throws(() => QuantileSketch.fromPrometheusNativeHistogram({ ...h, ...patch } as NativeHistogram), { instanceOf: RangeError, message: new RegExp(msg) })
  }
  t.throws(() => new QuantileSketch().toPrometheusNativeHistogram({ schema: 10 }), { instanceOf: RangeError })
  t.throws(() => encodeNativeHistogramFamily('bad name', '', []), { instanceOf: RangeError })
})

test('a real Prometheus server scrapes the export and its histogram_quantile agrees within the bound', async (t) => {
  const r = new Rng(11)
  const xs = Float64Array.from({ length: 50000 }, () => Math.exp(1 + 1.2 * gaussian(r)) / 1000)
  const sorted = xs.slice().sort()
  const sk = new QuantileSketch().addMany(xs)
  const empty = new QuantileSketch()
  const body = encodeNativeHistogramFamily('hotstats_test_seconds', 'A QuantileSketch exported as a native histogram.', [
    { labels: { kind: 'data' }, histogram: sk.toPrometheusNativeHistogram() },
    { labels: { kind: 'empty' }, histogram: empty.toPrometheusNativeHistogram() },
  ])
  let scrapedAs = ''
  const server = createServer((req, res) => {
    scrapedAs = String(req.headers.accept)
    res.writeHead(200, { 'Content-Type': PROMETHEUS_PROTOBUF_CONTENT_TYPE })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const prom = await startPrometheus(`127.0.0.1:${port}`, ['--enable-feature=native-histograms'])
  try {
    const counts = await prom.waitFor('histogram_count(hotstats_test_seconds)', (res) => res.length === 2)
    t.regex(scrapedAs, /application\/vnd\.google\.protobuf/)
    const byKind = (res: typeof counts) => Object.fromEntries(res.map((x) => [x.metric.kind, x.value]))
    t.deepEqual(byKind(counts), { data: xs.length, empty: 0 })
    const sums = byKind(await prom.query('histogram_sum(hotstats_test_seconds)'))
    t.true(Math.abs(sums.data - sk.sum) <= 1e-12 * sk.sum, `sum ${sums.data} vs ${sk.sum}`)
    const tol = 1.01 * 2 ** (2 ** -8) - 1
    for (const q of QS) {
      const [res] = await prom.query(`histogram_quantile(${q}, hotstats_test_seconds{kind="data"})`)
      const [lo, hi] = exactRange(sorted, q)
      t.true(res.value >= lo * (1 - tol) && res.value <= hi * (1 + tol), `q=${q}: Prometheus says ${res.value}, exact in [${lo}, ${hi}], tolerance ${tol}`)
    }
  } finally {
    await prom.stop()
    server.close()
  }
})
