/**
 * Statistical process control: Shewhart charts (X̄-R, X̄-S, individuals/moving range) with
 * Western Electric or Nelson run rules, EWMA with exact time-varying limits, the tabular CUSUM,
 * the chart constants for subgroup sizes 2..25, and `ControlChart`, which takes subgroups as
 * they arrive and reports violations as they happen.
 *
 * The batch charts run `hotstats_core::spc` natively, or its JS port (`lib/spc/js.ts`); both are
 * checked against an independent implementation (`__test__/fixtures/spc-reference.json`, from
 * `scripts/reference/spc_reference.py`). `ControlChart` checks each new point in JS: a few
 * comparisons cost less than a Node-API call.
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

function ruleSetOf(opts: RuleOptions | undefined): RuleSet {
  const r = opts?.rules ?? 'western-electric'
  if (r !== 'western-electric' && r !== 'nelson' && r !== 'limits') throw new RangeError(`rules must be 'western-electric', 'nelson' or 'limits', got ${JSON.stringify(r)}`)
  return r
}

function subgroupSizeOf(n: unknown): number {
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

function shewhart(values: Float64Array, n: number, kind: 'range' | 'stddev' | 'individuals', rules: RuleSet): js.ShewhartChart {
  if (kind === 'individuals') return rangeErrors(() => (native ? native.spcIndividualsChart(values, rules) : js.individualsChart(values, rules)))
  return rangeErrors(() => (native ? native.spcXbarChart(values, n, kind, rules) : js.xbarChart(values, n, kind, rules)))
}

function named(v: js.Violation[], names: [ChartName, ChartName]): ChartViolation[] {
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

function optionalNumber(o: object | undefined, key: string, fallback: number | undefined): number | undefined {
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

// ---- streaming ------------------------------------------------------------------------------

export type ControlChartType = 'xbar-r' | 'xbar-s' | 'individuals' | 'ewma' | 'cusum'

export interface ControlChartOptions extends RuleOptions, EwmaOptions, CusumOptions {
  type: ControlChartType
  /** For 'xbar-r' and 'xbar-s': the values per subgroup (2..25). */
  subgroupSize?: number
  /**
   * How many subgroups (or values) set the limits before monitoring starts (phase I); default
   * 25. Ignored when `limits` is given.
   */
  baseline?: number
  /** Known in-control center and process σ: monitoring starts with the first point. */
  limits?: { center: number; sigma: number }
}

export interface ControlSignal {
  chart: ChartName | 'ewma' | 'cusum'
  /** The position in that chart's points since the chart started (baseline included). */
  index: number
  /** The rule broken (Shewhart charts). */
  rule?: number
  /** Which CUSUM sum crossed H. */
  side?: 'upper' | 'lower'
}

export interface ControlLimits {
  center: number
  /** The process σ. */
  sigma: number
  /** The location chart's limits (for EWMA the asymptotic ones; CUSUM: ±H around the sums' 0). */
  ucl: number
  lcl: number
  /** The dispersion chart's center and limits (Shewhart charts). */
  dispersion?: { center: number; ucl: number; lcl: number }
}

const TYPES: readonly ControlChartType[] = ['xbar-r', 'xbar-s', 'individuals', 'ewma', 'cusum']

/**
 * A control chart fed one subgroup (or one value) at a time. Until `baseline` points have
 * arrived it collects them; the point that completes the baseline computes the limits (the
 * batch chart of the baseline) and returns that chart's violations; every later point is
 * checked against the frozen limits as it arrives, with the run rules looking back across the
 * baseline too. With `limits` given, monitoring starts at once.
 */
export class ControlChart {
  readonly type: ControlChartType
  readonly subgroupSize: number
  readonly rules: RuleSet
  private readonly baselineSize: number
  private readonly options: { lambda: number; L: number; k: number; h: number }
  private pending: number[] = []
  private _limits: ControlLimits | null = null
  private history: number[] = []
  private lastValue = NaN
  private points = 0
  private readonly state = new Float64Array(2)
  private _signals = 0

