/**
 * The JS backend's statistical tests: a port of crates/hotstats-core/src/inference (special
 * functions, t-tests, Mann-Whitney U, chi-square, two-proportion z, beta-binomial A/B,
 * Shapiro-Wilk, ML fits) with the same operations in the same order, so both backends agree
 * to ~1e-12 (libm's log/exp may differ from V8's in the last bit). The comments on the Rust side
 * say why each step is done as it is; errors throw RangeError with the same messages.
 */
import { sum } from '../kernels/js'
import type {
  Alternative,
  BetaBinomialResult,
  ChiSquareResult,
  DistributionCandidate as Candidate,
  DistributionFit as Fit,
  MannWhitneyMethod,
  SampleSummary,
  StatisticResult,
  TTestResult,
} from './inference'

// ---- special functions ---------------------------------------------------------------------
const HALF_LN_2PI = 0.9189385332046728
const LANCZOS_G = 7
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905,
  -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
]

export function stirlingCorrection(x: number): number {
  const r = 1 / (x * x)
  return (1 / 12 + r * (-1 / 360 + r * (1 / 1260 + r * (-1 / 1680 + r * (1 / 1188 + r * (-691 / 360360)))))) / x
}

export function lnGamma(x: number): number {
  if (Number.isNaN(x) || x <= 0) return NaN
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + HALF_LN_2PI + stirlingCorrection(x)
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  const z = x - 1
  let s = LANCZOS[0]
  for (let k = 1; k < LANCZOS.length; k++) s += LANCZOS[k] / (z + k)
  const t = z + LANCZOS_G + 0.5
  return HALF_LN_2PI + (z + 0.5) * Math.log(t) - t + Math.log(s)
}

export function lnBeta(a: number, b: number): number {
  const [p, q] = a < b ? [a, b] : [b, a]
  if (Number.isNaN(p) || p <= 0) return NaN
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q)
    return -0.5 * Math.log(q) + HALF_LN_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q))
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(p + q)
    return lnGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q))
  }
  return lnGamma(p) + lnGamma(q) - lnGamma(p + q)
}

const TINY = 1e-300
const EPS = 1e-16
const MAX_ITER = 100_000
const nonzero = (v: number): number => (Math.abs(v) < TINY ? TINY : v)

function betaCf(a: number, b: number, x: number, y: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = x > 0.5 ? (1 - b + qab * y) / qap : 1 - (qab * x) / qap
  d = 1 / nonzero(d)
  let h = d
  for (let m = 1; m < MAX_ITER; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 / nonzero(1 + aa * d)
    c = nonzero(1 + aa / c)
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 / nonzero(1 + aa * d)
    c = nonzero(1 + aa / c)
    const del = d * c
    h *= del
    if (Math.abs(del - 1) <= EPS) break
  }
  return h
}

/** [I_x(a, b), 1 − I_x(a, b)], both direct; y must be 1 − x. */
export function betaReg(a: number, b: number, x: number, y: number): [number, number] {
  if (Number.isNaN(a) || Number.isNaN(b) || a <= 0 || b <= 0 || Number.isNaN(x) || Number.isNaN(y)) return [NaN, NaN]
  if (x <= 0) return [0, 1]
  if (y <= 0) return [1, 0]
  const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x)
  const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y)
  const lnFront = a * lnX + b * lnY - lnBeta(a, b)
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.exp(lnFront - Math.log(a)) * betaCf(a, b, x, y)
    return [lower, 1 - lower]
  }
  const upper = Math.exp(lnFront - Math.log(b)) * betaCf(b, a, y, x)
  return [1 - upper, upper]
}

/** [P(a, x), Q(a, x)], the smaller one direct. */
export function gammaReg(a: number, x: number): [number, number] {
  if (Number.isNaN(a) || a <= 0 || Number.isNaN(x)) return [NaN, NaN]
  if (x <= 0) return [0, 1]
  if (x === Infinity) return [1, 0]
  const lnFront = -x + a * Math.log(x) - lnGamma(a)
  if (x < a + 1) {
    let ap = a
    let del = 1 / a
    let s = del
    for (let i = 0; i < MAX_ITER; i++) {
      ap += 1
      del *= x / ap
      s += del
      if (Math.abs(del) < Math.abs(s) * EPS) break
    }
    const p = s * Math.exp(lnFront)
    return [p, 1 - p]
  }
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a)
    b += 2
    d = 1 / nonzero(an * d + b)
    c = nonzero(b + an / c)
    const del = d * c
    h *= del
    if (Math.abs(del - 1) <= EPS) break
  }
  const q = Math.exp(lnFront) * h
  return [1 - q, q]
}

