/**
 * Node `cluster`: the primary asks every worker for its registry's state over the cluster IPC
 * channel and merges it by type. Counters add; gauges follow the metric's `aggregator` (sum,
 * first, min, max, average or omit); histograms add bucket by bucket; summaries add count and
 * sum and merge their window sketches, then take quantiles of the merged sketch (quantiles
 * are never added or averaged).
 *
 * Workers answer by themselves: loading hotstats in a cluster worker installs the listener.
 */
import cluster from 'node:cluster'

import { QuantileSketch } from '../quantile'
import { formatFamily, renderLabels, type ExpositionFormat } from './exposition'
import { flushAllMetrics } from './thread'
import { store, type MetricFamilyDef } from './store'

const REQUEST = 'hotstats:metrics:request'
const RESPONSE = 'hotstats:metrics:response'

/** One process's state of a registry, as sent over IPC (JSON-safe). */
export interface RegistryState {
  families: Array<{
    name: string
    def: MetricFamilyDef
    series: Array<{ labels: string[]; row: number[]; sketch?: string }>
  }>
}

/** This process's state of the registry named `registryName` (the default registry: 'default'). */
export async function registryState(registryName = 'default'): Promise<RegistryState> {
  flushAllMetrics()
  await store.settle()
  const prefix = `${registryName}\0`
  const now = Date.now()
  const families: RegistryState['families'] = []
  for (const { id, def } of store.families(prefix)) {
    const { sids, rows } = store.snapshot(id, now)
    const labels = store.labels(id, sids)
    const width = sids.length === 0 ? 0 : rows.length / sids.length
    const sketches = new Map<number, string>()
    if (def.kind === 'summary') {
      const w = store.windowSketches(id, now)
      w.sids.forEach((sid, i) => sketches.set(sid, Buffer.from(w.sketches[i]).toString('base64')))
    }
    families.push({
      name: def.key.slice(prefix.length),
      def,
      series: Array.from(sids, (sid, i) => ({ labels: labels[i] ?? [], row: Array.from(rows.subarray(i * width, (i + 1) * width)), sketch: sketches.get(sid) })),
    })
  }
  return { families }
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
      return Math.min(...xs)
    case 'max':
      return Math.max(...xs)
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
  for (const st of states) {
    for (const f of st.families) {
      let m = byName.get(f.name)
      if (!m) byName.set(f.name, (m = { def: f.def, series: new Map() }))
      else if (!same(m.def, f.def)) throw new Error(`metric ${f.name} is defined differently in two processes (${m.def.kind} vs ${f.def.kind})`)
      for (const s of f.series) {
        const key = JSON.stringify(s.labels)
        let e = m.series.get(key)
        if (!e) m.series.set(key, (e = { labels: s.labels, rows: [], sketches: [] }))
        e.rows.push(s.row)
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
        for (const q of m.def.percentiles) rows.push(sketch.quantile(q))
      }
    }
    out += formatFamily(name, m.def, Float64Array.from(rows), labels, format)
  }
  return format === 'openmetrics' ? `${out}# EOF\n` : out
}

export interface ClusterAggregatorOptions {
  /** The registry to aggregate (by name). Default: the default registry. */
  registry?: string
  /** How long to wait for each worker, ms. Default 5000. */
  timeoutMs?: number
}

/** In the primary: the merged metrics of every live cluster worker. */
export class ClusterAggregator {
  private readonly registry: string
  private readonly timeoutMs: number
  private nextId = 0

  constructor(options: ClusterAggregatorOptions = {}) {
    if (!cluster.isPrimary) throw new Error('ClusterAggregator runs in the cluster primary')
    this.registry = options.registry ?? 'default'
    this.timeoutMs = options.timeoutMs ?? 5000
  }

  /** Every live worker's state of the registry. */
  async workerStates(): Promise<RegistryState[]> {
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected())
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<RegistryState>((resolve, reject) => {
            const id = this.nextId++
            const timer = setTimeout(() => {
              w!.off('message', onMessage)
              reject(new Error(`cluster worker ${w!.id} did not send its metrics within ${this.timeoutMs} ms`))
            }, this.timeoutMs)
            const onMessage = (msg: { type?: string; id?: number; state?: RegistryState; error?: string }) => {
              if (msg?.type !== RESPONSE || msg.id !== id) return
              clearTimeout(timer)
              w!.off('message', onMessage)
              if (msg.error) reject(new Error(`cluster worker ${w!.id}: ${msg.error}`))
              else resolve(msg.state!)
            }
            w!.on('message', onMessage)
            w!.send({ type: REQUEST, id, registry: this.registry })
          }),
      ),
    )
  }

  /** The merged exposition (Prometheus text by default). */
  async clusterMetrics(format: ExpositionFormat = 'prometheus'): Promise<string> {
    return mergeRegistryStates(await this.workerStates(), format)
  }
}

function installWorkerListener(): void {
  process.on('message', (msg: { type?: string; id?: number; registry?: string }) => {
    if (msg?.type !== REQUEST) return
    registryState(msg.registry).then(
      (state) => process.send?.({ type: RESPONSE, id: msg.id, state }),
      (e: unknown) => process.send?.({ type: RESPONSE, id: msg.id, error: e instanceof Error ? e.message : String(e) }),
    )
  })
}

if (cluster.isWorker) installWorkerListener()
