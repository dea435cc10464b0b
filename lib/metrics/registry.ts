/**
 * Registry (prom-client's API): the metrics a scrape exposes.
 *
 * A registry is shared across worker_threads by its name: the default registry (`register`)
 * and every `new Registry({ name })` with the same name are one set of families in the
 * process-wide store, whichever thread created each metric. An unnamed `new Registry()` is
 * private to the object that made it.
 *
 * `metrics()` first runs this thread's `collect` callbacks and flushes this thread's staged
 * records, so it includes everything this thread recorded before the call and what other
 * threads have flushed (at most FLUSH_INTERVAL_MS ago). It formats in slices and lets the event
 * loop turn between them, so a large registry does not block the loop; it uses no timers, so it
 * resolves under fake timers too. A `collect` that throws is reported (once per metric name on
 * stderr, and counted in `hotstats_metric_collect_errors_total`); the scrape goes on.
 */
import {
  formatCustom,
  formatFamily,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  renderLabelObject,
  renderLabels,
  type CustomMetricObject,
  type ExpositionFormat,
} from './exposition'
import { PROMETHEUS_PROTOBUF_CONTENT_TYPE } from './native-histogram'
import { ABSENT, Metric, validateLabelName, type MetricObject, type MetricValue } from './metric'
import { encodeCounts, encodeCustom, encodeFamily } from './protobuf-exposition'
import { store, uniqueRegistryName, type MetricFamilyDef } from './store'
import { flushAllMetrics } from './thread'
import { loopTurn } from './turn'

export type ContentType = typeof PROMETHEUS_CONTENT_TYPE | typeof OPENMETRICS_CONTENT_TYPE

/** The default registry's content type (prom-client's `contentType` export; follows `register.setContentType`). */
export let contentType: ContentType = PROMETHEUS_CONTENT_TYPE

/** Series formatted between checks of the time spent; past SLICE_MS the loop gets a turn. */
const SLICE_SERIES = 2048
const SLICE_MS = 8

export interface RegistryOptions {
  /** Registries with the same name share their metrics across worker_threads. */
  name?: string
  contentType?: ContentType
}

/**
 * What `registerMetric` takes besides hotstats' metrics: any object with a `name` and a `get()`
 * returning prom-client's metric shape (`{ name, help, type, values: [{ value, labels, metricName }] }`).
 */
export interface CustomMetric {
  name: string
  get(): CustomMetricObject | Promise<CustomMetricObject>
  reset?(): void
}

type Entry = Metric | CustomMetric

/** One family to expose: a store family, or a custom metric object. */
type Family = { name: string; id: number; def: MetricFamilyDef; custom?: undefined } | { name: string; custom: CustomMetric }

/** Per family, the sids of the last exposition and their rendered label sets (per thread). */
const rendered = new Map<number, { sids: Uint32Array; labels: string[] }>()

/**
 * The rendered label set of each sid. Snapshots list series in creation order, so the last
 * call's sids are usually a prefix of this one's: those labels are reused as they are, and
 * only new series are fetched. After a removal, labels are matched by sid instead.
 */
function labelStrings(fid: number, def: MetricFamilyDef, sids: Uint32Array): string[] {
  const prev = rendered.get(fid)
  let labels: string[]
  if (prev && isPrefix(prev.sids, sids)) {
    labels = sids.length === prev.sids.length ? prev.labels : prev.labels.concat(fetchLabels(fid, def, sids.subarray(prev.sids.length)))
  } else {
    const known = new Map<number, string>()
    if (prev) prev.sids.forEach((sid, i) => known.set(sid, prev.labels[i]))
    const missing = sids.filter((sid) => !known.has(sid))
    const fetched = fetchLabels(fid, def, missing)
    missing.forEach((sid, i) => known.set(sid, fetched[i]))
    labels = Array.from(sids, (sid) => known.get(sid)!)
  }
  rendered.set(fid, { sids, labels })
  return labels
}

