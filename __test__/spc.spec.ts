// Process-control charts against an independent implementation
// (__test__/fixtures/spc-reference.json, written by scripts/reference/spc_reference.py: the
// constants by scipy's quadrature, checked there against the published table; the charts by the
// textbook formulas): constants within 1e-10, limits and points within 1e-12 relative, every
// violation exactly. Runs on the native backend and on HOTSTATS_BACKEND=js; the JS port
// (lib/spc/js.ts) is checked against the reference on both; the streaming ControlChart against
// the batch charts and, past its baseline, against the tests' own rule helper
// (helpers/spc-rules.ts), itself checked against the reference first.
import test from 'ava'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import * as hs from '../index'
import * as jsSpc from '../lib/spc/js'
import { ruleViolations } from './helpers/spc-rules'

const doc = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'spc-reference.json'), 'utf8')) as { constants: any[]; charts: any[] }

function close(t: any, what: string, got: number, want: number, tol = 1e-12): void {
  const err = Math.abs(got - want) / Math.max(Math.abs(want), 1e-3)
  if (!(err <= tol)) t.fail(`${what}: got ${got}, want ${want}, error ${err} > ${tol}`)
}
function closeAll(t: any, what: string, got: number[], want: number[]): void {
  t.is(got.length, want.length, `${what}: length`)
  got.forEach((g, i) => close(t, `${what}[${i}]`, g, want[i]))
}
const key = (v: { chart: string; index: number; rule: number }): string => `${v.chart}@${v.index}#${v.rule}`
const sortedKeys = (vs: { chart: string; index: number; rule: number }[]): string[] => vs.map(key).sort()

test(`chart constants agree with scipy's quadrature to 1e-10 (${hs.backend()} backend)`, (t) => {
  for (const c of doc.constants) {
    const got = hs.chartConstants(c.n) as unknown as Record<string, number>
    for (const k of ['d2', 'd3', 'c4', 'A2', 'A3', 'D3', 'D4', 'B3', 'B4']) close(t, `${k}(${c.n})`, got[k], c[k], 1e-10)
  }
  t.is(doc.constants.length, 24)
})

test(`every chart and violation agrees with the reference (${hs.backend()} backend)`, (t) => {
  let violations = 0
  for (const c of doc.charts) {
    const name = `${c.fn} ${c.name} ${c.rules ?? ''}`
    const e = c.expected
    const shewhart = (got: any, panels: [string, string]): void => {
      close(t, `${name} sigma`, got.sigma, e.sigma)
      for (const p of panels) {
        for (const f of ['center', 'ucl', 'lcl']) close(t, `${name} ${p}.${f}`, got[p][f], e[p][f])
        closeAll(t, `${name} ${p}.points`, got[p].points, e[p].points)
      }
      t.deepEqual(sortedKeys(got.violations), sortedKeys(e.violations), name)
      violations += got.violations.length
    }
    if (c.fn === 'xbarR') shewhart(hs.xbarRChart(c.subgroups, { rules: c.rules }), ['xbar', 'range'])
    else if (c.fn === 'xbarS') shewhart(hs.xbarSChart(c.subgroups, { rules: c.rules }), ['xbar', 'stddev'])
    else if (c.fn === 'imr') shewhart(hs.individualsChart(c.values, { rules: c.rules }), ['individuals', 'movingRange'])
    else if (c.fn === 'ewma') {
      const got = hs.ewmaChart(c.values, { lambda: c.lambda, L: c.L, target: c.target, sigma: c.sigma })
      closeAll(t, `${name} z`, got.points, e.points)
      closeAll(t, `${name} ucl`, got.ucl, e.ucl)
      closeAll(t, `${name} lcl`, got.lcl, e.lcl)
      t.deepEqual(got.signals, e.signals, name)
      violations += got.signals.length
    } else if (c.fn === 'cusum') {
      const got = hs.cusumChart(c.values, { k: c.k, h: c.h, target: c.target, sigma: c.sigma })
      close(t, `${name} H`, got.decisionInterval, e.h)
      close(t, `${name} K`, got.allowance, e.k)
      closeAll(t, `${name} upper`, got.upper, e.upper)
      closeAll(t, `${name} lower`, got.lower, e.lower)
      t.deepEqual(got.signals, e.signals, name)
      violations += got.signals.length
    } else t.fail(`unknown chart ${c.fn}`)
  }
  t.true(violations > 1000, `${violations} violations and signals compared`)
})

