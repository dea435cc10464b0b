/**
 * The process-wide metrics store behind every Registry.
 *
 * Native backend: one store in the addon (a Rust static behind a mutex), so every
 * worker_thread reads and writes the same families at once.
 *
 * JS backend: each thread keeps a replica (JsMetricsStore) and sends every change it makes
 * (definitions, staged batches, removals) to the other threads on a BroadcastChannel; each
 * applies the others' changes when they arrive. Reads (`settle`) first let pending messages
 * in. Differences, documented in the README: another thread's batch becomes visible a turn of
 * the event loop later, and the series limit is counted per replica.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads'

import { native } from '../backend/backend'
import { JsMetricsStore } from './js'
import { loopTurn } from './turn'

/** A family's definition (the Rust FamilyDef; field names as the native binding has them). */
export interface MetricFamilyDef {
  key: string
  kind: string
  help: string
  labelNames: string[]
  buckets: number[]
  percentiles: number[]
  maxAgeMs: number
  ageBuckets: number
  relativeAccuracy: number
  maxSeries: number
  aggregator: string
  /** Summary: drop a series once its window is empty (prom-client's pruneAgedBuckets). */
  pruneAgedBuckets: boolean
  /** Summary: an empty window's quantiles are NaN instead of 0. */
  emptyQuantileNan: boolean
  /** Histogram: also keep an all-time sketch per series (native-histogram export). */
  nativeHistogram: boolean
}

export interface MetricsStore {
  define(def: MetricFamilyDef): number
  undefine(fid: number): boolean
  /** Whether the family is defined (it may have been cleared, here or in another thread). */
  has(fid: number): boolean
  families(prefix: string): { id: number; def: MetricFamilyDef }[]
  series(fid: number, labels: string[]): number
  remove(fid: number, labels: string[]): boolean
  reset(fid: number): void
  refused(fid: number): number
  apply(fid: number, sids: Uint32Array, rows: Float64Array): number[]
  observe(fid: number, sids: Uint32Array, values: Float64Array, nowMs: number): number[]
  snapshot(fid: number, nowMs: number): { sids: Uint32Array; rows: Float64Array }
  labels(fid: number, sids: Uint32Array): (string[] | null)[]
  windowSketches(fid: number, nowMs: number): { sids: Uint32Array; sketches: Uint8Array[] }
  /** Resolves once changes other threads made before the call are visible here. */
  settle(): Promise<void>
}

function nativeStore(n: NonNullable<typeof native>): MetricsStore {
  return {
    define: (def) => n.metricsDefine(def),
    undefine: (fid) => n.metricsUndefine(fid),
    has: (fid) => {
      try {
        n.metricsRefused(fid)
        return true
      } catch {
        return false
      }
    },
    families: (prefix) => n.metricsFamilies(prefix),
    series: (fid, labels) => n.metricsSeries(fid, labels),
    remove: (fid, labels) => n.metricsRemove(fid, labels),
    reset: (fid) => n.metricsReset(fid),
    refused: (fid) => n.metricsRefused(fid),
    apply: (fid, sids, rows) => n.metricsApply(fid, sids, rows),
    observe: (fid, sids, values, nowMs) => n.metricsObserve(fid, sids, values, nowMs),
    snapshot: (fid, nowMs) => n.metricsSnapshot(fid, nowMs),
    labels: (fid, sids) => n.metricsLabels(fid, sids).map((l) => l ?? null),
    windowSketches: (fid, nowMs) => n.metricsWindowSketches(fid, nowMs),
    settle: () => Promise.resolve(),
  }
}

type Change =
  | { op: 'define'; def: MetricFamilyDef }
  | { op: 'undefine'; key: string }
  | { op: 'remove'; key: string; labels: string[] }
  | { op: 'reset'; key: string }
  | { op: 'apply'; def: MetricFamilyDef; labels: string[][]; rows: Float64Array }
  | { op: 'observe'; def: MetricFamilyDef; labels: string[][]; values: Float64Array; nowMs: number }

const CHANNEL = 'hotstats:metrics'

class ReplicatedJsStore implements MetricsStore {
  private local = new JsMetricsStore()
  private channel: BroadcastChannel | null = null
  private defs = new Map<number, MetricFamilyDef>()

  private send(change: Change): void {
    this.listen()
    this.channel!.postMessage(change)
  }

  /** Starts listening (a thread that only reads still needs the others' changes). */
  listen(): void {
    if (!this.channel) {
      this.channel = new BroadcastChannel(CHANNEL)
      this.channel.onmessage = (e) => this.receive((e as MessageEvent).data as Change)
      this.channel.unref()
    }
  }

