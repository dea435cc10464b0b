/**
 * QuantileSketch: quantiles with a relative-error guarantee (DDSketch). Every quantile returned
 * is within `relativeAccuracy` (default 0.01) of the true value at that rank, the element at
 * 0-based position floor(q · (count - 1)) of the sorted input. Memory is bounded by `maxBins`
 * buckets per sign (default 2048); past that the lowest-magnitude buckets collapse, so the
 * smallest magnitudes lose accuracy first and the tail (p99, max) stays exact to α.
 *
 * `add(v)` is a typed-array store into a staging buffer; batches cross to Rust in one call when
 * the buffer fills and before every read, so reads are exact. The JS backend runs the same
 * algorithm with the same bits.
 */
import { numberArg, numberOption } from '../backend/check'
import { native, rangeErrors } from '../backend/backend'
import { JsQuantileSketch, MIN_RELATIVE_ACCURACY, SUM_RUN } from './js'
import { toFloat64Array, type Numbers } from '../kernels/kernels'
import type { NativeQuantileSketch } from '../../native'
import { nativeHistogramToSketchBytes, NATIVE_HISTOGRAM_DEFAULT_SCHEMA, sketchToNativeHistogram, type NativeHistogram } from '../metrics/native-histogram'

export interface QuantileSketchOptions {
  /** α in [1e-6, 1): each returned quantile is within α × the true value. Default 0.01. */
  relativeAccuracy?: number
  /** Buckets per sign, 1..2^24. Default 2048. */
  maxBins?: number
}

/** Whether `a` is an accepted relative accuracy: a number in [1e-6, 1) (see MIN_RELATIVE_ACCURACY). */
export function relativeAccuracyOk(a: unknown): a is number {
  return typeof a === 'number' && a >= MIN_RELATIVE_ACCURACY && a < 1
}

/** Values staged in JS before one native call (one Node-API call per batch, not per value). */
const STAGING = SUM_RUN // flushes line up with the partial sums, so add and addMany agree
const STAGING_FIRST = 16
export const QUANTILE_STAGING = STAGING

/** Scratch JS sketches (by accuracy and bins) that answer reads of sketches with no backend yet. */
const scratch = new Map<string, JsQuantileSketch>()

/** One backend's sketch: the native class, or its JS port with the same methods. */
type Backend = JsQuantileSketch | NativeQuantileSketch

function makeBackend(relativeAccuracy: number, maxBins: number): Backend {
  // Binding errors (the facade checked the arguments first) surface as RangeErrors, never plain Errors.
  return native ? rangeErrors(() => new native!.NativeQuantileSketch(relativeAccuracy, maxBins)) : new JsQuantileSketch(relativeAccuracy, maxBins)
}

export class QuantileSketch {
  readonly relativeAccuracy: number
  readonly maxBins: number
  // Created at the first flush: until then every value is staged here and reads answer from a
  // scratch JS sketch (the same bits), so a sketch holding a few values costs a few hundred
  // bytes and no Node-API call (small inputs stay in JS, as the kernels' crossover does).
  private backend: Backend | null = null
  // Grows 16 → 1024 as values arrive between flushes, so a sketch holding a few values (one per
  // series or per window bucket in a server) costs bytes, not 8 KiB. It only flushes when full at
  // STAGING or on a read, so the partial-sum runs (and the bits of `sum`) are unchanged.
  private staging = new Float64Array(STAGING_FIRST)
  private staged = 0

  constructor(options: QuantileSketchOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
    const relativeAccuracy = numberOption(options.relativeAccuracy, 'options.relativeAccuracy', 0.01)
    const maxBins = numberOption(options.maxBins, 'options.maxBins', 2048)
    if (!relativeAccuracyOk(relativeAccuracy)) {
      // Below 1e-6 the largest doubles would have no bucket index (see MIN_RELATIVE_ACCURACY).
      throw new RangeError(`options.relativeAccuracy must be a number in [1e-6, 1), got ${relativeAccuracy}`)
    }
    if (!Number.isInteger(maxBins) || maxBins < 1 || maxBins > 2 ** 24) {
      throw new RangeError(`options.maxBins must be an integer in [1, 2^24], got ${maxBins}`)
    }
    this.relativeAccuracy = relativeAccuracy
    this.maxBins = maxBins
  }

