// Experiment: the streaming A/B state gives the same verdicts as the tests run on the raw
// samples (themselves checked against scipy), merges exactly across worker threads and in any
// order, and refuses bad input and bad bytes without changing. Runs on both backends.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import test from 'ava'
import fc from 'fast-check'

import * as hs from '../index'

const entry = join(__dirname, '..', 'index.ts')

// The same event stream in the main thread and in the workers (mulberry32).
const STREAM = `
  function stream(seed, n, visit) {
    let a = seed >>> 0
    const rand = () => {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    for (let i = 0; i < n; i++) {
      const variant = rand() < 0.5 ? 'A' : 'B'
      const converted = rand() < (variant === 'A' ? 0.1 : 0.12)
      const value = converted ? Math.round((20 + 30 * rand() + (variant === 'B' ? 2 : 0)) * 8) / 8 : NaN
      visit(variant, converted, value)
    }
  }`
// eslint-disable-next-line no-new-func
const stream = new Function(`${STREAM}; return stream`)() as (seed: number, n: number, visit: (v: string, c: boolean, x: number) => void) => void

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)
}

function record(e: hs.Experiment, seed: number, n: number): void {
  const A = e.variant('A')
  const B = e.variant('B')
  stream(seed, n, (v, c, x) => {
    const h = v === 'A' ? A : B
    h.expose()
    if (c) h.convert().observe(x)
  })
}

/** The raw samples and exact counts of a stream: the independent reference. */
function raw(seeds: number[], n: number) {
  const r: Record<string, { exposures: number; conversions: number; values: number[] }> = { A: { exposures: 0, conversions: 0, values: [] }, B: { exposures: 0, conversions: 0, values: [] } }
  for (const s of seeds)
    stream(s, n, (v, c, x) => {
      r[v].exposures++
      if (c) {
        r[v].conversions++
        r[v].values.push(x)
      }
    })
  return r
}

function twoPass(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  return [m, xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1)]
}

test(`the streaming verdicts equal the tests on the raw samples (${hs.backend()} backend)`, (t) => {
  const e = new hs.Experiment()
  record(e, 7, 200_000)
  const r = raw([7], 200_000)
  const s = e.summary()
  for (const v of ['A', 'B']) {
    t.is(s[v].exposures, r[v].exposures)
    t.is(s[v].conversions, r[v].conversions)
    t.is(s[v].count, r[v].values.length)
    const [m, variance] = twoPass(r[v].values)
    t.true(rel(s[v].mean, m) < 1e-12, `${v} mean`)
    t.true(rel(s[v].variance, variance) < 1e-11, `${v} variance`)
  }
  const welch = hs.welchTTest(r.A.values, r.B.values)
  const streamed = e.compareMeans('A', 'B')
  t.true(rel(streamed.statistic, welch.statistic) < 1e-9)
  t.true(rel(streamed.pValue, welch.pValue) < 1e-8, `${streamed.pValue} vs ${welch.pValue}`)
  const props = { successesA: r.A.conversions, trialsA: r.A.exposures, successesB: r.B.conversions, trialsB: r.B.exposures }
  t.deepEqual(e.compareConversions('A', 'B', { alternative: 'less' }), hs.twoProportionZTest(props, { alternative: 'less' }))
  t.deepEqual(e.bayesian('A', 'B'), hs.betaBinomialAB(props))
  t.deepEqual(e.chiSquare(), hs.chiSquareTest([[r.A.conversions, r.B.conversions], [r.A.exposures - r.A.conversions, r.B.exposures - r.B.conversions]]))
  t.true(e.bayesian('A', 'B').probBBeatsA > 0.99, 'B converts better in this stream')
})

test('4 worker threads × 250k events merge into exact totals', async (t) => {
  const run = (seed: number): Promise<Uint8Array> => {
    const code = `
      require('tsx/cjs')
      const { parentPort, workerData } = require('node:worker_threads')
      const hs = require(workerData.entry)
      ${STREAM}
      const e = new hs.Experiment()
      const A = e.variant('A'), B = e.variant('B')
      stream(workerData.seed, 250000, (v, c, x) => {
        const h = v === 'A' ? A : B
        h.expose()
        if (c) h.convert().observe(x)
      })
      parentPort.postMessage(e.serialize())
    `
    return new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { entry, seed } })
      w.once('message', resolve)
      w.once('error', reject)
    })
  }
  const seeds = [11, 12, 13, 14]
  const parts = await Promise.all(seeds.map(run))
  const total = new hs.Experiment()
  for (const p of parts) total.merge(p)
  const r = raw(seeds, 250_000)
  const s = total.summary()
  t.is(s.A.exposures + s.B.exposures, 1_000_000)
  for (const v of ['A', 'B']) {
    t.is(s[v].exposures, r[v].exposures)
    t.is(s[v].conversions, r[v].conversions)
    t.is(s[v].count, r[v].values.length)
    const [m, variance] = twoPass(r[v].values)
    t.true(rel(s[v].mean, m) < 1e-12)
    t.true(rel(s[v].variance, variance) < 1e-11)
  }
})

