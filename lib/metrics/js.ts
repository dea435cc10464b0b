/**
 * The JS twin of hotstats_core::metrics::Store (crates/hotstats-core/src/metrics): the same
 * families, series, staged-row layouts, windows and errors, so both backends give the same
 * answers. See the Rust module for the layouts; comments here only where JS differs.
 */
import { minMax, sum } from '../kernels/js'
import { JsQuantileSketch, SUM_RUN } from '../quantile/js'
import type { MetricFamilyDef } from './store'

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary'

export const OVERFLOW_LABEL_VALUE = '__overflow__'
const WINDOW_MAX_BINS = 2048

export class JsWindow {
  private ring: JsQuantileSketch[]
  private widthMs: number
  private head: number | null = null

  constructor(def: MetricFamilyDef) {
    const n = def.maxAgeMs > 0 ? Math.max(1, def.ageBuckets) : 1
    this.ring = Array.from({ length: n }, () => new JsQuantileSketch(def.relativeAccuracy, WINDOW_MAX_BINS))
    this.widthMs = def.maxAgeMs > 0 ? def.maxAgeMs / n : 0
  }

  private advance(nowMs: number): number {
    if (this.widthMs === 0) return 0
    const n = this.ring.length
    const epoch = Math.floor(nowMs / this.widthMs)
    if (this.head === null) this.head = epoch
    else if (epoch > this.head) {
      const steps = Math.min(epoch - this.head, n)
      for (let e = epoch - steps + 1; e <= epoch; e++) this.ring[((e % n) + n) % n].clear()
      this.head = epoch
    }
    return ((this.head % n) + n) % n
  }

  addAll(values: Float64Array, nowMs: number): void {
    this.ring[this.advance(nowMs)].addMany(values)
  }

  merged(nowMs: number): JsQuantileSketch {
    this.advance(nowMs)
    const out = JsQuantileSketch.deserialize(this.ring[0].serialize())
    for (let i = 1; i < this.ring.length; i++) out.merge(this.ring[i])
    return out
  }
}

interface Series {
  labels: string[]
  values: number[]
  window: JsWindow | null
}

interface Family {
  def: MetricFamilyDef
  series: Map<number, Series>
  index: Map<string, number>
  nextSid: number
  overflow: number | null
  refused: number
}

/** A map key for label values: length-prefixed, so no two label tuples share a key. */
/**
 * The histogram bucket of `v`: how many bounds (sorted) are below it (Prometheus' `le`: a
 * value equal to a bound counts in that bound's bucket; past the last one is +Inf's).
 */
function bucketIndex(bounds: readonly number[], v: number): number {
  let lo = 0
  let n = bounds.length + 1
  while (n > 1) {
    const half = n >> 1
    lo = bounds[lo + half - 1] < v ? lo + half : lo
    n -= half
  }
  return lo
}

function labelKey(labels: readonly string[]): string {
  let k = ''
  for (const v of labels) k += `${v.length}:${v}`
  return k
}

function sameDef(a: MetricFamilyDef, b: MetricFamilyDef): boolean {
  const arr = (x: readonly (string | number)[], y: readonly (string | number)[]) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
  return (
    a.key === b.key &&
    a.kind === b.kind &&
    a.help === b.help &&
    arr(a.labelNames, b.labelNames) &&
    arr(a.buckets, b.buckets) &&
    arr(a.percentiles, b.percentiles) &&
    a.maxAgeMs === b.maxAgeMs &&
    a.ageBuckets === b.ageBuckets &&
    a.relativeAccuracy === b.relativeAccuracy &&
    a.maxSeries === b.maxSeries &&
    a.aggregator === b.aggregator &&
    a.pruneAgedBuckets === b.pruneAgedBuckets &&
    a.emptyQuantileNan === b.emptyQuantileNan &&
    a.nativeHistogram === b.nativeHistogram
  )
}

