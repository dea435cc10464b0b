/**
 * The registry in Prometheus's delimited protobuf exposition (`io.prometheus.client.MetricFamily`,
 * served with PROMETHEUS_PROTOBUF_CONTENT_TYPE): the format Prometheus asks for to scrape native
 * histograms, so they come in the same scrape as every other family. Counters, gauges, summaries
 * and classic histograms are encoded as client_golang encodes them; a histogram created with
 * `nativeHistogram: true` carries both its classic buckets and its native (exponential) buckets,
 * rebinned from its all-time sketch at schema 8 (as client_golang's "classic + native" histograms).
 *
 * Field numbers: prometheus/client_model metrics.proto.
 */
import { NATIVE_HISTOGRAM_DEFAULT_SCHEMA, sketchToNativeHistogram, type BucketSpan } from './native-histogram'
import { ProtoWriter } from './protobuf'
import type { CustomMetricObject } from './exposition'
import type { MetricFamilyDef } from './store'

const ABSENT = '\u0000'
const TYPE = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const

function labelPairs(metric: ProtoWriter, names: readonly string[], values: readonly string[], defaults: Record<string, string>): void {
  const seen = new Set<string>()
  names.forEach((n, i) => {
    const v = values[i] === ABSENT ? defaults[n] : values[i]
    if (v === undefined) return
    seen.add(n)
    metric.message(1, new ProtoWriter().string(1, n).string(2, v))
  })
  for (const [n, v] of Object.entries(defaults)) if (!seen.has(n)) metric.message(1, new ProtoWriter().string(1, n).string(2, v))
}

function spans(list: BucketSpan[]): ProtoWriter[] {
  return list.map((sp) => new ProtoWriter().sint(1, sp.offset).uint(2, sp.length))
}

/**
 * One family of the store: `rows` as snapshot() gives them, `labels[i]` the stored label values of
 * series i, `sketches` (native histograms) each series' all-time sketch bytes by index.
 */
export function encodeFamily(name: string, def: MetricFamilyDef, rows: Float64Array, labels: readonly (readonly string[])[], defaults: Record<string, string>, sketches?: (Uint8Array | undefined)[]): Uint8Array {
  const kind = def.kind as keyof typeof TYPE
  const family = new ProtoWriter().string(1, name).string(2, def.help).uint(3, TYPE[kind])
  const n = labels.length
  const width = n === 0 ? 0 : rows.length / n
  for (let i = 0; i < n; i++) {
    const row = rows.subarray(i * width, (i + 1) * width)
    const metric = new ProtoWriter()
    labelPairs(metric, def.labelNames, labels[i], defaults)
    if (kind === 'counter') metric.message(3, new ProtoWriter().double(1, row[0]))
    else if (kind === 'gauge') metric.message(2, new ProtoWriter().double(1, row[0]))
    else if (kind === 'summary') {
      const s = new ProtoWriter().uint(1, row[0]).double(2, row[1])
      def.percentiles.forEach((q, k) => s.message(3, new ProtoWriter().double(1, q).double(2, row[2 + k])))
      metric.message(4, s)
    } else {
      const nb = def.buckets.length
      let cum = 0
      for (let b = 0; b <= nb; b++) cum += row[b]
      const h = new ProtoWriter().uint(1, cum).double(2, row[nb + 1])
      cum = 0
      for (let b = 0; b < nb; b++) {
        cum += row[b]
        h.message(3, new ProtoWriter().uint(1, cum).double(2, def.buckets[b]))
      }
      const bytes = sketches?.[i]
      if (bytes) {
        const nh = sketchToNativeHistogram(bytes, NATIVE_HISTOGRAM_DEFAULT_SCHEMA)
        h.sint(5, nh.schema).double(6, nh.zeroThreshold).uint(7, nh.zeroCount)
        for (const sp of spans(nh.negativeSpans)) h.message(9, sp)
        h.packedSint(10, nh.negativeDeltas)
        // A no-op span marks an empty histogram as native (Prometheus's rule).
        for (const sp of spans(nh.positiveSpans.length > 0 ? nh.positiveSpans : [{ offset: 0, length: 0 }])) h.message(12, sp)
        h.packedSint(13, nh.positiveDeltas)
      }
      metric.message(7, h)
    }
    family.message(4, metric)
  }
  return family.finish(true)
}

/**
 * A custom metric object: a counter or gauge family when its samples are under its own name,
 * else one untyped family per sample name (protobuf has no place for prom-client's free-form values).
 */
export function encodeCustom(m: CustomMetricObject, defaults: Record<string, string>): Uint8Array[] {
  const byName = new Map<string, NonNullable<CustomMetricObject['values']>>()
  for (const v of m.values ?? []) {
    const name = v.metricName ?? m.name
    const list = byName.get(name)
    if (list) list.push(v)
    else byName.set(name, [v])
  }
  const out: Uint8Array[] = []
  for (const [name, values] of byName) {
    const type = name === m.name && (m.type === 'counter' || m.type === 'gauge') ? m.type : 'untyped'
    const family = new ProtoWriter().string(1, name).string(2, m.help ?? '').uint(3, TYPE[type])
    for (const v of values) {
      const metric = new ProtoWriter()
      const labels = { ...v.labels }
      for (const [k, d] of Object.entries(defaults)) if (labels[k] === undefined) labels[k] = d
      for (const [k, x] of Object.entries(labels)) if (x !== undefined) metric.message(1, new ProtoWriter().string(1, k).string(2, String(x)))
      metric.message(type === 'counter' ? 3 : type === 'gauge' ? 2 : 5, new ProtoWriter().double(1, v.value))
      family.message(4, metric)
    }
    out.push(family.finish(true))
  }
  return out
}

/** A counter family of `{metric}`-labeled values (hotstats' own refused/collect-error counts). */
export function encodeCounts(name: string, help: string, counts: Iterable<[string, number]>): Uint8Array {
  const family = new ProtoWriter().string(1, name).string(2, help).uint(3, TYPE.counter)
  for (const [metricName, v] of counts) {
    family.message(4, new ProtoWriter().message(1, new ProtoWriter().string(1, 'metric').string(2, metricName)).message(3, new ProtoWriter().double(1, v)))
  }
  return family.finish(true)
}