test('merge laws: any split and any order give the same counts exactly and the same moments to 1e-12', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1000 }), (sizes, seed) => {
      const parts = sizes.map((n, i) => {
        const e = new hs.Experiment()
        record(e, seed + i, n)
        return e
      })
      const forward = new hs.Experiment()
      for (const p of parts) forward.merge(p.serialize())
      const backward = new hs.Experiment()
      for (const p of [...parts].reverse()) backward.merge(p)
      const [f, b] = [forward.summary(), backward.summary()]
      for (const v of Object.keys(f)) {
        if (f[v].exposures !== b[v].exposures || f[v].conversions !== b[v].conversions || f[v].count !== b[v].count) return false
        if (f[v].count > 0 && rel(f[v].mean, b[v].mean) > 1e-12) return false
        if (f[v].count > 1 && Math.abs(f[v].variance - b[v].variance) > 1e-12 * Math.max(f[v].variance, 1e-9)) return false
      }
      // Round trip: bytes → experiment → bytes is the identity.
      const bytes = forward.serialize()
      return Buffer.from(hs.Experiment.deserialize(bytes).serialize()).equals(Buffer.from(bytes))
    }),
    { numRuns: 100 },
  )
  const e = new hs.Experiment()
  record(e, 3, 1000)
  const before = e.summary()
  e.merge(e)
  const after = e.summary()
  t.is(after.A.exposures, 2 * before.A.exposures, 'merging into itself doubles the counts')
  t.true(rel(after.B.mean, before.B.mean) < 1e-12)
})

test('bad bytes are a RangeError and change nothing; no other error escapes', (t) => {
  const e = new hs.Experiment()
  record(e, 5, 500)
  const good = e.serialize()
  const before = Buffer.from(e.serialize())
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 255 }), (random, at, byte) => {
      const mutated = Uint8Array.from(good)
      mutated[at % mutated.length] = byte
      for (const bytes of [random, mutated, good.subarray(0, at % good.length)]) {
        const target = hs.Experiment.deserialize(good)
        try {
          target.merge(bytes)
        } catch (err) {
          if (!(err instanceof RangeError)) return false
          if (!Buffer.from(target.serialize()).equals(before)) return false
        }
      }
      return true
    }),
    { numRuns: 300 },
  )
  t.throws(() => e.merge('abc' as any), { instanceOf: TypeError })
  t.throws(() => e.merge(new Uint8Array(8)), { instanceOf: RangeError })
  t.true(Buffer.from(e.serialize()).equals(before))
})

test('bad input on the record path: a clear error and nothing recorded', (t) => {
  const e = new hs.Experiment({ variants: ['control', 'treatment'] })
  const c = e.variant('control')
  t.throws(() => c.observe(NaN), { instanceOf: RangeError })
  t.throws(() => c.observe('3' as any), { instanceOf: TypeError })
  t.throws(() => c.expose(-1), { instanceOf: RangeError })
  t.throws(() => c.convert(1.5), { instanceOf: RangeError })
  t.throws(() => e.variant(''), { instanceOf: RangeError })
  t.throws(() => e.variant(7 as any), { instanceOf: TypeError })
  t.throws(() => e.compareMeans('control', 'nope'), { instanceOf: RangeError })
  const s = e.summary().control
  t.deepEqual([s.exposures, s.conversions, s.count], [0, 0, 0])
  t.deepEqual(e.variants, ['control', 'treatment'])
  // Statistics that the data cannot support say so.
  c.expose(10).convert(2)
  e.variant('treatment').expose(10).convert(11)
  t.throws(() => e.compareConversions('control', 'treatment'), { instanceOf: RangeError })
  t.throws(() => e.compareMeans('control', 'treatment'), { instanceOf: RangeError })
})

