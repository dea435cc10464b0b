/**
 * Statistical process control: Shewhart charts (X̄-R, X̄-S, individuals/moving range) with
 * Western Electric or Nelson run rules, EWMA with exact time-varying limits, the tabular CUSUM,
 * and the chart constants for subgroup sizes 2..25. `ControlChart`, which takes subgroups as
 * they arrive, is in control-chart.ts beside this file.
 *
 * The batch charts run `hotstats_core::spc` natively, or its JS port (`lib/spc/js.ts`); both are
 * checked against an independent implementation (`__test__/fixtures/spc-reference.json`, from
 * `scripts/reference/spc_reference.py`).
 *
 * Bad input throws TypeError (wrong types) or RangeError (out of domain, or data with no spread,
 * where the limits would collapse).
 */
import { native, rangeErrors } from '../backend/backend'
import * as js from './js'
import { toFloat64Array, type Numbers } from '../kernels/kernels'

/** Which run rules the location chart is checked with: rule numbers as in the README table. */
export type RuleSet = 'limits' | 'western-electric' | 'nelson'

export interface ChartConstants {
  n: number
  d2: number
  d3: number
  c4: number
  A2: number
  A3: number
  D3: number
  D4: number
  B3: number
  B4: number
}

export interface ChartLine {
  center: number
  ucl: number
  lcl: number
  points: number[]
}

export type ChartName = 'xbar' | 'range' | 'stddev' | 'individuals' | 'movingRange'

export interface ChartViolation {
  chart: ChartName
  /** The position in that chart's points (moving range i is |x[i+1] − x[i]|). */
  index: number
  /** The rule number in the chart's rule set; always 1 (beyond the limits) on range, stddev and movingRange. */
  rule: number
}

export interface XbarRChart {
  subgroupSize: number
  /** σ̂ = R̄/d2, the process standard deviation. */
  sigma: number
  xbar: ChartLine
  range: ChartLine
  violations: ChartViolation[]
}

export interface XbarSChart {
  subgroupSize: number
  /** σ̂ = s̄/c4. */
  sigma: number
  xbar: ChartLine
  stddev: ChartLine
  violations: ChartViolation[]
}

export interface IndividualsChart {
  /** σ̂ = MR̄/d2(2). */
  sigma: number
  individuals: ChartLine
  movingRange: ChartLine
  violations: ChartViolation[]
}

export interface EwmaChart {
  target: number
  sigma: number
  lambda: number
  L: number
  /** z_i, the smoothed values. */
  points: number[]
  ucl: number[]
  lcl: number[]
  /** Indices where z_i is outside its limits. */
  signals: number[]
}

export interface CusumSignal {
  index: number
  side: 'upper' | 'lower'
}

export interface CusumChart {
  target: number
  sigma: number
  /** K = kσ. */
  allowance: number
  /** H = hσ. */
  decisionInterval: number
  /** C⁺_i and C⁻_i. */
  upper: number[]
  lower: number[]
  signals: CusumSignal[]
}

export interface RuleOptions {
  /** 'western-electric' (default), 'nelson', or 'limits' (rule 1 only). */
  rules?: RuleSet
}

export interface EwmaOptions {
  /** The weight of the newest value, in (0, 1]; default 0.2. */
  lambda?: number
  /** The width of the limits in σ of z; default 3. */
  L?: number
  /** The in-control mean; default the mean of the values. */
  target?: number
  /** The in-control σ of one value; default MR̄/d2(2) from the values. */
  sigma?: number
}

export interface CusumOptions {
  /** The allowance in σ; default 0.5 (detects a 1σ shift fastest). */
  k?: number
  /** The decision interval in σ; default 5. */
  h?: number
  target?: number
  sigma?: number
}

export function ruleSetOf(opts: RuleOptions | undefined): RuleSet {
  const r = opts?.rules ?? 'western-electric'
  if (r !== 'western-electric' && r !== 'nelson' && r !== 'limits') throw new RangeError(`rules must be 'western-electric', 'nelson' or 'limits', got ${JSON.stringify(r)}`)
  return r
}

export function subgroupSizeOf(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`subgroupSize must be a number, got ${typeof n}`)
  if (!Number.isInteger(n) || n < js.MIN_SUBGROUP || n > js.MAX_SUBGROUP) throw new RangeError(`subgroupSize must be an integer from ${js.MIN_SUBGROUP} to ${js.MAX_SUBGROUP}, got ${n}`)
  return n
}

/** The constants for subgroup size n (2..25), computed by quadrature to ~1e-12. */
export function chartConstants(n: number): ChartConstants {
  subgroupSizeOf(n)
  const k = native ? native.spcConstants(n) : js.constants(n)
  return { n, d2: k[0], d3: k[1], c4: k[2], A2: k[3], A3: k[4], D3: k[5], D4: k[6], B3: k[7], B4: k[8] }
}