test('the rule helper of these tests reproduces every violation of the reference', (t) => {
  // The ControlChart tests below build their phase-II expectations with ruleViolations
  // (helpers/spc-rules.ts, written from the rules' statement, sharing no code with lib/spc/js.ts):
  // first it must give exactly the reference's violations on every chart of the fixture.
  let compared = 0
  for (const c of doc.charts.filter((c) => c.rules !== undefined)) {
    const e = c.expected
    const [loc, points, sigma] =
      c.fn === 'imr' ? ['individuals', e.individuals.points, e.sigma] : ['xbar', e.xbar.points, e.sigma / Math.sqrt(c.subgroups[0].length)]
    const center = c.fn === 'imr' ? e.individuals.center : e.xbar.center
    const want = e.violations.filter((v: { chart: string }) => v.chart === loc).map(key)
    const got = ruleViolations(points, center, sigma, c.rules).map(([index, rule]) => key({ chart: loc, index, rule }))
    t.deepEqual(got.sort(), want.sort(), `${c.fn} ${c.name} ${c.rules}`)
    compared += want.length
  }
  t.true(compared > 500, `${compared} rule violations compared`)
})

test(`the JS port agrees with the reference, chart by chart and violation by violation (${hs.backend()} backend)`, (t) => {
  // lib/spc/js.ts is the JS backend's engine and the streaming ControlChart's on every backend:
  // compared here with the reference itself (not with the native charts), so this holds with or
  // without the native binary, and compares every violation, not their number.
  for (const c of doc.constants) {
    const j = jsSpc.constants(c.n)
    ;['d2', 'd3', 'c4', 'A2', 'A3', 'D3', 'D4', 'B3', 'B4'].forEach((k, i) => close(t, `port ${k}(${c.n})`, j[i], c[k], 1e-10))
  }
  let violations = 0
  for (const c of doc.charts) {
    const name = `port ${c.fn} ${c.name} ${c.rules ?? ''}`
    const e = c.expected
    if (c.fn === 'xbarR' || c.fn === 'xbarS' || c.fn === 'imr') {
      const [panels, port] =
        c.fn === 'imr'
          ? [['individuals', 'movingRange'], jsSpc.individualsChart(Float64Array.from(c.values), c.rules)]
          : [
              ['xbar', c.fn === 'xbarR' ? 'range' : 'stddev'],
              jsSpc.xbarChart(Float64Array.from(c.subgroups.flat()), c.subgroups[0].length, c.fn === 'xbarR' ? 'range' : 'stddev', c.rules),
            ]
      close(t, `${name} sigma`, port.sigma, e.sigma)
      ;[port.location, port.dispersion].forEach((line, k) => {
        for (const f of ['center', 'ucl', 'lcl'] as const) close(t, `${name} ${panels[k]}.${f}`, line[f], e[panels[k]][f])
        closeAll(t, `${name} ${panels[k]}.points`, line.points, e[panels[k]].points)
      })
      const got = port.violations.map((v) => key({ chart: panels[v.panel], index: v.index, rule: v.rule }))
      t.deepEqual(got.sort(), sortedKeys(e.violations), name)
      violations += got.length
    } else if (c.fn === 'ewma') {
      const port = jsSpc.ewmaChart(Float64Array.from(c.values), c.lambda, c.L, c.target, c.sigma)
      closeAll(t, `${name} z`, port.points, e.points)
      closeAll(t, `${name} ucl`, port.ucl, e.ucl)
      closeAll(t, `${name} lcl`, port.lcl, e.lcl)
      t.deepEqual(port.signals, e.signals, name)
      violations += port.signals.length
    } else if (c.fn === 'cusum') {
      const port = jsSpc.cusumChart(Float64Array.from(c.values), c.k, c.h, c.target, c.sigma)
      closeAll(t, `${name} upper`, port.upper, e.upper)
      closeAll(t, `${name} lower`, port.lower, e.lower)
      const signals: { index: number; side: string }[] = []
      for (let i = 0; i < port.signals.length; i += 2) signals.push({ index: port.signals[i], side: port.signals[i + 1] > 0 ? 'upper' : 'lower' })
      t.deepEqual(signals, e.signals, name)
      violations += signals.length
    } else t.fail(`unknown chart ${c.fn}`)
  }
  t.true(violations > 1000, `${violations} violations and signals compared`)
})

