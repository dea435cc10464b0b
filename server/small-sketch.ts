/**
 * A distribution that starts as a plain list of values and becomes a QuantileSketch when it
 * outgrows SMALL_MAX values (or gets a weighted value). Most series and most window buckets hold
 * a handful of values; a list costs tens of bytes, a sketch about 1.3 KiB. Every read goes through
 * a sketch (`view()`: the real one, or one built from the list), so the answers are the sketch's
 * own, bit for bit, whatever the representation.
 */
import { QuantileSketch } from '../index'

export const SMALL_MAX = 64

/** One scratch sketch per accuracy: `view()` of a list refills it instead of building a new one. */
const scratch = new Map<number, QuantileSketch>()

export class SmallSketch {
  private values: number[] | null = []
  private sketch: QuantileSketch | null = null

  constructor(private readonly relativeAccuracy: number) {}

  /** Adds v (finite) with weight 1 / rate (a sampled timer counts for 1 / rate values). */
  add(v: number, rate = 1): void {
    if (this.values !== null && rate === 1 && this.values.length < SMALL_MAX) {
      this.values.push(v)
      return
    }
    const sk = this.big()
    if (rate === 1) sk.add(v)
    else sk.add(v, 1 / rate)
  }

  private big(): QuantileSketch {
    if (this.sketch === null) {
      this.sketch = new QuantileSketch({ relativeAccuracy: this.relativeAccuracy })
      if (this.values !== null && this.values.length > 0) this.sketch.addMany(this.values)
      this.values = null
    }
    return this.sketch
  }

  /** Values held (weights included once a sketch). */
  get count(): number {
    return this.values !== null ? this.values.length : this.sketch!.count
  }

  /**
   * A sketch with everything added: the sketch itself, or a shared scratch sketch refilled from
   * the list. Read it at once: the next `view()` of any list reuses the scratch (no caller may
   * keep it, modify it or hold two views).
   */
  view(): QuantileSketch {
    if (this.sketch !== null) return this.sketch
    let sk = scratch.get(this.relativeAccuracy)
    if (sk === undefined) {
      sk = new QuantileSketch({ relativeAccuracy: this.relativeAccuracy })
      scratch.set(this.relativeAccuracy, sk)
    } else sk.clear()
    // add, not addMany: staged values stay in JS, and the sketch answers from its JS twin.
    for (const v of this.values!) sk.add(v)
    return sk
  }

  /** Adds everything held to `into` (a window read merging buckets). */
  mergeInto(into: QuantileSketch): void {
    if (this.sketch !== null) into.merge(this.sketch)
    else if (this.values!.length > 0) into.addMany(this.values!)
  }

  /** Replaces the contents with a deserialized sketch (state loaded from a file or Redis). */
  static from(sketch: QuantileSketch, relativeAccuracy: number): SmallSketch {
    const s = new SmallSketch(relativeAccuracy)
    s.values = null
    s.sketch = sketch
    return s
  }
}