export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN
  const u = z / Math.SQRT2
  const q = gammaReg(0.5, u * u)[1]
  return z >= 0 ? 0.5 * q : 1 - 0.5 * q
}

export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN
  if (t === Infinity) return 0
  if (t === -Infinity) return 1
  if (df === Infinity) return normalSf(t)
  const t2 = t * t
  const [x, y] = t2 < df ? [df / (df + t2), t2 / (df + t2)] : [1 / (1 + t2 / df), 1 / (1 + df / t2)]
  const twoTail = betaReg(df / 2, 0.5, x, y)[0]
  return t > 0 ? 0.5 * twoTail : 1 - 0.5 * twoTail
}

export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x) || Number.isNaN(k) || k <= 0) return NaN
  return gammaReg(k / 2, x / 2)[1]
}

function betaLnPdf(x: number, y: number, a: number, b: number): number {
  const lnY = x > 0.5 ? Math.log(y) : Math.log1p(-x)
  return (a - 1) * Math.log(x) + (b - 1) * lnY - lnBeta(a, b)
}

export function betaPpf(p: number, a: number, b: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(a > 0 && b > 0)) return NaN
  if (p === 0) return 0
  if (p === 1) return 1
  let lo = 0
  let hi = 1
  const lower = p <= 0.5
  for (let i = 0; i < 1100; i++) {
    const mid = 0.5 * (lo + hi)
    if (mid <= lo || mid >= hi) break
    const [cdf, ccdf] = betaReg(a, b, mid, 1 - mid)
    if (lower ? cdf < p : ccdf > 1 - p) lo = mid
    else hi = mid
  }
  return 0.5 * (lo + hi)
}

// ---- shared helpers ------------------------------------------------------------------------
function pValue(alt: Alternative, sf: number, cdf: number): number {
  if (alt === 'greater') return sf
  if (alt === 'less') return cdf
  return Math.min(2 * Math.min(sf, cdf), 1)
}

function checkSample(name: string, xs: Float64Array, min: number): void {
  if (xs.length < min) throw new RangeError(`${name} needs at least ${min} values, got ${xs.length}`)
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) throw new RangeError(`${name}[${i}] must be a finite number, got ${xs[i]}`)
}

function meanVariance(xs: Float64Array): [number, number] {
  const n = xs.length
  const mean = sum(xs) / n
  let s = 0
  let c = 0
  for (let i = 0; i < n; i++) {
    const d = (xs[i] - mean) * (xs[i] - mean)
    const t = s + d
    c += Math.abs(s) >= Math.abs(d) ? s - t + d : d - t + s
    s = t
  }
  return [mean, (s + c) / (n - 1)]
}

// ---- t-tests -------------------------------------------------------------------------------
function summaryOf(name: string, xs: Float64Array): SampleSummary {
  checkSample(name, xs, 2)
  const [mean, variance] = meanVariance(xs)
  return { count: xs.length, mean, variance }
}

function checkSummary(name: string, s: SampleSummary): void {
  if (!(s.count >= 2 && Number.isInteger(s.count) && s.count < 9e15)) throw new RangeError(`${name}.count must be an integer >= 2, got ${s.count}`)
  if (!Number.isFinite(s.mean)) throw new RangeError(`${name}.mean must be finite, got ${s.mean}`)
  if (!(s.variance >= 0 && Number.isFinite(s.variance))) throw new RangeError(`${name}.variance must be finite and >= 0, got ${s.variance}`)
}

const tResult = (t: number, df: number, alt: Alternative): TTestResult => ({ statistic: t, df, pValue: pValue(alt, studentTSf(t, df), studentTSf(-t, df)) })

export function welchFromSummaries(a: SampleSummary, b: SampleSummary, alt: Alternative): TTestResult {
  checkSummary('a', a)
  checkSummary('b', b)
  const va = a.variance / a.count
  const vb = b.variance / b.count
  const se2 = va + vb
  if (!(se2 > 0)) throw new RangeError('both samples have zero variance: the t statistic is undefined')
  const t = (a.mean - b.mean) / Math.sqrt(se2)
  const df = (se2 * se2) / ((va * va) / (a.count - 1) + (vb * vb) / (b.count - 1))
  return tResult(t, df, alt)
}

export function welch(a: Float64Array, b: Float64Array, alt: Alternative): TTestResult {
  return welchFromSummaries(summaryOf('a', a), summaryOf('b', b), alt)
}

