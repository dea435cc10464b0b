/**
 * Interop with Prometheus native histograms (exponential buckets, "sparse histograms").
 *
 * Why this format: a Node service already has a Prometheus server scraping it, and Prometheus
 * (2.40+, `--enable-feature=native-histograms`) stores these histograms and answers
 * `histogram_quantile`, `histogram_count` and `histogram_sum` over them, merged across series
 * and over time. Datadog's DDSketch protobuf would carry our bins without loss, but nothing a
 * user runs themselves ingests it, and its readers disagree on the bin-key convention
 * (sketches-js and sketches-py key bins with ceil, sketches-go and sketches-java with floor).
 *
 * Layout (as in Prometheus's `io.prometheus.client.Histogram`): with `base = 2^(2^-schema)`,
 * bucket `j` holds the values in `(base^(j-1), base^j]`; the zero bucket holds `|v| <=
 * zeroThreshold`. Buckets are listed as spans (`offset` = gap to the previous span, or the
 * first index; `length` = consecutive buckets) and integer deltas (each bucket's count minus
 * the previous one's).
 *
 * Accuracy, stated honestly:
 * - export: every sketch bin's count goes into the bucket holding the bin's representative
 *   value, so a quantile Prometheus computes from the export is within about
 *   `(1 + α) · base - 1` of the true value (α + 0.27% at the default schema 8). Counts are
 *   rounded to integers (integer histograms are what every Prometheus version reads); the
 *   count and sum are the sketch's own.
 * - import: each bucket's count goes to the value that is closest, in relative terms, to every
 *   value of the bucket (`2 base^j / (1 + base)`), so quantiles of the imported sketch are
 *   within about `(base - 1) / (base + 1) + α` of the histogram's data; count and sum are the
 *   histogram's; min and max become the extreme buckets' representatives (a native histogram
 *   does not keep them).
 */
import { JsQuantileSketch } from '../quantile/js'
import { ProtoWriter } from './protobuf'

export interface BucketSpan {
  /** Gap to the previous span's end, or the index of the first bucket for the first span. */
  offset: number
  /** Number of consecutive buckets. */
  length: number
}

export interface NativeHistogram {
  /** -4..8: each power of two is split into 2^schema buckets. */
  schema: number
  zeroThreshold: number
  zeroCount: number
  count: number
  sum: number
  positiveSpans: BucketSpan[]
  /** Count deltas of the positive buckets, in span order. */
  positiveDeltas: number[]
  negativeSpans: BucketSpan[]
  negativeDeltas: number[]
}

export const NATIVE_HISTOGRAM_DEFAULT_SCHEMA = 8

/** Content type of the delimited protobuf exposition Prometheus scrapes native histograms from. */
export const PROMETHEUS_PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'

export function checkSchema(schema: unknown): number {
  if (!Number.isInteger(schema) || (schema as number) < -4 || (schema as number) > 8) {
    throw new RangeError(`schema must be an integer in [-4, 8], got ${String(schema)}`)
  }
  return schema as number
}

/** Index of the bucket `(base^(j-1), base^j]` holding the positive value v. */
function bucketIndex(v: number, schema: number): number {
  return Math.ceil(Math.log2(v) * 2 ** schema)
}

/** Spans and deltas of sorted (index, count) pairs; gaps of up to 2 are filled with zeros. */
function encodeBuckets(buckets: [number, number][]): { spans: BucketSpan[]; deltas: number[] } {
  const spans: BucketSpan[] = []
  const deltas: number[] = []
  let prevCount = 0
  let next = 0 // the index after the last bucket written
  for (const [j, c] of buckets) {
    const gap = j - next
    if (spans.length === 0 || gap > 2) {
      spans.push({ offset: spans.length === 0 ? j : gap, length: 0 })
    } else {
      for (let k = 0; k < gap; k++) {
        deltas.push(-prevCount)
        prevCount = 0
        spans[spans.length - 1].length++
      }
    }
    deltas.push(c - prevCount)
    prevCount = c
    spans[spans.length - 1].length++
    next = j + 1
  }
  return { spans, deltas }
}