  constructor(opts: ControlChartOptions) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('ControlChart needs options {type, ...}')
    if (!TYPES.includes(opts.type)) throw new RangeError(`type must be one of ${TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(opts.type)}`)
    this.type = opts.type
    this.rules = ruleSetOf(opts)
    const xbar = this.type === 'xbar-r' || this.type === 'xbar-s'
    this.subgroupSize = xbar ? subgroupSizeOf(opts.subgroupSize) : 1
    const lambda = optionalNumber(opts, 'lambda', 0.2) as number
    const L = optionalNumber(opts, 'L', 3) as number
    const k = optionalNumber(opts, 'k', 0.5) as number
    const h = optionalNumber(opts, 'h', 5) as number
    if (this.type === 'ewma') js.checkEwma(lambda, L)
    if (this.type === 'cusum') js.checkCusum(k, h)
    this.options = { lambda, L, k, h }
    const baseline = optionalNumber(opts, 'baseline', 25) as number
    if (!Number.isInteger(baseline) || baseline < 2) throw new RangeError(`baseline must be an integer >= 2, got ${baseline}`)
    this.baselineSize = baseline
    if (opts.limits !== undefined) {
      const { center, sigma } = opts.limits ?? ({} as { center: unknown; sigma: unknown })
      if (typeof center !== 'number' || typeof sigma !== 'number') throw new TypeError('limits must be {center: number, sigma: number}')
      if (!Number.isFinite(center)) throw new RangeError(`limits.center must be finite, got ${center}`)
      if (!(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`limits.sigma must be a finite number > 0, got ${sigma}`)
      this.freeze(center, sigma)
    }
  }

  /** The limits in force, or null while the baseline is still being collected. */
  get limits(): ControlLimits | null {
    return this._limits
  }

  /** Points (subgroups or values) added so far, baseline included. */
  get count(): number {
    return this.points
  }

  /** Signals reported so far. */
  get signalCount(): number {
    return this._signals
  }

  /**
   * Adds one subgroup (X̄ charts: an array of `subgroupSize` numbers) or one value (the other
   * types); returns the signals it raised (possibly none). Bad input throws and adds nothing.
   */
  add(point: Numbers | number): ControlSignal[] {
    const values = this.check(point)
    let out: ControlSignal[]
    if (this._limits === null) {
      if (this.points + 1 === this.baselineSize) {
        // Computes the limits first: if the baseline cannot set them, nothing changes.
        out = this.closeBaseline(Float64Array.from([...this.pending, ...values]))
        this.pending = []
      } else {
        for (const v of values) this.pending.push(v)
        out = []
      }
      this.points++
    } else {
      out = this.monitor(values)
      this.points++
    }
    this._signals += out.length
    return out
  }

  private check(point: Numbers | number): Float64Array {
    const n = this.subgroupSize
    let values: Float64Array
    if (this.type === 'xbar-r' || this.type === 'xbar-s') {
      values = toFloat64Array(point, 'subgroup')
      if (values.length !== n) throw new RangeError(`subgroup must have ${n} values, got ${values.length}`)
    } else {
      if (typeof point !== 'number') throw new TypeError(`value must be a number, got ${point === null ? 'null' : typeof point}`)
      values = Float64Array.of(point)
    }
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new RangeError(`values must be finite, got ${values[i]}`)
    return values
  }

  /** The baseline is complete: compute its chart, freeze its limits, report its violations. */
  private closeBaseline(x: Float64Array): ControlSignal[] {
    const { lambda, L, k, h } = this.options
    switch (this.type) {
      case 'xbar-r':
      case 'xbar-s': {
        const kind = this.type === 'xbar-r' ? 'range' : 'stddev'
        const c = shewhart(x, this.subgroupSize, kind, this.rules)
        this.freeze(c.location.center, c.sigma)
        this.history = c.location.points.slice(-js.ruleWindow(this.rules))
        return named(c.violations, ['xbar', kind])
      }
      case 'individuals': {
        const c = shewhart(x, 1, 'individuals', this.rules)
        this.freeze(c.location.center, c.sigma)
        this.history = c.location.points.slice(-js.ruleWindow(this.rules))
        this.lastValue = x[x.length - 1]
        return named(c.violations, ['individuals', 'movingRange'])
      }
      case 'ewma': {
        const [t, s] = rangeErrors(() => js.targetAndSigma(x, undefined, undefined))
        this.freeze(t, s)
        const out: ControlSignal[] = []
        x.forEach((v, i) => {
          const [z, lcl, ucl] = js.ewmaStep(this.state, v, lambda, L, t, s)
          if (z > ucl || z < lcl) out.push({ chart: 'ewma', index: i })
        })
        return out
      }
      case 'cusum': {
        const [t, s] = rangeErrors(() => js.targetAndSigma(x, undefined, undefined))
        this.freeze(t, s)
        const out: ControlSignal[] = []
        x.forEach((v, i) => out.push(...this.cusumStep(v, i, t, k * s, h * s)))
        return out
      }
    }
  }

