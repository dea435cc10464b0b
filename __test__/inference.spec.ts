// The statistical tests against scipy's values (__test__/fixtures/inference-scipy.json, written
// by scripts/reference/inference_scipy.py with scipy 1.14.1, statsmodels 0.14.4, mpmath): p-values
// within 1e-9 relative (where p > 1e-300), Shapiro-Wilk within 1e-6, P(B beats A) within 1e-10.
// Runs on the native backend and on HOTSTATS_BACKEND=js; the JS port is also compared with the
// native results directly (1e-12) when both are available.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import * as hs from '../index'
import * as jsInference from '../lib/inference/js'

interface Case {
  fn: string
  args: Record<string, any>
  expected: any
}
const doc = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'inference-scipy.json'), 'utf8')) as { samples: number[][]; cases: Case[] }
const sample = (v: string | number[]): number[] => (typeof v === 'string' ? doc.samples[Number(v.slice(1))] : v)

function close(t: any, what: string, got: number, want: number, tol: number, floor: number): void {
  const err = Math.abs(got - want) / Math.max(Math.abs(want), floor)
  if (!(err <= tol)) t.fail(`${what}: got ${got}, want ${want}, relative error ${err} > ${tol}`)
}

/** Runs one case through the public API; returns the result for the cross-backend check. */
function run(c: Case): any {
  const a = c.args
  const alt = { alternative: a.alternative }
  switch (c.fn) {
    case 'welchTTest':
      return hs.welchTTest(sample(a.a), sample(a.b), alt)
    case 'studentTTest':
      return hs.studentTTest(sample(a.a), sample(a.b), alt)
    case 'oneSampleTTest':
      return hs.oneSampleTTest(sample(a.a), a.mu, alt)
    case 'welchTTestFromSummaries':
      return hs.welchTTestFromSummaries(a.a, a.b, alt)
    case 'mannWhitneyU':
      return hs.mannWhitneyU(sample(a.a), sample(a.b), { ...alt, method: a.method, useContinuity: a.useContinuity })
    case 'chiSquareTest':
      return hs.chiSquareTest(a.table, { correction: a.correction })
    case 'twoProportionZTest':
      return hs.twoProportionZTest(a as hs.TwoProportions, alt)
    case 'betaBinomialAB':
      return hs.betaBinomialAB(a as hs.BetaBinomialInput)
    case 'shapiroWilk':
      return hs.shapiroWilk(sample(a.x))
    case 'fitDistribution':
      return hs.fitDistribution(sample(a.x))
  }
  throw new Error(`unknown fn ${c.fn}`)
}

test(`every case agrees with scipy (${hs.backend()} backend)`, (t) => {
  let checked = 0
  for (const c of doc.cases) {
    const got = run(c)
    const w = c.expected
    const label = `${c.fn} ${JSON.stringify(c.args).slice(0, 100)}`
    const p = (tol: number) => {
      if (w.pValue > 1e-300) close(t, `${label} pValue`, got.pValue, w.pValue, tol, 1e-300)
    }
    switch (c.fn) {
      case 'betaBinomialAB':
        close(t, `${label} probBBeatsA`, got.probBBeatsA, w.probBBeatsA, 1e-10, 1)
        for (const k of ['credibleIntervalA95', 'credibleIntervalB95']) for (const i of [0, 1]) close(t, `${label} ${k}`, got[k][i], w[k][i], 1e-9, 1e-300)
        close(t, `${label} expectedLossA`, got.expectedLossA, w.expectedLossA, 1e-9, 1e-15)
        close(t, `${label} expectedLossB`, got.expectedLossB, w.expectedLossB, 1e-9, 1e-15)
        break
      case 'fitDistribution':
        t.deepEqual(
          got.map((f: hs.DistributionFit) => f.name),
          w.map((f: any) => f.name),
          `${label}: ranking`,
        )
        got.forEach((f: hs.DistributionFit, i: number) => {
          for (const k of Object.keys(w[i].params)) close(t, `${label} ${k}`, f.params[k], w[i].params[k], 1e-9, 1e-300)
          close(t, `${label} logLikelihood`, f.logLikelihood, w[i].logLikelihood, 1e-9, 1e-300)
          close(t, `${label} aic`, f.aic, w[i].aic, 1e-9, 1e-300)
        })
        break
      case 'shapiroWilk':
        close(t, `${label} statistic`, got.statistic, w.statistic, 1e-6, 1e-300)
        close(t, `${label} pValue`, got.pValue, w.pValue, 1e-6, 1e-300)
        break
      default:
        close(t, `${label} statistic`, got.statistic, w.statistic, c.fn === 'mannWhitneyU' ? 0 : 1e-9, 1e-12)
        if (w.df !== undefined) close(t, `${label} df`, got.df, w.df, 1e-9, 1e-12)
        if (w.expected !== undefined) w.expected.forEach((row: number[], r: number) => row.forEach((e, k) => close(t, `${label} expected`, got.expected[r][k], e, 1e-12, 1e-12)))
        p(1e-9)
    }
    checked++
  }
  t.is(checked, doc.cases.length)
})

