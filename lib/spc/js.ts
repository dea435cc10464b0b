/**
 * The JS port of `hotstats_core::spc` (crates/hotstats-core/src/spc/): the same constants by the
 * same quadrature, the same rules and the same left-to-right sums, so the two backends agree
 * to ~1e-12 (the normal cdf and gamma function differ in the last bits) and report the same
 * violations. The Rust modules explain the methods; this file follows them step by step.
 */
import { lnGamma, normalSf } from '../inference/js'
import type { CusumChart as PublicCusumChart, RuleSet } from './spc'

export const MIN_SUBGROUP = 2
export const MAX_SUBGROUP = 25

/** [d2, d3, c4, A2, A3, D3, D4, B3, B4] per n from 2 to 25, computed on first use. */
let table: Float64Array[] | null = null

function ipow(x: number, n: number): number {
  let p = 1
  for (let i = 0; i < n; i++) p *= x
  return p
}

const STEP = 0.125
const HALF_POINTS = 80
const GL_POINTS = 16
const W_PANELS = 14

function gaussLegendre(m: number): [number, number][] {
  const out: [number, number][] = []
  for (let i = 1; i <= m; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (m + 0.5))
    let dp = 0
    for (let it = 0; it < 100; it++) {
      let p0 = 1
      let p1 = x
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        p0 = p1
        p1 = p2
      }
      dp = (m * (x * p1 - p0)) / (x * x - 1)
      const dx = p1 / dp
      x -= dx
      if (Math.abs(dx) <= 1e-16) break
    }
    out.push([x, 2 / ((1 - x * x) * dp * dp)])
  }
  return out
}

const normalCdf = (x: number): number => normalSf(-x)

function computeAll(): Float64Array[] {
  const len = 2 * HALF_POINTS + 1
  const last = len - 1
  const grid = new Float64Array(len)
  const cdf = new Float64Array(len)
  const pdf = new Float64Array(len)
  for (let i = 0; i < len; i++) {
    const x = (i - HALF_POINTS) * STEP
    grid[i] = x
    cdf[i] = normalCdf(x)
    pdf[i] = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)
  }
  const sizes = MAX_SUBGROUP - MIN_SUBGROUP + 1
  const d2 = new Float64Array(sizes)
  for (let k = 0; k < sizes; k++) {
    const n = k + MIN_SUBGROUP
    let s = 0
    for (let i = 0; i <= last; i++) {
      const f = 1 - ipow(cdf[i], n) - ipow(cdf[last - i], n)
      s += i === 0 || i === last ? 0.5 * f : f
    }
    d2[k] = s * STEP
  }
  const gl = gaussLegendre(GL_POINTS)
  const second = new Float64Array(sizes)
  const diff = new Float64Array(len)
  for (let panel = 0; panel < W_PANELS; panel++) {
    for (const [t, weight] of gl) {
      const w = panel + 0.5 * (t + 1)
      for (let i = 0; i <= last; i++) diff[i] = normalCdf(grid[i] + w) - cdf[i]
      for (let k = 0; k < sizes; k++) {
        const n = k + MIN_SUBGROUP
        let s = 0
        for (let i = 0; i <= last; i++) {
          const f = pdf[i] * ipow(diff[i], n - 1)
          s += i === 0 || i === last ? 0.5 * f : f
        }
        const survival = 1 - n * s * STEP
        second[k] += 0.5 * weight * 2 * w * survival
      }
    }
  }
  const out: Float64Array[] = []
  for (let k = 0; k < sizes; k++) {
    const n = k + MIN_SUBGROUP
    const a = d2[k]
    const b = Math.sqrt(second[k] - a * a)
    const c4 = Math.sqrt(2 / (n - 1)) * Math.exp(lnGamma(n / 2) - lnGamma((n - 1) / 2))
    const s = Math.sqrt(1 - c4 * c4)
    out.push(Float64Array.of(a, b, c4, 3 / (a * Math.sqrt(n)), 3 / (c4 * Math.sqrt(n)), Math.max(0, 1 - (3 * b) / a), 1 + (3 * b) / a, Math.max(0, 1 - (3 * s) / c4), 1 + (3 * s) / c4))
  }
  return out
}