test('ControlChart: the baseline gives the batch chart, later points are checked against its limits', (t) => {
  const shifted = doc.charts.find((c) => c.fn === 'xbarR' && c.name.startsWith('shift') && c.rules === 'western-electric')
  const groups: number[][] = shifted.subgroups
  const baseline = 12 // the shift starts at subgroup 12
  const chart = new hs.ControlChart({ type: 'xbar-r', subgroupSize: groups[0].length, baseline, rules: 'western-electric' })
  const phase1 = hs.xbarRChart(groups.slice(0, baseline))
  const raised: hs.ControlSignal[] = []
  groups.forEach((g, i) => {
    const s = chart.add(g)
    if (i < baseline - 1) t.deepEqual(s, [], 'nothing while collecting')
    raised.push(...s)
  })
  const lim = chart.limits!
  close(t, 'center', lim.center, phase1.xbar.center)
  close(t, 'ucl', lim.ucl, phase1.xbar.ucl)
  close(t, 'range ucl', lim.dispersion!.ucl, phase1.range.ucl)
  // Independent check of phase II: recompute every later point's rules with the tests' own rule
  // helper (checked against the reference above) over the whole series, with the phase-I limits.
  const means = groups.map((g) => g.reduce((a, b) => a + b, 0) / g.length)
  const sigmaMean = phase1.sigma / Math.sqrt(groups[0].length)
  const expected = [...phase1.violations.map(key)]
  for (const [i, r] of ruleViolations(means, lim.center, sigmaMean, 'western-electric')) if (i >= baseline) expected.push(key({ chart: 'xbar', index: i, rule: r }))
  groups.forEach((g, i) => {
    const range = Math.max(...g) - Math.min(...g)
    if (i >= baseline && (range > lim.dispersion!.ucl || range < lim.dispersion!.lcl)) expected.push(key({ chart: 'range', index: i, rule: 1 }))
  })
  t.deepEqual(raised.map((s) => key(s as any)).sort(), expected.sort())
  t.true(raised.some((s) => s.index >= baseline), 'the shift is caught in phase II')
  t.is(chart.count, groups.length)
  t.is(chart.signalCount, raised.length)
})

test('ControlChart: EWMA and CUSUM with known limits match the batch charts point by point', (t) => {
  const step = doc.charts.find((c) => c.fn === 'cusum' && c.name === 'step')
  const x: number[] = step.values
  const ewma = new hs.ControlChart({ type: 'ewma', lambda: 0.2, L: 3, limits: { center: 50, sigma: 4 } })
  const cusum = new hs.ControlChart({ type: 'cusum', k: 0.5, h: 5, limits: { center: 50, sigma: 4 } })
  const e: number[] = []
  const c: hs.CusumSignal[] = []
  for (const v of x) {
    e.push(...ewma.add(v).map((s) => s.index))
    c.push(...cusum.add(v).map((s) => ({ index: s.index, side: s.side! })))
  }
  t.deepEqual(e, hs.ewmaChart(x, { lambda: 0.2, L: 3, target: 50, sigma: 4 }).signals)
  t.deepEqual(c, hs.cusumChart(x, { k: 0.5, h: 5, target: 50, sigma: 4 }).signals)
  t.true(c.length > 0)
})

