/**
 * The JS port of `hotstats_core::window::SlidingWindow` (crates/hotstats-core/src/window/):
 * the same rings, acceptance rule, Neumaier sums and merges; the module doc there explains them.
 * Unique elements arrive as packed HyperLogLog patterns (index * 64 + value, from lib/hll/js's
 * `pattern`), or -1 for none, and go to a sparse register list per bucket until it fills. A key's
 * buckets are made when first written; `expire` forgets the keys with nothing left in the window
 * and reuses their ids.
 */
import * as hll from '../hll/js'
import * as kernels from '../kernels/js'
import { JsQuantileSketch, SUM_RUN } from '../quantile/js'

const MAX_BINS = 2048
export const MAX_BUCKETS = 3600
export const MAX_KEYS = 1 << 20

export interface Bucket {
  epoch: number
  count: number
  sum: number
  compensation: number
  min: number
  max: number
  mean: number
  m2: number
  sketch: JsQuantileSketch
  registers: hll.SparseRegisters | null
}

/** Neumaier's step on pair[0] (sum) and pair[1] (compensation). */
function neumaier(pair: Float64Array | number[], x: number): void {
  const s = pair[0]
  const t = s + x
  pair[1] += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s
  pair[0] = t
}

/** Chan's merge of bucket-like `a` (count before the merge) with (nb, meanB, m2B), as the core's. */
function chan(a: { mean: number; m2: number }, n: number, nb: number, meanB: number, m2B: number): void {
  if (n === 0) {
    a.mean = meanB
    a.m2 = m2B
    return
  }
  const total = n + nb
  const d = meanB - a.mean
  a.mean += (d * nb) / total
  a.m2 += m2B + (d * d * n * nb) / total
}

/** Σ(x − mean)², as the core's `sum_sq_dev`. */
function sumSqDev(x: Float64Array, mean: number): number {
  if (x.length === 0) return 0
  const d = kernels.newLanes()
  const q = kernels.newLanes()
  kernels.accumulateDeviations(x, 0, x.length, mean, d, q)
  const sd = kernels.reduce(d)
  const m2 = kernels.reduce(q) - (sd * sd) / x.length
  return m2 < 0 ? 0 : m2
}

/** A packed HyperLogLog pattern (index * 64 + value) or -1. */
export function patternOk(p: number): boolean {
  return p === -1 || (Number.isInteger(p) && p >= 0 && p >>> 6 < hll.REGISTERS && (p & 63) >= 1 && (p & 63) <= hll.MAX_VALUE)
}

export class JsSlidingWindow {
  private readonly width: number
  /** Per key id: its buckets (made when first written), or null before any write. */
  private readonly rings: ((Bucket | null)[] | null)[] = []
  /** Per key id: the newest epoch written (-Infinity before any), what `expire` looks at. */
  private readonly newest: number[] = []
  /** Per key id: its name, or undefined for a freed id (waiting in `free`). */
  private readonly names: (string | undefined)[] = []
  private readonly free: number[] = []
  private readonly ids = new Map<string, number>()
  lateCount = 0
  watermark = -Infinity

  constructor(
    readonly windowMs: number,
    readonly buckets: number,
    readonly relativeAccuracy: number,
    readonly lateness: number,
  ) {
    // The options were checked by the facade (checkOptions in lib/window/window.ts).
    this.width = windowMs / buckets
  }

