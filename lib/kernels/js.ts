/**
 * The JS backend: a lane-for-lane port of hotstats-core's kernels (crates/hotstats-core/src/kernels).
 * Element i goes to lane i % 16; each lane keeps a cascaded compensated triple (s, c, cc) updated
 * with Knuth's TwoSum; lanes are combined by the same fixed tree. The same IEEE operations in
 * the same order give the same bits as the AVX2, NEON and scalar Rust kernels.
 *
 * `sum` first runs the certified fast pass (Neumaier lanes that track max |c|, see
 * `lanes.rs` and `finish_fast`) and falls back to the cascaded pass only when the certificate
 * fails, exactly as the native backends decide.
 *
 * Functions take [from, to) ranges so the async fallback can work in chunks; `from` must be
 * a multiple of 16 (relative to the view's start) for the lane mapping to hold.
 */
import type { Summary } from './kernels'

export const LANES = 16

/** Per-lane compensated state (s: running sum, c: its errors, cc: their errors). */
export interface Lanes {
  s: Float64Array
  c: Float64Array
  cc: Float64Array
}

export function newLanes(): Lanes {
  return { s: new Float64Array(LANES), c: new Float64Array(LANES), cc: new Float64Array(LANES) }
}

/** State of the fast pass: running sum s, plainly rounded error sum c, m = max |c| seen. */
export interface FastLanes {
  s: Float64Array
  c: Float64Array
  m: Float64Array
}

export function newFastLanes(): FastLanes {
  return { s: new Float64Array(LANES), c: new Float64Array(LANES), m: new Float64Array(LANES) }
}

/** 2^-40: weight of Σ|s_l| in the fast pass's certificate (as lanes::TREE_GUARD). */
export const TREE_GUARD = 2 ** -40

/** The fast pass over x[from..to) (lane = i % 16). `from % 16` must be 0. As `FastLanes::add`. */
export function accumulateFast(x: Float64Array, from: number, to: number, st: FastLanes): void {
  const S = st.s
  const C = st.c
  const M = st.m
  for (let l = 0; l < LANES; l++) {
    let s = S[l]
    let c = C[l]
    let m = M[l]
    for (let i = from + l; i < to; i += LANES) {
      const v = x[i]
      const t = s + v
      c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s
      m = Math.max(m, Math.abs(c))
      s = t
    }
    S[l] = s
    C[l] = c
    M[l] = m
  }
}

/** The cascaded pass: adds x[from..to) into the lanes (lane = i % 16). `from % 16` must be 0. */
export function accumulate(x: Float64Array, from: number, to: number, st: Lanes): void {
  const S = st.s
  const C = st.c
  const CC = st.cc
  for (let l = 0; l < LANES; l++) {
    let s = S[l]
    let c = C[l]
    let cc = CC[l]
    for (let i = from + l; i < to; i += LANES) {
      const v = x[i]
      const t = s + v
      const bp = t - s
      const ap = t - bp
      const e = s - ap + (v - bp)
      const u = c + e
      const bq = u - c
      const aq = u - bq
      const f = c - aq + (e - bq)
      s = t
      c = u
      cc += f
    }
    S[l] = s
    C[l] = c
    CC[l] = cc
  }
}

/** Adds d = x[i] - m and d * d for x[from..to) into two lane states (the variance's second pass). */
export function accumulateDeviations(x: Float64Array, from: number, to: number, m: number, dst: Lanes, qst: Lanes): void {
  for (let l = 0; l < LANES; l++) {
    let s = dst.s[l]
    let c = dst.c[l]
    let cc = dst.cc[l]
    let qs = qst.s[l]
    let qc = qst.c[l]
    let qcc = qst.cc[l]
    for (let i = from + l; i < to; i += LANES) {
      const d = x[i] - m
      const q = d * d
      let t = s + d
      let bp = t - s
      let ap = t - bp
      let e = s - ap + (d - bp)
      let u = c + e
      let bq = u - c
      let aq = u - bq
      let f = c - aq + (e - bq)
      s = t
      c = u
      cc += f
      t = qs + q
      bp = t - qs
      ap = t - bp
      e = qs - ap + (q - bp)
      u = qc + e
      bq = u - qc
      aq = u - bq
      f = qc - aq + (e - bq)
      qs = t
      qc = u
      qcc += f
    }
    dst.s[l] = s
    dst.c[l] = c
    dst.cc[l] = cc
    qst.s[l] = qs
    qst.c[l] = qc
    qst.cc[l] = qcc
  }
}

