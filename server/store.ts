/**
 * The aggregation state of `hotstats serve`: one entry per series (a StatsD name plus its tags),
 * each with its cumulative state (for Prometheus) and its share of the sliding windows (for the
 * stats API). Every state is one of the library's mergeable types: counters are exact
 * compensated sums, distributions QuantileSketches (bins add), sets HyperLogLog registers kept
 * sparse per series in a UniqueCounter (Redis's format on the way out).
 *
 * Limits keep memory bounded and say so: --max-series in total and per Prometheus metric (the
 * refusals are counted, by metric), idle series expire after --series-ttl, a name used with two
 * types is refused at ingest (counted) so /metrics never fails on input.
 */
import { betaBinomialAB, individualsChart, type QuantileSketch, twoProportionZTest, UniqueCounter, welchTTestFromSummaries } from '../index'
import type { RuleSet } from '../index'
import { STATSD_TYPES, type StatsdType } from './events'
import type { NameMapper } from './mapping'
import { sanitizeLabelName } from './mapping'
import type { SharedCounters } from './counters'
import { SmallSketch } from './small-sketch'
import { Windows } from './windows'

export type Kind = 'counter' | 'gauge' | 'dist' | 'set'

export const KIND_OF: Record<StatsdType, Kind> = { c: 'counter', g: 'gauge', ms: 'dist', h: 'dist', d: 'dist', s: 'set' }

/** Quantiles the API and the text exposition report. */
export const QUANTILES = [0.5, 0.9, 0.99, 0.999] as const

/** Type codes in an event batch: index into STATSD_TYPES, plus GAUGE_DELTA for `+3`/`-3` gauges. */
export const GAUGE_DELTA = 8

/**
 * Events from the receiver to the aggregator, column by column (one postMessage per batch).
 * Series keys travel once: the receiver numbers each key it meets (`ids`), and a batch carries
 * the keys first numbered in it (`newKeys`: id, key, id, key, ...); `reset` says the receiver
 * forgot its numbering (it keeps at most KEY_IDS_MAX keys) before this batch.
 */
export interface EventBatch {
  n: number
  ids: Uint32Array
  newKeys: (number | string)[]
  reset: boolean
  types: Uint8Array
  values: Float64Array
  rates: Float64Array
  /** Event time in ms, or 0 for "when aggregated". */
  times: Float64Array
  /** Set members by event index (undefined for other types). */
  members: (string | undefined)[]
}

export function newBatch(capacity: number): EventBatch {
  return {
    n: 0,
    ids: new Uint32Array(capacity),
    newKeys: [],
    reset: false,
    types: new Uint8Array(capacity),
    values: new Float64Array(capacity),
    rates: new Float64Array(capacity),
    times: new Float64Array(capacity),
    members: new Array(capacity),
  }
}

/** The key of a series: its name, then its tags sorted by key (`name|k1:v1,k2:v2`). */
export function seriesKey(name: string, tags: readonly [string, string][]): string {
  if (tags.length === 0) return name
  const sorted = tags.length === 1 ? tags : [...tags].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let s = name + '|'
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0) s += ','
    s += sorted[i][1] === '' ? sorted[i][0] : sorted[i][0] + ':' + sorted[i][1]
  }
  return s
}

/** The name and tags of a key (tag values may hold ':'; keys and values never hold ','). */
export function parseKey(key: string): { name: string; tags: [string, string][] } {
  const bar = key.indexOf('|')
  if (bar < 0) return { name: key, tags: [] }
  const tags: [string, string][] = []
  for (const part of key.slice(bar + 1).split(',')) {
    const colon = part.indexOf(':')
    tags.push(colon < 0 ? [part, ''] : [part.slice(0, colon), part.slice(colon + 1)])
  }
  return { name: key.slice(0, bar), tags }
}

/** A `k:v,k2:v2` query parameter as tags. */
export function parseTagsParam(s: string | null): [string, string][] {
  if (s === null || s === '') return []
  return s.split(',').map((p) => {
    const colon = p.indexOf(':')
    return colon < 0 ? ([p, ''] as [string, string]) : ([p.slice(0, colon), p.slice(colon + 1)] as [string, string])
  })
}

/** A label value as the text exposition writes it (backslash, newline and quote escaped). */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

