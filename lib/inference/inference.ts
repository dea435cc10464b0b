/**
 * Statistical tests with scipy's conventions (names, alternatives, statistics), so results can
 * be cross-checked: t-tests, Mann-Whitney U, chi-square on 2×k tables, the two-proportion
 * z-test, the Bayesian beta-binomial A/B comparison, Shapiro-Wilk and maximum-likelihood fits.
 * The native backend runs `hotstats_core::inference`; the JS backend its port
 * (`lib/inference/js.ts`), which agrees to ~1e-12. Both are checked against scipy's values
 * (`__test__/fixtures/inference-scipy.json`, from `scripts/reference/inference_scipy.py`).
 *
 * Bad input throws TypeError (wrong types) or RangeError (out of domain, or a statistic that is
 * undefined for the data, such as zero variance), where scipy would return NaN.
 */
import { native, rangeErrors } from '../backend/backend'
import * as js from './js'
import { toFloat64Array, type Numbers } from '../kernels/kernels'

export type Alternative = 'two-sided' | 'less' | 'greater'
export interface TTestResult {
  statistic: number
  df: number
  pValue: number
}
/** A sample's count, mean and sample variance (ddof 1). */
export interface SampleSummary {
  count: number
  mean: number
  variance: number
}
export interface StatisticResult {
  statistic: number
  pValue: number
}
export interface ChiSquareResult {
  statistic: number
  df: number
  pValue: number
  expected: number[][]
}
export interface BetaBinomialResult {
  probBBeatsA: number
  credibleIntervalA95: [number, number]
  credibleIntervalB95: [number, number]
  expectedLossA: number
  expectedLossB: number
}
export type DistributionCandidate = 'normal' | 'lognormal' | 'exponential'
export interface DistributionFit {
  name: DistributionCandidate
  params: Record<string, number>
  logLikelihood: number
  aic: number
}
export type MannWhitneyMethod = 'auto' | 'exact' | 'asymptotic'

export interface AlternativeOptions {
  /** 'two-sided' (default), 'less' (the first sample is below the second) or 'greater'. */
  alternative?: Alternative
}

function alternativeOf(opts: AlternativeOptions | undefined): Alternative {
  const alt = opts?.alternative ?? 'two-sided'
  if (alt !== 'two-sided' && alt !== 'less' && alt !== 'greater') throw new RangeError(`alternative must be 'two-sided', 'less' or 'greater', got ${JSON.stringify(alt)}`)
  return alt
}

/** Welch's t-test (unequal variances), as scipy's `ttest_ind(a, b, equal_var=False)`. */
export function welchTTest(a: Numbers, b: Numbers, opts?: AlternativeOptions): TTestResult {
  const [x, y, alt] = [toFloat64Array(a, 'a'), toFloat64Array(b, 'b'), alternativeOf(opts)]
  return rangeErrors(() => (native ? native.inferenceWelch(x, y, alt) : js.welch(x, y, alt)))
}

function summaryArgs(name: string, s: SampleSummary): Float64Array {
  if (s === null || typeof s !== 'object') throw new TypeError(`${name} must be {count, mean, variance}`)
  for (const k of ['count', 'mean', 'variance'] as const) if (typeof s[k] !== 'number') throw new TypeError(`${name}.${k} must be a number`)
  return Float64Array.of(s.count, s.mean, s.variance)
}

/**
 * Welch's t-test from each sample's count, mean and sample variance (ddof 1), as scipy's
 * `ttest_ind_from_stats(..., equal_var=False)` with standard deviations √variance. This is the
 * streaming form: Moments (or any mergeable summary) gives the three numbers.
 */
export function welchTTestFromSummaries(sa: SampleSummary, sb: SampleSummary, opts?: AlternativeOptions): TTestResult {
  const [x, y, alt] = [summaryArgs('a', sa), summaryArgs('b', sb), alternativeOf(opts)]
  return rangeErrors(() => (native ? native.inferenceWelchFromSummaries(x, y, alt) : js.welchFromSummaries(sa, sb, alt)))
}

/** Student's two-sample t-test with a pooled variance (`ttest_ind(a, b)`). */
export function studentTTest(a: Numbers, b: Numbers, opts?: AlternativeOptions): TTestResult {
  const [x, y, alt] = [toFloat64Array(a, 'a'), toFloat64Array(b, 'b'), alternativeOf(opts)]
  return rangeErrors(() => (native ? native.inferenceStudent(x, y, alt) : js.student(x, y, alt)))
}

/** One-sample t-test of the mean against `mu` (`ttest_1samp(a, mu)`). */
export function oneSampleTTest(a: Numbers, mu: number, opts?: AlternativeOptions): TTestResult {
  const [x, alt] = [toFloat64Array(a, 'a'), alternativeOf(opts)]
  if (typeof mu !== 'number') throw new TypeError('mu must be a number')
  return rangeErrors(() => (native ? native.inferenceOneSample(x, mu, alt) : js.oneSample(x, mu, alt)))
}

export interface MannWhitneyOptions extends AlternativeOptions {
  /** 'auto' (default): exact when there are no ties and a sample has at most 8 values. */
  method?: MannWhitneyMethod
  /** Continuity correction of the normal approximation (default true). */
  useContinuity?: boolean
}