  private own(): Backend {
    return (this.backend ??= makeBackend(this.relativeAccuracy, this.maxBins))
  }

  /** Sends staged values to the backend (reads do this first, once the sketch has a backend). */
  flush(): this {
    if (this.staged > 0) {
      const b = this.own()
      rangeErrors(() => b.addMany(this.staging.subarray(0, this.staged)))
      this.staged = 0
    }
    return this
  }

  /**
   * What a read asks: this sketch's backend, or, while every value is still staged (no backend
   * yet), a scratch JS sketch filled with them. Use it at once (the scratch is shared).
   */
  private readable(): Backend {
    if (this.backend === null) {
      const key = `${this.relativeAccuracy}/${this.maxBins}`
      let s = scratch.get(key)
      if (s === undefined) {
        s = new JsQuantileSketch(this.relativeAccuracy, this.maxBins)
        scratch.set(key, s)
      } else s.clear()
      if (this.staged > 0) s.addMany(this.staging.subarray(0, this.staged))
      return s
    }
    this.flush()
    return this.backend
  }

  /** Records v (finite), with an optional weight `count` > 0 (default 1). */
  add(v: number, count?: number): this {
    // The hot path: one check (Number.isFinite is false for non-numbers too) and a store, on
    // locals (measured ~10% less per value than re-reading the fields); a full staging buffer
    // grows on the slow path.
    const i = this.staged
    const staging = this.staging
    if (count === undefined && i < staging.length && Number.isFinite(v)) {
      staging[i] = v
      this.staged = i + 1
      if (i + 1 === STAGING) this.flush()
      return this
    }
    return this.addChecked(v, count)
  }

  /** Doubles the staging buffer (never past STAGING: a full STAGING buffer flushes instead). */
  private grow(): void {
    const bigger = new Float64Array(Math.min(STAGING, this.staging.length * 2))
    bigger.set(this.staging)
    this.staging = bigger
  }

  private addChecked(v: number, count: number | undefined): this {
    if (!Number.isFinite(numberArg(v, 'v'))) throw new RangeError(`v must be a finite number, got ${String(v)}`)
    if (count === undefined || count === 1) {
      if (this.staged === this.staging.length) this.grow()
      return this.add(v)
    }
    if (!Number.isFinite(numberArg(count, 'count')) || !(count > 0)) throw new RangeError(`count must be a finite number > 0, got ${String(count)}`)
    this.flush()
    const b = this.own()
    rangeErrors(() => b.addWeighted(v, count))
    return this
  }

  /** Records every value (all checked first: one non-finite value and nothing is added). */
  addMany(values: Numbers): this {
    const a = toFloat64Array(values, 'values')
    this.flush()
    if (native === null || this.backend instanceof JsQuantileSketch) {
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new RangeError(`values[${i}] must be finite, got ${a[i]}`)
      ;(this.own() as JsQuantileSketch).addMany(a)
    } else {
      // The native add checks every value before adding any (one pass, not two).
      try {
        this.own().addMany(a)
      } catch (e) {
        throw new RangeError((e as Error).message)
      }
    }
    return this
  }

  private checkQ(q: number, name: string): void {
    if (!(numberArg(q, name) >= 0 && q <= 1)) throw new RangeError(`${name} must be a number in [0, 1], got ${q}`)
  }

  /** The value at quantile q in [0, 1] (within α of the true one); NaN when empty. */
  quantile(q: number): number {
    this.checkQ(q, 'q')
    const b = this.readable()
    return rangeErrors(() => b.quantile(q))
  }

  quantiles(qs: readonly number[]): number[] {
    if (!Array.isArray(qs)) throw new TypeError('qs must be an array of numbers')
    qs.forEach((q, i) => this.checkQ(q, `qs[${i}]`))
    const b = this.readable()
    return rangeErrors(() => qs.map((q) => b.quantile(q)))
  }