function isPrefix(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length > b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Label sets from the store, rendered ('' for a series removed meanwhile). */
function fetchLabels(fid: number, def: MetricFamilyDef, sids: Uint32Array): string[] {
  if (sids.length === 0) return []
  return store.labels(fid, sids).map((l) => (l ? renderLabels(def.labelNames, l) : ''))
}

/**
 * The registry's default labels added to each series' rendered labels: those the metric does not
 * declare are appended to every series; one it declares fills in only where a series left it out.
 */
function withDefaultLabels(fid: number, def: MetricFamilyDef, sids: Uint32Array, labels: string[], defaults: Record<string, string>): string[] {
  const names = Object.keys(defaults)
  const own = names.filter((n) => def.labelNames.includes(n))
  const suffix = renderLabelObject(Object.fromEntries(names.filter((n) => !def.labelNames.includes(n)).map((n) => [n, defaults[n]])))
  if (own.length === 0) return labels.map((l) => (l === '' ? suffix : suffix === '' ? l : `${l},${suffix}`))
  const stored = store.labels(fid, sids)
  return stored.map((values, i) => {
    if (!values) return labels[i]
    const filled = def.labelNames.map((n, j) => (values[j] === ABSENT && own.includes(n) ? defaults[n] : values[j]))
    const l = renderLabels(def.labelNames, filled)
    return l === '' ? suffix : suffix === '' ? l : `${l},${suffix}`
  })
}

/** Metric names whose collect() failure was already written to stderr (once per name per process). */
const reportedCollectErrors = new Set<string>()

function reportCollectError(name: string, e: unknown): void {
  if (reportedCollectErrors.has(name)) return
  reportedCollectErrors.add(name)
  const why = e instanceof Error ? (e.stack ?? e.message) : String(e)
  process.stderr.write(
    `hotstats: collect() of metric ${name} threw; its last values are exposed and the other metrics are unaffected (counted in hotstats_metric_collect_errors_total; reported once per metric): ${why}\n`,
  )
}

function isCustom(e: Entry): e is CustomMetric {
  return !(e instanceof Metric)
}

/** Whether prom-client's `Registry.validateMetricName` accepts `name`. */
export function validateMetricName(name: string): boolean {
  return typeof name === 'string' && /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)
}

export { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE }

export class Registry {
  static readonly PROMETHEUS_CONTENT_TYPE = PROMETHEUS_CONTENT_TYPE
  static readonly OPENMETRICS_CONTENT_TYPE = OPENMETRICS_CONTENT_TYPE
  /** The content type of `protobuf()` (not a registry content type: `metrics()` is always text). */
  static readonly PROTOBUF_CONTENT_TYPE = PROMETHEUS_PROTOBUF_CONTENT_TYPE
  /** @internal The name families are stored under. */
  readonly storeName: string
  private readonly local = new Map<string, Entry>()
  private type: ContentType = PROMETHEUS_CONTENT_TYPE
  /** Default labels as given (for getMetricsAsJSON) and as rendered strings. */
  private defaults: Record<string, string | number | boolean> = {}
  private defaultStrings: Record<string, string> = {}
  /** collect() failures per metric name, in this thread. */
  private collectErrors = new Map<string, number>()

