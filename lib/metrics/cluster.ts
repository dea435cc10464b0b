/**
 * Node `cluster` (prom-client's AggregatorRegistry): the primary asks every worker for the state
 * of its registries over the cluster IPC channel and merges it by type. Counters add; gauges
 * follow the metric's `aggregator` (sum, first, min, max, average or omit); histograms add
 * bucket by bucket; summaries add count and sum and merge their window sketches, then take
 * quantiles of the merged sketch (quantiles are never added or averaged, as prom-client does).
 * Custom metric objects (any `{ name, get() }` registered in a worker) are merged from their JSON
 * with prom-client's `aggregators`, as `AggregatorRegistry.aggregate` does.
 *
 * Workers answer by themselves: loading hotstats in a cluster worker installs the listener.
 */
import cluster from 'node:cluster'

import { QuantileSketch } from '../quantile/quantile'
import { formatCustom, formatFamily, renderLabels, type ExpositionFormat } from './exposition'
import { ABSENT, type Aggregator, type MetricObject, type MetricValue } from './metric'
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, register, Registry, type ContentType, type CustomMetric } from './registry'
import { flushAllMetrics } from './thread'
import { store, type MetricFamilyDef } from './store'

const REQUEST = 'hotstats:metrics:request'
const RESPONSE = 'hotstats:metrics:response'

/** A sample value that survives JSON (the cluster IPC channel): NaN and infinities as strings. */
type Num = number | string
const enc = (v: number): Num => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf')
const dec = (v: Num): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === '+Inf' ? Infinity : -Infinity)

/** One process's state of its registries, as sent over IPC (JSON-safe). */
export interface RegistryState {
  families: Array<{
    name: string
    def: MetricFamilyDef
    series: Array<{ labels: string[]; row: Num[]; sketch?: string }>
  }>
  /** Custom metric objects' `get()` results, merged with prom-client's aggregators. */
  custom?: MetricObject[]
}

/** The family's state, with the registry's default labels folded into each series' labels. */
function familyState(name: string, id: number, def: MetricFamilyDef, now: number, defaults: Record<string, string>): RegistryState['families'][number] | null {
  let snap: { sids: Uint32Array; rows: Float64Array }
  try {
    snap = store.snapshot(id, now)
  } catch {
    return null // cleared meanwhile
  }
  const { sids, rows } = snap
  const labels = store.labels(id, sids)
  const width = sids.length === 0 ? 0 : rows.length / sids.length
  const sketches = new Map<number, string>()
  if (def.kind === 'summary') {
    const w = store.windowSketches(id, now)
    w.sids.forEach((sid, i) => sketches.set(sid, Buffer.from(w.sketches[i]).toString('base64')))
  }
  const extra = Object.keys(defaults).filter((n) => !def.labelNames.includes(n))
  const fold = (values: string[]): string[] => [
    ...def.labelNames.map((n, j) => (values[j] === ABSENT && defaults[n] !== undefined ? defaults[n] : values[j])),
    ...extra.map((n) => defaults[n]),
  ]
  return {
    name,
    def: extra.length === 0 ? def : { ...def, labelNames: [...def.labelNames, ...extra] },
    series: Array.from(sids, (sid, i) => ({
      labels: fold(labels[i] ?? def.labelNames.map(() => ABSENT)),
      row: Array.from(rows.subarray(i * width, (i + 1) * width), enc),
      sketch: sketches.get(sid),
    })),
  }
}

/**
 * This process's state of a registry: a Registry object (its collects run, with its default
 * labels, custom metrics and metrics registered from elsewhere), or a registry name (the
 * families stored under it, from every thread; the default registry is 'default').
 */