/** [d2, d3, c4, A2, A3, D3, D4, B3, B4] for subgroup size n (2..25). */
export function constants(n: number): Float64Array {
  if (!Number.isInteger(n) || n < MIN_SUBGROUP || n > MAX_SUBGROUP) throw new RangeError(`subgroupSize must be from ${MIN_SUBGROUP} to ${MAX_SUBGROUP}, got ${n}`)
  table ??= computeAll()
  return table[n - MIN_SUBGROUP]
}

// ---- rules ----------------------------------------------------------------------------------

export function ruleWindow(set: RuleSet): number {
  return set === 'nelson' ? 15 : set === 'western-electric' ? 8 : 1
}

/**
 * The rules (bit r − 1 for rule r) broken by the run ending at run[end − 1], looking at
 * run[from..end) only (from is where the caller's history starts).
 */
export function rulesBroken(run: ArrayLike<number>, from: number, end: number, center: number, sigma: number, set: RuleSet): number {
  if (end <= from) return 0
  const len = end - from
  const above = (p: number, k: number): boolean => p - center > k * sigma
  const below = (p: number, k: number): boolean => center - p > k * sigma
  const kOfM = (k: number, m: number, zone: number): boolean => {
    if (len < m) return false
    const last = run[end - 1]
    const side = above(last, zone) ? above : below(last, zone) ? below : null
    if (side === null) return false
    let count = 0
    for (let i = end - m; i < end; i++) if (side(run[i], zone)) count++
    return count >= k
  }
  const sameSide = (m: number): boolean => {
    if (len < m) return false
    let up = true
    let down = true
    for (let i = end - m; i < end; i++) {
      up &&= run[i] > center
      down &&= run[i] < center
    }
    return up || down
  }
  const last = run[end - 1]
  let bits = above(last, 3) || below(last, 3) ? 1 : 0
  const flag = (rule: number, hit: boolean): void => {
    if (hit) bits |= 1 << (rule - 1)
  }
  if (set === 'western-electric') {
    flag(2, kOfM(2, 3, 2))
    flag(3, kOfM(4, 5, 1))
    flag(4, sameSide(8))
  } else if (set === 'nelson') {
    flag(2, sameSide(9))
    flag(3, monotone(run, end, len, 6))
    flag(4, alternating(run, end, len, 14))
    flag(5, kOfM(2, 3, 2))
    flag(6, kOfM(4, 5, 1))
    let within = len >= 15
    for (let i = end - 15; within && i < end; i++) within = !above(run[i], 1) && !below(run[i], 1)
    flag(7, within)
    let outside = len >= 8
    for (let i = end - 8; outside && i < end; i++) outside = above(run[i], 1) || below(run[i], 1)
    flag(8, outside)
  }
  return bits
}

function monotone(run: ArrayLike<number>, end: number, len: number, m: number): boolean {
  if (len < m) return false
  let up = true
  let down = true
  for (let i = end - m + 1; i < end; i++) {
    up &&= run[i] > run[i - 1]
    down &&= run[i] < run[i - 1]
  }
  return up || down
}

function alternating(run: ArrayLike<number>, end: number, len: number, m: number): boolean {
  if (len < m) return false
  let prev = 0
  for (let i = end - m + 1; i < end; i++) {
    const d = run[i] - run[i - 1]
    if (d === 0 || Number.isNaN(d)) return false
    if (i > end - m + 1 && d > 0 === prev > 0) return false
    prev = d
  }
  return true
}

/** Every [index, rule] broken in points, in index order then rule order. */
export function violations(points: ArrayLike<number>, center: number, sigma: number, set: RuleSet): [number, number][] {
  const out: [number, number][] = []
  const w = ruleWindow(set)
  for (let i = 0; i < points.length; i++) {
    const bits = rulesBroken(points, Math.max(0, i + 1 - w), i + 1, center, sigma, set)
    for (let r = 0; r < 8; r++) if (bits & (1 << r)) out.push([i, r + 1])
  }
  return out
}

// ---- Shewhart charts ------------------------------------------------------------------------

