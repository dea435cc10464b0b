/**
 * Independent references for the kernel tests (not derived from hotstats' code):
 * Shewchuk's exactly rounded sum (as Python's math.fsum) and exact rational arithmetic on
 * doubles with BigInt.
 */

/** Exactly rounded sum of finite doubles whose partial sums do not overflow (math.fsum). */
export function fsum(xs: ArrayLike<number>): number {
  const partials: number[] = []
  for (let idx = 0; idx < xs.length; idx++) {
    let x = xs[idx]
    let i = 0
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j]
      if (Math.abs(x) < Math.abs(y)) {
        const t = x
        x = y
        y = t
      }
      const hi = x + y
      const lo = y - (hi - x)
      if (lo !== 0) partials[i++] = lo
      x = hi
    }
    partials.length = i
    partials.push(x)
  }
  let n = partials.length
  if (n === 0) return 0
  let hi = partials[--n]
  let lo = 0
  while (n > 0) {
    const x = hi
    const y = partials[--n]
    hi = x + y
    const yr = hi - x
    lo = y - yr
    if (lo !== 0) break
  }
  if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
    const y = lo * 2
    const x = hi + y
    const yr = x - hi
    if (y === yr) hi = x
  }
  return hi
}

export function naiveSum(xs: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]
  return s
}

const f64 = new Float64Array(1)
const u64 = new BigUint64Array(f64.buffer)

/** Ordered integer key of a double (for ulp distances). */
function key(v: number): bigint {
  f64[0] = v
  const b = BigInt.asIntN(64, u64[0])
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b
}

/** Units in the last place between two finite doubles (±0 equal). */
export function ulpDistance(a: number, b: number): number {
  const d = key(a) - key(b)
  return Number(d < 0n ? -d : d)
}

/** A finite double as an exact (mantissa, exponent): v = m * 2^e with m a BigInt. */
function decompose(v: number): { m: bigint; e: number } {
  f64[0] = v
  const bits = u64[0]
  const sign = bits >> 63n ? -1n : 1n
  const exp = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & 0xfffffffffffffn
  if (exp === 0) return { m: sign * frac, e: -1074 }
  return { m: sign * (frac | 0x10000000000000n), e: exp - 1075 }
}

/** Correctly rounded num / den * 2^scale (den > 0), for results in the normal range. */
function toDouble(num: bigint, den: bigint, scale: number): number {
  if (num === 0n) return 0
  const neg = num < 0n
  let a = neg ? -num : num
  // Shift so that the integer quotient has ~120 bits, then let BigInt->Number round it.
  const shift = 120 - (a.toString(2).length - den.toString(2).length)
  a = shift >= 0 ? a << BigInt(shift) : a >> BigInt(-shift)
  const q = a / den
  const r = a % den
  // Sticky bit: keep inexactness visible to the final rounding.
  const qs = r === 0n ? q : q | 1n
  // Scale by powers of two in steps that stay in the normal range (each step exact).
  let v = Number(qs)
  let p = scale - shift
  while (p > 900) {
    v *= 2 ** 900
    p -= 900
  }
  while (p < -900) {
    v *= 2 ** -900
    p += 900
  }
  v *= 2 ** p
  return neg ? -v : v
}

/** Exact mean and variance (with ddof) of finite doubles, each correctly rounded. */
export function exactMoments(xs: ArrayLike<number>, ddof: number): { mean: number; variance: number } {
  const n = xs.length
  const parts = Array.from({ length: n }, (_, i) => decompose(xs[i]))
  const e0 = Math.min(...parts.map((p) => p.e))
  const ints = parts.map((p) => p.m << BigInt(p.e - e0))
  let s = 0n
  let s2 = 0n
  for (const v of ints) {
    s += v
    s2 += v * v
  }
  const N = BigInt(n)
  const mean = toDouble(s, N, e0)
  // variance = (n*Σx² - (Σx)²) / (n * (n - ddof)), in units of 2^(2*e0)
  const num = N * s2 - s * s
  const den = N * BigInt(n - ddof)
  return { mean, variance: toDouble(num, den, 2 * e0) }
}

/** SplitMix64 as doubles: reproducible inputs. */
export class Rng {
  private state: bigint
  constructor(seed: number) {
    this.state = BigInt(seed)
  }
  next(): number {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn
    let z = this.state
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn
    z ^= z >> 31n
    return Number(z >> 11n) / 2 ** 53
  }
  below(n: number): number {
    return Math.floor(this.next() * n)
  }
  logUniform(lo: number, hi: number): number {
    const sign = this.next() < 0.5 ? -1 : 1
    return sign * 10 ** (lo + (hi - lo) * this.next())
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1)
      const t = a[i]
      a[i] = a[j]
      a[j] = t
    }
    return a
  }
}

/** Exact central moment sums Σ(x - mean)^k for k = 2, 3, 4, each correctly rounded (BigInt). */
export function exactCentralSums(xs: ArrayLike<number>): { m2: number; m3: number; m4: number } {
  const n = xs.length
  const parts = Array.from({ length: n }, (_, i) => decompose(xs[i]))
  const e0 = Math.min(...parts.map((p) => p.e))
  const ints = parts.map((p) => p.m << BigInt(p.e - e0))
  const N = BigInt(n)
  let s = 0n
  for (const v of ints) s += v
  // n^k Σ(x - s/n)^k = Σ(n x - s)^k, in units of 2^(k e0)
  let t2 = 0n
  let t3 = 0n
  let t4 = 0n
  for (const v of ints) {
    const d = N * v - s
    const d2 = d * d
    t2 += d2
    t3 += d2 * d
    t4 += d2 * d2
  }
  return { m2: toDouble(t2, N ** 2n, 2 * e0), m3: toDouble(t3, N ** 3n, 3 * e0), m4: toDouble(t4, N ** 4n, 4 * e0) }
}