export class Series {
  count = 0
  sum = 0
  comp = 0
  value = NaN
  /** Distributions: the values (a list while small, then a QuantileSketch). */
  dist: SmallSketch | null = null
  /** Distributions: Welford's count, mean and M2 of the values (unweighted; for Welch's test). */
  wn = 0
  wmean = 0
  wm2 = 0
  /** The series' exposition lines as last rendered; null once it changed. */
  text: string | null = null
  /** Set when the series expired or was deleted (a stale reference then looks it up again). */
  deleted = false
  constructor(
    readonly id: number,
    readonly key: string,
    readonly name: string,
    readonly type: StatsdType,
    readonly kind: Kind,
    readonly prom: string,
    readonly labels: Record<string, string>,
    /** `{k="v",...}` (or '') as the exposition writes it. */
    readonly labelText: string,
    public lastSeen: number,
  ) {}

  total(): number {
    return this.sum + this.comp
  }

  get tags(): [string, string][] {
    return parseKey(this.key).tags
  }

  /** Welford's update (the moments Welch's test needs). */
  observe(v: number): void {
    this.wn++
    const d = v - this.wmean
    this.wmean += d / this.wn
    this.wm2 += d * (v - this.wmean)
  }
}

interface Family {
  kind: Kind
  help: string
  series: Map<string, Series> // by labelText
}

