/**
 * The JS port of `hotstats_core::window::SlidingWindow` (crates/hotstats-core/src/window/):
 * the same rings, acceptance rule, Neumaier sums and merges; the module doc there explains them.
 * Unique elements arrive as packed HyperLogLog patterns (index * 64 + value, from lib/js/hll's
 * `pattern`), or -1 for none.
 */
import * as hll from './hll'
import * as moments from './moments'
import { JsQuantileSketch } from './quantile'

const MAX_BINS = 2048
export const MAX_BUCKETS = 3600
export const MAX_KEYS = 1 << 20

interface Bucket {
  epoch: number
  count: number
  sum: number
  compensation: number
  moments: Float64Array
  sketch: JsQuantileSketch
  registers: Uint8Array | null
}

/** Neumaier's step on pair[0] (sum) and pair[1] (compensation). */
function neumaier(pair: Float64Array | number[], x: number): void {
  const s = pair[0]
  const t = s + x
  pair[1] += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s
  pair[0] = t
}

export function checkOptions(windowMs: number, buckets: number, relativeAccuracy: number, lateness: number): void {
  if (!(windowMs > 0 && Number.isFinite(windowMs))) throw new RangeError(`windowMs must be a finite number > 0, got ${windowMs}`)
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw new RangeError(`buckets must be an integer from 1 to ${MAX_BUCKETS}, got ${buckets}`)
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError(`relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`)
  if (!(lateness >= 0)) throw new RangeError(`allowedLatenessMs must be >= 0, got ${lateness}`)
}

export class JsSlidingWindow {
  private readonly width: number
  private readonly rings: (Bucket[] | null)[] = []
  private readonly ids = new Map<string, number>()
  lateCount = 0
  watermark = -Infinity

  constructor(
    readonly windowMs: number,
    readonly buckets: number,
    readonly relativeAccuracy: number,
    readonly lateness: number,
  ) {
    checkOptions(windowMs, buckets, relativeAccuracy, lateness)
    this.width = windowMs / buckets
  }

  keyId(key: string): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      if (this.rings.length >= MAX_KEYS) throw new RangeError(`a window holds at most ${MAX_KEYS} keys`)
      id = this.rings.length
      this.ids.set(key, id)
      this.rings.push(null)
    }
    return id
  }

  private newBucket(): Bucket {
    return { epoch: -Infinity, count: 0, sum: 0, compensation: 0, moments: moments.newState(), sketch: new JsQuantileSketch(this.relativeAccuracy, MAX_BINS), registers: null }
  }

  /** One event (finite value and time, known id, valid pattern: checked by the caller); false if late. */
  record(id: number, value: number, t: number, pattern: number): boolean {
    if (t < this.watermark - this.lateness) {
      this.lateCount++
      return false
    }
    const epoch = Math.floor(t / this.width)
    const n = this.buckets
    let ring = this.rings[id]
    if (ring === null) {
      ring = Array.from({ length: n }, () => this.newBucket())
      this.rings[id] = ring
    }
    const slot = ring[((epoch % n) + n) % n]
    if (slot.epoch > epoch) {
      this.lateCount++
      return false
    }
    if (slot.epoch < epoch) {
      slot.epoch = epoch
      slot.count = 0
      slot.sum = 0
      slot.compensation = 0
      slot.moments = moments.newState()
      slot.sketch.clear()
      slot.registers?.fill(0)
    }
    slot.count++
    const pair = [slot.sum, slot.compensation]
    neumaier(pair, value)
    slot.sum = pair[0]
    slot.compensation = pair[1]
    moments.add(slot.moments, value)
    slot.sketch.addUnchecked(value, 1)
    if (pattern >= 0) {
      slot.registers ??= new Uint8Array(hll.REGISTERS)
      const i = pattern >>> 6
      const v = pattern & 63
      if (slot.registers[i] < v) slot.registers[i] = v
    }
    if (t > this.watermark) this.watermark = t
    return true
  }

  private live(id: number, now: number): Bucket[] {
    const e = Math.floor(now / this.width)
    const lo = e - this.buckets
    return (this.rings[id] ?? []).filter((b) => b.epoch > lo && b.epoch <= e && b.count > 0)
  }

  /** [count, sum, min, max, mean, variance, rate, uniques], as the binding returns them. */
  stats(id: number, now: number): number[] {
    let count = 0
    const pair = [0, 0]
    const m = moments.newState()
    let registers: Uint8Array | null = null
    for (const b of this.live(id, now)) {
      count += b.count
      neumaier(pair, b.sum)
      neumaier(pair, b.compensation)
      moments.merge(m, b.moments)
      if (b.registers !== null) {
        registers ??= new Uint8Array(hll.REGISTERS)
        hll.merge(registers, b.registers)
      }
    }
    const sum = pair[0] + pair[1]
    const empty = count === 0
    const variance = count - 1 > 0 ? m[moments.M2] / (count - 1) : NaN
    return [count, sum, empty ? NaN : m[moments.MIN], empty ? NaN : m[moments.MAX], empty ? NaN : sum / count, variance, count / (this.windowMs / 1000), registers === null ? 0 : hll.estimate(registers)]
  }

  sketch(id: number, now: number): JsQuantileSketch {
    const out = new JsQuantileSketch(this.relativeAccuracy, MAX_BINS)
    for (const b of this.live(id, now)) out.merge(b.sketch)
    return out
  }
}
