// The same input rules in every class (issue 18): a value that is not a number where a number is
// expected is a TypeError, a number out of the domain (NaN, ±Infinity, negative, fractional,
// out of range) a RangeError, and the message names the argument. One table over every class
// and method that takes numbers, on both backends. (The prom-client metric classes follow
// prom-client's error classes instead: see docs/library.md, "Errors" of the metrics registry.)
import test from 'ava'

import * as hs from '../index'

const NOT_NUMBERS: [string, unknown][] = [
  ['"1"', '1'],
  ['null', null],
  ['1n', 1n],
  ['{}', {}],
  ['true', true],
]

type Case = [string, (x: any) => unknown, number[]]

function cases(): Case[] {
  const sketch = () => new hs.QuantileSketch().add(1)
  const clock = () => 1000
  const ingestor = new hs.Ingestor({ threads: 0 })
  const producer = ingestor.producer()
  return [
    ['QuantileSketch({ relativeAccuracy })', (x) => new hs.QuantileSketch({ relativeAccuracy: x }), [0, 1, NaN, -0.1]],
    ['QuantileSketch({ maxBins })', (x) => new hs.QuantileSketch({ maxBins: x }), [0, 1.5, NaN, 2 ** 30]],
    ['QuantileSketch.add(v)', (x) => sketch().add(x), [NaN, Infinity, -Infinity]],
    ['QuantileSketch.add(1, count)', (x) => sketch().add(1, x), [0, -1, NaN, Infinity]],
    ['QuantileSketch.addMany([v])', (x) => sketch().addMany([x]), [NaN, Infinity]],
    ['QuantileSketch.quantile(q)', (x) => sketch().quantile(x), [-0.1, 1.1, NaN]],
    ['QuantileSketch.quantiles([q])', (x) => sketch().quantiles([x]), [-0.1, 1.1, NaN]],
    ['QuantileSketch.rank(v)', (x) => sketch().rank(x), [NaN]],
    ['QuantileSketch.toPrometheusNativeHistogram({ schema })', (x) => sketch().toPrometheusNativeHistogram({ schema: x }), [9, -5, 1.5, NaN]],
    ['Moments.add(x)', (x) => new hs.Moments().add(x), [NaN, Infinity, -Infinity]],
    ['Moments.addMany([x])', (x) => new hs.Moments().addMany([1, x]), [NaN, Infinity]],
    ['Moments.addMany(64 values)', (x) => new hs.Moments().addMany([...new Array(63).fill(1), x]), [NaN, -Infinity]],
    ['Moments.variance(ddof)', (x) => new hs.Moments().add(1).variance(x), [-1, NaN, Infinity]],
    ['Moments.stddev(ddof)', (x) => new hs.Moments().add(1).stddev(x), [-1, NaN]],
    ['GCounter.inc(n)', (x) => new hs.GCounter({ replica: 'r' }).inc(x), [-1, 1.5, NaN, Infinity, 2 ** 53]],
    ['PNCounter.inc(n)', (x) => new hs.PNCounter({ replica: 'r' }).inc(x), [-1, 1.5, NaN, Infinity]],
    ['PNCounter.dec(n)', (x) => new hs.PNCounter({ replica: 'r' }).dec(x), [-1, 1.5, NaN, Infinity]],
    ['SampleRing(capacity)', (x) => new hs.SampleRing(x), [0, -1, 1.5, NaN, Infinity]],
    ['SampleRing.push(v)', (x) => new hs.SampleRing(4).push(x), [NaN, Infinity]],
    ['SampleRing.pushAll([v])', (x) => new hs.SampleRing(4).pushAll([1, x]), [NaN, Infinity]],
    ['SlidingWindow({ windowMs })', (x) => new hs.SlidingWindow({ windowMs: x }), [0, -1, NaN, Infinity]],
    ['SlidingWindow({ buckets })', (x) => new hs.SlidingWindow({ buckets: x }), [0, 1.5, NaN, 4000]],
    ['SlidingWindow({ allowedLatenessMs })', (x) => new hs.SlidingWindow({ eventTime: true, allowedLatenessMs: x }), [-1, NaN]],
    ['SlidingWindow({ maxKeys })', (x) => new hs.SlidingWindow({ maxKeys: x }), [0, 1.5, NaN, 2 ** 21]],
    ['SlidingWindow.record(key, v)', (x) => new hs.SlidingWindow({ clock }).record('k', x), [NaN, Infinity]],
    ['SlidingWindow.record(key, 1, { timestamp })', (x) => new hs.SlidingWindow({ eventTime: true }).record('k', 1, { timestamp: x }), [NaN, Infinity]],
    ['SlidingWindow.stats(key, now)', (x) => new hs.SlidingWindow({ clock }).stats('k', x), [NaN]],
    ['SlidingWindow.quantiles(key, [q])', (x) => new hs.SlidingWindow({ clock }).quantiles('k', [x]), [-0.1, 1.1, NaN]],
    ['SlidingWindow.quantile(key, q)', (x) => new hs.SlidingWindow({ clock }).quantile('k', x), [-0.1, 1.1, NaN]],
    ['Ingestor({ windowMs })', (x) => new hs.Ingestor({ windowMs: x, threads: 0 }), [0, NaN]],
    ['Ingestor({ capacity })', (x) => new hs.Ingestor({ capacity: x, threads: 0 }), [3, 0, NaN]],
    ['Ingestor({ producers })', (x) => new hs.Ingestor({ producers: x, threads: 0 }), [0, 1.5, NaN]],
    ['Ingestor({ threads })', (x) => new hs.Ingestor({ threads: x }), [-1, 1.5, NaN, 100]],
    ['Ingestor({ waitTimeoutMs })', (x) => new hs.Ingestor({ waitTimeoutMs: x, threads: 0 }), [-1, NaN]],
    ['Producer.push(key, v)', (x) => producer.push('k', x), [NaN, Infinity]],
    ['Producer.pushValues(key, [v])', (x) => producer.pushValues('k', [1, x]), [NaN, Infinity]],
    ['Ingestor.stats(key, now)', (x) => ingestor.stats('k', x), [NaN]],
    ['Ingestor.quantiles(key, [q])', (x) => ingestor.quantiles('k', [x]), [-0.1, 1.1, NaN]],
    ['ExperimentVariant.expose(n)', (x) => new hs.Experiment().variant('A').expose(x), [-1, 1.5, NaN, Infinity]],
    ['ExperimentVariant.convert(n)', (x) => new hs.Experiment().variant('A').convert(x), [-1, 1.5, NaN]],
    ['ExperimentVariant.observe(v)', (x) => new hs.Experiment().variant('A').observe(x), [NaN, Infinity]],
    ['ControlChart({ subgroupSize })', (x) => new hs.ControlChart({ type: 'xbar-r', subgroupSize: x, baseline: 25 }), [1, 26, 2.5, NaN]],
    ['ControlChart({ baseline })', (x) => new hs.ControlChart({ type: 'individuals', baseline: x }), [0, 1.5, NaN]],
    ['ControlChart({ limits: { sigma } })', (x) => new hs.ControlChart({ type: 'individuals', limits: { center: 0, sigma: x } }), [0, -1, NaN]],
    ['ControlChart({ lambda })', (x) => new hs.ControlChart({ type: 'ewma', lambda: x, limits: { center: 0, sigma: 1 } }), [0, 1.5, NaN]],
    ['ControlChart.add(v)', (x) => new hs.ControlChart({ type: 'individuals', limits: { center: 0, sigma: 1 } }).add(x), [NaN, Infinity]],
    ['ControlChart.add([v, v])', (x) => new hs.ControlChart({ type: 'xbar-r', subgroupSize: 2, limits: { center: 0, sigma: 1 } }).add([1, x]), [NaN, Infinity]],
    ['UniqueCounter({ maxKeys })', (x) => new hs.UniqueCounter({ labelNames: ['a'], maxKeys: x }), [0, 1.5, NaN]],
  ]
}