function checkDef(def: MetricFamilyDef): void {
  if (!['counter', 'gauge', 'histogram', 'summary'].includes(def.kind)) throw new Error(`unknown metric kind ${JSON.stringify(def.kind)}`)
  if (def.kind === 'histogram') {
    if (def.buckets.some((b) => !Number.isFinite(b))) throw new Error('histogram buckets must be finite (+Inf is added)')
    for (let i = 1; i < def.buckets.length; i++) {
      if (!(def.buckets[i - 1] < def.buckets[i])) throw new Error('histogram buckets must be strictly increasing')
    }
  }
  if (def.kind === 'summary') {
    if (def.percentiles.some((q) => !(q >= 0 && q <= 1))) throw new Error('summary percentiles must be in [0, 1]')
    if (!(def.maxAgeMs >= 0 && Number.isFinite(def.maxAgeMs)) || !(def.ageBuckets >= 1)) {
      throw new Error('summary window needs max_age_ms >= 0 and age_buckets >= 1')
    }
  }
  if (!(def.maxSeries >= 1)) throw new Error('max_series must be at least 1')
}

export class JsMetricsStore {
  private fams = new Map<number, Family>()
  private byKey = new Map<string, number>()
  private nextFid = 0

  define(def: MetricFamilyDef): number {
    checkDef(def)
    const have = this.byKey.get(def.key)
    if (have !== undefined) {
      const h = this.fams.get(have)!.def
      if (!sameDef(h, def)) {
        throw new Error(
          `metric ${JSON.stringify(def.key.split('\0').pop())} is already registered with a different definition (${h.kind} with labels ${JSON.stringify(h.labelNames)})`,
        )
      }
      return have
    }
    const fid = this.nextFid++
    this.byKey.set(def.key, fid)
    this.fams.set(fid, { def: { ...def, labelNames: [...def.labelNames], buckets: [...def.buckets], percentiles: [...def.percentiles] }, series: new Map(), index: new Map(), nextSid: 0, overflow: null, refused: 0 })
    return fid
  }

  undefine(fid: number): boolean {
    const f = this.fams.get(fid)
    if (!f) return false
    this.fams.delete(fid)
    this.byKey.delete(f.def.key)
    return true
  }

  families(prefix: string): { id: number; def: MetricFamilyDef }[] {
    const out: { id: number; def: MetricFamilyDef }[] = []
    for (const [id, f] of this.fams) if (f.def.key.startsWith(prefix)) out.push({ id, def: f.def })
    return out.sort((a, b) => a.id - b.id)
  }

  private family(fid: number): Family {
    const f = this.fams.get(fid)
    if (!f) throw new Error(`metric family ${fid} is not registered (cleared or removed)`)
    return f
  }

  private newSeries(f: Family, labels: string[]): number {
    const width = f.def.kind === 'histogram' ? f.def.buckets.length + 2 : f.def.kind === 'summary' ? 2 : 1
    const sid = f.nextSid++
    const windowed = f.def.kind === 'summary' || (f.def.kind === 'histogram' && f.def.nativeHistogram)
    f.series.set(sid, { labels: [...labels], values: new Array<number>(width).fill(0), window: windowed ? new JsWindow(f.def) : null })
    f.index.set(labelKey(labels), sid)
    return sid
  }

  series(fid: number, labels: string[]): number {
    const f = this.family(fid)
    if (labels.length !== f.def.labelNames.length) throw new Error(`expected ${f.def.labelNames.length} label values, got ${labels.length}`)
    const sid = f.index.get(labelKey(labels))
    if (sid !== undefined) return sid
    const live = f.series.size - (f.overflow === null ? 0 : 1)
    if (live >= f.def.maxSeries) {
      f.refused += 1
      if (f.overflow === null) f.overflow = this.newSeries(f, labels.map(() => OVERFLOW_LABEL_VALUE))
      return f.overflow
    }
    return this.newSeries(f, labels)
  }

  refused(fid: number): number {
    return this.family(fid).refused
  }

  remove(fid: number, labels: string[]): boolean {
    const f = this.family(fid)
    const k = labelKey(labels)
    const sid = f.index.get(k)
    if (sid === undefined) return false
    f.index.delete(k)
    f.series.delete(sid)
    if (f.overflow === sid) f.overflow = null
    return true
  }

  reset(fid: number): void {
    const f = this.family(fid)
    f.series.clear()
    f.index.clear()
    f.overflow = null
    f.refused = 0
  }

