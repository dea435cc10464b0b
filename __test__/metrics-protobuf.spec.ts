// The registry in Prometheus's delimited protobuf exposition: every family decodes (with
// protobufjs and client_model's message shapes) to what the text exposition says; a histogram
// made with nativeHistogram: true carries native buckets equal to a QuantileSketch's export of the
// same values; and a real Prometheus with native histograms enabled scrapes them through the
// negotiating /metrics handler, in the same scrape as the rest. Both backends.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

import test from 'ava'
import protobuf from 'protobufjs'

import * as hs from '../index'
import { samples } from './helpers/exposition'
import { startPrometheus } from './helpers/prometheus'

const { root } = protobuf.parse(`
syntax = "proto2";
package io.prometheus.client;
message LabelPair { optional string name = 1; optional string value = 2; }
message Gauge { optional double value = 1; }
message Counter { optional double value = 1; }
message Quantile { optional double quantile = 1; optional double value = 2; }
message Summary { optional uint64 sample_count = 1; optional double sample_sum = 2; repeated Quantile quantile = 3; }
message Untyped { optional double value = 1; }
message Bucket { optional uint64 cumulative_count = 1; optional double upper_bound = 2; }
message BucketSpan { optional sint32 offset = 1; optional uint32 length = 2; }
message Histogram {
  optional uint64 sample_count = 1; optional double sample_sum = 2; repeated Bucket bucket = 3;
  optional sint32 schema = 5; optional double zero_threshold = 6; optional uint64 zero_count = 7;
  repeated BucketSpan negative_span = 9; repeated sint64 negative_delta = 10;
  repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13;
}
message Metric {
  repeated LabelPair label = 1; optional Gauge gauge = 2; optional Counter counter = 3;
  optional Summary summary = 4; optional Untyped untyped = 5; optional Histogram histogram = 7;
}
message MetricFamily { optional string name = 1; optional string help = 2; optional int32 type = 3; repeated Metric metric = 4; }
`)
const MetricFamily = root.lookupType('io.prometheus.client.MetricFamily')

interface Family {
  name: string
  help: string
  type: number
  metric: Array<{
    label?: { name: string; value: string }[]
    gauge?: { value: number }
    counter?: { value: number }
    untyped?: { value: number }
    summary?: { sampleCount: number; sampleSum: number; quantile: { quantile: number; value: number }[] }
    histogram?: {
      sampleCount: number
      sampleSum: number
      bucket?: { cumulativeCount: number; upperBound: number }[]
      schema?: number
      zeroThreshold?: number
      zeroCount?: number
      positiveSpan?: { offset: number; length: number }[]
      positiveDelta?: number[]
      negativeSpan?: { offset: number; length: number }[]
      negativeDelta?: number[]
    }
  }>
}

function decode(bytes: Uint8Array): Family[] {
  const reader = protobuf.Reader.create(bytes)
  const out: Family[] = []
  while (reader.pos < reader.len) out.push(MetricFamily.toObject(MetricFamily.decodeDelimited(reader), { longs: Number }) as Family)
  return out
}

/** The samples a text exposition would have, rebuilt from decoded families (classic buckets only). */
function asSamples(families: Family[]): Map<string, number> {
  const out = new Map<string, number>()
  const key = (name: string, labels: { name: string; value: string }[] = [], extra: [string, string][] = []) =>
    `${name}{${[...labels.map((l): [string, string] => [l.name, l.value]), ...extra]
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .sort()
      .join(',')}}`
  const fmt = (v: number) => (v === Infinity ? '+Inf' : String(v))
  for (const f of families) {
    for (const m of f.metric) {
      if (m.counter) out.set(key(f.name, m.label), m.counter.value)
      else if (m.gauge) out.set(key(f.name, m.label), m.gauge.value)
      else if (m.untyped) out.set(key(f.name, m.label), m.untyped.value)
      else if (m.summary) {
        for (const q of m.summary.quantile) out.set(key(f.name, m.label, [['quantile', fmt(q.quantile)]]), q.value)
        out.set(key(`${f.name}_sum`, m.label), m.summary.sampleSum)
        out.set(key(`${f.name}_count`, m.label), m.summary.sampleCount)
      } else if (m.histogram) {
        for (const b of m.histogram.bucket ?? []) out.set(key(`${f.name}_bucket`, m.label, [['le', fmt(b.upperBound)]]), b.cumulativeCount)
        out.set(key(`${f.name}_bucket`, m.label, [['le', '+Inf']]), m.histogram.sampleCount)
        out.set(key(`${f.name}_sum`, m.label), m.histogram.sampleSum)
        out.set(key(`${f.name}_count`, m.label), m.histogram.sampleCount)
      }
    }
  }
  return out
}

let n = 0
const fresh = () => new hs.Registry({ name: `protobuf-spec-${process.pid}-${n++}` })