// Scratch state for the synchronous kernels (JS runs one kernel at a time per thread), so the
// hot path allocates nothing.
const S = new Float64Array(LANES)
const C = new Float64Array(LANES)
const CC = new Float64Array(LANES)
const scratch: Lanes = { s: S, c: C, cc: CC }
const DEV = newLanes()
const SQ = newLanes()

/**
 * The fixed reduction tree (lane i with lane i + w, w = 8, 4, 2, 1), then h + (l + cc) with
 * (h, l) = TwoSum(s, c), in place on s, c, cc. A non-finite combined s is returned as is.
 * Same as `lanes::reduce`. Lanes at index >= live must be all-zero triples: combining a
 * finite triple with (+0, +0, +0) gives it back unchanged (no lane value is ever -0, since
 * every lane starts at +0), and a non-finite s stays non-finite, so those steps are skipped.
 */
function reduceInPlace(s: Float64Array, c: Float64Array, cc: Float64Array, live: number): number {
  for (let w = LANES >> 1; w >= 1; w >>= 1) {
    const end = Math.min(w, live - w)
    for (let i = 0; i < end; i++) {
      const a = s[i]
      const b = s[i + w]
      const t = a + b
      let bp = t - a
      let ap = t - bp
      const e1 = a - ap + (b - bp)
      const ca = c[i]
      const cb = c[i + w]
      const u = ca + cb
      bp = u - ca
      ap = u - bp
      const e2 = ca - ap + (cb - bp)
      const v = u + e1
      bp = v - u
      ap = v - bp
      const e3 = u - ap + (e1 - bp)
      s[i] = t
      c[i] = v
      cc[i] = cc[i] + cc[i + w] + (e2 + e3)
    }
    if (live > w) live = w
  }
  const s0 = s[0]
  if (!Number.isFinite(s0)) return s0
  const c0 = c[0]
  const h = s0 + c0
  const bp = h - s0
  const ap = h - bp
  const l = s0 - ap + (c0 - bp)
  return h + (l + cc[0])
}

/** Reduces a lane state (left unchanged) to the compensated sum. */
export function reduce(st: Lanes): number {
  S.set(st.s)
  C.set(st.c)
  CC.set(st.cc)
  return reduceInPlace(S, C, CC, LANES)
}

/**
 * The fast pass's result when certified (as `lanes::finish_fast`), else null: then the cascaded
 * pass must run. `n` is the number of elements summed.
 */
export function finishFast(st: FastLanes, n: number): number | null {
  S.set(st.s)
  C.set(st.c)
  CC.fill(0)
  const res = reduceInPlace(S, C, CC, LANES)
  if (!Number.isFinite(res)) return null
  let msum = 0
  let ssum = 0
  for (let l = 0; l < LANES; l++) {
    msum += st.m[l]
    ssum += Math.abs(st.s[l])
  }
  const perLane = Math.ceil(n / LANES)
  const bound = 8 * (perLane * msum + ssum * TREE_GUARD)
  return bound <= Math.abs(res) ? res : null
}

const FAST = newFastLanes()

/** The cascaded pass alone (what `sum` falls back to). */
export function sumCascaded(x: Float64Array): number {
  S.fill(0)
  C.fill(0)
  CC.fill(0)
  accumulate(x, 0, x.length, scratch)
  return reduceInPlace(S, C, CC, LANES)
}

/**
 * `sum` of at most 16 elements: lane l holds (x[l] + 0, +0, +0), so the answer is `reduceInPlace`
 * of those lanes, written out here on locals (no typed-array traffic, no loops), operation for
 * operation as `lanes::reduce`, with one shortcut at w = 8: there every c and cc is +0, so
 * TwoSum(c_i, c_i+8) is (+0, +0) and the level leaves c = +0 + e (e: the error of
 * TwoSum(s_i, s_i+8)) and cc = +0. That is the tree's own result wherever e is finite; e is
 * NaN only when s_i + s_i+8 is not finite, and then the combined s is not finite and is returned
 * before c or cc is read. Lanes past n are (+0, +0, +0), as in the tree.
 */