  apply(fid: number, sids: Uint32Array, rows: Float64Array): number[] {
    const f = this.family(fid)
    if (f.def.kind === 'histogram' || f.def.kind === 'summary') throw new Error('histograms and summaries take values through observe')
    const width = f.def.kind === 'gauge' ? 3 : 1
    if (rows.length !== sids.length * width) {
      throw new Error(`expected ${sids.length * width} staged values (${sids.length} rows of ${width}), got ${rows.length}`)
    }
    const dead: number[] = []
    for (let r = 0; r < sids.length; r++) {
      const s = f.series.get(sids[r])
      if (!s) {
        dead.push(sids[r])
        continue
      }
      const at = r * width
      if (f.def.kind === 'counter') s.values[0] += rows[at]
      else if (f.def.kind === 'gauge') {
        if (rows[at] !== 0) s.values[0] = rows[at + 1]
        s.values[0] += rows[at + 2]
      }
    }
    return dead
  }

  observe(fid: number, sids: Uint32Array, values: Float64Array, nowMs: number): number[] {
    const f = this.family(fid)
    const kind = f.def.kind
    if (kind !== 'histogram' && kind !== 'summary') throw new Error('observe is for histograms and summaries')
    if (sids.length !== values.length) throw new Error('sids and values differ in length')
    if (values.length > 0) {
      const ex = minMax(values)
      if (!(Number.isFinite(ex.min) && Number.isFinite(ex.max))) throw new Error(`observed values must be finite, got ${values.find((v) => !Number.isFinite(v))}`)
    }
    const dead: number[] = []
    let start = 0
    while (start < sids.length) {
      const sid = sids[start]
      let end = start + 1
      while (end < sids.length && sids[end] === sid) end++
      const s = f.series.get(sid)
      if (!s) for (let i = start; i < end; i++) dead.push(sid)
      else {
        // Runs of at most SUM_RUN values, each adding its compensated sum, as the native store.
        for (let p = start; p < end; p += SUM_RUN) {
          const part = values.subarray(p, Math.min(end, p + SUM_RUN))
          if (kind === 'histogram') {
            const bounds = f.def.buckets
            for (let i = 0; i < part.length; i++) s.values[bucketIndex(bounds, part[i])] += 1
            s.values[bounds.length + 1] += sum(part)
            s.window?.addAll(part, nowMs)
          } else {
            s.values[0] += part.length
            s.values[1] += sum(part)
            s.window!.addAll(part, nowMs)
          }
        }
      }
      start = end
    }
    return dead
  }

  snapshot(fid: number, nowMs: number): { sids: Uint32Array; rows: Float64Array } {
    const f = this.family(fid)
    const empty = f.def.emptyQuantileNan ? NaN : 0
    const sids: number[] = []
    const rows: number[] = []
    const pruned: number[] = []
    // Map iteration is insertion order, and sids only grow: creation order, as the BTreeMap.
    for (const [sid, s] of f.series) {
      if (s.window && f.def.kind === 'summary') {
        const m = s.window.merged(nowMs)
        if (f.def.pruneAgedBuckets && m.count === 0) {
          pruned.push(sid)
          continue
        }
        sids.push(sid)
        for (const v of s.values) rows.push(v)
        for (const q of f.def.percentiles) rows.push(m.count === 0 ? empty : m.quantile(q))
      } else {
        sids.push(sid)
        for (const v of s.values) rows.push(v)
      }
    }
    for (const sid of pruned) {
      f.index.delete(labelKey(f.series.get(sid)!.labels))
      f.series.delete(sid)
      if (f.overflow === sid) f.overflow = null
    }
    return { sids: Uint32Array.from(sids), rows: Float64Array.from(rows) }
  }

  labels(fid: number, sids: Uint32Array): (string[] | null)[] {
    const f = this.family(fid)
    return Array.from(sids, (sid) => {
      const s = f.series.get(sid)
      return s ? [...s.labels] : null
    })
  }

  windowSketches(fid: number, nowMs: number): { sids: Uint32Array; sketches: Uint8Array[] } {
    const f = this.family(fid)
    const sids: number[] = []
    const sketches: Uint8Array[] = []
    for (const [sid, s] of f.series) {
      if (!s.window) continue
      sids.push(sid)
      sketches.push(s.window.merged(nowMs).serialize())
    }
    return { sids: Uint32Array.from(sids), sketches }
  }
}