export function student(a: Float64Array, b: Float64Array, alt: Alternative): TTestResult {
  const sa = summaryOf('a', a)
  const sb = summaryOf('b', b)
  const df = sa.count + sb.count - 2
  const pooled = ((sa.count - 1) * sa.variance + (sb.count - 1) * sb.variance) / df
  const se2 = pooled * (1 / sa.count + 1 / sb.count)
  if (!(se2 > 0)) throw new RangeError('both samples have zero variance: the t statistic is undefined')
  return tResult((sa.mean - sb.mean) / Math.sqrt(se2), df, alt)
}

export function oneSample(a: Float64Array, mu: number, alt: Alternative): TTestResult {
  if (!Number.isFinite(mu)) throw new RangeError(`mu must be finite, got ${mu}`)
  const s = summaryOf('a', a)
  if (!(s.variance > 0)) throw new RangeError('the sample has zero variance: the t statistic is undefined')
  return tResult((s.mean - mu) / Math.sqrt(s.variance / s.count), s.count - 1, alt)
}

// ---- Mann-Whitney U ------------------------------------------------------------------------
function rankSum(a: Float64Array, b: Float64Array): [number, number] {
  const all: [number, boolean][] = []
  for (const v of a) all.push([v, true])
  for (const v of b) all.push([v, false])
  // Same order as Rust's total_cmp for finite values, except that it orders -0 before +0;
  // equal values tie either way, so the ranks are the same.
  all.sort((x, y) => x[0] - y[0])
  let rs = 0
  let tieTerm = 0
  let i = 0
  while (i < all.length) {
    let j = i + 1
    while (j < all.length && all[j][0] === all[i][0]) j++
    const t = j - i
    const rank = (i + j + 1) / 2
    let inA = 0
    for (let k = i; k < j; k++) if (all[k][1]) inA++
    rs += rank * inA
    tieTerm += t * t * t - t
    i = j
  }
  return [rs, tieTerm]
}

export function exactSf(u: number, m: number, n: number): number {
  const top = m * n
  const k = Math.ceil(u)
  if (k <= 0) return 1
  if (k > top) return 0
  const c = new Float64Array(top + 1)
  c[0] = 1
  let len = 1
  for (let i = 1; i <= m; i++) {
    const step = n + i
    len += n
    for (let j = len - 1; j >= step; j--) c[j] -= c[j - step]
    for (let j = i; j < len; j++) c[j] += c[j - i]
    const scale = i / step
    for (let j = 0; j < len; j++) c[j] *= scale
  }
  if (k > top - k) {
    let s = 0
    for (let j = k; j <= top; j++) s += c[j]
    return s
  }
  let s = 0
  for (let j = 0; j < k; j++) s += c[j]
  return 1 - s
}

export function mannWhitneyU(a: Float64Array, b: Float64Array, alt: Alternative, method: MannWhitneyMethod, useContinuity: boolean): StatisticResult {
  checkSample('a', a, 1)
  checkSample('b', b, 1)
  const n1 = a.length
  const n2 = b.length
  const [rsA, tieTerm] = rankSum(a, b)
  const u1 = rsA - (n1 * (n1 + 1)) / 2
  const u2 = n1 * n2 - u1
  const ties = tieTerm > 0
  const m = method === 'auto' ? (!ties && Math.min(n1, n2) <= 8 ? 'exact' : 'asymptotic') : method
  const [u, factor] = alt === 'greater' ? [u1, 1] : alt === 'less' ? [u2, 1] : [Math.max(u1, u2), 2]
  let p: number
  if (m === 'exact') {
    if (ties) throw new RangeError("method 'exact' assumes no ties; the samples have ties (use 'asymptotic')")
    p = exactSf(u, Math.min(n1, n2), Math.max(n1, n2))
  } else {
    const n = n1 + n2
    const v = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)))
    if (!(v > 0)) throw new RangeError('every value is tied: the variance of U is zero')
    let num = u - (n1 * n2) / 2
    if (useContinuity) num -= 0.5
    p = normalSf(num / Math.sqrt(v))
  }
  return { statistic: u1, pValue: Math.min(Math.max(p * factor, 0), 1) }
}

// ---- counts --------------------------------------------------------------------------------
function checkCount(name: string, v: number): void {
  if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`${name} must be a finite count >= 0, got ${v}`)
}