function sumShort(x: Float64Array, n: number): number {
  let p: number
  let q: number
  const s0 = n > 0 ? x[0] + 0 : 0
  const s1 = n > 1 ? x[1] + 0 : 0
  const s2 = n > 2 ? x[2] + 0 : 0
  const s3 = n > 3 ? x[3] + 0 : 0
  const s4 = n > 4 ? x[4] + 0 : 0
  const s5 = n > 5 ? x[5] + 0 : 0
  const s6 = n > 6 ? x[6] + 0 : 0
  const s7 = n > 7 ? x[7] + 0 : 0
  const s8 = n > 8 ? x[8] + 0 : 0
  const s9 = n > 9 ? x[9] + 0 : 0
  const s10 = n > 10 ? x[10] + 0 : 0
  const s11 = n > 11 ? x[11] + 0 : 0
  const s12 = n > 12 ? x[12] + 0 : 0
  const s13 = n > 13 ? x[13] + 0 : 0
  const s14 = n > 14 ? x[14] + 0 : 0
  const s15 = n > 15 ? x[15] + 0 : 0
  // w = 8: the c and cc of every lane are +0, so TwoSum(c_i, c_i+8) is (+0, +0) and the
  // compensation is the error e of TwoSum(s_i, s_i+8) alone: c = +0 + e, cc = +0 (see above).
  const a0 = s0 + s8
  p = a0 - s0
  q = a0 - p
  const c0 = 0 + (s0 - q + (s8 - p))
  const a1 = s1 + s9
  p = a1 - s1
  q = a1 - p
  const c1 = 0 + (s1 - q + (s9 - p))
  const a2 = s2 + s10
  p = a2 - s2
  q = a2 - p
  const c2 = 0 + (s2 - q + (s10 - p))
  const a3 = s3 + s11
  p = a3 - s3
  q = a3 - p
  const c3 = 0 + (s3 - q + (s11 - p))
  const a4 = s4 + s12
  p = a4 - s4
  q = a4 - p
  const c4 = 0 + (s4 - q + (s12 - p))
  const a5 = s5 + s13
  p = a5 - s5
  q = a5 - p
  const c5 = 0 + (s5 - q + (s13 - p))
  const a6 = s6 + s14
  p = a6 - s6
  q = a6 - p
  const c6 = 0 + (s6 - q + (s14 - p))
  const a7 = s7 + s15
  p = a7 - s7
  q = a7 - p
  const c7 = 0 + (s7 - q + (s15 - p))
  const t2_0 = a0 + a4
  p = t2_0 - a0
  q = t2_0 - p
  const e2_0 = a0 - q + (a4 - p)
  const u2_0 = c0 + c4
  p = u2_0 - c0
  q = u2_0 - p
  const f2_0 = c0 - q + (c4 - p)
  const v2_0 = u2_0 + e2_0
  p = v2_0 - u2_0
  q = v2_0 - p
  const g2_0 = u2_0 - q + (e2_0 - p)
  const k2_0 = 0 + (f2_0 + g2_0)
  const t2_1 = a1 + a5
  p = t2_1 - a1
  q = t2_1 - p
  const e2_1 = a1 - q + (a5 - p)
  const u2_1 = c1 + c5
  p = u2_1 - c1
  q = u2_1 - p
  const f2_1 = c1 - q + (c5 - p)
  const v2_1 = u2_1 + e2_1
  p = v2_1 - u2_1
  q = v2_1 - p
  const g2_1 = u2_1 - q + (e2_1 - p)
  const k2_1 = 0 + (f2_1 + g2_1)
  const t2_2 = a2 + a6
  p = t2_2 - a2
  q = t2_2 - p
  const e2_2 = a2 - q + (a6 - p)
  const u2_2 = c2 + c6
  p = u2_2 - c2
  q = u2_2 - p
  const f2_2 = c2 - q + (c6 - p)
  const v2_2 = u2_2 + e2_2
  p = v2_2 - u2_2
  q = v2_2 - p
  const g2_2 = u2_2 - q + (e2_2 - p)
  const k2_2 = 0 + (f2_2 + g2_2)
  const t2_3 = a3 + a7
  p = t2_3 - a3
  q = t2_3 - p
  const e2_3 = a3 - q + (a7 - p)
  const u2_3 = c3 + c7
  p = u2_3 - c3
  q = u2_3 - p
  const f2_3 = c3 - q + (c7 - p)
  const v2_3 = u2_3 + e2_3
  p = v2_3 - u2_3
  q = v2_3 - p
  const g2_3 = u2_3 - q + (e2_3 - p)
  const k2_3 = 0 + (f2_3 + g2_3)
  const t3_0 = t2_0 + t2_2
  p = t3_0 - t2_0
  q = t3_0 - p
  const e3_0 = t2_0 - q + (t2_2 - p)
  const u3_0 = v2_0 + v2_2
  p = u3_0 - v2_0
  q = u3_0 - p
  const f3_0 = v2_0 - q + (v2_2 - p)
  const v3_0 = u3_0 + e3_0
  p = v3_0 - u3_0
  q = v3_0 - p
  const g3_0 = u3_0 - q + (e3_0 - p)
  const k3_0 = (k2_0 + k2_2) + (f3_0 + g3_0)
  const t3_1 = t2_1 + t2_3
  p = t3_1 - t2_1
  q = t3_1 - p
  const e3_1 = t2_1 - q + (t2_3 - p)
  const u3_1 = v2_1 + v2_3
  p = u3_1 - v2_1
  q = u3_1 - p
  const f3_1 = v2_1 - q + (v2_3 - p)
  const v3_1 = u3_1 + e3_1
  p = v3_1 - u3_1
  q = v3_1 - p
  const g3_1 = u3_1 - q + (e3_1 - p)
  const k3_1 = (k2_1 + k2_3) + (f3_1 + g3_1)
  const t4_0 = t3_0 + t3_1
  p = t4_0 - t3_0
  q = t4_0 - p
  const e4_0 = t3_0 - q + (t3_1 - p)
  const u4_0 = v3_0 + v3_1
  p = u4_0 - v3_0
  q = u4_0 - p
  const f4_0 = v3_0 - q + (v3_1 - p)
  const v4_0 = u4_0 + e4_0
  p = v4_0 - u4_0
  q = v4_0 - p
  const g4_0 = u4_0 - q + (e4_0 - p)
  const k4_0 = (k3_0 + k3_1) + (f4_0 + g4_0)
  const s = t4_0
  if (!Number.isFinite(s)) return s
  const c = v4_0
  const h = s + c
  p = h - s
  q = h - p
  return h + (s - q + (c - p) + k4_0)
}

