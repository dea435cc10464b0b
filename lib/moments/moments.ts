/**
 * Moments: count, sum, min, max, mean, variance, skewness and kurtosis of a stream, in O(1)
 * memory, mergeable across threads, processes and machines (Pébay's pairwise formulas): merging
 * the summaries of parts gives the summary of the whole. Values are shifted by the first value
 * seen, so large offsets with tiny spreads keep full precision.
 *
 * `add` runs in JS (no Node-API call per value); `addMany` of 64 or more values runs natively
 * when the binary is loaded. Both backends compute the same bits.
 */
import { native, rangeErrors } from '../backend/backend'
import * as js from './js'
import { numberArg, typeName } from '../backend/check'
import { toFloat64Array, type Numbers } from '../kernels/kernels'

export const MOMENTS_NATIVE_BATCH = 64
const COUNT_FULL = 'a Moments holds at most 2^53 values (counts stay exact)'

export class Moments {
  private state: Float64Array

  constructor() {
    this.state = js.newState()
  }

  /** Adds one finite value (NaN and ±Infinity are a RangeError, as in every class). */
  add(x: number): this {
    if (typeof x !== 'number') throw new TypeError(`x must be a number, got ${typeName(x)}`)
    if (x - x !== 0) throw new RangeError(`x must be finite, got ${x}`)
    if (this.state[js.COUNT] >= js.MAX_COUNT) throw new RangeError(COUNT_FULL)
    js.add(this.state, x)
    return this
  }

  /** Adds every value of a Float64Array or number[]; all finite (checked first: on error nothing is added). */
  addMany(xs: Numbers): this {
    const a = toFloat64Array(xs, 'xs')
    if (a.length > js.MAX_COUNT - this.state[js.COUNT]) throw new RangeError(COUNT_FULL)
    // The native call checks the values itself (one pass in Rust).
    if (!(native && a.length >= MOMENTS_NATIVE_BATCH)) {
      for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) throw new RangeError(`xs[${i}] must be finite, got ${a[i]}`)
    }
    if (native && a.length >= MOMENTS_NATIVE_BATCH) rangeErrors(() => native!.momentsAddMany(this.state, a))
    else js.addMany(this.state, a)
    return this
  }

  /** Folds another summary into this one (commutative up to rounding, associative up to rounding). */
  merge(other: Moments): this {
    if (!(other instanceof Moments)) throw new TypeError('other must be a Moments')
    // Past 2^53 a count is no longer exact, and the bytes would not deserialize.
    if (other.state[js.COUNT] > js.MAX_COUNT - this.state[js.COUNT]) throw new RangeError(COUNT_FULL)
    if (native) rangeErrors(() => native!.momentsMerge(this.state, other.state))
    else js.merge(this.state, other.state)
    return this
  }

  clear(): this {
    this.state = js.newState()
    return this
  }

  get count(): number {
    return this.state[js.COUNT]
  }
  get sum(): number {
    return this.state[js.SUM]
  }
  /** NaN when empty. */
  get min(): number {
    return this.count === 0 ? NaN : this.state[js.MIN]
  }
  /** NaN when empty. */
  get max(): number {
    return this.count === 0 ? NaN : this.state[js.MAX]
  }
  /** NaN when empty. */
  get mean(): number {
    return this.count === 0 ? NaN : this.state[js.SHIFT] + this.state[js.MEAN]
  }

  /** M2 / (count - ddof), ddof 1 by default; NaN when count - ddof <= 0. */
  variance(ddof = 1): number {
    if (!Number.isFinite(numberArg(ddof, 'ddof')) || ddof < 0) throw new RangeError(`ddof must be a finite number >= 0, got ${ddof}`)
    const d = this.count - ddof
    return d > 0 ? this.state[js.M2] / d : NaN
  }

  stddev(ddof = 1): number {
    return Math.sqrt(this.variance(ddof))
  }

  /** Population skewness g1 = sqrt(n) M3 / M2^1.5 (scipy.stats.skew, bias=True); NaN below 2 values or with zero spread. */
  skewness(): number {
    const n = this.count
    const m2 = this.state[js.M2]
    if (n < 2 || m2 === 0) return NaN
    return (Math.sqrt(n) * this.state[js.M3]) / m2 ** 1.5
  }

  /** Population excess kurtosis g2 = n M4 / M2² - 3 (scipy.stats.kurtosis, bias=True); NaN below 2 values or with zero spread. */
  kurtosis(): number {
    const n = this.count
    const m2 = this.state[js.M2]
    if (n < 2 || m2 === 0) return NaN
    return (n * this.state[js.M4]) / (m2 * m2) - 3
  }

  /** Versioned binary form (80 bytes, magic HSMO; the format is described in lib/moments/js.ts). */
  serialize(): Uint8Array {
    return js.serialize(this.state)
  }

  /**
   * From `serialize()` bytes; bad bytes, or a state no sequence of adds and merges reaches (see
   * lib/moments/js.ts), are a RangeError. The one decoder on every backend (the state is JS's).
   */
  static deserialize(bytes: Uint8Array): Moments {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (or Buffer)')
    const m = new Moments()
    m.state = js.deserialize(bytes)
    return m
  }
}
