/**
 * SampleRing: the most recent N values (a ring over one Float64Array), summarized with the
 * kernels (`summarize`: compensated sum and variance, SIMD on the native backend). The ring
 * itself is JS only: its storage is a typed array the kernels read in place, so a Rust twin
 * would only add a copy (the core's unused one was deleted, issue 19).
 */
import { numberArg } from '../backend/check'
import { summarize, type Summary, type VarianceOptions } from '../kernels/kernels'

export class SampleRing {
  readonly capacity: number
  private readonly buf: Float64Array
  private next = 0
  private filled = 0

  constructor(capacity: number) {
    if (typeof capacity !== 'number') throw new TypeError(`capacity must be a number, got ${typeof capacity}`)
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 27) throw new RangeError(`capacity must be an integer from 1 to 2^27, got ${capacity}`)
    this.capacity = capacity
    this.buf = new Float64Array(capacity)
  }

  /** Adds one finite value, evicting the oldest when full. */
  push(value: number): void {
    if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${value === null ? 'null' : typeof value}`)
    if (!Number.isFinite(value)) throw new RangeError(`value must be finite, got ${value}`)
    this.buf[this.next] = value
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1
    if (this.filled < this.capacity) this.filled++
  }

  /** Adds values in order; all are checked first (nothing is added on error). */
  pushAll(values: ArrayLike<number>): void {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') throw new TypeError('values must be an array or typed array of numbers')
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(numberArg(values[i], `values[${i}]`))) throw new RangeError(`values[${i}] must be a finite number, got ${values[i]}`)
    for (let i = 0; i < values.length; i++) this.push(values[i])
  }

  get size(): number {
    return this.filled
  }

  /** The kept values, oldest first. */
  values(): Float64Array {
    if (this.filled < this.capacity) return this.buf.slice(0, this.filled)
    const out = new Float64Array(this.capacity)
    out.set(this.buf.subarray(this.next), 0)
    out.set(this.buf.subarray(0, this.next), this.capacity - this.next)
    return out
  }

  /** { count, sum, mean, min, max, variance, stddev } of the kept values (ddof 1 by default). */
  summary(options?: VarianceOptions): Summary {
    return summarize(this.values(), options)
  }

  clear(): void {
    this.next = 0
    this.filled = 0
  }
}