/** Mann-Whitney U (`mannwhitneyu`); `statistic` is U of the first sample. */
export function mannWhitneyU(a: Numbers, b: Numbers, opts?: MannWhitneyOptions): StatisticResult {
  const [x, y, alt] = [toFloat64Array(a, 'a'), toFloat64Array(b, 'b'), alternativeOf(opts)]
  const method = opts?.method ?? 'auto'
  if (method !== 'auto' && method !== 'exact' && method !== 'asymptotic') throw new RangeError(`method must be 'auto', 'exact' or 'asymptotic', got ${JSON.stringify(method)}`)
  const cont = opts?.useContinuity ?? true
  if (typeof cont !== 'boolean') throw new TypeError('useContinuity must be a boolean')
  return rangeErrors(() => (native ? native.inferenceMannWhitneyU(x, y, alt, method, cont) : js.mannWhitneyU(x, y, alt, method, cont)))
}

/**
 * Chi-square test of independence on a 2×k table of counts (`chi2_contingency`): Yates'
 * correction (default on) applies to 2×2 tables only, as in scipy.
 */
export function chiSquareTest(table: readonly Numbers[], opts?: { correction?: boolean }): ChiSquareResult {
  if (!Array.isArray(table)) throw new TypeError('table must be an array of 2 rows')
  const rows = table.map((r, i) => toFloat64Array(r, `table[${i}]`))
  const correction = opts?.correction ?? true
  if (typeof correction !== 'boolean') throw new TypeError('correction must be a boolean')
  if (rows.length !== 2) throw new RangeError(`table must have 2 rows, got ${rows.length}`)
  return rangeErrors(() => (native ? native.inferenceChiSquare(rows[0], rows[1], correction) : js.chiSquareTest(rows, correction)))
}

export interface TwoProportions {
  successesA: number
  trialsA: number
  successesB: number
  trialsB: number
}

function counts(c: TwoProportions): [number, number, number, number] {
  if (c === null || typeof c !== 'object') throw new TypeError('expected {successesA, trialsA, successesB, trialsB}')
  const out = [c.successesA, c.trialsA, c.successesB, c.trialsB] as [number, number, number, number]
  ;['successesA', 'trialsA', 'successesB', 'trialsB'].forEach((k, i) => {
    if (typeof out[i] !== 'number') throw new TypeError(`${k} must be a number`)
  })
  return out
}

/** Pooled two-proportion z-test; statistic = (p_A − p_B) / se (statsmodels' `proportions_ztest`). */
export function twoProportionZTest(c: TwoProportions, opts?: AlternativeOptions): StatisticResult {
  const [sa, na, sb, nb] = counts(c)
  const alt = alternativeOf(opts)
  return rangeErrors(() => (native ? native.inferenceTwoProportionZ(Float64Array.of(sa, na, sb, nb), alt) : js.twoProportionZTest(sa, na, sb, nb, alt)))
}

export interface BetaBinomialInput extends TwoProportions {
  /** Beta prior of both rates (default {alpha: 1, beta: 1}, uniform). */
  prior?: { alpha: number; beta: number }
}

/**
 * Bayesian A/B on conversion rates with a Beta prior: P(p_B > p_A) by deterministic quadrature
 * (to ~1e-13), each posterior's central 95% interval, and the expected loss of choosing each.
 */
export function betaBinomialAB(input: BetaBinomialInput): BetaBinomialResult {
  const [sa, na, sb, nb] = counts(input)
  const alpha = input.prior?.alpha ?? 1
  const beta = input.prior?.beta ?? 1
  if (typeof alpha !== 'number' || typeof beta !== 'number') throw new TypeError('prior must be {alpha: number, beta: number}')
  return rangeErrors(() => {
    if (!native) return js.betaBinomialAB(sa, na, sb, nb, alpha, beta)
    const r = native.inferenceBetaBinomialAb(Float64Array.of(sa, na, sb, nb, alpha, beta))
    return { ...r, credibleIntervalA95: [r.credibleIntervalA95[0], r.credibleIntervalA95[1]], credibleIntervalB95: [r.credibleIntervalB95[0], r.credibleIntervalB95[1]] }
  })
}

/** Shapiro-Wilk normality test (Royston's AS R94, as scipy's `shapiro`), 3 to 5000 values. */
export function shapiroWilk(x: Numbers): StatisticResult {
  const v = toFloat64Array(x, 'x')
  return rangeErrors(() => (native ? native.inferenceShapiroWilk(v) : js.shapiroWilk(v)))
}

const CANDIDATES: readonly DistributionCandidate[] = ['normal', 'lognormal', 'exponential']

/**
 * Maximum-likelihood fits ranked by AIC (best first). Params: normal {mean, sd}, lognormal
 * {mu, sigma} (of ln x), exponential {rate}. Candidates that need x > 0 are left out when
 * some value is not positive.
 */
export function fitDistribution(x: Numbers, opts?: { candidates?: readonly DistributionCandidate[] }): DistributionFit[] {
  const v = toFloat64Array(x, 'x')
  const cands = opts?.candidates ?? CANDIDATES
  if (!Array.isArray(cands)) throw new TypeError('candidates must be an array')
  for (const c of cands) if (!CANDIDATES.includes(c)) throw new RangeError(`unknown candidate ${JSON.stringify(c)} (normal, lognormal, exponential)`)
  return rangeErrors(() => {
    if (!native) return js.fitDistribution(v, cands)
    return native.inferenceFitDistribution(v, [...cands]).map((f) => ({
      name: f.name as DistributionCandidate,
      params: Object.fromEntries(f.paramNames.map((k, i) => [k, f.paramValues[i]])),
      logLikelihood: f.logLikelihood,
      aic: f.aic,
    }))
  })
}