export async function registryState(registry: Registry | string = register): Promise<RegistryState> {
  const now = () => Date.now()
  const families: RegistryState['families'] = []
  const custom: MetricObject[] = []
  if (typeof registry === 'string') {
    flushAllMetrics()
    await store.settle()
    const prefix = `${registry}\0`
    for (const { id, def } of store.families(prefix)) {
      const f = familyState(def.key.slice(prefix.length), id, def, now(), {})
      if (f) families.push(f)
    }
    return { families, custom }
  }
  const defaults = registry.defaultLabelStrings()
  for (const f of await registry.families()) {
    if (f.custom) {
      const got = await registry.getCustom(f.custom)
      if (got) {
        const values = (got.values ?? []).map((v) => ({ ...v, labels: { ...defaults, ...v.labels } }))
        custom.push({ name: got.name ?? f.name, help: got.help ?? '', type: got.type ?? 'untyped', aggregator: ((got as { aggregator?: Aggregator }).aggregator ?? 'sum') as Aggregator, values: values as MetricValue[] })
      }
      continue
    }
    const s = familyState(f.name, f.id, f.def, now(), defaults)
    if (s) families.push(s)
  }
  return { families, custom }
}

interface Merged {
  def: MetricFamilyDef
  series: Map<string, { labels: string[]; rows: number[][]; sketches: string[] }>
}

function same(a: MetricFamilyDef, b: MetricFamilyDef): boolean {
  return a.kind === b.kind && JSON.stringify(a.labelNames) === JSON.stringify(b.labelNames) && JSON.stringify(a.buckets) === JSON.stringify(b.buckets) && JSON.stringify(a.percentiles) === JSON.stringify(b.percentiles)
}

function combine(aggregator: string, xs: number[]): number {
  switch (aggregator) {
    case 'first':
      return xs[0]
    case 'min':
      return xs.reduce((a, b) => Math.min(a, b), Infinity)
    case 'max':
      return xs.reduce((a, b) => Math.max(a, b), -Infinity)
    case 'average':
      return xs.reduce((a, b) => a + b, 0) / xs.length
    default:
      return xs.reduce((a, b) => a + b, 0)
  }
}

/**
 * Merges processes' states into one exposition. A family whose definition differs between
 * processes (kind, labels, buckets, percentiles) is an error, not a silent mix.
 */
export function mergeRegistryStates(states: readonly RegistryState[], format: ExpositionFormat = 'prometheus'): string {
  const byName = new Map<string, Merged>()
  const custom: MetricObject[][] = []
  for (const st of states) {
    if (st.custom && st.custom.length > 0) custom.push(st.custom)
    for (const f of st.families) {
      let m = byName.get(f.name)
      if (!m) byName.set(f.name, (m = { def: f.def, series: new Map() }))
      else if (!same(m.def, f.def)) throw new Error(`metric ${f.name} is defined differently in two processes (${m.def.kind} vs ${f.def.kind})`)
      for (const s of f.series) {
        const key = JSON.stringify(s.labels)
        let e = m.series.get(key)
        if (!e) m.series.set(key, (e = { labels: s.labels, rows: [], sketches: [] }))
        e.rows.push(s.row.map(dec))
        if (s.sketch) e.sketches.push(s.sketch)
      }
    }
  }
  let out = ''
  for (const [name, m] of byName) {
    const agg = m.def.aggregator
    if (agg === 'omit') continue
    const rows: number[] = []
    const labels: string[] = []
    for (const e of m.series.values()) {
      labels.push(renderLabels(m.def.labelNames, e.labels))
      if (m.def.kind === 'counter' || m.def.kind === 'gauge') rows.push(combine(agg, e.rows.map((r) => r[0])))
      else if (m.def.kind === 'histogram') {
        for (let i = 0; i < e.rows[0].length; i++) rows.push(e.rows.reduce((a, r) => a + r[i], 0))
      } else {
        rows.push(e.rows.reduce((a, r) => a + r[0], 0), e.rows.reduce((a, r) => a + r[1], 0))
        const sketch = QuantileSketch.deserialize(Buffer.from(e.sketches[0], 'base64'))
        for (const s of e.sketches.slice(1)) sketch.merge(QuantileSketch.deserialize(Buffer.from(s, 'base64')))
        const empty = sketch.count === 0
        for (const q of m.def.percentiles) rows.push(empty ? (m.def.emptyQuantileNan ? NaN : 0) : sketch.quantile(q))
      }
    }
    out += formatFamily(name, m.def, Float64Array.from(rows), labels, format)
  }
  if (custom.length > 0) {
    const reg = AggregatorRegistry.aggregate(custom.map((ms) => ms.filter((x) => !byName.has(x.name))))
    out += renderAggregated(reg, format)
  }
  return format === 'openmetrics' ? `${out}# EOF\n` : out
}