function checkTwoProportions(sa: number, na: number, sb: number, nb: number, needTrials: boolean): void {
  checkCount('successesA', sa)
  checkCount('trialsA', na)
  checkCount('successesB', sb)
  checkCount('trialsB', nb)
  if (needTrials && (na === 0 || nb === 0)) throw new RangeError('trials must be > 0')
  if (sa > na || sb > nb) throw new RangeError('successes cannot exceed trials')
}

export function chiSquareTest(rows: Float64Array[], correction: boolean): ChiSquareResult {
  if (rows.length !== 2) throw new RangeError(`table must have 2 rows, got ${rows.length}`)
  const k = rows[0].length
  if (k < 2 || rows[1].length !== k) throw new RangeError(`table rows must have the same length >= 2, got ${rows[0].length} and ${rows[1].length}`)
  rows.forEach((row, r) => row.forEach((v, c) => checkCount(`table[${r}][${c}]`, v)))
  const rowSums = rows.map((r) => r.reduce((s, v) => s + v, 0))
  const colSums = Array.from({ length: k }, (_, c) => rows[0][c] + rows[1][c])
  const total = rowSums[0] + rowSums[1]
  const zr = rowSums.indexOf(0)
  if (zr >= 0) throw new RangeError(`row ${zr} sums to zero: its expected counts are zero`)
  const zc = colSums.indexOf(0)
  if (zc >= 0) throw new RangeError(`column ${zc} sums to zero: its expected counts are zero`)
  const yates = correction && k === 2
  let statistic = 0
  const expected = [new Array<number>(k).fill(0), new Array<number>(k).fill(0)]
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < k; c++) {
      const e = (rowSums[r] * colSums[c]) / total
      expected[r][c] = e
      let o = rows[r][c]
      if (yates) {
        const diff = e - o
        // Rust's signum: +1 for +0.
        o += (diff < 0 ? -1 : 1) * Math.min(Math.abs(diff), 0.5)
      }
      statistic += ((o - e) * (o - e)) / e
    }
  }
  return { statistic, df: k - 1, pValue: chiSquareSf(statistic, k - 1), expected }
}

export function twoProportionZTest(sa: number, na: number, sb: number, nb: number, alt: Alternative): StatisticResult {
  checkTwoProportions(sa, na, sb, nb, true)
  const pooled = (sa + sb) / (na + nb)
  const v = pooled * (1 - pooled) * (1 / na + 1 / nb)
  if (!(v > 0)) throw new RangeError('the pooled proportion is 0 or 1: z is undefined')
  const z = (sa / na - sb / nb) / Math.sqrt(v)
  return { statistic: z, pValue: pValue(alt, normalSf(z), normalSf(-z)) }
}

// ---- beta-binomial A/B ---------------------------------------------------------------------
function tanhSinh(f: (x: number, y: number) => number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0
  const half = 0.5 * (hi - lo)
  const T_MAX = 3.2
  const hpi = Math.PI / 2
  const evalAt = (t: number): number => {
    const s = hpi * Math.sinh(t)
    const e = Math.exp(-2 * Math.abs(s))
    const near = e / (1 + e)
    const far = 1 / (1 + e)
    const fromLo = s >= 0 ? far : near
    const fromHi = s >= 0 ? near : far
    const x = lo + 2 * half * fromLo
    const y = hi === 1 ? 2 * half * fromHi : 1 - x
    const ch = Math.cosh(s)
    const w = (hpi * Math.cosh(t)) / (ch * ch)
    if (w === 0 || (x <= lo && t < 0) || (x >= hi && t > 0)) return 0
    return w * f(x, y)
  }
  let h = 0.5
  let total = evalAt(0)
  for (let k = 1; k * h <= T_MAX; k++) total += evalAt(k * h) + evalAt(-k * h)
  let estimate = total * h * half
  for (let level = 0; level < 9; level++) {
    h *= 0.5
    for (let k = 1; k * h <= T_MAX; k += 2) total += evalAt(k * h) + evalAt(-k * h)
    const next = total * h * half
    if (Math.abs(next - estimate) <= 1e-13 * Math.abs(next)) return next
    estimate = next
  }
  return estimate
}