/**
 * Compensated sum; 0 for empty input. Up to 16 elements, both passes reduce the same lanes
 * (one element each, zero error), so the tree alone gives the answer.
 */
export function sum(x: Float64Array): number {
  const n = x.length
  if (n <= LANES) {
    // One element per lane: TwoSum(+0, v) is (v + 0, +0) for finite v, and a non-finite v
    // makes the result non-finite whatever the compensation holds.
    return n === 0 ? 0 : sumShort(x, n)
  }
  FAST.s.fill(0)
  FAST.c.fill(0)
  FAST.m.fill(0)
  accumulateFast(x, 0, n, FAST)
  const fast = finishFast(FAST, n)
  return fast !== null ? fast : sumCascaded(x)
}

/** Running extremes with Math.min/Math.max semantics (NaN propagates, -0 < +0). */
export interface Extremes {
  min: number
  max: number
}

export function newExtremes(): Extremes {
  return { min: Infinity, max: -Infinity }
}

export function accumulateExtremes(x: Float64Array, from: number, to: number, ex: Extremes): void {
  let lo = ex.min
  let hi = ex.max
  for (let i = from; i < to; i++) {
    const v = x[i]
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  ex.min = lo
  ex.max = hi
}

export function minMax(x: Float64Array): Extremes {
  if (x.length === 0) return { min: NaN, max: NaN }
  const ex = newExtremes()
  accumulateExtremes(x, 0, x.length, ex)
  return ex
}

/** The corrected two-pass variance's final step, shared with the chunked version. */
export function finishVariance(n: number, ddof: number, d: Lanes, q: Lanes): number {
  const sd = reduce(d)
  const sq = reduce(q)
  if (!Number.isFinite(sq)) return sq
  const v = (sq - (sd * sd) / n) / (n - ddof)
  return v < 0 ? 0 : v
}

/** True when the variance is undefined (NaN) before any second pass. */
export function varianceIsNaN(n: number, ddof: number, mean: number): boolean {
  return n === 0 || !(n - ddof > 0) || !Number.isFinite(mean)
}

export function variance(x: Float64Array, ddof: number, mean = x.length === 0 ? NaN : sum(x) / x.length): number {
  const n = x.length
  if (varianceIsNaN(n, ddof, mean)) return NaN
  for (const st of [DEV, SQ]) {
    st.s.fill(0)
    st.c.fill(0)
    st.cc.fill(0)
  }
  accumulateDeviations(x, 0, n, mean, DEV, SQ)
  return finishVariance(n, ddof, DEV, SQ)
}

export function summarize(x: Float64Array, ddof: number): Summary {
  const n = x.length
  const s = sum(x)
  const mean = n === 0 ? NaN : s / n
  const ex = minMax(x)
  const v = variance(x, ddof, mean)
  return { count: n, sum: s, mean, min: ex.min, max: ex.max, variance: v, stddev: Math.sqrt(v) }
}