  private freeze(center: number, sigma: number): void {
    const n = this.subgroupSize
    const { lambda, L, h } = this.options
    let half = 3 * sigma
    let dispersion: ControlLimits['dispersion']
    if (this.type === 'xbar-r' || this.type === 'xbar-s' || this.type === 'individuals') {
      const kc = chartConstants(Math.max(n, 2))
      half = (3 * sigma) / Math.sqrt(n)
      // The dispersion chart's center is its statistic's mean for σ: d2σ (R, MR) or c4σ (S).
      const c = this.type === 'xbar-s' ? kc.c4 * sigma : kc.d2 * sigma
      dispersion = this.type === 'xbar-s' ? { center: c, ucl: kc.B4 * c, lcl: kc.B3 * c } : { center: c, ucl: kc.D4 * c, lcl: this.type === 'individuals' ? 0 : kc.D3 * c }
    } else if (this.type === 'ewma') {
      half = L * sigma * Math.sqrt(lambda / (2 - lambda))
    } else {
      half = h * sigma
    }
    this._limits = { center, sigma, ucl: center + half, lcl: center - half, dispersion }
    if (this.type === 'ewma') this.state.set([center, 1])
  }

  private cusumStep(v: number, index: number, target: number, kAbs: number, hAbs: number): ControlSignal[] {
    js.cusumStep(this.state, v, target, kAbs)
    const out: ControlSignal[] = []
    if (this.state[0] > hAbs) out.push({ chart: 'cusum', index, side: 'upper' })
    if (this.state[1] > hAbs) out.push({ chart: 'cusum', index, side: 'lower' })
    return out
  }

  private monitor(values: Float64Array): ControlSignal[] {
    const lim = this._limits as ControlLimits
    const i = this.points
    const { lambda, L, k, h } = this.options
    if (this.type === 'ewma') {
      const [z, lcl, ucl] = js.ewmaStep(this.state, values[0], lambda, L, lim.center, lim.sigma)
      return z > ucl || z < lcl ? [{ chart: 'ewma', index: i }] : []
    }
    if (this.type === 'cusum') return this.cusumStep(values[0], i, lim.center, k * lim.sigma, h * lim.sigma)
    const out: ControlSignal[] = []
    const n = values.length
    let location: number
    let dispersion: number
    let dispIndex = i
    let names: [ChartName, ChartName]
    if (this.type === 'individuals') {
      location = values[0]
      dispersion = Math.abs(values[0] - this.lastValue)
      dispIndex = i - 1
      names = ['individuals', 'movingRange']
      this.lastValue = values[0]
    } else {
      location = js.mean(values)
      dispersion = js.subgroupDispersion(values, this.type === 'xbar-r' ? 'range' : 'stddev')
      names = ['xbar', this.type === 'xbar-r' ? 'range' : 'stddev']
    }
    this.history.push(location)
    const w = js.ruleWindow(this.rules)
    if (this.history.length > w) this.history.splice(0, this.history.length - w)
    const bits = js.rulesBroken(this.history, 0, this.history.length, lim.center, lim.sigma / Math.sqrt(n), this.rules)
    for (let r = 0; r < 8; r++) if (bits & (1 << r)) out.push({ chart: names[0], index: i, rule: r + 1 })
    const d = lim.dispersion as NonNullable<ControlLimits['dispersion']>
    if (dispIndex >= 0 && (dispersion > d.ucl || dispersion < d.lcl)) out.push({ chart: names[1], index: dispIndex, rule: 1 })
    return out
  }
}