export function probGreater(ax: number, bx: number, ay: number, by: number): number {
  const cuts = [0, 1]
  for (const [a, b] of [
    [ax, bx],
    [ay, by],
  ]) {
    const m = a / (a + b)
    const sd = Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)))
    for (const k of [-10, -5, -2, 0, 2, 5, 10]) cuts.push(Math.min(Math.max(m + k * sd, 0), 1))
  }
  cuts.sort((p, q) => p - q)
  const uniq = cuts.filter((v, i) => i === 0 || v !== cuts[i - 1])
  const integrand = (x: number, y: number): number => {
    if (x <= 0 || y <= 0) return 0
    return Math.exp(betaLnPdf(x, y, ax, bx)) * betaReg(ay, by, x, y)[0]
  }
  let total = 0
  for (let i = 0; i + 1 < uniq.length; i++) total += tanhSinh(integrand, uniq[i], uniq[i + 1])
  return Math.min(Math.max(total, 0), 1)
}

export function betaBinomialAB(sa: number, na: number, sb: number, nb: number, alpha: number, beta: number): BetaBinomialResult {
  checkTwoProportions(sa, na, sb, nb, false)
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new RangeError(`prior.alpha must be finite and > 0, got ${alpha}`)
  if (!(beta > 0 && Number.isFinite(beta))) throw new RangeError(`prior.beta must be finite and > 0, got ${beta}`)
  const a1 = alpha + sa
  const b1 = beta + na - sa
  const a2 = alpha + sb
  const b2 = beta + nb - sb
  const meanA = a1 / (a1 + b1)
  const meanB = a2 / (a2 + b2)
  const lossA = meanB * probGreater(a2 + 1, b2, a1, b1) - meanA * probGreater(a2, b2, a1 + 1, b1)
  const lossB = meanA * probGreater(a1 + 1, b1, a2, b2) - meanB * probGreater(a1, b1, a2 + 1, b2)
  return {
    probBBeatsA: probGreater(a2, b2, a1, b1),
    credibleIntervalA95: [betaPpf(0.025, a1, b1), betaPpf(0.975, a1, b1)],
    credibleIntervalB95: [betaPpf(0.025, a2, b2), betaPpf(0.975, a2, b2)],
    expectedLossA: Math.max(lossA, 0),
    expectedLossB: Math.max(lossB, 0),
  }
}

// ---- Shapiro-Wilk --------------------------------------------------------------------------
const poly = (c: readonly number[], x: number): number => {
  let acc = 0
  for (let k = c.length - 1; k >= 0; k--) acc = acc * x + c[k]
  return acc
}
const C1 = [0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056]
const C2 = [0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633]
const C3 = [0.544, -0.39978, 0.025054, -6.714e-4]
const C4 = [1.3822, -0.77857, 0.062767, -0.0020322]
const C5 = [-1.5861, -0.31082, -0.083751, 0.0038915]
const C6 = [-0.4803, -0.082676, 0.0030302]
const G = [-2.273, 0.459]

function ppndAs111(p: number): number {
  const q = p - 0.5
  if (Math.abs(q) <= 0.42) {
    const r = q * q
    return (q * (((-25.44106049637 * r + 41.39119773534) * r - 18.61500062529) * r + 2.50662823884)) / ((((3.13082909833 * r - 21.06224101826) * r + 23.08336743743) * r - 8.4735109309) * r + 1)
  }
  let r = q > 0 ? 1 - p : p
  if (!(r > 0)) return 0
  r = Math.sqrt(-Math.log(r))
  const v = (((2.32121276858 * r + 4.85014127135) * r - 2.29796479134) * r - 2.78718931138) / ((1.63706781897 * r + 3.54388924762) * r + 1)
  return q < 0 ? -v : v
}

function alnormUpper(x: number): number {
  const upper = x > 0
  const z = upper ? x : -x
  if (!(z <= 7 || (upper && z <= 38))) return upper ? 0 : 1
  const y = 0.5 * z * z
  const tail =
    z <= 1.28
      ? 0.5 - z * (0.398942280444 - (0.399903438504 * y) / (y + 5.75885480458 - 29.8213557808 / (y + 2.62433121679 + 48.6959930692 / (y + 5.92885724438))))
      : (0.398942280385 * Math.exp(-y)) /
        (z - 3.8052e-8 + 1.00000615302 / (z + 3.98064794e-4 + 1.98615381364 / (z - 0.151679116635 + 5.29330324926 / (z + 4.8385912808 - 15.1508972451 / (z + 0.742380924027 + 30.789933034 / (z + 3.99019417011))))))
  return upper ? tail : 1 - tail
}