/** The absolute (index, count) pairs of spans and deltas; throws RangeError on bad layout. */
function decodeBuckets(spans: unknown, deltas: unknown, side: string): [number, number][] {
  if (!Array.isArray(spans) || !Array.isArray(deltas)) {
    throw new TypeError(`${side}Spans and ${side}Deltas must be arrays`)
  }
  const out: [number, number][] = []
  let j = 0
  let count = 0
  let d = 0
  spans.forEach((s: BucketSpan, n) => {
    if (s === null || typeof s !== 'object' || !Number.isSafeInteger(s.offset) || !Number.isSafeInteger(s.length) || s.length < 0) {
      throw new RangeError(`${side}Spans[${n}] must be {offset: integer, length: integer >= 0}`)
    }
    j = n === 0 ? s.offset : j + s.offset
    for (let k = 0; k < s.length; k++, j++, d++) {
      if (d >= deltas.length) throw new RangeError(`${side}Spans describe more buckets than ${side}Deltas has (${deltas.length})`)
      const delta = deltas[d]
      if (!Number.isSafeInteger(delta)) throw new RangeError(`${side}Deltas[${d}] must be an integer, got ${delta}`)
      count += delta
      if (count < 0) throw new RangeError(`${side}Deltas[${d}] makes a bucket count negative`)
      if (count > 0) out.push([j, count])
    }
  })
  if (d !== deltas.length) throw new RangeError(`${side}Deltas has ${deltas.length} entries but ${side}Spans describe ${d} buckets`)
  return out
}

/** Rebins a sketch (its serialized bytes) into a native histogram of the given schema. */
export function sketchToNativeHistogram(bytes: Uint8Array, schema: number): NativeHistogram {
  checkSchema(schema)
  const js = JsQuantileSketch.deserialize(bytes)
  const side = (store: JsQuantileSketch['positive']) => {
    const byIndex = new Map<number, number>()
    store.counts.forEach((c, k) => {
      if (c > 0) {
        const j = bucketIndex(js.mapping.value(store.offset + k), schema)
        byIndex.set(j, (byIndex.get(j) ?? 0) + c)
      }
    })
    const sorted = [...byIndex].map(([j, c]): [number, number] => [j, Math.round(c)]).filter(([, c]) => c > 0)
    sorted.sort((a, b) => a[0] - b[0])
    return { ...encodeBuckets(sorted), total: sorted.reduce((t, [, c]) => t + c, 0) }
  }
  const pos = side(js.positive)
  const neg = side(js.negative)
  const zeroCount = Math.round(js.zeroCount)
  return {
    schema,
    zeroThreshold: js.mapping.minIndexable,
    zeroCount,
    count: zeroCount + pos.total + neg.total,
    sum: js.sum,
    positiveSpans: pos.spans,
    positiveDeltas: pos.deltas,
    negativeSpans: neg.spans,
    negativeDeltas: neg.deltas,
  }
}

/** A native histogram as the serialized bytes of a sketch of the given accuracy. */
export function nativeHistogramToSketchBytes(h: NativeHistogram, relativeAccuracy: number, maxBins: number): Uint8Array {
  if (h === null || typeof h !== 'object') throw new TypeError('histogram must be an object')
  const schema = checkSchema(h.schema)
  if (typeof h.sum !== 'number' || Number.isNaN(h.sum)) throw new RangeError(`sum must be a number, got ${h.sum}`)
  if (!(Number.isSafeInteger(h.zeroCount) && h.zeroCount >= 0)) throw new RangeError(`zeroCount must be an integer >= 0, got ${h.zeroCount}`)
  const pos = decodeBuckets(h.positiveSpans, h.positiveDeltas, 'positive')
  const neg = decodeBuckets(h.negativeSpans, h.negativeDeltas, 'negative')
  const base = 2 ** (2 ** -schema)
  const rep = (j: number) => (2 * 2 ** (j * 2 ** -schema)) / (1 + base)
  const js = new JsQuantileSketch(relativeAccuracy, maxBins)
  if (h.zeroCount > 0) js.addUnchecked(0, h.zeroCount)
  for (const [j, c] of neg) js.addUnchecked(-rep(j), c)
  for (const [j, c] of pos) js.addUnchecked(rep(j), c)
  for (const v of [js.min, js.max]) {
    if (js.count > 0 && !Number.isFinite(v)) throw new RangeError('histogram has buckets beyond the double range')
  }
  js.sum = h.sum
  return js.serialize()
}