  private fidOf(key: string): number | undefined {
    for (const [fid, def] of this.defs) if (def.key === key) return fid
    return undefined
  }

  private receive(c: Change): void {
    try {
      if (c.op === 'define') this.defineLocal(c.def)
      else if (c.op === 'undefine') {
        const fid = this.fidOf(c.key)
        if (fid !== undefined) this.undefineLocal(fid)
      } else if (c.op === 'remove' || c.op === 'reset') {
        const fid = this.fidOf(c.key)
        if (fid === undefined) return
        if (c.op === 'remove') this.local.remove(fid, c.labels)
        else this.local.reset(fid)
      } else {
        const fid = this.defineLocal(c.def)
        const sids = Uint32Array.from(c.labels, (l) => this.local.series(fid, l))
        if (c.op === 'apply') this.local.apply(fid, sids, c.rows)
        else this.local.observe(fid, sids, c.values, c.nowMs)
      }
    } catch {
      // A change that conflicts with this thread's own definition is dropped here; the
      // thread that made it got the error when it registered.
    }
  }

  private defineLocal(def: MetricFamilyDef): number {
    const fid = this.local.define(def)
    this.defs.set(fid, def)
    return fid
  }

  private undefineLocal(fid: number): boolean {
    this.defs.delete(fid)
    return this.local.undefine(fid)
  }

  define(def: MetricFamilyDef): number {
    this.listen()
    const known = this.fidOf(def.key) !== undefined
    const fid = this.defineLocal(def)
    if (!known) this.send({ op: 'define', def })
    return fid
  }

  undefine(fid: number): boolean {
    const def = this.defs.get(fid)
    if (def) this.send({ op: 'undefine', key: def.key })
    return this.undefineLocal(fid)
  }

  has(fid: number): boolean {
    return this.defs.has(fid)
  }

  families(prefix: string) {
    return this.local.families(prefix)
  }

  series(fid: number, labels: string[]): number {
    return this.local.series(fid, labels)
  }

  remove(fid: number, labels: string[]): boolean {
    const removed = this.local.remove(fid, labels)
    this.send({ op: 'remove', key: this.defs.get(fid)!.key, labels })
    return removed
  }

  reset(fid: number): void {
    this.local.reset(fid)
    this.send({ op: 'reset', key: this.defs.get(fid)!.key })
  }

  refused(fid: number): number {
    return this.local.refused(fid)
  }

  /** The live rows of a batch, by label values (other threads have their own sids). */
  private live(fid: number, sids: Uint32Array, rows: Float64Array): { labels: string[][]; rows: Float64Array } {
    const width = sids.length === 0 ? 0 : rows.length / sids.length
    const all = this.local.labels(fid, sids)
    const labels: string[][] = []
    const keep: number[] = []
    all.forEach((l, r) => {
      if (l === null) return
      labels.push(l)
      for (let i = 0; i < width; i++) keep.push(rows[r * width + i])
    })
    return { labels, rows: keep.length === rows.length ? rows : Float64Array.from(keep) }
  }

  apply(fid: number, sids: Uint32Array, rows: Float64Array): number[] {
    const live = this.live(fid, sids, rows)
    const dead = this.local.apply(fid, sids, rows)
    if (live.labels.length > 0) this.send({ op: 'apply', def: this.defs.get(fid)!, labels: live.labels, rows: live.rows })
    return dead
  }

  observe(fid: number, sids: Uint32Array, values: Float64Array, nowMs: number): number[] {
    const live = this.live(fid, sids, values)
    const dead = this.local.observe(fid, sids, values, nowMs)
    if (live.labels.length > 0) this.send({ op: 'observe', def: this.defs.get(fid)!, labels: live.labels, values: live.rows, nowMs })
    return dead
  }

  snapshot(fid: number, nowMs: number) {
    return this.local.snapshot(fid, nowMs)
  }

  labels(fid: number, sids: Uint32Array) {
    return this.local.labels(fid, sids)
  }

  windowSketches(fid: number, nowMs: number) {
    return this.local.windowSketches(fid, nowMs)
  }

  async settle(): Promise<void> {
    this.listen()
    // Messages posted before this call are queued on our channel and handled in a poll phase;
    // two turns (the second posted from the first's callback) come after it. No timers, so a
    // read resolves under fake timers (see turn.ts).
    await loopTurn()
    await loopTurn()
  }
}

/** This thread's view of the process-wide store. */
export const store: MetricsStore = native ? nativeStore(native) : new ReplicatedJsStore()

/** A name unique in the process for a registry that is not shared by name. */
export function uniqueRegistryName(): string {
  uniqueCount++
  return `anonymous:${process.pid}:${threadId}:${uniqueCount}`
}
let uniqueCount = 0