test('protobuf(): every family decodes to the samples of the text exposition (labels, defaults, left-out labels, NaN)', async (t) => {
  const r = fresh()
  const c = new hs.Counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['queue', 'shard'], registers: [r] })
  c.inc({ queue: 'a', shard: 1 }, 3)
  c.inc({ queue: 'b' }, 2) // shard left out
  const g = new hs.Gauge({ name: 'temp', help: 'Temp.', labelNames: ['room'], registers: [r] })
  g.set({ room: 'x"y' }, NaN)
  g.set({ room: 'z' }, -2.5)
  const h = new hs.Histogram({ name: 'lat', help: 'Latency.', labelNames: ['m'], buckets: [0.1, 1], registers: [r] })
  for (const v of [0.05, 0.5, 0.7, 3]) h.observe({ m: 'GET' }, v)
  const s = new hs.Summary({ name: 'size', help: 'Sizes.', percentiles: [0.5, 0.99], registers: [r] })
  for (let i = 1; i <= 100; i++) s.observe(i)
  r.registerMetric({ name: 'custom_total', get: () => ({ name: 'custom_total', help: 'Custom.', type: 'counter', values: [{ value: 7, labels: { k: 'v' } }] }) })
  r.setDefaultLabels({ service: 'api' })
  const families = decode(await r.protobuf())
  t.deepEqual(
    families.map((f) => [f.name, f.type]),
    [
      ['jobs_total', 0],
      ['temp', 1],
      ['lat', 4],
      ['size', 2],
      ['custom_total', 0],
    ],
  )
  t.is(families[0].help, 'Jobs.')
  const fromText = samples(await r.metrics())
  t.deepEqual([...asSamples(families)].sort(), [...fromText].sort())
  t.is(families[2].metric[0].histogram!.schema, undefined, 'a classic histogram has no native part')
})

test('nativeHistogram: true adds native buckets equal to a QuantileSketch export of the same values, beside the classic ones', async (t) => {
  const r = fresh()
  const h = new hs.Histogram({ name: 'rt', help: 'h', labelNames: ['route'], buckets: [0.01, 0.1, 1], nativeHistogram: true, registers: [r] })
  const xs: number[] = []
  let seed = 7
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    xs.push(i % 50 === 0 ? 0 : Math.exp(((seed / 2 ** 31) * 8 - 6)))
  }
  for (const x of xs) h.observe({ route: '/a' }, x)
  const [fam] = decode(await r.protobuf())
  const hist = fam.metric[0].histogram!
  const want = new hs.QuantileSketch().addMany(Float64Array.from(xs)).toPrometheusNativeHistogram({ schema: 8 })
  t.is(hist.schema, 8)
  t.is(hist.sampleCount, xs.length)
  t.is(hist.zeroCount ?? 0, want.zeroCount)
  t.deepEqual(hist.positiveSpan, want.positiveSpans)
  t.deepEqual(hist.positiveDelta, want.positiveDeltas)
  t.deepEqual(
    hist.bucket!.map((b) => [b.upperBound, b.cumulativeCount]),
    [0.01, 0.1, 1].map((b) => [b, xs.filter((x) => x <= b).length]),
  )
  // The text exposition is unchanged: classic buckets only.
  t.true((await r.metrics()).includes('rt_bucket{route="/a",le="+Inf"} 5000\n'))
})

test('a real Prometheus with native histograms enabled scrapes the handler in protobuf: native and classic families in one scrape', async (t) => {
  const r = fresh()
  const native = new hs.Histogram({ name: 'req_seconds', help: 'h', labelNames: ['route'], nativeHistogram: true, registers: [r] })
  const classic = new hs.Histogram({ name: 'classic_seconds', help: 'h', buckets: [1, 2], registers: [r] })
  new hs.Counter({ name: 'jobs_total', help: 'h', registers: [r] }).inc(5)
  for (let i = 1; i <= 1000; i++) native.observe({ route: '/x' }, i / 1000)
  classic.observe(1.5)
  const handler = hs.metricsHandler({ registry: r })
  let accept = ''
  let served = ''
  const server = http.createServer((req, res) => {
    accept = String(req.headers.accept)
    const writeHead = res.writeHead.bind(res)
    res.writeHead = ((code: number, headers: Record<string, string>) => {
      served = headers['content-type']
      return writeHead(code, headers)
    }) as typeof res.writeHead
    void handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const prom = await startPrometheus(`127.0.0.1:${(server.address() as AddressInfo).port}`, ['--enable-feature=native-histograms'])
  try {
    const count = await prom.waitFor('histogram_count(req_seconds)', (res) => res.length === 1)
    t.is(count[0].value, 1000)
    t.regex(accept, /application\/vnd\.google\.protobuf/)
    t.is(served, hs.Registry.PROTOBUF_CONTENT_TYPE)
    const [p50] = await prom.query('histogram_quantile(0.5, req_seconds)')
    t.true(Math.abs(p50.value - 0.5) <= 0.5 * 0.02, `p50 ${p50.value}`)
    t.is((await prom.query('jobs_total'))[0].value, 5)
    t.is((await prom.query('classic_seconds_count'))[0].value, 1)
    // From protobuf Prometheus writes le as an OpenMetrics float ("2.0").
    const buckets = await prom.query('classic_seconds_bucket')
    t.deepEqual(buckets.map((b) => [b.metric.le === '+Inf' ? Infinity : Number(b.metric.le), b.value]).sort((a, b) => a[0] - b[0]), [
      [1, 0],
      [2, 1],
      [Infinity, 1],
    ])
  } finally {
    await prom.stop()
    server.closeAllConnections()
    server.close()
  }
})