test('the JS port agrees with the native results to 1e-12', (t) => {
  if (hs.backend() === 'js') {
    t.pass('JS backend: the scipy test above covers the port')
    return
  }
  const A = new Float64Array(sample('#3'))
  const B = new Float64Array(sample('#4'))
  const pairs: [string, any, any][] = [
    ['welch', hs.welchTTest(A, B), jsInference.welch(A, B, 'two-sided')],
    ['mwu', hs.mannWhitneyU(A.subarray(0, 300), B.subarray(0, 200)), jsInference.mannWhitneyU(A.subarray(0, 300), B.subarray(0, 200), 'two-sided', 'auto', true)],
    ['shapiro', hs.shapiroWilk(A.subarray(0, 2000)), jsInference.shapiroWilk(A.subarray(0, 2000))],
    ['beta', hs.betaBinomialAB({ successesA: 321, trialsA: 4000, successesB: 360, trialsB: 4100, prior: { alpha: 0.5, beta: 0.5 } }), jsInference.betaBinomialAB(321, 4000, 360, 4100, 0.5, 0.5)],
  ]
  for (const [name, n, j] of pairs) {
    for (const [k, v] of Object.entries(n)) {
      const vs = Array.isArray(v) ? v : [v]
      const js = Array.isArray(j[k]) ? j[k] : [j[k]]
      // Expected losses are differences of two products of size ~mean (see bayes_ab.rs): their
      // rounding error is absolute, ~1e-16 of the mean, so they are compared to 1e-12 of 1e-3.
      const floor = k.startsWith('expectedLoss') ? 1e-3 : 1e-300
      vs.forEach((x: number, i: number) => close(t, `${name}.${k}`, js[i], x, 1e-12, floor))
    }
  }
  t.pass()
})

test('bad input: TypeError for wrong types, RangeError for undefined statistics', (t) => {
  const bad: [string, () => unknown, any][] = [
    ['non-number in a sample', () => hs.welchTTest([1, 2, 'x' as any], [1, 2]), TypeError],
    ['NaN in a sample', () => hs.welchTTest([1, NaN, 3], [1, 2]), RangeError],
    ['one value', () => hs.studentTTest([1], [1, 2]), RangeError],
    ['zero variance', () => hs.welchTTest([2, 2, 2], [2, 2]), RangeError],
    ['one-sample zero variance', () => hs.oneSampleTTest([3, 3, 3], 1), RangeError],
    ['bad alternative', () => hs.welchTTest([1, 2], [3, 4], { alternative: 'bigger' as any }), RangeError],
    ['summary without count', () => hs.welchTTestFromSummaries({ mean: 1, variance: 1 } as any, { count: 3, mean: 1, variance: 1 }), TypeError],
    ['summary count 1', () => hs.welchTTestFromSummaries({ count: 1, mean: 1, variance: 1 }, { count: 3, mean: 1, variance: 1 }), RangeError],
    ['all ties', () => hs.mannWhitneyU([1, 1, 1], [1, 1]), RangeError],
    ['exact with ties', () => hs.mannWhitneyU([1, 2], [2, 3], { method: 'exact' }), RangeError],
    ['empty column', () => hs.chiSquareTest([[1, 0], [2, 0]]), RangeError],
    ['negative count', () => hs.chiSquareTest([[1, -1], [2, 3]]), RangeError],
    ['three rows', () => hs.chiSquareTest([[1, 1], [2, 3], [4, 5]]), RangeError],
    ['pooled 0', () => hs.twoProportionZTest({ successesA: 0, trialsA: 10, successesB: 0, trialsB: 12 }), RangeError],
    ['successes > trials', () => hs.betaBinomialAB({ successesA: 11, trialsA: 10, successesB: 0, trialsB: 12 }), RangeError],
    ['prior 0', () => hs.betaBinomialAB({ successesA: 1, trialsA: 10, successesB: 0, trialsB: 12, prior: { alpha: 0, beta: 1 } }), RangeError],
    ['shapiro n=2', () => hs.shapiroWilk([1, 2]), RangeError],
    ['shapiro flat', () => hs.shapiroWilk([4, 4, 4, 4]), RangeError],
    ['unknown candidate', () => hs.fitDistribution([1, 2, 3], { candidates: ['gamma' as any] }), RangeError],
  ]
  for (const [name, f, type] of bad) t.throws(f, { instanceOf: type }, name)
})

test('fitDistribution leaves out candidates that need positive data', (t) => {
  const fits = hs.fitDistribution([-1, 0.5, 2, 3.5])
  t.deepEqual(
    fits.map((f) => f.name),
    ['normal'],
  )
})
