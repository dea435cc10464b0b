/**
 * The JS backend of QuantileSketch: a port of crates/hotstats-core/src/quantile operation for
 * operation (libm-free mapping, collapsing-lowest stores, the same serialized bytes), so both
 * backends give the same bits.
 */

import { minMax, sum } from '../kernels/js'

/** Chunk length of addMany, as QuantileSketch::add_all. */
const ADD_CHUNK = 256
/** Values per compensated partial sum, as SUM_RUN in the Rust crate (= QUANTILE_STAGING). */
export const SUM_RUN = 1024

const A = 6.0 / 35.0
const B = -3.0 / 5.0
const C = 10.0 / 7.0
const MIN_POSITIVE = 2.2250738585072014e-308

/**
 * The smallest relative accuracy accepted (MIN_RELATIVE_ACCURACY in mapping.rs): below it the
 * bucket indices of the largest doubles leave int32 (the serialized offsets, and the Rust
 * store's window arithmetic), so a sketch would answer wrongly. At 1e-6 every finite double is
 * indexable with |index| < 2^30.
 */
export const MIN_RELATIVE_ACCURACY = 1e-6

const dv = new DataView(new ArrayBuffer(8))

/** ln(1 + y) as 2 atanh(y / (2 + y)), as mapping::ln_1p. */
export function ln1p(y: number): number {
  const z = y / (2 + y)
  const z2 = z * z
  let term = z
  let sum = 0
  for (let k = 0; k < 100_000; k++) {
    const next = sum + term / (2 * k + 1)
    if (next === sum) break
    sum = next
    term *= z2
  }
  return 2 * sum
}

function pow2(e: number): number {
  dv.setUint32(0, ((e + 1023) << 20) >>> 0)
  dv.setUint32(4, 0)
  return dv.getFloat64(0)
}

function approxLog2(x: number): number {
  dv.setFloat64(0, x)
  const hi = dv.getUint32(0)
  const e = ((hi >>> 20) & 0x7ff) - 1023
  dv.setUint32(0, ((hi & 0x000fffff) | 0x3ff00000) >>> 0)
  const s = dv.getFloat64(0) - 1
  return ((A * s + B) * s + C) * s + e
}

export class Mapping {
  readonly multiplier: number
  readonly minIndexable: number
  constructor(readonly relativeAccuracy: number) {
    const a = relativeAccuracy
    this.multiplier = 7.0 / (10.0 * ln1p((2.0 * a) / (1.0 - a)))
    this.minIndexable = (MIN_POSITIVE * (1 + a)) / (1 - a)
  }
  index(v: number): number {
    return Math.floor(approxLog2(v) * this.multiplier)
  }
  value(i: number): number {
    const x = i / this.multiplier
    const exponent = Math.floor(x)
    const frac = x - exponent
    let s = frac
    for (let k = 0; k < 8; k++) {
      const p = ((A * s + B) * s + C) * s - frac
      const dp = (3 * A * s + 2 * B) * s + C
      s -= p / dp
    }
    s = s < 0 ? 0 : s > 1 ? 1 : s
    // As mapping::value: clamp, then three normal-range powers of two.
    const e = Math.min(Math.max(exponent, -2100), 2100)
    const p1 = Math.min(Math.max(e, -1022), 1023)
    const p2 = Math.min(Math.max(e - p1, -1022), 1023)
    const p3 = e - p1 - p2
    return (1 + s) * pow2(p1) * pow2(p2) * pow2(p3) * (1 + this.relativeAccuracy)
  }
}

export class Store {
  offset = 0
  counts: number[] = []
  constructor(readonly maxBins: number) {}

  /** Sum of the bucket counts, lowest first (as Store::total). */
  total(): number {
    let t = 0
    for (const c of this.counts) t += c
    return t
  }

  add(i: number, w: number): void {
    if (this.counts.length === 0) {
      this.offset = i
      this.counts.push(w)
      return
    }
    const top = this.offset + this.counts.length - 1
    if (i > top) {
      if (i - this.offset + 1 > this.maxBins) this.collapseBelow(i - this.maxBins + 1)
      const len = i - this.offset + 1
      while (this.counts.length < len) this.counts.push(0)
      this.counts[i - this.offset] += w
    } else if (i >= this.offset) {
      this.counts[i - this.offset] += w
    } else if (top - i + 1 <= this.maxBins) {
      const grow = this.offset - i
      this.counts = new Array<number>(grow).fill(0).concat(this.counts)
      this.offset = i
      this.counts[0] += w
    } else {
      this.collapseBelow(top - this.maxBins + 1)
      this.counts[0] += w
    }
  }

  private collapseBelow(newOffset: number): void {
    if (newOffset <= this.offset) return
    const cut = Math.min(newOffset - this.offset, this.counts.length)
    let folded = 0
    for (let k = 0; k < cut; k++) folded += this.counts[k]
    const rest = this.counts.slice(cut)
    if (rest.length === 0) rest.push(0)
    rest[0] += folded
    this.counts = rest
    this.offset = newOffset
  }