export interface Line {
  center: number
  ucl: number
  lcl: number
  points: number[]
}
export interface Violation {
  /** 0: the location panel, 1: the dispersion panel. */
  panel: number
  index: number
  rule: number
}
export interface ShewhartChart {
  sigma: number
  location: Line
  dispersion: Line
  violations: Violation[]
}

function sum(xs: ArrayLike<number>, from = 0, to = xs.length): number {
  let s = 0
  for (let i = from; i < to; i++) s += xs[i]
  return s
}

export function mean(xs: ArrayLike<number>, from = 0, to = xs.length): number {
  return sum(xs, from, to) / (to - from)
}

function stddev(xs: ArrayLike<number>, from: number, to: number): number {
  const m = mean(xs, from, to)
  let s = 0
  for (let i = from; i < to; i++) s += (xs[i] - m) * (xs[i] - m)
  return Math.sqrt(s / (to - from - 1))
}

function range(xs: ArrayLike<number>, from: number, to: number): number {
  let lo = Infinity
  let hi = -Infinity
  for (let i = from; i < to; i++) {
    lo = Math.min(lo, xs[i])
    hi = Math.max(hi, xs[i])
  }
  return hi - lo
}

/** One subgroup's range or standard deviation (n − 1). */
export function subgroupDispersion(xs: ArrayLike<number>, kind: 'range' | 'stddev'): number {
  return kind === 'range' ? range(xs, 0, xs.length) : stddev(xs, 0, xs.length)
}

function checkValues(xs: Float64Array, min: number): void {
  if (xs.length < min) throw new RangeError(`values needs at least ${min} values, got ${xs.length}`)
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) throw new RangeError(`values[${i}] must be a finite number, got ${xs[i]}`)
}

function collect(loc: ArrayLike<number>, center: number, sigma: number, disp: Line, set: RuleSet): Violation[] {
  const out: Violation[] = violations(loc, center, sigma, set).map(([index, rule]) => ({ panel: 0, index, rule }))
  disp.points.forEach((p, index) => {
    if (p > disp.ucl || p < disp.lcl) out.push({ panel: 1, index, rule: 1 })
  })
  return out
}

export function xbarChart(values: Float64Array, n: number, dispersion: 'range' | 'stddev', set: RuleSet): ShewhartChart {
  const k = constants(n)
  if (values.length % n !== 0) throw new RangeError(`every subgroup must have ${n} values; ${values.length} values is not a multiple`)
  checkValues(values, 2 * n)
  const m = values.length / n
  const means: number[] = []
  const disp: number[] = []
  for (let j = 0; j < m; j++) {
    means.push(mean(values, j * n, (j + 1) * n))
    disp.push(dispersion === 'range' ? range(values, j * n, (j + 1) * n) : stddev(values, j * n, (j + 1) * n))
  }
  const center = mean(means)
  const dbar = mean(disp)
  if (!(dbar > 0)) throw new RangeError('no subgroup has any spread: the control limits collapse')
  const [sigma, lo, hi] = dispersion === 'range' ? [dbar / k[0], k[5], k[6]] : [dbar / k[2], k[7], k[8]]
  const sigmaMean = sigma / Math.sqrt(n)
  const dLine: Line = { center: dbar, ucl: hi * dbar, lcl: lo * dbar, points: disp }
  return {
    sigma,
    location: { center, ucl: center + 3 * sigmaMean, lcl: center - 3 * sigmaMean, points: means },
    dispersion: dLine,
    violations: collect(means, center, sigmaMean, dLine, set),
  }
}

/** σ̂ = MR̄/d2(2) and the moving ranges. */
export function movingRangeSigma(values: Float64Array): [number, number[]] {
  checkValues(values, 2)
  const mr: number[] = []
  for (let i = 1; i < values.length; i++) mr.push(Math.abs(values[i] - values[i - 1]))
  const mrbar = mean(mr)
  if (!(mrbar > 0)) throw new RangeError('all values are equal: the control limits collapse')
  return [mrbar / constants(2)[0], mr]
}