/** The custom metrics of an aggregated registry, rendered synchronously (their get() is a plain object). */
function renderAggregated(reg: Registry, format: ExpositionFormat): string {
  let out = ''
  for (const m of reg.getMetricsAsArray()) out += formatCustomSync(m as CustomMetric, format)
  return out
}

function formatCustomSync(m: CustomMetric, format: ExpositionFormat): string {
  return formatCustom(m.get() as MetricObject, format)
}

/** prom-client's `hashObject`: label names sorted, undefined values left out. */
function hashLabels(labels: Record<string, unknown> = {}): string {
  let h = ''
  for (const k of Object.keys(labels).sort()) if (labels[k] !== undefined) h += `${k}:${labels[k]},`
  return h
}

/** prom-client's AggregatorFactory: applies `fn` to the values that share a metricName and labels. */
export function AggregatorFactory(fn: (values: MetricValue[]) => number): (metrics: MetricObject[]) => MetricObject | undefined {
  return (metrics) => {
    if (metrics.length === 0) return undefined
    const byLabels = new Map<string, MetricValue[]>()
    for (const m of metrics) {
      for (const v of m.values) {
        const key = `${v.metricName}_${hashLabels(v.labels)}`
        const list = byLabels.get(key)
        if (list) list.push(v)
        else byLabels.set(key, [v])
      }
    }
    const values: MetricValue[] = []
    for (const vs of byLabels.values()) {
      const v: MetricValue = { value: fn(vs), labels: vs[0].labels }
      if (vs[0].metricName) v.metricName = vs[0].metricName
      values.push(v)
    }
    return { help: metrics[0].help, name: metrics[0].name, type: metrics[0].type, values, aggregator: metrics[0].aggregator }
  }
}

/** prom-client's `aggregators`: how `AggregatorRegistry.aggregate` combines one metric's values across processes. */
export const aggregators: Record<Aggregator, (metrics: MetricObject[]) => MetricObject | undefined> = {
  sum: AggregatorFactory((v) => v.reduce((p, c) => p + c.value, 0)),
  first: AggregatorFactory((v) => v[0].value),
  omit: () => undefined,
  average: AggregatorFactory((v) => v.reduce((p, c) => p + c.value, 0) / v.length),
  min: AggregatorFactory((v) => v.reduce((p, c) => Math.min(p, c.value), Infinity)),
  max: AggregatorFactory((v) => v.reduce((p, c) => Math.max(p, c.value), -Infinity)),
}

export interface ClusterAggregatorOptions {
  /** Aggregate the registry of this name in every worker, instead of each worker's `setRegistries` choice. */
  registry?: string
  /** How long to wait for each worker, ms. Default 5000 (prom-client's). */
  timeoutMs?: number
  contentType?: ContentType
}

/** The registries a worker sends (AggregatorRegistry.setRegistries; default: the default registry). */
let workerRegistries: Registry[] = [register]

/**
 * prom-client's AggregatorRegistry: a Registry that, in the cluster primary, also gives the
 * merged metrics of every live worker (`clusterMetrics()`), in its content type.
 */
export class AggregatorRegistry extends Registry {
  private readonly source: string | undefined
  private readonly timeoutMs: number
  private nextId = 0

  /** `new AggregatorRegistry()`, `new AggregatorRegistry(contentType)`, or `new AggregatorRegistry({ contentType, registry, timeoutMs })`. */
  constructor(options: ContentType | ClusterAggregatorOptions = {}) {
    const o: ClusterAggregatorOptions = typeof options === 'string' ? { contentType: options } : (options ?? {})
    super(o.contentType === undefined ? {} : { contentType: o.contentType })
    if (o.registry !== undefined && typeof o.registry !== 'string') throw new TypeError('registry must be a registry name')
    const timeoutMs = o.timeoutMs ?? 5000
    if (!(timeoutMs > 0 && timeoutMs < 2 ** 31)) throw new RangeError(`timeoutMs must be a positive number of ms, got ${timeoutMs}`)
    this.source = o.registry
    this.timeoutMs = timeoutMs
  }