export function shapiroWilk(x: Float64Array): StatisticResult {
  checkSample('x', x, 3)
  const n = x.length
  if (n > 5000) throw new RangeError(`x may have at most 5000 values (Royston's approximation), got ${n}`)
  const y = Float64Array.from(x).sort()
  const range = y[n - 1] - y[0]
  if (!(range > 0)) throw new RangeError('all values are equal: W is undefined')
  const half = Math.floor(n / 2)
  const a = new Float64Array(half)
  if (n === 3) a[0] = Math.SQRT1_2
  else {
    const m = new Float64Array(half)
    for (let i = 1; i <= half; i++) m[i - 1] = -ppndAs111((i - 0.375) / (n + 0.25))
    let s2 = 0
    for (const v of m) s2 += v * v
    const summ2 = 2 * s2
    const ssumm2 = Math.sqrt(summ2)
    const rsn = 1 / Math.sqrt(n)
    const a1 = poly(C1, rsn) + m[0] / ssumm2
    let first: number
    let fac: number
    if (n > 5) {
      const a2 = poly(C2, rsn) + m[1] / ssumm2
      a[1] = a2
      fac = Math.sqrt((summ2 - 2 * m[0] * m[0] - 2 * m[1] * m[1]) / (1 - 2 * a1 * a1 - 2 * a2 * a2))
      first = 2
    } else {
      fac = Math.sqrt((summ2 - 2 * m[0] * m[0]) / (1 - 2 * a1 * a1))
      first = 1
    }
    a[0] = a1
    for (let i = first; i < half; i++) a[i] = m[i] / fac
  }
  const coef = (i: number): number => {
    const j = n - 1 - i
    return i < j ? -a[i] : i > j ? a[j] : 0
  }
  let sa = 0
  let sx = 0
  for (let i = 0; i < n; i++) {
    sa += coef(i)
    sx += y[i] / range
  }
  sa /= n
  sx /= n
  let ssa = 0
  let ssx = 0
  let sax = 0
  for (let i = 0; i < n; i++) {
    const asa = coef(i) - sa
    const xsx = y[i] / range - sx
    ssa += asa * asa
    ssx += xsx * xsx
    sax += asa * xsx
  }
  const ssassx = Math.sqrt(ssa * ssx)
  const w1 = ((ssassx - sax) * (ssassx + sax)) / (ssa * ssx)
  const w = 1 - w1
  if (n === 3) {
    if (w < 0.75) return { statistic: 0.75, pValue: 0 }
    return { statistic: w, pValue: 1 - (6 / Math.PI) * Math.acos(Math.sqrt(w)) }
  }
  const lnW1 = Math.log(w1)
  let p: number
  if (n <= 11) {
    const gamma = poly(G, n)
    if (lnW1 >= gamma) p = 1e-19
    else p = alnormUpper((-Math.log(gamma - lnW1) - poly(C3, n)) / Math.exp(poly(C4, n)))
  } else {
    const lnN = Math.log(n)
    p = alnormUpper((lnW1 - poly(C5, lnN)) / Math.exp(poly(C6, lnN)))
  }
  return { statistic: w, pValue: p }
}

// ---- maximum-likelihood fits ---------------------------------------------------------------
export function fitDistribution(x: Float64Array, candidates: readonly Candidate[]): Fit[] {
  checkSample('x', x, 2)
  const n = x.length
  const positive = x.every((v) => v > 0)
  const fits: Fit[] = []
  for (const c of candidates) {
    let params: Record<string, number>
    let ll: number
    let k: number
    if (c === 'normal') {
      const [mean, v0] = meanVariance(x)
      const v = (v0 * (n - 1)) / n
      if (!(v > 0)) throw new RangeError('x has zero variance: the normal fit is degenerate')
      const sd = Math.sqrt(v)
      params = { mean, sd }
      ll = -n * (HALF_LN_2PI + Math.log(sd)) - n / 2
      k = 2
    } else if (c === 'lognormal' && positive) {
      const logs = x.map((v) => Math.log(v))
      const [mu, v0] = meanVariance(logs)
      const v = (v0 * (n - 1)) / n
      if (!(v > 0)) throw new RangeError('ln x has zero variance: the lognormal fit is degenerate')
      const sigma = Math.sqrt(v)
      params = { mu, sigma }
      ll = -sum(logs) - n * (HALF_LN_2PI + Math.log(sigma)) - n / 2
      k = 2
    } else if (c === 'exponential' && positive) {
      const rate = 1 / (sum(x) / n)
      params = { rate }
      ll = n * Math.log(rate) - n
      k = 1
    } else continue
    fits.push({ name: c, params, logLikelihood: ll, aic: 2 * k - 2 * ll })
  }
  // Stable sort by AIC, as Rust's sort_by.
  return fits.sort((p, q) => p.aic - q.aic)
}