export function individualsChart(values: Float64Array, set: RuleSet): ShewhartChart {
  const [sigma, mr] = movingRangeSigma(values)
  const center = mean(values)
  const mrbar = mean(mr)
  const dLine: Line = { center: mrbar, ucl: constants(2)[6] * mrbar, lcl: 0, points: mr }
  return {
    sigma,
    location: { center, ucl: center + 3 * sigma, lcl: center - 3 * sigma, points: Array.from(values) },
    dispersion: dLine,
    violations: collect(values, center, sigma, dLine, set),
  }
}

// ---- EWMA and CUSUM -------------------------------------------------------------------------

export function targetAndSigma(values: Float64Array, target: number | undefined, sigma: number | undefined): [number, number] {
  checkValues(values, 1)
  if (target !== undefined && !Number.isFinite(target)) throw new RangeError(`target must be a finite number, got ${target}`)
  if (sigma !== undefined && !(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`sigma must be a finite number > 0, got ${sigma}`)
  return [target ?? mean(values), sigma ?? movingRangeSigma(values)[0]]
}

export function checkEwma(lambda: number, L: number): void {
  if (!(lambda > 0 && lambda <= 1)) throw new RangeError(`lambda must be in (0, 1], got ${lambda}`)
  if (!(L > 0 && Number.isFinite(L))) throw new RangeError(`L must be a finite number > 0, got ${L}`)
}

/** The EWMA running state: [z, (1 − λ)^{2i}]. step returns [z, lcl, ucl]. */
export function ewmaStep(state: Float64Array, x: number, lambda: number, L: number, target: number, sigma: number): [number, number, number] {
  state[0] = lambda * x + (1 - lambda) * state[0]
  state[1] *= (1 - lambda) * (1 - lambda)
  const half = L * sigma * Math.sqrt((lambda / (2 - lambda)) * (1 - state[1]))
  return [state[0], target - half, target + half]
}

export interface EwmaChart {
  target: number
  sigma: number
  points: number[]
  ucl: number[]
  lcl: number[]
  signals: number[]
}

export function ewmaChart(values: Float64Array, lambda: number, L: number, target?: number, sigma?: number): EwmaChart {
  checkEwma(lambda, L)
  const [t, s] = targetAndSigma(values, target, sigma)
  const state = Float64Array.of(t, 1)
  const c: EwmaChart = { target: t, sigma: s, points: [], ucl: [], lcl: [], signals: [] }
  values.forEach((x, i) => {
    const [z, lcl, ucl] = ewmaStep(state, x, lambda, L, t, s)
    c.points.push(z)
    c.lcl.push(lcl)
    c.ucl.push(ucl)
    if (z > ucl || z < lcl) c.signals.push(i)
  })
  return c
}

export function checkCusum(k: number, h: number): void {
  if (!(k >= 0 && Number.isFinite(k))) throw new RangeError(`k must be a finite number >= 0, got ${k}`)
  if (!(h > 0 && Number.isFinite(h))) throw new RangeError(`h must be a finite number > 0, got ${h}`)
}

/** The CUSUM running sums [C⁺, C⁻], updated in place. */
export function cusumStep(state: Float64Array, x: number, target: number, kAbs: number): void {
  state[0] = Math.max(x - (target + kAbs) + state[0], 0)
  state[1] = Math.max(target - kAbs - x + state[1], 0)
}

/** The public CusumChart as the binding returns it: signal indices, each followed by its side (1 upper, -1 lower). */
export type CusumChart = Omit<PublicCusumChart, 'signals'> & { signals: number[] }

export function cusumChart(values: Float64Array, k: number, h: number, target?: number, sigma?: number): CusumChart {
  checkCusum(k, h)
  const [t, s] = targetAndSigma(values, target, sigma)
  const [kAbs, hAbs] = [k * s, h * s]
  const state = new Float64Array(2)
  const c: CusumChart = { target: t, sigma: s, allowance: kAbs, decisionInterval: hAbs, upper: [], lower: [], signals: [] }
  values.forEach((x, i) => {
    cusumStep(state, x, t, kAbs)
    c.upper.push(state[0])
    c.lower.push(state[1])
    if (state[0] > hAbs) c.signals.push(i, 1)
    if (state[1] > hAbs) c.signals.push(i, -1)
  })
  return c
}