  keyAtRank(rank: number): number {
    let cum = 0
    for (let k = 0; k < this.counts.length; k++) {
      cum += this.counts[k]
      if (cum > rank) return this.offset + k
    }
    return this.counts.length ? this.offset + this.counts.length - 1 : 0
  }

  merge(other: Store): void {
    for (let k = 0; k < other.counts.length; k++) if (other.counts[k] !== 0) this.add(other.offset + k, other.counts[k])
  }
}

/** High word of the canonical quiet NaN (0x7ff8000000000000), the only NaN a sum is written as. */
const CANONICAL_NAN_HI = 0x7ff80000
const COUNT_OVERFLOW = 'the total weight (count) would overflow past 1.8e308'

export class JsQuantileSketch {
  mapping: Mapping
  positive: Store
  negative: Store
  zeroCount = 0
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity

  constructor(relativeAccuracy: number, readonly maxBins: number) {
    this.mapping = new Mapping(relativeAccuracy)
    this.positive = new Store(maxBins)
    this.negative = new Store(maxBins)
  }

  /** Finite v, finite w > 0 (checked by the caller). */
  addUnchecked(v: number, w: number): void {
    const a = Math.abs(v)
    if (a < this.mapping.minIndexable) this.zeroCount += w
    else if (v > 0) this.positive.add(this.mapping.index(a), w)
    else this.negative.add(this.mapping.index(a), w)
    this.count += w
    this.sum += v * w
    this.min = Math.min(this.min, v)
    this.max = Math.max(this.max, v)
  }

  /** Finite values (checked by the caller), exactly as the Rust add_all. */
  addMany(xs: Float64Array): void {
    const floor = this.mapping.minIndexable
    for (let from = 0; from < xs.length; from += ADD_CHUNK) {
      const chunk = xs.subarray(from, Math.min(from + ADD_CHUNK, xs.length))
      let zeros = 0
      for (let i = 0; i < chunk.length; i++) {
        const v = chunk[i]
        const a = Math.abs(v)
        if (a < floor) zeros++
        else if (v > 0) this.positive.add(this.mapping.index(a), 1)
        else this.negative.add(this.mapping.index(a), 1)
      }
      this.zeroCount += zeros
      this.count += chunk.length
    }
    if (xs.length > 0) {
      const ex = minMax(xs)
      for (let from = 0; from < xs.length; from += SUM_RUN) this.sum += sum(xs.subarray(from, from + SUM_RUN))
      this.min = Math.min(this.min, ex.min)
      this.max = Math.max(this.max, ex.max)
    }
  }

  /**
   * Same method names as the native class, so lib/quantile/quantile.ts can call either. A weight
   * that would take the count past Number.MAX_VALUE is a RangeError (nothing changes), as in Rust.
   */
  addWeighted(v: number, w: number): void {
    if (!Number.isFinite(this.count + w)) throw new RangeError(COUNT_OVERFLOW)
    this.addUnchecked(v, w)
  }

  stats(): number[] {
    return [this.count, this.sum, this.min, this.max]
  }

  clear(): void {
    this.positive = new Store(this.maxBins)
    this.negative = new Store(this.maxBins)
    this.zeroCount = 0
    this.count = 0
    this.sum = 0
    this.min = Infinity
    this.max = -Infinity
  }

  quantile(q: number): number {
    if (this.count === 0) return NaN
    if (q === 0) return this.min
    if (q === 1) return this.max
    const rank = q * (this.count - 1)
    const neg = this.negative.total()
    let v: number
    if (rank < neg) v = -this.mapping.value(this.negative.keyAtRank(neg - 1 - Math.floor(rank)))
    else if (rank < neg + this.zeroCount) v = 0
    else v = this.mapping.value(this.positive.keyAtRank(rank - this.zeroCount - neg))
    if (v < this.min) v = this.min
    return v > this.max ? this.max : v
  }

  rank(v: number): number {
    if (this.count === 0) return NaN
    let below = 0
    const n = this.negative
    for (let k = 0; k < n.counts.length; k++) if (-this.mapping.value(n.offset + k) <= v) below += n.counts[k]
    if (0 <= v) below += this.zeroCount
    const p = this.positive
    for (let k = 0; k < p.counts.length; k++) if (this.mapping.value(p.offset + k) <= v) below += p.counts[k]
    // At most 1, as the Rust rank: count and the bins sum the same weights in different orders.
    return Math.min(1, below / this.count)
  }

  /** Folds `o` in (same accuracy: checked by the caller); a count overflow is a RangeError, nothing changed. */
  merge(o: JsQuantileSketch): void {
    if (!Number.isFinite(this.count + o.count)) throw new RangeError(COUNT_OVERFLOW)
    this.positive.merge(o.positive)
    this.negative.merge(o.negative)
    this.zeroCount += o.zeroCount
    this.count += o.count
    this.sum += o.sum
    this.min = Math.min(this.min, o.min)
    this.max = Math.max(this.max, o.max)
  }

