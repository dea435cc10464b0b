/**
 * `ControlChart`: a control chart fed one subgroup (or one value) at a time, reporting
 * violations as they happen. It is one engine on every backend: each new point is checked in JS
 * with the JS port's steps (lib/spc/js.ts: the run rules, the EWMA and CUSUM updates), because a
 * few comparisons cost less than a Node-API call; the baseline's limits come from the batch
 * charts of spc.ts (native when the binary is loaded).
 */
import { rangeErrors } from '../backend/backend'
import { toFloat64Array, type Numbers } from '../kernels/kernels'
import * as js from './js'
import { chartConstants, named, optionalNumber, ruleSetOf, shewhart, subgroupSizeOf, type ChartName, type CusumOptions, type EwmaOptions, type RuleOptions, type RuleSet } from './spc'

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