  /** The id of `key`, created on first use (at most MAX_KEYS at once; a freed id is reused). */
  keyId(key: string): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      if (this.ids.size >= MAX_KEYS) throw new RangeError(`a window holds at most ${MAX_KEYS} keys`)
      id = this.free.pop()
      if (id === undefined) {
        id = this.rings.length
        this.rings.push(null)
        this.newest.push(-Infinity)
        this.names.push(key)
      } else {
        this.names[id] = key
      }
      this.ids.set(key, id)
    }
    return id
  }

  /** Keys held, in creation order. */
  keyNames(): string[] {
    return [...this.ids.keys()]
  }

  /** How many keys are held. */
  get size(): number {
    return this.ids.size
  }

  /** Whether `id` is the id of a held key. */
  holds(id: number): boolean {
    return this.names[id] !== undefined
  }

  /** Forgets key `id` and frees its buckets; false if it is not held. */
  removeId(id: number): boolean {
    const name = this.names[id]
    if (name === undefined) return false
    this.ids.delete(name)
    this.names[id] = undefined
    this.rings[id] = null
    this.newest[id] = -Infinity
    this.free.push(id)
    return true
  }

  /** Forgets every key with nothing in the window at `now` (as the core's `expire`); their ids. */
  expire(now: number): number[] {
    if (Number.isNaN(now)) return []
    const lo = Math.floor(now / this.width) - this.buckets
    const gone: number[] = []
    for (let id = 0; id < this.names.length; id++) if (this.names[id] !== undefined && this.newest[id] <= lo) gone.push(id)
    for (const id of gone) this.removeId(id)
    return gone
  }

  private newBucket(): Bucket {
    return { epoch: -Infinity, count: 0, sum: 0, compensation: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0, sketch: new JsQuantileSketch(this.relativeAccuracy, MAX_BINS), registers: null }
  }

  /** Raises the watermark to `t` if it is newer. */
  advanceWatermark(t: number): void {
    if (t > this.watermark) this.watermark = t
  }

  epochOf(t: number): number {
    return Math.floor(t / this.width)
  }

  /** The watermark rule for `count` events at `t`, as the core's `admit`. */
  admit(t: number, count: number): boolean {
    if (t < this.watermark - this.lateness) {
      this.lateCount += count
      return false
    }
    if (t > this.watermark) this.watermark = t
    return true
  }

  private slot(id: number, t: number, count: number): Bucket | null {
    return this.admit(t, count) ? this.bucket(id, t, count) : null
  }

  /** The bucket for key `id` at `t`, reset if older; null (counted late) if it holds a newer epoch. */
  private bucket(id: number, t: number, count: number): Bucket | null {
    const epoch = Math.floor(t / this.width)
    const n = this.buckets
    let ring = this.rings[id]
    if (ring === null) {
      ring = new Array<Bucket | null>(n).fill(null)
      this.rings[id] = ring
    }
    const at = ((epoch % n) + n) % n
    const slot = ring[at] ?? (ring[at] = this.newBucket())
    if (slot.epoch > epoch) {
      this.lateCount += count
      return null
    }
    if (slot.epoch < epoch) {
      slot.epoch = epoch
      slot.count = 0
      slot.sum = 0
      slot.compensation = 0
      slot.min = Infinity
      slot.max = -Infinity
      slot.mean = 0
      slot.m2 = 0
      slot.sketch.clear()
      slot.registers?.clear()
    }
    if (epoch > this.newest[id]) this.newest[id] = epoch
    return slot
  }

  /** One event (finite value and time, known id, valid pattern: checked by the caller); false if late. */
  record(id: number, value: number, t: number, pattern: number): boolean {
    const slot = this.slot(id, t, 1)
    if (slot === null) return false
    slot.count++
    const pair = [slot.sum, slot.compensation]
    neumaier(pair, value)
    slot.sum = pair[0]
    slot.compensation = pair[1]
    const d = value - slot.mean
    slot.mean += d / slot.count
    slot.m2 += d * (value - slot.mean)
    slot.min = Math.min(slot.min, value)
    slot.max = Math.max(slot.max, value)
    slot.sketch.addUnchecked(value, 1)
    if (pattern >= 0) this.addPattern(slot, pattern)
    return true
  }

  private addPattern(slot: Bucket, pattern: number): void {
    ;(slot.registers ??= new hll.SparseRegisters()).set(pattern)
  }

  /**
   * Values of key `id`, all at time `t` (finite, checked by the caller), with packed patterns
   * (null: none), as the core's `record_run`; false if the run was too late.
   */
  recordRun(id: number, t: number, values: Float64Array, patterns: Int32Array | null): boolean {
    if (values.length === 0) return true
    return this.admit(t, values.length) && this.recordAdmittedRun(id, t, values, patterns)
  }

  /** A run `admit` let in, as the core's `record_admitted_run`. */
  recordAdmittedRun(id: number, t: number, values: Float64Array, patterns: Int32Array | null): boolean {
    const slot = this.bucket(id, t, values.length)
    if (slot === null) return false
    for (let from = 0; from < values.length; from += SUM_RUN) {
      const run = values.subarray(from, Math.min(from + SUM_RUN, values.length))
      const n = run.length
      const ex = kernels.minMax(run)
      const sum = kernels.sum(run)
      const mean = sum / n
      chan(slot, slot.count, n, mean, sumSqDev(run, mean))
      slot.count += n
      const pair = [slot.sum, slot.compensation]
      neumaier(pair, sum)
      slot.sum = pair[0]
      slot.compensation = pair[1]
      slot.min = Math.min(slot.min, ex.min)
      slot.max = Math.max(slot.max, ex.max)
      slot.sketch.addMany(run)
    }
    if (patterns !== null) for (let i = 0; i < patterns.length; i++) if (patterns[i] >= 0) this.addPattern(slot, patterns[i])
    return true
  }

  private live(id: number, now: number): Bucket[] {
    const e = Math.floor(now / this.width)
    const lo = e - this.buckets
    const out: Bucket[] = []
    for (const b of this.rings[id] ?? []) if (b !== null && b.epoch > lo && b.epoch <= e && b.count > 0) out.push(b)
    return out
  }

  /** [count, sum, min, max, mean, variance, rate, uniques], as the binding returns them. */
  stats(id: number, now: number): number[] {
    return summarize(this.windowMs, this.live(id, now))
  }

  /** The live buckets of `key` at `now` (none if unknown), for merging shards. */
  liveOf(key: string, now: number): Bucket[] {
    const id = this.ids.get(key)
    return id === undefined ? [] : this.live(id, now)
  }

  sketch(id: number, now: number): JsQuantileSketch {
    const out = new JsQuantileSketch(this.relativeAccuracy, MAX_BINS)
    for (const b of this.live(id, now)) out.merge(b.sketch)
    return out
  }
}

/** [count, sum, min, max, mean, variance, rate, uniques] over buckets, as the core's `summarize`. */
export function summarize(windowMs: number, buckets: Iterable<Bucket>): number[] {
  let count = 0
  const pair = [0, 0]
  const acc = { mean: 0, m2: 0 }
  let min = Infinity
  let max = -Infinity
  let registers: Uint8Array | null = null
  for (const b of buckets) {
    chan(acc, count, b.count, b.mean, b.m2)
    count += b.count
    neumaier(pair, b.sum)
    neumaier(pair, b.compensation)
    min = Math.min(min, b.min)
    max = Math.max(max, b.max)
    if (b.registers !== null && !b.registers.empty) {
      registers ??= new Uint8Array(hll.REGISTERS)
      b.registers.mergeInto(registers)
    }
  }
  const sum = pair[0] + pair[1]
  const empty = count === 0
  const variance = count >= 2 ? acc.m2 / (count - 1) : NaN
  return [count, sum, empty ? NaN : min, empty ? NaN : max, empty ? NaN : sum / count, variance, count / (windowMs / 1000), registers === null ? 0 : hll.estimate(registers)]
}
