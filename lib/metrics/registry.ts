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
 * threads have flushed (at most FLUSH_INTERVAL_MS ago). It formats in slices and yields to the
 * event loop between them, so a large registry does not block the loop.
 */
import {
  formatFamily,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  renderLabels,
  type ExpositionFormat,
} from './exposition'
import type { Metric, MetricObject } from './metric'
import { store, uniqueRegistryName, type MetricFamilyDef } from './store'
import { flushAllMetrics } from './thread'

export type ContentType = typeof PROMETHEUS_CONTENT_TYPE | typeof OPENMETRICS_CONTENT_TYPE

/** Series formatted between checks of the time spent; past SLICE_MS the loop gets a turn. */
const SLICE_SERIES = 2048
const SLICE_MS = 8

export interface RegistryOptions {
  /** Registries with the same name share their metrics across worker_threads. */
  name?: string
  contentType?: ContentType
}

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

function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r))
}

export class Registry {
  static readonly PROMETHEUS_CONTENT_TYPE = PROMETHEUS_CONTENT_TYPE
  static readonly OPENMETRICS_CONTENT_TYPE = OPENMETRICS_CONTENT_TYPE
  /** @internal The name families are stored under. */
  readonly storeName: string
  private readonly local = new Map<string, Metric>()
  private type: ContentType = PROMETHEUS_CONTENT_TYPE

  constructor(options: RegistryOptions | ContentType = {}) {
    const o: RegistryOptions = typeof options === 'string' ? { contentType: options } : options
    if (o === null || typeof o !== 'object') throw new TypeError('Registry options must be an object or a content type')
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '' || o.name.includes('\0'))) {
      throw new TypeError('Registry name must be a non-empty string without NUL')
    }
    this.storeName = o.name ?? uniqueRegistryName()
    if (o.contentType !== undefined) this.setContentType(o.contentType)
  }

  get contentType(): ContentType {
    return this.type
  }

  setContentType(type: ContentType): void {
    if (type !== PROMETHEUS_CONTENT_TYPE && type !== OPENMETRICS_CONTENT_TYPE) {
      throw new RangeError(`content type must be Registry.PROMETHEUS_CONTENT_TYPE or Registry.OPENMETRICS_CONTENT_TYPE, got ${JSON.stringify(type)}`)
    }
    this.type = type
  }

  /** @internal Throws if this thread already registered a metric under `name` here. */
  checkCanRegister(name: string): void {
    if (this.local.has(name)) throw new Error(`A metric with the name ${name} has already been registered.`)
  }

  registerMetric(metric: Metric): void {
    this.checkCanRegister(metric.name)
    this.local.set(metric.name, metric)
  }

  getSingleMetric(name: string): Metric | undefined {
    return this.local.get(name)
  }

  getMetricsAsArray(): Metric[] {
    return [...this.local.values()]
  }

  /** Forgets the metric here; if this registry holds its state, the state goes too (in every thread). */
  removeSingleMetric(name: string): void {
    const m = this.local.get(name)
    if (!m) return
    this.local.delete(name)
    if (m.def.key.startsWith(`${this.storeName}\0`)) {
      m.detach()
      store.undefine(m.fid)
    }
  }

  /** Removes every metric of this registry, in every thread of the process. */
  clear(): void {
    for (const m of this.local.values()) m.detach()
    this.local.clear()
    for (const { id } of store.families(`${this.storeName}\0`)) store.undefine(id)
  }

  /** Resets every metric of this registry (series removed, unlabeled ones back to zero). */
  resetMetrics(): void {
    for (const m of this.local.values()) m.reset()
  }

  /** The families to expose: everything stored under this registry, then metrics registered here from elsewhere. */
  private async families(): Promise<{ id: number; name: string; def: MetricFamilyDef }[]> {
    for (const m of this.local.values()) if (m.collect) await m.collect()
    flushAllMetrics()
    await store.settle()
    const prefix = `${this.storeName}\0`
    const out = store.families(prefix).map(({ id, def }) => ({ id, def, name: def.key.slice(prefix.length) }))
    for (const m of this.local.values()) if (!m.def.key.startsWith(prefix)) out.push({ id: m.fid, def: m.def, name: m.name })
    return out
  }

  private async format(format: ExpositionFormat, only?: string): Promise<string> {
    const parts: string[] = []
    const refused: string[] = []
    let slice = performance.now()
    for (const f of await this.families()) {
      if (only !== undefined && f.name !== only) continue
      const now = Date.now()
      const { sids, rows } = store.snapshot(f.id, now)
      const labels = labelStrings(f.id, f.def, sids)
      const width = sids.length === 0 ? 0 : rows.length / sids.length
      for (let from = 0; from < sids.length || from === 0; from += SLICE_SERIES) {
        const to = Math.min(sids.length, from + SLICE_SERIES)
        parts.push(formatFamily(f.name, f.def, rows.subarray(from * width, to * width), labels.slice(from, to), format, from === 0))
        if (performance.now() - slice > SLICE_MS) {
          await yieldToLoop()
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
    if (format === 'openmetrics') parts.push('# EOF\n')
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

  async getSingleMetricAsString(name: string): Promise<string> {
    return this.format('prometheus', name)
  }

  /** Every metric registered here from this thread, in prom-client's JSON shape. */
  async getMetricsAsJSON(): Promise<MetricObject[]> {
    const out: MetricObject[] = []
    for (const m of this.local.values()) out.push(await m.get())
    return out
  }
}

/** The default registry, shared by every worker_thread of the process. */
export const register = new Registry({ name: 'default' })