export interface NativeHistogramSeries {
  labels?: Record<string, string>
  histogram: NativeHistogram
}

function spans(spans: BucketSpan[]): ProtoWriter[] {
  return spans.map((sp) => new ProtoWriter().sint(1, sp.offset).uint(2, sp.length))
}

/**
 * One metric family of native histograms in Prometheus's delimited protobuf exposition
 * (`io.prometheus.client.MetricFamily`, type HISTOGRAM), served with
 * {@link PROMETHEUS_PROTOBUF_CONTENT_TYPE}. Concatenate several families for one scrape.
 */
export function encodeNativeHistogramFamily(name: string, help: string, series: NativeHistogramSeries[]): Uint8Array {
  if (typeof name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`invalid metric name ${JSON.stringify(name)}`)
  if (typeof help !== 'string') throw new TypeError('help must be a string')
  if (!Array.isArray(series)) throw new TypeError('series must be an array')
  const family = new ProtoWriter().string(1, name).string(2, help).uint(3, 4) // type HISTOGRAM
  for (const { labels = {}, histogram: h } of series) {
    checkSchema(h.schema)
    const metric = new ProtoWriter()
    for (const [k, v] of Object.entries(labels)) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__')) throw new RangeError(`invalid label name ${JSON.stringify(k)}`)
      metric.message(1, new ProtoWriter().string(1, k).string(2, String(v)))
    }
    const hist = new ProtoWriter().uint(1, h.count).double(2, h.sum).sint(5, h.schema).double(6, h.zeroThreshold).uint(7, h.zeroCount)
    for (const sp of spans(h.negativeSpans)) hist.message(9, sp)
    hist.packedSint(10, h.negativeDeltas)
    // A no-op span marks an empty histogram as native (Prometheus's rule).
    for (const sp of spans(h.positiveSpans.length > 0 ? h.positiveSpans : [{ offset: 0, length: 0 }])) hist.message(12, sp)
    hist.packedSint(13, h.positiveDeltas)
    family.message(4, metric.message(7, hist))
  }
  return family.finish(true)
}

export interface ScalarSeries {
  labels?: Record<string, string>
  value: number
}

function labelPairs(metric: ProtoWriter, labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__')) throw new RangeError(`invalid label name ${JSON.stringify(k)}`)
    metric.message(1, new ProtoWriter().string(1, k).string(2, String(v)))
  }
}

/**
 * One counter or gauge family in the same delimited protobuf exposition, so a scrape that
 * asks for protobuf (to get native histograms) gets every other family in it too. Concatenate
 * with {@link encodeNativeHistogramFamily}'s output. A counter's `name` is the sample name
 * Prometheus stores (`..._total`).
 */
export function encodeScalarFamily(name: string, help: string, type: 'counter' | 'gauge', series: ScalarSeries[]): Uint8Array {
  if (typeof name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`invalid metric name ${JSON.stringify(name)}`)
  if (typeof help !== 'string') throw new TypeError('help must be a string')
  if (type !== 'counter' && type !== 'gauge') throw new RangeError(`type must be 'counter' or 'gauge', got ${String(type)}`)
  if (!Array.isArray(series)) throw new TypeError('series must be an array')
  const family = new ProtoWriter().string(1, name).string(2, help).uint(3, type === 'counter' ? 0 : 1)
  for (const { labels = {}, value } of series) {
    if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${typeof value}`)
    const metric = new ProtoWriter()
    labelPairs(metric, labels)
    // Metric.gauge = 2, Metric.counter = 3; both hold `double value = 1`.
    metric.message(type === 'counter' ? 3 : 2, new ProtoWriter().double(1, value))
    family.message(4, metric)
  }
  return family.finish(true)
}