  /** `new Registry()`, `new Registry(contentType)` (prom-client) or `new Registry({ name, contentType })`. */
  constructor(options: RegistryOptions | ContentType = {}) {
    const o: RegistryOptions = typeof options === 'string' ? { contentType: options } : options
    if (o === null || typeof o !== 'object') throw new TypeError('Registry options must be an object or a content type')
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '' || o.name.includes('\0'))) {
      throw new TypeError('Registry name must be a non-empty string without NUL')
    }
    if (o.contentType !== undefined && o.contentType !== PROMETHEUS_CONTENT_TYPE && o.contentType !== OPENMETRICS_CONTENT_TYPE) {
      // TypeError, as prom-client's constructor throws.
      throw new TypeError(`Content type ${JSON.stringify(o.contentType)} is unsupported: use Registry.PROMETHEUS_CONTENT_TYPE or Registry.OPENMETRICS_CONTENT_TYPE`)
    }
    this.storeName = o.name ?? uniqueRegistryName()
    if (o.contentType !== undefined) this.type = o.contentType
  }

  /**
   * A new registry holding the metrics of all of these (prom-client's `Registry.merge`). They must
   * have one content type, and no two different metrics may share a name (an Error).
   */
  static merge(registers: readonly Registry[]): Registry {
    if (!Array.isArray(registers) || registers.length === 0) throw new TypeError('Registry.merge takes a non-empty array of registries')
    for (const r of registers) if (!(r instanceof Registry)) throw new TypeError('Registry.merge takes an array of Registry')
    const type = registers[0].contentType
    if (registers.some((r) => r.contentType !== type)) throw new Error('Registers can only be merged if they have the same content type')
    const merged = new Registry(type)
    for (const r of registers) for (const m of r.getMetricsAsArray()) merged.registerMetric(m)
    return merged
  }

  get contentType(): ContentType {
    return this.type
  }

  setContentType(type: ContentType): void {
    if (type !== PROMETHEUS_CONTENT_TYPE && type !== OPENMETRICS_CONTENT_TYPE) {
      throw new RangeError(`content type must be Registry.PROMETHEUS_CONTENT_TYPE or Registry.OPENMETRICS_CONTENT_TYPE, got ${JSON.stringify(type)}`)
    }
    this.type = type
    if (this === register) contentType = type
  }

  /** @internal Throws if this thread already registered a metric under `name` here. */
  checkCanRegister(name: string): void {
    if (this.local.has(name)) throw new Error(`A metric with the name ${name} has already been registered.`)
  }

  /**
   * Adds a metric: one of hotstats' (registered elsewhere, e.g. by `Registry.merge`), or any object
   * with a `name` and a `get()` (prom-client's custom metrics). The same object twice is a no-op;
   * another metric under a taken name is an Error.
   */
  registerMetric(metric: Metric | CustomMetric): void {
    if (metric === null || typeof metric !== 'object' || typeof metric.name !== 'string' || typeof (metric as CustomMetric).get !== 'function') {
      throw new TypeError('registerMetric takes a metric: an object with a name and a get() method')
    }
    const have = this.local.get(metric.name)
    if (have === metric) return
    if (have !== undefined) throw new Error(`A metric with the name ${metric.name} has already been registered.`)
    if (!(metric instanceof Metric) && !validateMetricName(metric.name)) throw new RangeError(`invalid metric name ${JSON.stringify(metric.name)}`)
    this.local.set(metric.name, metric)
  }

  getSingleMetric(name: string): Metric | CustomMetric | undefined {
    return this.local.get(name)
  }

  getMetricsAsArray(): (Metric | CustomMetric)[] {
    return [...this.local.values()]
  }

  /** Whether a metric's state is stored under this registry (it was created with it first in `registers`). */
  private homes(m: Metric): boolean {
    return m.def.key.startsWith(`${this.storeName}\0`)
  }

  /**
   * Forgets the metric here; if this registry holds its state, the state goes too (in every
   * thread). The metric object keeps working on its own, from zero, as a prom-client metric does.
   */
  removeSingleMetric(name: string): void {
    const m = this.local.get(name)
    if (!m) return
    this.local.delete(name)
    if (m instanceof Metric && this.homes(m)) {
      m.orphan()
      store.undefine(m.fid)
    }
  }

  /**
   * Removes every metric and the default labels of this registry, in every thread of the process.
   * Metric objects still held keep working on their own (see removeSingleMetric), and their names
   * are free again; metrics of other registries that were also registered here stay there.
   */
  clear(): void {
    for (const m of this.local.values()) if (m instanceof Metric && this.homes(m)) m.orphan()
    this.local.clear()
    for (const { id } of store.families(`${this.storeName}\0`)) store.undefine(id)
    this.defaults = {}
    this.defaultStrings = {}
    this.collectErrors.clear()
  }

  /** Resets every metric of this registry (series removed, unlabeled ones back to zero). */
  resetMetrics(): void {
    for (const m of this.local.values()) if (typeof m.reset === 'function') m.reset()
  }

  /**
   * Labels added to every series this registry exposes (and to getMetricsAsJSON), unless the
   * series has a label of that name. Replaces the previous default labels; `{}` removes them.
   */
  setDefaultLabels(labels: Record<string, string | number | boolean>): void {
    if (labels === null || typeof labels !== 'object') throw new TypeError('setDefaultLabels takes an object of label names and values')
    const strings: Record<string, string> = {}
    for (const [k, v] of Object.entries(labels)) {
      if (!validateLabelName(k)) throw new RangeError(`invalid default label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __`)
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`default label ${JSON.stringify(k)} must be a string, a number or a boolean`)
      strings[k] = String(v)
    }
    this.defaults = { ...labels }
    this.defaultStrings = strings
  }

  /** @internal The default labels, rendered (for the cluster aggregator). */
  defaultLabelStrings(): Record<string, string> {
    return this.defaultStrings
  }

  /** Runs `collect`, reporting a throw instead of passing it on. */
  private async collectOne(m: Metric): Promise<void> {
    if (!m.collect) return
    try {
      await m.collect()
    } catch (e) {
      this.collectErrors.set(m.name, (this.collectErrors.get(m.name) ?? 0) + 1)
      reportCollectError(m.name, e)
    }
  }

  /** @internal A custom metric's `get()`, or null (reported) if it throws or returns no metric. */
  async getCustom(m: CustomMetric): Promise<CustomMetricObject | null> {
    try {
      const got = await m.get()
      if (got === null || typeof got !== 'object') throw new TypeError(`get() returned ${got === null ? 'null' : typeof got}, not a metric object`)
      return got
    } catch (e) {
      this.collectErrors.set(m.name, (this.collectErrors.get(m.name) ?? 0) + 1)
      reportCollectError(m.name, e)
      return null
    }
  }

  /**
   * @internal The families to expose, after this thread's collects and a flush: everything stored
   * under this registry, then metrics registered here from elsewhere, then custom metrics.
   */
  async families(): Promise<Family[]> {
    for (const m of this.local.values()) if (m instanceof Metric) await this.collectOne(m)
    flushAllMetrics()
    await store.settle()
    const prefix = `${this.storeName}\0`
    const out: Family[] = store.families(prefix).map(({ id, def }) => ({ id, def, name: def.key.slice(prefix.length) }))
    for (const m of this.local.values()) {
      if (m instanceof Metric) {
        if (this.homes(m)) continue
        m.flush()
        m.ensureHome()
        out.push({ id: m.fid, def: m.def, name: m.name })
      } else out.push({ name: m.name, custom: m })
    }
    return out
  }

  private async format(format: ExpositionFormat, only?: string): Promise<string> {
    const parts: string[] = []
    const refused: string[] = []
    const defaults = this.defaultStrings
    const hasDefaults = Object.keys(defaults).length > 0
    let slice = performance.now()
    for (const f of await this.families()) {
      if (only !== undefined && f.name !== only) continue
      if (f.custom) {
        const got = await this.getCustom(f.custom)
        if (got) parts.push(formatCustom({ ...got, name: got.name ?? f.name }, format, defaults))
        continue
      }
      let snap: { sids: Uint32Array; rows: Float64Array }
      try {
        snap = store.snapshot(f.id, Date.now())
      } catch {
        continue // cleared by another thread since it was listed
      }
      const { sids, rows } = snap
      let labels = labelStrings(f.id, f.def, sids)
      if (hasDefaults) labels = withDefaultLabels(f.id, f.def, sids, labels, defaults)
      const width = sids.length === 0 ? 0 : rows.length / sids.length
      for (let from = 0; from < sids.length || from === 0; from += SLICE_SERIES) {
        const to = Math.min(sids.length, from + SLICE_SERIES)
        parts.push(formatFamily(f.name, f.def, rows.subarray(from * width, to * width), labels.slice(from, to), format, from === 0))
        if (performance.now() - slice > SLICE_MS) {
          await loopTurn()
          slice = performance.now()
        }
        if (to === sids.length) break
      }
      const r = only === undefined ? store.refused(f.id) : 0
      if (r > 0) refused.push(`hotstats_metric_series_refused_total{metric="${f.name}"} ${r}\n`)
    }
    if (refused.length > 0) {
      const fam = format === 'openmetrics' ? 'hotstats_metric_series_refused' : 'hotstats_metric_series_refused_total'
      parts.push(`# HELP ${fam} New label sets refused because the metric was at its series limit.\n# TYPE ${fam} counter\n`, ...refused)
    }
    if (only === undefined && this.collectErrors.size > 0) {
      const fam = format === 'openmetrics' ? 'hotstats_metric_collect_errors' : 'hotstats_metric_collect_errors_total'
      parts.push(`# HELP ${fam} Reads of this registry where the metric's collect() (or a custom metric's get()) threw.\n# TYPE ${fam} counter\n`)
      for (const [name, n] of this.collectErrors) parts.push(`hotstats_metric_collect_errors_total{metric="${name}"} ${n}\n`)
    }
    if (format === 'openmetrics' && only === undefined) parts.push('# EOF\n')
    return parts.join('')
  }

  /** The exposition in this registry's content type (Prometheus text 0.0.4 by default). */
  metrics(): Promise<string> {
    return this.format(this.type === OPENMETRICS_CONTENT_TYPE ? 'openmetrics' : 'prometheus')
  }

  /** OpenMetrics 1.0.0 text, ending in `# EOF`, whatever the content type. */
  openMetrics(): Promise<string> {
    return this.format('openmetrics')
  }

  /** Prometheus text 0.0.4, whatever the content type. */
  prometheusText(): Promise<string> {
    return this.format('prometheus')
  }

  /**
   * Prometheus's delimited protobuf exposition (content type PROMETHEUS_PROTOBUF_CONTENT_TYPE,
   * `Registry.PROTOBUF_CONTENT_TYPE`): every family, with the native buckets of histograms made
   * with `nativeHistogram: true`, so Prometheus (--enable-feature=native-histograms) gets them in
   * the same scrape as the rest.
   */
  async protobuf(): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    const refused: [string, number][] = []
    const defaults = this.defaultStrings
    let slice = performance.now()
    for (const f of await this.families()) {
      if (f.custom) {
        const got = await this.getCustom(f.custom)
        if (got) parts.push(...encodeCustom({ ...got, name: got.name ?? f.name }, defaults))
        continue
      }
      const now = Date.now()
      let snap: { sids: Uint32Array; rows: Float64Array }
      try {
        snap = store.snapshot(f.id, now)
      } catch {
        continue // cleared by another thread since it was listed
      }
      const stored = store.labels(f.id, snap.sids)
      let sketches: (Uint8Array | undefined)[] | undefined
      if (f.def.kind === 'histogram' && f.def.nativeHistogram) {
        const w = store.windowSketches(f.id, now)
        const bySid = new Map<number, Uint8Array>()
        w.sids.forEach((sid, i) => bySid.set(sid, w.sketches[i]))
        sketches = Array.from(snap.sids, (sid) => bySid.get(sid))
      }
      // A series removed by another thread between the two calls has no labels: leave it out.
      const width = snap.sids.length === 0 ? 0 : snap.rows.length / snap.sids.length
      const keep = stored.map((l, i) => (l ? i : -1)).filter((i) => i >= 0)
      const rows = keep.length === stored.length ? snap.rows : Float64Array.from(keep.flatMap((i) => Array.from(snap.rows.subarray(i * width, (i + 1) * width))))
      parts.push(encodeFamily(f.name, f.def, rows, keep.map((i) => stored[i]!), defaults, sketches && keep.map((i) => sketches![i])))
      const r = store.refused(f.id)
      if (r > 0) refused.push([f.name, r])
      if (performance.now() - slice > SLICE_MS) {
        await loopTurn()
        slice = performance.now()
      }
    }
    if (refused.length > 0) parts.push(encodeCounts('hotstats_metric_series_refused_total', 'New label sets refused because the metric was at its series limit.', refused))
    if (this.collectErrors.size > 0) parts.push(encodeCounts('hotstats_metric_collect_errors_total', "Reads of this registry where the metric's collect() (or a custom metric's get()) threw.", this.collectErrors))
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  /** One metric of this registry, in its content type (no `# EOF`). */
  async getSingleMetricAsString(name: string): Promise<string> {
    return this.format(this.type === OPENMETRICS_CONTENT_TYPE ? 'openmetrics' : 'prometheus', name)
  }

  /**
   * One metric rendered as this registry renders it (prom-client's `getMetricsAsString(metric)`):
   * a hotstats metric (registered here or not) or any object with a name and a `get()`.
   */
  async getMetricsAsString(metric: Metric | CustomMetric): Promise<string> {
    if (metric === null || typeof metric !== 'object' || typeof metric.get !== 'function') throw new TypeError('getMetricsAsString takes a metric object')
    const format: ExpositionFormat = this.type === OPENMETRICS_CONTENT_TYPE ? 'openmetrics' : 'prometheus'
    if (this.local.get(metric.name) === metric) return this.format(format, metric.name)
    if (metric instanceof Metric) await this.collectOne(metric)
    const got = metric instanceof Metric ? await metric.read() : await this.getCustom(metric)
    return got ? formatCustom(got, format, this.defaultStrings) : ''
  }

  /** Every metric registered here from this thread, in prom-client's JSON shape (with the default labels). */
  async getMetricsAsJSON(): Promise<MetricObject[]> {
    const out: MetricObject[] = []
    for (const m of this.local.values()) {
      let got: MetricObject | null
      if (m instanceof Metric) {
        await this.collectOne(m)
        got = await m.read()
      } else got = (await this.getCustom(m)) as MetricObject | null
      if (!got) continue
      if (Object.keys(this.defaults).length > 0 && Array.isArray(got.values)) {
        got = { ...got, values: got.values.map((v: MetricValue) => ({ ...v, labels: { ...this.defaults, ...v.labels } })) }
      }
      out.push(got)
    }
    return out
  }
}

/** The default registry, shared by every worker_thread of the process. */
export const register = new Registry({ name: 'default' })