test(`a non-number is a TypeError and a number out of domain a RangeError, in every class (${hs.backend()} backend)`, (t) => {
  const wrong: string[] = []
  const check = (name: string, arg: string, f: () => unknown, want: typeof TypeError | typeof RangeError) => {
    try {
      f()
      wrong.push(`${name} with ${arg}: no error (want ${want.name})`)
    } catch (e) {
      if (!(e instanceof want) || (want === RangeError && e instanceof TypeError)) wrong.push(`${name} with ${arg}: ${(e as Error).constructor.name}: ${(e as Error).message} (want ${want.name})`)
      else if ((e as Error).message.length === 0) wrong.push(`${name} with ${arg}: an empty message`)
    }
  }
  for (const [name, f, outOfDomain] of cases()) {
    for (const [label, v] of NOT_NUMBERS) check(name, label, () => f(v), TypeError)
    for (const v of outOfDomain) check(name, String(v), () => f(v), RangeError)
  }
  t.deepEqual(wrong, [])
})

test(`Moments refuses NaN and ±Infinity like every class, and is unchanged afterwards (${hs.backend()} backend)`, (t) => {
  const m = new hs.Moments().addMany([1, 2, 3])
  const before = Buffer.from(m.serialize())
  t.throws(() => m.add(NaN), { instanceOf: RangeError, message: 'x must be finite, got NaN' })
  t.throws(() => m.add(-Infinity), { instanceOf: RangeError, message: 'x must be finite, got -Infinity' })
  t.throws(() => m.addMany([4, NaN]), { instanceOf: RangeError, message: 'xs[1] must be finite, got NaN' })
  const big = new Float64Array(1000).fill(5)
  big[700] = Infinity
  t.throws(() => m.addMany(big), { instanceOf: RangeError, message: 'xs[700] must be finite, got Infinity' })
  t.true(Buffer.from(m.serialize()).equals(before))
  t.is(m.count, 3)
  t.is(m.mean, 2)
})