  /** Every live worker's state (none outside the cluster primary). */
  async workerStates(): Promise<RegistryState[]> {
    if (!cluster.isPrimary) return []
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected())
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<RegistryState>((resolve, reject) => {
            const id = this.nextId++
            const timer = setTimeout(() => {
              w!.off('message', onMessage)
              reject(new Error(`Operation timed out: cluster worker ${w!.id} did not send its metrics within ${this.timeoutMs} ms`))
            }, this.timeoutMs)
            const onMessage = (msg: { type?: string; id?: number; state?: RegistryState; error?: string }) => {
              if (msg?.type !== RESPONSE || msg.id !== id) return
              clearTimeout(timer)
              w!.off('message', onMessage)
              if (msg.error) reject(new Error(`cluster worker ${w!.id}: ${msg.error}`))
              else resolve(msg.state!)
            }
            w!.on('message', onMessage)
            w!.send({ type: REQUEST, id, registry: this.source })
          }),
      ),
    )
  }

  /**
   * The merged metrics of every live worker, in this registry's content type (or `format`).
   * Rejects if a worker does not answer within timeoutMs, or two workers define a metric differently.
   */
  async clusterMetrics(format?: ExpositionFormat): Promise<string> {
    const f = format ?? (this.contentType === OPENMETRICS_CONTENT_TYPE ? 'openmetrics' : 'prometheus')
    return mergeRegistryStates(await this.workerStates(), f)
  }

  /**
   * prom-client's `AggregatorRegistry.aggregate`: a registry of the metrics in `metricsArr` (each
   * element one process's `getMetricsAsJSON()`), each combined by its `aggregator` (default sum).
   * Summaries' quantiles are combined the same way here (prom-client's semantics); clusterMetrics()
   * merges sketches instead.
   */
  static aggregate(metricsArr: readonly MetricObject[][], contentType: ContentType = PROMETHEUS_CONTENT_TYPE): Registry {
    const out = new Registry(contentType)
    const byName = new Map<string, MetricObject[]>()
    for (const metrics of metricsArr) {
      for (const m of metrics) {
        const list = byName.get(m.name)
        if (list) list.push(m)
        else byName.set(m.name, [m])
      }
    }
    for (const metrics of byName.values()) {
      const name = metrics[0].aggregator ?? 'sum'
      const fn = aggregators[name]
      if (typeof fn !== 'function') throw new Error(`'${name}' is not a defined aggregator.`)
      const merged = fn(metrics)
      if (merged) out.registerMetric({ ...merged, get: () => merged } as CustomMetric)
    }
    return out
  }

  /** In a worker: the registries this worker sends to the primary (default: the default registry). */
  static setRegistries(regs: Registry | readonly Registry[]): void {
    const list = Array.isArray(regs) ? [...regs] : [regs as Registry]
    for (const r of list) if (!(r instanceof Registry)) throw new TypeError(`Expected Registry, got ${typeof r}`)
    workerRegistries = list
  }
}

/**
 * The earlier name of AggregatorRegistry, kept as an alias: `new ClusterAggregator({ registry,
 * timeoutMs })` and `clusterMetrics(format)` work as before.
 */
export const ClusterAggregator = AggregatorRegistry
export type ClusterAggregator = AggregatorRegistry

async function workerState(registry: string | undefined): Promise<RegistryState> {
  if (registry !== undefined) return registryState(registry)
  const states = await Promise.all(workerRegistries.map((r) => registryState(r)))
  return { families: states.flatMap((s) => s.families), custom: states.flatMap((s) => s.custom ?? []) }
}

function installWorkerListener(): void {
  process.on('message', (msg: { type?: string; id?: number; registry?: string }) => {
    if (msg?.type !== REQUEST) return
    workerState(msg.registry).then(
      (state) => process.send?.({ type: RESPONSE, id: msg.id, state }),
      (e: unknown) => process.send?.({ type: RESPONSE, id: msg.id, error: e instanceof Error ? e.message : String(e) }),
    )
  })
}

if (cluster.isWorker) installWorkerListener()