test(`declared variants are the whole set: another name is an error, not a silent new arm (${hs.backend()} backend)`, (t) => {
  const e = new hs.Experiment({ variants: ['A', 'B'] })
  t.true(e.declared)
  const notOne = { instanceOf: RangeError, message: /variant "C" is not one of this experiment's variants \("A", "B"\)/ }
  t.throws(() => e.variant('C'), notOne)
  t.throws(() => e.compareConversions('A', 'C'), notOne)
  t.throws(() => e.bayesian('C', 'B'), notOne)
  t.deepEqual(e.variants, ['A', 'B'])
  // A state holding another variant is refused whole.
  const other = new hs.Experiment()
  other.variant('A').expose(5)
  other.variant('C').expose(3)
  e.variant('A').expose(1)
  const before = Buffer.from(e.serialize())
  t.throws(() => e.merge(other), notOne)
  t.throws(() => e.merge(other.serialize()), notOne)
  t.true(Buffer.from(e.serialize()).equals(before))
  // Without variants, they are created on first use; deserialized bytes declare theirs.
  t.false(other.declared)
  t.deepEqual(other.variants, ['A', 'C'])
  t.throws(() => other.compareMeans('A', 'Z'), { instanceOf: RangeError, message: /variant "Z" has not been used yet \(variants: "A", "C"\)/ })
  const back = hs.Experiment.deserialize(other.serialize())
  t.true(back.declared)
  t.throws(() => back.variant('B'), { instanceOf: RangeError, message: /variant "B" is not one of/ })
  t.false(hs.Experiment.deserialize(new hs.Experiment().serialize()).declared)
  // The declaration itself is checked.
  t.throws(() => new hs.Experiment({ variants: [] }), { instanceOf: RangeError, message: /at least one variant/ })
  t.throws(() => new hs.Experiment({ variants: ['A', 'A'] }), { instanceOf: RangeError, message: /"A" is listed twice/ })
  t.throws(() => new hs.Experiment({ variants: 'AB' as any }), { instanceOf: TypeError })
  t.throws(() => new hs.Experiment({ variants: ['A', 7 as any] }), { instanceOf: TypeError })
})

test(`a test the data cannot support says which variant lacks what (${hs.backend()} backend)`, (t) => {
  const e = new hs.Experiment({ variants: ['A', 'B'] })
  const a = e.variant('A')
  const b = e.variant('B')
  b.expose(10).convert(2).observe(3).observe(4)
  t.throws(() => e.compareConversions('A', 'B'), { instanceOf: RangeError, message: 'variant "A" has no exposures yet (expose() counts them)' })
  t.throws(() => e.chiSquare(), { instanceOf: RangeError, message: /^variant "A" has no exposures yet/ })
  t.throws(() => e.compareMeans('A', 'B'), { instanceOf: RangeError, message: /^variant "A" has no observed values yet: comparing means needs at least 2 per variant/ })
  t.is(typeof e.bayesian('A', 'B').probBBeatsA, 'number', 'bayesian answers from the prior')
  a.expose(10).observe(5)
  t.throws(() => e.compareMeans('A', 'B'), { instanceOf: RangeError, message: /^variant "A" has only 1 observed value yet/ })
  a.observe(6)
  const flat = new hs.Experiment({ variants: ['x', 'y'] })
  flat.variant('x').observe(1).observe(1)
  flat.variant('y').observe(2).observe(2)
  t.throws(() => flat.compareMeans('x', 'y'), { instanceOf: RangeError, message: /variants "x" and "y" both have zero variance/ })
  t.is(typeof e.compareMeans('A', 'B').pValue, 'number')
  // Conversions: none yet, all of them, more than exposures.
  const none = new hs.Experiment({ variants: ['A', 'B'] })
  none.variant('A').expose(5)
  none.variant('B').expose(5)
  t.throws(() => none.compareConversions('A', 'B'), { instanceOf: RangeError, message: /^no conversions yet in variants "A" and "B"/ })
  t.throws(() => none.chiSquare(), { instanceOf: RangeError, message: /^no conversions yet in variants "A" and "B"/ })
  none.variant('A').convert(5)
  none.variant('B').convert(5)
  t.throws(() => none.compareConversions('A', 'B'), { instanceOf: RangeError, message: /^every exposure converted in variants "A" and "B"/ })
  none.variant('B').convert(1)
  for (const f of [() => none.compareConversions('A', 'B'), () => none.bayesian('A', 'B'), () => none.chiSquare()])
    t.throws(f, { instanceOf: RangeError, message: 'variant "B" has more conversions (6) than exposures (5)' })
  t.throws(() => new hs.Experiment({ variants: ['only'] }).chiSquare(), { instanceOf: RangeError, message: /at least 2 variants/ })
})

test(`the Experiment example of docs/library.md runs as written (${hs.backend()} backend)`, (t) => {
  const doc = readFileSync(join(__dirname, '..', 'docs', 'library.md'), 'utf8')
  const section = doc.slice(doc.indexOf('### Streaming A/B tests (Experiment)'))
  const block = /```ts\n([\s\S]*?)```/.exec(section)![1]
  t.regex(block, /from 'hotstats'/)
  const file = join(mkdtempSync(join(tmpdir(), 'hotstats-doc-')), 'experiment-example.ts')
  const code = block.replace(`from 'hotstats'`, `from ${JSON.stringify(join(__dirname, '..', 'index.ts'))}`)
  writeFileSync(file, `${code}\nconsole.log(JSON.stringify({ exp: exp.summary(), total: total.summary(), p: exp.compareConversions('A', 'B').pValue }))\n`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: join(__dirname, '..'), encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.deepEqual(out.total, out.exp)
  t.is(out.exp.A.exposures, 500)
  t.is(out.exp.A.conversions, 72)
  t.is(out.exp.B.conversions, 71)
  t.true(out.p > 0 && out.p <= 1)
})