/** Subgroups (all of one size) as one row-major Float64Array. */
function flatten(subgroups: readonly Numbers[]): [Float64Array, number] {
  if (!Array.isArray(subgroups)) throw new TypeError('subgroups must be an array of subgroups (arrays of numbers)')
  if (subgroups.length < 2) throw new RangeError(`subgroups needs at least 2 subgroups, got ${subgroups.length}`)
  const rows = subgroups.map((g, i) => toFloat64Array(g, `subgroups[${i}]`))
  const n = subgroupSizeOf(rows[0].length)
  const out = new Float64Array(rows.length * n)
  rows.forEach((r, i) => {
    if (r.length !== n) throw new RangeError(`every subgroup must have ${n} values; subgroups[${i}] has ${r.length}`)
    out.set(r, i * n)
  })
  return [out, n]
}

export function shewhart(values: Float64Array, n: number, kind: 'range' | 'stddev' | 'individuals', rules: RuleSet): js.ShewhartChart {
  if (kind === 'individuals') return rangeErrors(() => (native ? native.spcIndividualsChart(values, rules) : js.individualsChart(values, rules)))
  return rangeErrors(() => (native ? native.spcXbarChart(values, n, kind, rules) : js.xbarChart(values, n, kind, rules)))
}

export function named(v: js.Violation[], names: [ChartName, ChartName]): ChartViolation[] {
  return v.map((x) => ({ chart: names[x.panel], index: x.index, rule: x.rule }))
}

const line = (l: js.Line): ChartLine => ({ center: l.center, ucl: l.ucl, lcl: l.lcl, points: l.points })

/** X̄-R chart of subgroups of one size n (2..25), limits from the data (x̿ ± A2·R̄, D3·R̄..D4·R̄). */
export function xbarRChart(subgroups: readonly Numbers[], opts?: RuleOptions): XbarRChart {
  const rules = ruleSetOf(opts)
  const [values, n] = flatten(subgroups)
  const c = shewhart(values, n, 'range', rules)
  return { subgroupSize: n, sigma: c.sigma, xbar: line(c.location), range: line(c.dispersion), violations: named(c.violations, ['xbar', 'range']) }
}

/** X̄-S chart of subgroups of one size n (2..25): x̿ ± A3·s̄, B3·s̄..B4·s̄. */
export function xbarSChart(subgroups: readonly Numbers[], opts?: RuleOptions): XbarSChart {
  const rules = ruleSetOf(opts)
  const [values, n] = flatten(subgroups)
  const c = shewhart(values, n, 'stddev', rules)
  return { subgroupSize: n, sigma: c.sigma, xbar: line(c.location), stddev: line(c.dispersion), violations: named(c.violations, ['xbar', 'stddev']) }
}

/** Individuals/moving-range chart: x̄ ± 3·MR̄/d2(2), moving ranges 0..D4(2)·MR̄. */
export function individualsChart(values: Numbers, opts?: RuleOptions): IndividualsChart {
  const rules = ruleSetOf(opts)
  const x = toFloat64Array(values, 'values')
  const c = shewhart(x, 1, 'individuals', rules)
  return { sigma: c.sigma, individuals: line(c.location), movingRange: line(c.dispersion), violations: named(c.violations, ['individuals', 'movingRange']) }
}

export function optionalNumber(o: object | undefined, key: string, fallback: number | undefined): number | undefined {
  const v = (o as Record<string, unknown> | undefined)?.[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number') throw new TypeError(`${key} must be a number, got ${v === null ? 'null' : typeof v}`)
  return v
}

/** EWMA chart with the exact limits target ± Lσ√(λ/(2−λ)·(1−(1−λ)^{2i})). */
export function ewmaChart(values: Numbers, opts?: EwmaOptions): EwmaChart {
  const x = toFloat64Array(values, 'values')
  const lambda = optionalNumber(opts, 'lambda', 0.2) as number
  const L = optionalNumber(opts, 'L', 3) as number
  const target = optionalNumber(opts, 'target', undefined)
  const sigma = optionalNumber(opts, 'sigma', undefined)
  const c = rangeErrors(() => (native ? native.spcEwmaChart(x, lambda, L, target, sigma) : js.ewmaChart(x, lambda, L, target, sigma)))
  return { target: c.target, sigma: c.sigma, lambda, L, points: c.points, ucl: c.ucl, lcl: c.lcl, signals: c.signals }
}

function cusumSignals(flat: number[]): CusumSignal[] {
  const out: CusumSignal[] = []
  for (let i = 0; i < flat.length; i += 2) out.push({ index: flat[i], side: flat[i + 1] > 0 ? 'upper' : 'lower' })
  return out
}

/** Tabular CUSUM with allowance kσ and decision interval hσ (no reset after a signal). */
export function cusumChart(values: Numbers, opts?: CusumOptions): CusumChart {
  const x = toFloat64Array(values, 'values')
  const k = optionalNumber(opts, 'k', 0.5) as number
  const h = optionalNumber(opts, 'h', 5) as number
  const target = optionalNumber(opts, 'target', undefined)
  const sigma = optionalNumber(opts, 'sigma', undefined)
  const c = rangeErrors(() => (native ? native.spcCusumChart(x, k, h, target, sigma) : js.cusumChart(x, k, h, target, sigma)))
  return { target: c.target, sigma: c.sigma, allowance: c.allowance, decisionInterval: c.decisionInterval, upper: c.upper, lower: c.lower, signals: cusumSignals(c.signals) }
}