  serialize(): Uint8Array {
    const nP = this.positive.counts.length
    const nN = this.negative.counts.length
    const out = new Uint8Array(8 + 8 + 8 + 40 + 8 + 8 * nP + 8 + 8 * nN)
    const d = new DataView(out.buffer)
    out.set([0x48, 0x53, 0x51, 0x53, 1]) // HSQS v1
    d.setFloat64(8, this.mapping.relativeAccuracy, true)
    d.setUint32(16, this.maxBins, true)
    let at = 24
    for (const v of [this.count, this.sum, this.min, this.max, this.zeroCount]) {
      d.setFloat64(at, v, true)
      at += 8
    }
    // NaN (a sum that overflowed both ways) is written as the one canonical quiet NaN.
    if (Number.isNaN(this.sum)) {
      d.setUint32(32, 0, true)
      d.setUint32(36, CANONICAL_NAN_HI, true)
    }
    for (const s of [this.positive, this.negative]) {
      d.setInt32(at, s.offset, true)
      d.setUint32(at + 4, s.counts.length, true)
      at += 8
      for (const c of s.counts) {
        d.setFloat64(at, c, true)
        at += 8
      }
    }
    return out
  }

  static deserialize(bytes: Uint8Array): JsQuantileSketch {
    const bad = (why: string) => new RangeError(`not a serialized QuantileSketch: ${why}`)
    const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = 0
    const need = (n: number) => {
      if (at + n > bytes.length) throw bad(`truncated at byte ${at}`)
    }
    need(8)
    if (bytes[0] !== 0x48 || bytes[1] !== 0x53 || bytes[2] !== 0x51 || bytes[3] !== 0x53) throw bad('bad magic')
    if (bytes[4] !== 1) throw bad(`unsupported version ${bytes[4]}`)
    if (bytes[5] || bytes[6] || bytes[7]) throw bad('reserved bytes must be zero')
    at = 8
    need(16)
    const alpha = d.getFloat64(8, true)
    const maxBins = d.getUint32(16, true)
    if (d.getUint32(20, true) !== 0) throw bad('reserved bytes must be zero')
    if (!(alpha >= MIN_RELATIVE_ACCURACY && alpha < 1)) throw bad(`relativeAccuracy must be in [1e-6, 1), got ${alpha}`)
    if (!(maxBins >= 1 && maxBins <= 2 ** 24)) throw bad(`maxBins must be an integer in [1, 2^24], got ${maxBins}`)
    const sk = new JsQuantileSketch(alpha, maxBins)
    at = 24
    need(40)
    const f = () => {
      const v = d.getFloat64(at, true)
      at += 8
      return v
    }
    sk.count = f()
    sk.sum = f()
    sk.min = f()
    sk.max = f()
    sk.zeroCount = f()
    for (const store of [sk.positive, sk.negative]) {
      need(8)
      const offset = d.getInt32(at, true)
      const len = d.getUint32(at + 4, true)
      at += 8
      if (len > maxBins) throw bad(`store of ${len} bins exceeds maxBins ${maxBins}`)
      if (offset + len > 2 ** 31 - 1) throw bad('store indices overflow')
      if (len === 0 && offset !== 0) throw bad(`an empty store has offset 0, got ${offset}`)
      need(8 * len)
      const counts: number[] = []
      for (let k = 0; k < len; k++) {
        const c = f()
        if (!(Number.isFinite(c) && c >= 0)) throw bad(`bin count ${c} is not finite and >= 0`)
        counts.push(c)
      }
      store.offset = offset
      store.counts = counts
    }
    if (at !== bytes.length) throw bad(`trailing bytes from byte ${at}`)
    if (!(Number.isFinite(sk.zeroCount) && sk.zeroCount >= 0)) throw bad(`zero count ${sk.zeroCount} is not finite and >= 0`)
    const expected = sk.zeroCount + sk.positive.total() + sk.negative.total()
    if (!(Number.isFinite(expected) && Number.isFinite(sk.count) && Math.abs(sk.count - expected) <= 1e-9 * expected)) {
      throw bad(`count ${sk.count} does not match the bins (${expected})`)
    }
    // The sum may be ±Infinity or NaN (it overflowed), but NaN only as the canonical bits.
    if (Number.isNaN(sk.sum) && !(d.getUint32(32, true) === 0 && d.getUint32(36, true) === CANONICAL_NAN_HI)) {
      throw bad('sum is a NaN other than the canonical one')
    }
    if (sk.count > 0 && !(Number.isFinite(sk.min) && Number.isFinite(sk.max) && sk.min <= sk.max)) throw bad('min/max are not finite and ordered')
    // An empty sketch has one state (as the constructor makes it); anything else would leak into the next add or merge.
    if (sk.count === 0 && (sk.min !== Infinity || sk.max !== -Infinity || !Object.is(sk.sum, 0) || sk.positive.counts.length !== 0 || sk.negative.counts.length !== 0)) {
      throw bad('an empty sketch must have no bins, sum 0, min = +Infinity and max = -Infinity')
    }
    return sk
  }
}
