/**
 * `npm run bench:inference`: hotstats' statistical tests against jStat, simple-statistics and
 * @stdlib/stats, above all for accuracy: every case of __test__/fixtures/inference-scipy.json
 * (scipy's values) that a peer can run, with the worst relative error of its p-value (or of its
 * statistic, where the peer gives no p-value). Then the speed of one call on the same inputs
 * (benny medians). Writes benchmark/results/inference.json and inference.md.
 *
 * Where a peer has no test of its own, the table uses what a user of that library would write:
 * the textbook statistic with the library's distribution function (jStat.studentt.cdf,
 * jStat.chisquare.cdf, jStat.normal.cdf, simple-statistics' cumulativeStdNormalProbability), and
 * for P(B beats A) jStat's beta sampler (Monte Carlo, 100k draws), as JS A/B tools do.
 * @stdlib/stats-chi2test is left out: its current release (0.2.1) depends on a GitHub URL that
 * the offline registry cannot serve, and 0.1.0 pulls in 2,500 packages.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import b from 'benny'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jStat = require('jstat') as any
import * as ss from 'simple-statistics'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ttest2 = require('@stdlib/stats-ttest2') as (x: number[], y: number[], o?: object) => { statistic: number; pValue: number }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ttest = require('@stdlib/stats-ttest') as (x: number[], o?: object) => { statistic: number; pValue: number }

import * as hs from '../index'
import * as port from '../lib/inference/js'

type Alt = 'two-sided' | 'less' | 'greater'
interface Case {
  fn: string
  args: Record<string, any>
  expected: any
}
const doc = JSON.parse(readFileSync(join(__dirname, '..', '__test__', 'fixtures', 'inference-scipy.json'), 'utf8')) as { samples: number[][]; cases: Case[] }
const sample = (v: string | number[]): number[] => (typeof v === 'string' ? doc.samples[Number(v.slice(1))] : v)

// ---- what a user of each peer writes ----------------------------------------------------------

function tailP(alt: Alt, cdf: (x: number) => number, s: number): number {
  if (alt === 'less') return cdf(s)
  if (alt === 'greater') return 1 - cdf(s)
  return Math.min(1, 2 * Math.min(cdf(s), 1 - cdf(s)))
}
const mean = (x: number[]): number => x.reduce((a, b2) => a + b2, 0) / x.length
const svar = (x: number[]): number => {
  const m = mean(x)
  return x.reduce((a, v) => a + (v - m) * (v - m), 0) / (x.length - 1)
}
function jstatWelch(a: number[], b2: number[], alt: Alt): number {
  const [va, vb] = [jStat.variance(a, true) / a.length, jStat.variance(b2, true) / b2.length]
  const t = (jStat.mean(a) - jStat.mean(b2)) / Math.sqrt(va + vb)
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b2.length - 1))
  return tailP(alt, (x) => jStat.studentt.cdf(x, df), t)
}
function jstatStudent(a: number[], b2: number[], alt: Alt): number {
  const df = a.length + b2.length - 2
  const sp = ((a.length - 1) * jStat.variance(a, true) + (b2.length - 1) * jStat.variance(b2, true)) / df
  const t = (jStat.mean(a) - jStat.mean(b2)) / Math.sqrt(sp * (1 / a.length + 1 / b2.length))
  return tailP(alt, (x) => jStat.studentt.cdf(x, df), t)
}
function jstatOneSample(a: number[], mu: number, alt: Alt): number {
  if (alt === 'two-sided') return jStat.ttest(mu, a, 2)
  const t = (jStat.mean(a) - mu) / Math.sqrt(jStat.variance(a, true) / a.length)
  return tailP(alt, (x) => jStat.studentt.cdf(x, a.length - 1), t)
}
function chiStatistic(table: number[][], correction: boolean): [number, number] {
  const rows = table.map((r) => r.reduce((a, b2) => a + b2, 0))
  const cols = table[0].map((_, j) => table[0][j] + table[1][j])
  const n = rows[0] + rows[1]
  let s = 0
  const yates = correction && cols.length === 2
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < cols.length; j++) {
      const e = (rows[i] * cols[j]) / n
      const d = yates ? Math.max(0, Math.abs(table[i][j] - e) - 0.5) : table[i][j] - e
      s += (d * d) / e
    }
  return [s, cols.length - 1]
}
function zProportions(a: Record<string, number>): number {
  const p = (a.successesA + a.successesB) / (a.trialsA + a.trialsB)
  return (a.successesA / a.trialsA - a.successesB / a.trialsB) / Math.sqrt(p * (1 - p) * (1 / a.trialsA + 1 / a.trialsB))
}
function jstatMonteCarlo(a: Record<string, any>, draws = 100_000): number {
  const pr = a.prior ?? { alpha: 1, beta: 1 }
  let wins = 0
  for (let i = 0; i < draws; i++) {
    const x = jStat.beta.sample(pr.alpha + a.successesA, pr.beta + a.trialsA - a.successesA)
    const y = jStat.beta.sample(pr.alpha + a.successesB, pr.beta + a.trialsB - a.successesB)
    if (y > x) wins++
  }
  return wins / draws
}

type Peer = (c: Case) => number | null // the p-value (or the statistic, for statistic-only peers); null: not available
interface Column {
  name: string
  tests: Record<string, { run: Peer; what?: 'statistic' }>
}
const columns: Column[] = [
  {
    name: 'hotstats',
    tests: {
      welchTTest: { run: (c) => hs.welchTTest(sample(c.args.a), sample(c.args.b), c.args).pValue },
      studentTTest: { run: (c) => hs.studentTTest(sample(c.args.a), sample(c.args.b), c.args).pValue },
      oneSampleTTest: { run: (c) => hs.oneSampleTTest(sample(c.args.a), c.args.mu, c.args).pValue },
      mannWhitneyU: { run: (c) => hs.mannWhitneyU(sample(c.args.a), sample(c.args.b), c.args).pValue },
      chiSquareTest: { run: (c) => hs.chiSquareTest(c.args.table, c.args).pValue },
      twoProportionZTest: { run: (c) => hs.twoProportionZTest(c.args as hs.TwoProportions, c.args).pValue },
      betaBinomialAB: { run: (c) => hs.betaBinomialAB(c.args as hs.BetaBinomialInput).probBBeatsA },
      shapiroWilk: { run: (c) => hs.shapiroWilk(sample(c.args.x)).pValue },
    },
  },
  {
    name: 'jStat 1.9.6',
    tests: {
      welchTTest: { run: (c) => jstatWelch(sample(c.args.a), sample(c.args.b), c.args.alternative) },
      studentTTest: { run: (c) => jstatStudent(sample(c.args.a), sample(c.args.b), c.args.alternative) },
      oneSampleTTest: { run: (c) => jstatOneSample(sample(c.args.a), c.args.mu, c.args.alternative) },
      chiSquareTest: {
        run: (c) => {
          const [s, df] = chiStatistic(c.args.table, c.args.correction)
          return 1 - jStat.chisquare.cdf(s, df)
        },
      },
      twoProportionZTest: { run: (c) => tailP(c.args.alternative, (x) => jStat.normal.cdf(x, 0, 1), zProportions(c.args)) },
      betaBinomialAB: { run: (c) => jstatMonteCarlo(c.args) },
    },
  },
  {
    name: 'simple-statistics 7.12.1',
    tests: {
      studentTTest: { run: (c) => (c.args.alternative === 'two-sided' ? ss.tTestTwoSample(sample(c.args.a), sample(c.args.b), 0) : null), what: 'statistic' },
      oneSampleTTest: { run: (c) => (c.args.alternative === 'two-sided' ? ss.tTest(sample(c.args.a), c.args.mu) : null), what: 'statistic' },
      twoProportionZTest: { run: (c) => tailP(c.args.alternative, (x) => ss.cumulativeStdNormalProbability(x), zProportions(c.args)) },
    },
  },
  {
    name: '@stdlib/stats',
    tests: {
      welchTTest: { run: (c) => ttest2(sample(c.args.a), sample(c.args.b), { alternative: c.args.alternative }).pValue },
      studentTTest: { run: (c) => ttest2(sample(c.args.a), sample(c.args.b), { alternative: c.args.alternative, variance: 'equal' }).pValue },
      oneSampleTTest: { run: (c) => ttest(sample(c.args.a), { mu: c.args.mu, alternative: c.args.alternative }).pValue },
    },
  },
]

interface Cell {
  cases: number
  worst: number
  off: number // cases off by more than 1e-6 relative
  failed: number // threw or returned a non-number
  what: string
}

function accuracy(): Record<string, Record<string, Cell | null>> {
  const out: Record<string, Record<string, Cell | null>> = {}
  const tests = [...new Set(columns.flatMap((c) => Object.keys(c.tests)))]
  for (const fn of tests) {
    out[fn] = {}
    for (const col of columns) {
      const peer = col.tests[fn]
      if (!peer) {
        out[fn][col.name] = null
        continue
      }
      const cell: Cell = { cases: 0, worst: 0, off: 0, failed: 0, what: peer.what ?? (fn === 'betaBinomialAB' ? 'P(B beats A)' : 'p-value') }
      for (const c of doc.cases.filter((x) => x.fn === fn)) {
        const want = peer.what === 'statistic' ? c.expected.statistic : fn === 'betaBinomialAB' ? c.expected.probBBeatsA : c.expected.pValue
        if (!(want > 1e-300)) continue
        let got: number | null
        try {
          got = peer.run(c)
        } catch {
          got = NaN
        }
        if (got === null) continue
        cell.cases++
        if (typeof got !== 'number' || Number.isNaN(got)) {
          cell.failed++
          continue
        }
        const err = Math.abs(got - want) / Math.abs(want)
        cell.worst = Math.max(cell.worst, err)
        if (err > 1e-6) cell.off++
      }
      out[fn][col.name] = cell
    }
  }
  return out
}

async function usPerCall(name: string, cases: Array<[string, () => void]>): Promise<Record<string, number>> {
  const summary = await b.suite(name, ...cases.map(([n, f]) => b.add(n, f, { minSamples: 10, maxTime: 1 })), b.cycle())
  return Object.fromEntries(summary.results.map((r) => [r.name, r.details.median * 1e6]))
}

let sink = 0
async function speed(): Promise<Record<string, Record<string, number>>> {
  const big = doc.cases.find((c) => c.fn === 'welchTTest' && sample(c.args.a).length === 5000)!
  const [a, b2] = [sample(big.args.a), sample(big.args.b)]
  const [fa, fb] = [Float64Array.from(a), Float64Array.from(b2)]
  const table = [
    [120, 140, 160, 180],
    [880, 860, 840, 820],
  ]
  const ab = { successesA: 321, trialsA: 4000, successesB: 360, trialsB: 4100, prior: { alpha: 1, beta: 1 } }
  const out: Record<string, Record<string, number>> = {}
  out['Welch t-test, n = 5000 and 4000'] = await usPerCall('welch', [
    ['hotstats', () => (sink += hs.welchTTest(fa, fb).pValue)],
    ['hotstats JS port', () => (sink += port.welch(fa, fb, 'two-sided').pValue)],
    ['jStat 1.9.6', () => (sink += jstatWelch(a, b2, 'two-sided'))],
    ['@stdlib/stats', () => (sink += ttest2(a, b2).pValue)],
  ])
  out['one-sample t-test, n = 5000'] = await usPerCall('one-sample', [
    ['hotstats', () => (sink += hs.oneSampleTTest(fa, 0).pValue)],
    ['hotstats JS port', () => (sink += port.oneSample(fa, 0, 'two-sided').pValue)],
    ['jStat 1.9.6', () => (sink += jstatOneSample(a, 0, 'two-sided'))],
    ['simple-statistics 7.12.1', () => (sink += ss.tTest(a, 0))],
    ['@stdlib/stats', () => (sink += ttest(a).pValue)],
  ])
  out['chi-square, 2×4 table'] = await usPerCall('chi-square', [
    ['hotstats', () => (sink += hs.chiSquareTest(table).pValue)],
    ['jStat 1.9.6', () => (sink += 1 - jStat.chisquare.cdf(...chiStatistic(table, true)))],
  ])
  out['Bayesian A/B, 4000 trials each (hotstats: all outputs; jStat: P(B beats A) from 100k draws)'] = await usPerCall('beta-binomial', [
    ['hotstats', () => (sink += hs.betaBinomialAB(ab).probBBeatsA)],
    ['jStat 1.9.6', () => (sink += jstatMonteCarlo(ab))],
  ])
  out['Experiment: record one conversion (per event)'] = await usPerCall('experiment', [
    [
      'hotstats',
      (() => {
        const v = new hs.Experiment().variant('B')
        return () => {
          for (let i = 0; i < 1000; i++) v.expose().convert().observe(i & 63)
        }
      })(),
    ],
  ])
  out['Experiment: record one conversion (per event)'].hotstats /= 1000
  return out
}

function fmtErr(c: Cell | null): string {
  if (c === null) return '—'
  if (c.cases === 0) return '—'
  let s = c.worst === 0 ? '0' : c.worst.toExponential(1)
  if (c.what === 'statistic') s += ' (statistic only)'
  const notes: string[] = []
  if (c.off > 0) notes.push(`${c.off} of ${c.cases} cases off by > 1e-6`)
  if (c.failed > 0) notes.push(`${c.failed} of ${c.cases} NaN or threw`)
  return notes.length ? `**${s}**; ${notes.join(', ')}` : s
}

async function main() {
  const acc = accuracy()
  const names = columns.map((c) => c.name)
  const rows: string[] = [
    '### Accuracy against scipy (worst relative error over the reference cases the library can run)',
    '',
    `| test | cases | ${names.join(' | ')} |`,
    `| --- | --- | ${names.map(() => '---').join(' | ')} |`,
  ]
  for (const [fn, cells] of Object.entries(acc)) {
    const n = cells.hotstats?.cases ?? 0
    rows.push(`| ${fn} | ${n} | ${names.map((k) => fmtErr(cells[k])).join(' | ')} |`)
  }
  for (const [name, line] of Object.entries(acc)) console.log(name, JSON.stringify(line))
  const sp = await speed()
  rows.push('', '### Speed (µs per call, benny medians; ratio = peer time / hotstats time)', '', '| operation | contender | µs per call | ratio |', '| --- | --- | --- | --- |')
  for (const [op, res] of Object.entries(sp)) {
    const ours = res.hotstats
    for (const [k, v] of Object.entries(res)) rows.push(`| ${op} | ${k} | ${v < 0.1 ? v.toFixed(4) : v.toFixed(2)} | ${k === 'hotstats' ? '1' : (v / ours).toFixed(1)}× |`)
  }
  const md = [`Backend ${hs.backend()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. "—": the library has no such test.`, '', ...rows, ''].join('\n')
  console.log(md)
  const dir = join(__dirname, 'results')
  writeFileSync(join(dir, 'inference.json'), JSON.stringify({ date: new Date().toISOString(), backend: hs.backend(), accuracy: acc, speedMicroseconds: sp }, null, 2))
  writeFileSync(join(dir, 'inference.md'), md)
  if (sink === 42) console.log('')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