  /** Estimated fraction of the recorded values that are <= v, in [0, 1]; NaN when empty. */
  rank(v: number): number {
    if (Number.isNaN(numberArg(v, 'v'))) throw new RangeError('v must be a number, got NaN')
    const b = this.readable()
    return rangeErrors(() => b.rank(v))
  }

  private stats(): [number, number, number, number] {
    const b = this.readable()
    return rangeErrors(() => b.stats()) as [number, number, number, number]
  }
  get count(): number {
    return this.stats()[0]
  }
  get sum(): number {
    return this.stats()[1]
  }
  /** Exact; NaN when empty. */
  get min(): number {
    const [c, , m] = this.stats()
    return c === 0 ? NaN : m
  }
  /** Exact; NaN when empty. */
  get max(): number {
    const [c, , , m] = this.stats()
    return c === 0 ? NaN : m
  }
  get mean(): number {
    const [c, s] = this.stats()
    return c === 0 ? NaN : s / c
  }

  /** Folds another sketch in; a different relativeAccuracy is an error (nothing changes). */
  merge(other: QuantileSketch): this {
    if (!(other instanceof QuantileSketch)) throw new TypeError('other must be a QuantileSketch')
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw new RangeError(`cannot merge sketches of relativeAccuracy ${this.relativeAccuracy} and ${other.relativeAccuracy}`)
    }
    other.flush()
    this.flush()
    // Both sketches live in this process, so their backends are of the same kind.
    const mine = this.own()
    const theirs = other.own()
    rangeErrors(() => (mine as JsQuantileSketch).merge(theirs as JsQuantileSketch))
    return this
  }

  clear(): this {
    this.staged = 0
    const b = this.backend
    if (b !== null) rangeErrors(() => b.clear())
    return this
  }

  /** Versioned bytes (magic HSQS v1; see crates/hotstats-core/src/quantile/mod.rs). */
  serialize(): Uint8Array {
    const b = this.readable()
    return new Uint8Array(rangeErrors(() => b.serialize()))
  }

  /**
   * This sketch as a Prometheus native histogram (see lib/metrics/native-histogram.ts for the layout and
   * the accuracy it keeps: about α + 2^(2^-schema) - 1). Feed it to Prometheus with
   * `encodeNativeHistogramFamily`.
   */
  toPrometheusNativeHistogram(options: { schema?: number } = {}): NativeHistogram {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
    const schema = numberOption(options.schema, 'schema', NATIVE_HISTOGRAM_DEFAULT_SCHEMA)
    return sketchToNativeHistogram(this.serialize(), schema) // checks the schema
  }

  /** A sketch holding a Prometheus native histogram's buckets (bad layouts are a RangeError). */
  static fromPrometheusNativeHistogram(histogram: NativeHistogram, options: QuantileSketchOptions = {}): QuantileSketch {
    const shape = new QuantileSketch(options) // validates the options
    return QuantileSketch.deserialize(nativeHistogramToSketchBytes(histogram, shape.relativeAccuracy, shape.maxBins))
  }

  /** From serialize() bytes; bad bytes are a RangeError. */
  static deserialize(bytes: Uint8Array): QuantileSketch {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (or Buffer)')
    // One decoder per backend, the one whose state it fills: the Rust one natively (fuzzed by
    // cargo-fuzz and scripts/fuzz-ts.ts), the JS port otherwise (scripts/fuzz-ts.ts with
    // HOTSTATS_BACKEND=js); the fuzzer also checks that both accept the same bytes.
    const backend = native ? rangeErrors(() => native!.NativeQuantileSketch.deserialize(bytes)) : JsQuantileSketch.deserialize(bytes)
    // Accepted bytes hold a valid accuracy (f64 at byte 8) and maxBins (u32 at byte 16).
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const sk = new QuantileSketch({ relativeAccuracy: dv.getFloat64(8, true), maxBins: dv.getUint32(16, true) })
    sk.backend = backend
    return sk
  }
}