export interface StoreOptions {
  windows: number[]
  relativeAccuracy: number
  maxSeries: number
  maxSeriesPerMetric: number
  /** Idle series expire after this many ms (0: never). */
  ttlMs: number
  mapper: NameMapper
  counters: SharedCounters
  now?: () => number
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export class Store {
  readonly series = new Map<string, Series>()
  readonly byId = new Map<number, Series>()
  readonly families = new Map<string, Family>()
  readonly sets: UniqueCounter
  readonly windows: Windows
  /** Refused new series and type collisions, by Prometheus metric name (bounded). */
  readonly refusedByMetric = new Map<string, number>()
  readonly collisionsByMetric = new Map<string, number>()
  private nextId = 1
  /** Series changed since the last publish, and keys of series deleted since (Redis-backed nodes only). */
  dirty: Set<Series> | null = null
  deletedKeys: string[] = []
  readonly startedAt: number
  private readonly now: () => number

  constructor(readonly opts: StoreOptions) {
    this.now = opts.now ?? Date.now
    this.startedAt = this.now()
    this.windows = new Windows(opts.windows, opts.relativeAccuracy, this.startedAt)
    this.sets = new UniqueCounter({ labelNames: ['s'], maxKeys: Math.max(1, opts.maxSeries) })
  }

  private bump(map: Map<string, number>, name: string): void {
    if (map.size < 10_000 || map.has(name)) map.set(name, (map.get(name) ?? 0) + 1)
  }

  /** Creates the series for `key` (null when a limit or a collision refuses it; counted). */
  create(key: string, type: StatsdType, now: number): Series | null {
    const c = this.opts.counters
    const kind = KIND_OF[type]
    const { name, tags } = parseKey(key)
    const mapped = this.opts.mapper.map(name, type)
    if (mapped === null) {
      c.loss('mapping_drop')
      return null
    }
    const prom = kind === 'counter' && mapped.name.endsWith('_total') ? mapped.name.slice(0, -6) : mapped.name
    let family = this.families.get(prom)
    if (family !== undefined && family.kind !== kind) {
      c.loss('type_collision')
      this.bump(this.collisionsByMetric, prom)
      return null
    }
    if (this.series.size >= this.opts.maxSeries || (family !== undefined && family.series.size >= this.opts.maxSeriesPerMetric)) {
      c.loss('series_limit')
      this.bump(this.refusedByMetric, prom)
      return null
    }
    const labels: Record<string, string> = { ...mapped.labels }
    for (const [k, v] of tags) {
      let ln = sanitizeLabelName(k)
      if (ln.startsWith('__') || ln === 'le' || (kind === 'dist' && ln === 'quantile')) ln = `tag_${ln.replace(/^_+/, '')}`
      if (!(ln in mapped.labels)) labels[ln] = v === '' ? 'true' : v
    }
    const names = Object.keys(labels).sort()
    const labelText = names.length === 0 ? '' : `{${names.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(',')}}`
    if (family !== undefined && family.series.has(labelText)) {
      c.loss('series_collision')
      this.bump(this.collisionsByMetric, prom)
      return null
    }
    if (family === undefined) {
      family = { kind, help: mapped.help ?? `StatsD ${kind === 'dist' ? 'timer/histogram/distribution' : kind} ${name}`, series: new Map() }
      this.families.set(prom, family)
    }
    const s = new Series(this.nextId++, key, name, type, kind, prom, labels, labelText, now)
    if (kind === 'dist') s.dist = new SmallSketch(this.opts.relativeAccuracy)
    this.series.set(key, s)
    this.byId.set(s.id, s)
    family.series.set(labelText, s)
    c.set('series', this.series.size)
    return s
  }

  /** The receiver's key numbering: key by id, and the series last found for each id. */
  private keyById: string[] = []
  private seriesByKeyId: (Series | undefined)[] = []

  /** Applies one batch from the receiver. */
  apply(b: EventBatch): void {
    const now = this.now()
    const c = this.opts.counters
    const w = this.windows
    if (b.reset) {
      this.keyById = []
      this.seriesByKeyId = []
    }
    for (let i = 0; i < b.newKeys.length; i += 2) {
      this.keyById[b.newKeys[i] as number] = b.newKeys[i + 1] as string
      this.seriesByKeyId[b.newKeys[i] as number] = undefined
    }
    for (let i = 0; i < b.n; i++) {
      const code = b.types[i]
      const type = STATSD_TYPES[code & 7]
      const kid = b.ids[i]
      let s = this.seriesByKeyId[kid]
      if (s === undefined || s.deleted) {
        const key = this.keyById[kid]
        s = this.series.get(key)
        if (s === undefined) {
          const created = this.create(key, type, now)
          if (created === null) continue
          s = created
        }
        this.seriesByKeyId[kid] = s
      }
      if (s.kind !== KIND_OF[type]) {
        c.loss('type_collision')
        this.bump(this.collisionsByMetric, s.prom)
        continue
      }
      s.lastSeen = now
      s.text = null
      if (this.dirty !== null) this.dirty.add(s)
      const v = b.values[i]
      const rate = b.rates[i]
      const t = b.times[i] === 0 ? now : b.times[i]
      s.count++
      switch (s.kind) {
        case 'counter': {
          const x = rate === 1 ? v : v / rate
          const sum = s.sum + x
          s.comp += Math.abs(s.sum) >= Math.abs(x) ? s.sum - sum + x : x - sum + s.sum
          s.sum = sum
          if (!w.record(s.id, t, now, v, rate, false, undefined)) c.loss('late')
          break
        }
        case 'gauge': {
          s.value = code & GAUGE_DELTA ? (Number.isNaN(s.value) ? 0 : s.value) + v : v
          if (!w.record(s.id, t, now, s.value, 1, false, undefined)) c.loss('late')
          break
        }
        case 'dist': {
          s.dist!.add(v, rate)
          s.observe(v)
          if (!w.record(s.id, t, now, v, 1, true, undefined)) c.loss('late')
          break
        }
        case 'set': {
          const m = b.members[i] ?? ''
          this.sets.add({ s: String(s.id) }, m)
          if (!w.record(s.id, t, now, NaN, 1, false, m)) c.loss('late')
          break
        }
      }
    }
  }

  /** Drops series idle for longer than the TTL; returns how many. */
  expire(): number {
    if (this.opts.ttlMs <= 0) return 0
    const cutoff = this.now() - this.opts.ttlMs
    let n = 0
    for (const s of this.series.values()) {
      if (s.lastSeen < cutoff) {
        this.delete(s)
        n++
      }
    }
    return n
  }

  delete(s: Series): void {
    s.deleted = true
    this.series.delete(s.key)
    this.byId.delete(s.id)
    const f = this.families.get(s.prom)
    if (f !== undefined) {
      f.series.delete(s.labelText)
      if (f.series.size === 0) this.families.delete(s.prom)
    }
    if (s.kind === 'set') this.sets.delete({ s: String(s.id) })
    this.windows.forget(s.id)
    if (this.dirty !== null) {
      this.dirty.delete(s)
      this.deletedKeys.push(s.key)
    }
    this.opts.counters.set('series', this.series.size)
  }

  /** Starts tracking changes for a Redis publisher. */
  track(): void {
    this.dirty ??= new Set()
    this.windows.track()
  }

  // ---- reads -------------------------------------------------------------------------------

  find(name: string, tags: [string, string][]): Series {
    const key = seriesKey(name, tags)
    const s = this.series.get(key)
    if (s === undefined) throw new HttpError(404, `unknown series ${JSON.stringify(key)}`)
    return s
  }

  checkWindow(window: number | null): void {
    if (window !== null && !this.opts.windows.includes(window)) {
      throw new HttpError(400, `window must be one of ${this.opts.windows.join(', ')} (seconds), got ${window}`)
    }
  }

  uniques(s: Series): number {
    return this.sets.count({ s: String(s.id) })
  }

  describe(s: Series): { key: string; name: string; type: StatsdType; tags: Record<string, string>; prometheus: string } {
    return { key: s.key, name: s.name, type: s.type, tags: Object.fromEntries(s.tags), prometheus: s.prom }
  }

  stats(name: string, tags: [string, string][], window: number | null): Record<string, unknown> {
    this.checkWindow(window)
    const s = this.find(name, tags)
    const now = this.now()
    const out: Record<string, unknown> = { ...this.describe(s), window }
    const quantiles = (sk: QuantileSketch | null): Record<string, number> | null => {
      if (sk === null || sk.count === 0) return null
      const qs = sk.quantiles([...QUANTILES])
      return Object.fromEntries(QUANTILES.map((q, i) => [String(q), qs[i]]))
    }
    if (window === null) {
      out.count = s.count
      out.value = s.kind === 'gauge' ? s.value : null
      out.uniques = s.kind === 'set' ? this.uniques(s) : null
      if (s.kind === 'counter') Object.assign(out, { sum: s.total(), min: null, max: null, mean: s.count > 0 ? s.total() / s.count : null })
      else if (s.kind === 'dist') {
        const sk = s.dist!.view()
        Object.assign(out, { count: sk.count, sum: sk.sum, min: sk.min, max: sk.max, mean: sk.mean, quantiles: quantiles(sk) })
      } else Object.assign(out, { sum: null, min: null, max: null, mean: null })
      if (out.quantiles === undefined) out.quantiles = null
      out.rate = null
      return out
    }
    const r = this.windows.read(s.id, window, now, s.kind === 'dist')
    const seconds = this.windows.windowSeconds(window, now)
    if (r === null) {
      return { ...out, count: 0, sum: 0, min: null, max: null, mean: null, value: s.kind === 'gauge' ? null : null, uniques: s.kind === 'set' ? 0 : null, quantiles: null, rate: 0 }
    }
    const isSet = s.kind === 'set'
    return {
      ...out,
      count: r.count,
      sum: isSet ? null : r.sum,
      min: isSet ? null : r.min,
      max: isSet ? null : r.max,
      mean: isSet ? null : r.sum / r.count,
      value: s.kind === 'gauge' ? r.last : null,
      uniques: isSet ? (r.uniques ?? 0) : null,
      quantiles: quantiles(r.sketch),
      // Counters: the corrected value per second (StatsD's rate); others: events per second.
      rate: (s.kind === 'counter' ? r.sum : r.count) / seconds,
    }
  }

  list(match: string, offset: number, limit: number): Record<string, unknown> {
    const keys = [...this.series.keys()].filter((k) => match === '' || k.includes(match)).sort()
    return { total: keys.length, offset, series: keys.slice(offset, offset + limit).map((k) => this.describe(this.series.get(k)!)) }
  }

  top(by: string, limit: number, window: number): Record<string, unknown> {
    this.checkWindow(window)
    const now = this.now()
    if (by === 'rate') {
      const seconds = this.windows.windowSeconds(window, now)
      const counts = [...this.windows.counts(window, now)].filter(([id]) => this.byId.has(id))
      counts.sort((a, b) => b[1].count - a[1].count)
      return {
        by,
        window,
        series: counts.slice(0, limit).map(([id, c]) => {
          const s = this.byId.get(id)!
          return { ...this.describe(s), count: c.count, rate: c.count / seconds, uniques: s.kind === 'set' ? this.uniques(s) : null }
        }),
      }
    }
    if (by === 'cardinality') {
      const sets = [...this.series.values()].filter((s) => s.kind === 'set').map((s) => ({ s, u: this.uniques(s) }))
      sets.sort((a, b) => b.u - a.u)
      const metrics = [...this.families].map(([name, f]) => ({ name, kind: f.kind, series: f.series.size }))
      metrics.sort((a, b) => b.series - a.series)
      return {
        by,
        window,
        series: sets.slice(0, limit).map(({ s, u }) => ({ ...this.describe(s), uniques: u, count: s.count, rate: null })),
        metrics: metrics.slice(0, limit),
      }
    }
    throw new HttpError(400, `by must be rate or cardinality, got ${JSON.stringify(by)}`)
  }

  history(name: string, tags: [string, string][], seconds: number): Record<string, unknown> {
    const s = this.find(name, tags)
    const h = this.windows.history(s.id, seconds, this.now())
    // One bucket at a time: a view may be the shared scratch sketch.
    const qs = h.states.map((st) => (st?.dist != null && st.dist.count > 0 ? st.dist.view().quantiles([0.5, 0.9, 0.99]) : null))
    const q = (i: number, p: number): number | null => qs[i]?.[p === 0.5 ? 0 : p === 0.9 ? 1 : 2] ?? null
    return {
      ...this.describe(s),
      step: h.step,
      t: h.t,
      count: h.states.map((st) => (st === null ? null : st.count)),
      rate: h.states.map((st) => (st === null ? null : (s.kind === 'counter' ? st.sum : st.count) / h.step)),
      mean: h.states.map((st) => (st === null || s.kind === 'set' ? null : st.sum / st.count)),
      p50: h.states.map((_, i) => q(i, 0.5)),
      p90: h.states.map((_, i) => q(i, 0.9)),
      p99: h.states.map((_, i) => q(i, 0.99)),
      uniques: s.kind === 'set' ? h.uniques : h.uniques.map(() => null),
      value: h.states.map((st) => (st === null || s.kind !== 'gauge' ? null : st.last)),
    }
  }

  /** An individuals (I-MR) chart of a series' per-bucket means. */
  spc(name: string, tags: [string, string][], seconds: number, rules: RuleSet): Record<string, unknown> {
    const s = this.find(name, tags)
    const h = this.windows.history(s.id, seconds, this.now())
    const t: number[] = []
    const points: number[] = []
    h.states.forEach((st, i) => {
      if (st !== null && st.count > 0 && s.kind !== 'set') {
        t.push(h.t[i])
        points.push(s.kind === 'gauge' ? st.last : st.sum / st.count)
      }
    })
    if (points.length < 3) throw new HttpError(409, `series ${JSON.stringify(s.key)} has ${points.length} buckets with data; a control chart needs 3`)
    const chart = individualsChart(points, { rules })
    return {
      ...this.describe(s),
      step: h.step,
      t,
      points,
      center: chart.individuals.center,
      ucl: chart.individuals.ucl,
      lcl: chart.individuals.lcl,
      sigma: chart.sigma,
      violations: chart.violations.filter((v) => v.chart === 'individuals').map((v) => ({ index: v.index, rule: v.rule })),
    }
  }

  /** A/B verdicts from counters (exposures, conversions) and a distribution (value) tagged by variant. */
  ab(p: { exposures: string; conversions: string; value: string | null; tag: string; a: string; b: string }): Record<string, unknown> {
    const errors: string[] = []
    const counterSum = (name: string, variant: string): number => {
      const s = this.series.get(seriesKey(name, [[p.tag, variant]]))
      return s === undefined ? 0 : s.kind === 'counter' ? s.total() : s.count
    }
    const variants = [p.a, p.b].map((v) => {
      const exposures = counterSum(p.exposures, v)
      const conversions = counterSum(p.conversions, v)
      const vs = p.value === null ? undefined : this.series.get(seriesKey(p.value, [[p.tag, v]]))
      const m = vs?.kind === 'dist' ? { count: vs.wn, mean: vs.wmean, variance: vs.wn > 1 ? vs.wm2 / (vs.wn - 1) : NaN } : null
      if (exposures === 0) errors.push(`variant ${JSON.stringify(v)} has no exposures yet`)
      return { name: v, exposures, conversions, rate: exposures > 0 ? conversions / exposures : null, valueCount: m?.count ?? 0, valueMean: m !== null && m.count > 0 ? m.mean : null, moments: m }
    })
    const [A, B] = variants
    const attempt = <T>(f: () => T): T | null => {
      try {
        return f()
      } catch (e) {
        errors.push((e as Error).message)
        return null
      }
    }
    const counts = { successesA: Math.round(A.conversions), trialsA: Math.round(A.exposures), successesB: Math.round(B.conversions), trialsB: Math.round(B.exposures) }
    const ready = A.exposures > 0 && B.exposures > 0 && A.conversions <= A.exposures && B.conversions <= B.exposures
    if (A.conversions > A.exposures || B.conversions > B.exposures) errors.push('conversions exceed exposures for a variant')
    const bayesian = ready ? attempt(() => betaBinomialAB(counts)) : null
    const zTest = ready ? attempt(() => twoProportionZTest(counts)) : null
    let welch = null
    if (p.value !== null) {
      if (A.moments !== null && B.moments !== null && A.moments.count >= 2 && B.moments.count >= 2) {
        welch = attempt(() =>
          welchTTestFromSummaries(A.moments!, B.moments!),
        )
      } else errors.push(`value metric ${JSON.stringify(p.value)} needs at least 2 values per variant`)
    }
    return { variants: variants.map(({ moments: _m, ...v }) => v), bayesian, zTest, welch, errors }
  }

  // ---- exposition --------------------------------------------------------------------------

  /** Families in name order, with their series (for the exposition writers). */
  *familyEntries(): Generator<[string, Family]> {
    const names = [...this.families.keys()].sort()
    for (const n of names) {
      const f = this.families.get(n)
      if (f !== undefined) yield [n, f]
    }
  }
}