test('ControlChart: individuals with a baseline equals the batch chart on the baseline', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 5, maxLength: 60 }), fc.integer({ min: 2, max: 30 }), (xs, baseline) => {
      fc.pre(new Set(xs.slice(0, baseline)).size > 1 && baseline <= xs.length)
      const chart = new hs.ControlChart({ type: 'individuals', baseline, rules: 'nelson' })
      const got: string[] = []
      for (const v of xs) got.push(...chart.add(v).map((s) => key(s as any)))
      const phase1 = hs.individualsChart(xs.slice(0, baseline), { rules: 'nelson' })
      const lim = chart.limits!
      const want = phase1.violations.map(key)
      for (const [i, r] of ruleViolations(xs, lim.center, lim.sigma, 'nelson')) if (i >= baseline) want.push(key({ chart: 'individuals', index: i, rule: r }))
      for (let i = baseline; i < xs.length; i++) {
        const mr = Math.abs(xs[i] - xs[i - 1])
        if (mr > lim.dispersion!.ucl) want.push(key({ chart: 'movingRange', index: i - 1, rule: 1 }))
      }
      return JSON.stringify(got.sort()) === JSON.stringify(want.sort())
    }),
    { numRuns: 200 },
  )
  t.pass()
})

test('bad input: TypeError for wrong types, RangeError out of domain, nothing added', (t) => {
  const bad: [string, () => unknown, any][] = [
    ['one subgroup', () => hs.xbarRChart([[1, 2, 3]]), RangeError],
    ['size 1', () => hs.xbarRChart([[1], [2]]), RangeError],
    ['size 26', () => hs.xbarSChart([new Array(26).fill(1), new Array(26).fill(2)]), RangeError],
    ['ragged', () => hs.xbarRChart([[1, 2], [1, 2, 3]]), RangeError],
    ['not numbers', () => hs.xbarRChart([[1, 'a' as any], [1, 2]]), TypeError],
    ['NaN', () => hs.individualsChart([1, NaN, 2]), RangeError],
    ['no spread', () => hs.xbarRChart([[2, 2], [2, 2]]), RangeError],
    ['flat individuals', () => hs.individualsChart([5, 5, 5]), RangeError],
    ['bad rules', () => hs.individualsChart([1, 2, 3], { rules: 'strict' as any }), RangeError],
    ['lambda 0', () => hs.ewmaChart([1, 2, 3], { lambda: 0 }), RangeError],
    ['lambda string', () => hs.ewmaChart([1, 2, 3], { lambda: '0.2' as any }), TypeError],
    ['sigma 0', () => hs.cusumChart([1, 2, 3], { sigma: 0 }), RangeError],
    ['h negative', () => hs.cusumChart([1, 2, 3], { h: -1 }), RangeError],
    ['constants n=1', () => hs.chartConstants(1), RangeError],
    ['constants n=2.5', () => hs.chartConstants(2.5), RangeError],
    ['chart type', () => new hs.ControlChart({ type: 'p-chart' as any }), RangeError],
    ['chart size', () => new hs.ControlChart({ type: 'xbar-r', subgroupSize: 30 }), RangeError],
    ['chart baseline', () => new hs.ControlChart({ type: 'individuals', baseline: 1 }), RangeError],
    ['chart limits', () => new hs.ControlChart({ type: 'individuals', limits: { center: 0, sigma: -1 } }), RangeError],
  ]
  for (const [name, f, type] of bad) t.throws(f, { instanceOf: type }, name)
  const chart = new hs.ControlChart({ type: 'xbar-r', subgroupSize: 3, baseline: 2 })
  t.throws(() => chart.add([1, 2]), { instanceOf: RangeError })
  t.throws(() => chart.add([1, 2, Infinity]), { instanceOf: RangeError })
  t.throws(() => chart.add(5), { instanceOf: TypeError })
  t.is(chart.count, 0)
  chart.add([1, 2, 3])
  chart.add([2, 3, 5])
  t.truthy(chart.limits)
  // A baseline without spread cannot set limits: the error says so and the chart is unchanged.
  const flat = new hs.ControlChart({ type: 'individuals', baseline: 2 })
  flat.add(4)
  t.throws(() => flat.add(4), { instanceOf: RangeError, message: /collapse/ })
  t.is(flat.count, 1)
  t.is(flat.limits, null)
  t.deepEqual(flat.add(5), [])
  t.truthy(flat.limits)
})
