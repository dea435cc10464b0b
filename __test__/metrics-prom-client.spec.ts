// prom-client parity (issue 18): the same calls against hotstats and against prom-client 15
// itself, compared by what each exposes (samples parsed, so line order, label order and
// prom-client's `Nan` spelling do not matter) and by what each throws. Runs on both backends.
import test from 'ava'
import fc from 'fast-check'
import * as pc from 'prom-client'

import * as hs from '../index'
import { sampleList, samples } from './helpers/exposition'

let count = 0
function fresh(): hs.Registry {
  return new hs.Registry({ name: `prom-parity-${process.pid}-${count++}` })
}

type AnyMetric = { get(): Promise<{ values: { value: number; labels: Record<string, unknown>; metricName?: string }[] }> }

/** Values of get(), sorted, as [metricName, labels, value] with label values keeping their type. */
async function valuesOf(m: AnyMetric): Promise<[string, [string, unknown][], number][]> {
  const { values } = await m.get()
  return values
    .map((v): [string, [string, unknown][], number] => [v.metricName ?? '', Object.entries(v.labels).sort(([a], [b]) => (a < b ? -1 : 1)), v.value === 0 ? 0 : v.value]) // -0 is 0
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
}

// ---------------------------------------------------------------------------------------------
// 1. The crash: NaN gauges, and a collect() that throws.

test('Gauge accepts NaN and infinities as prom-client does, and exposes them (NaN, +Inf, -Inf)', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const ours = new hs.Gauge({ name: 'g', help: 'h', labelNames: ['k'], registers: [r] })
  const theirs = new pc.Gauge({ name: 'g', help: 'h', labelNames: ['k'], registers: [p] })
  for (const g of [ours, theirs] as const) {
    g.set({ k: 'nan' }, NaN)
    g.set({ k: 'inf' }, Infinity)
    g.set({ k: 'ninf' }, -Infinity)
    g.set({ k: 'incnan' }, 1)
    g.inc({ k: 'incnan' }, NaN)
    g.inc({ k: 'incinf' }, Infinity)
    g.dec({ k: 'decinf' }, Infinity)
  }
  const text = await r.metrics()
  t.true(text.includes('g{k="nan"} NaN\n') && text.includes('g{k="inf"} +Inf\n') && text.includes('g{k="ninf"} -Inf\n'))
  t.deepEqual(sampleList(text), sampleList(await p.metrics()))
  // A bound child too (the hot path: one typeof test).
  const child = ours.labels('bound')
  child.set(NaN)
  t.true((await r.metrics()).includes('g{k="bound"} NaN\n'))
  child.set(3)
  t.true((await r.metrics()).includes('g{k="bound"} 3\n'))
})

test('Counter.inc(NaN) and inc(null) behave as in prom-client (NaN is added, null counts 1)', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const ours = new hs.Counter({ name: 'c_total', help: 'h', labelNames: ['k'], registers: [r] })
  const theirs = new pc.Counter({ name: 'c_total', help: 'h', labelNames: ['k'], registers: [p] })
  for (const c of [ours, theirs] as const) {
    c.inc({ k: 'nan' }, 2)
    c.inc({ k: 'nan' }, NaN)
    c.inc({ k: 'null' }, null as never)
    c.inc({ k: 'zero' }, 0)
  }
  ours.labels('bound').inc(NaN)
  theirs.labels('bound').inc(NaN)
  t.deepEqual(sampleList(await r.metrics()), sampleList(await p.metrics()))
  t.true((await r.metrics()).includes('c_total{k="nan"} NaN\n'))
})

test('the crash of issue 18: a gauge whose collect() reads an emptied SlidingWindow quantile exposes NaN', async (t) => {
  let now = 1_000_000
  const window = new hs.SlidingWindow({ windowMs: 1000, buckets: 10, clock: () => now })
  const r = fresh()
  new hs.Gauge({
    name: 'p99_ms',
    help: 'p99 over the last second.',
    registers: [r],
    collect() {
      this.set(window.quantile('api', 0.99))
    },
  })
  window.record('api', 12)
  t.true((await r.metrics()).includes('p99_ms 12'))
  now += 5000 // the window is empty: quantile NaN
  t.true(Number.isNaN(window.quantile('api', 0.99)))
  const text = await r.metrics()
  t.true(text.includes('p99_ms NaN\n'), text)
})

test('a collect() that throws is reported once per metric on stderr and counted; every other metric still renders', async (t) => {
  const r = fresh()
  const ok = new hs.Counter({ name: 'ok_total', help: 'h', registers: [r] })
  ok.inc(3)
  let calls = 0
  const sync = new hs.Gauge({
    name: 'bad_sync',
    help: 'h',
    registers: [r],
    collect() {
      calls++
      if (calls > 1) throw new Error('sensor unplugged')
      this.set(7)
    },
  })
  new hs.Gauge({
    name: 'bad_async',
    help: 'h',
    registers: [r],
    async collect() {
      await Promise.resolve()
      throw new TypeError('async failure')
    },
  })
  r.registerMetric({
    name: 'bad_custom',
    get() {
      throw new Error('custom get failed')
    },
  })
  const written: string[] = []
  const realWrite = process.stderr.write
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  let first: string
  let second: string
  let json: hs.MetricObject[]
  try {
    first = await r.metrics()
    second = await r.metrics()
    json = await r.getMetricsAsJSON()
  } finally {
    process.stderr.write = realWrite
  }
  t.true(first.includes('ok_total 3\n') && second.includes('ok_total 3\n'))
  t.true(second.includes('bad_sync 7\n'), 'the last value set stays exposed')
  t.true(second.includes('# TYPE bad_async gauge\n'))
  t.false(second.includes('bad_custom{') || second.includes('# HELP bad_custom'))
  const errors = samples(second)
  t.is(errors.get('hotstats_metric_collect_errors_total{metric="bad_sync"}'), 1)
  t.is(errors.get('hotstats_metric_collect_errors_total{metric="bad_async"}'), 2)
  t.is(errors.get('hotstats_metric_collect_errors_total{metric="bad_custom"}'), 2)
  for (const name of ['bad_sync', 'bad_async', 'bad_custom']) {
    t.is(written.filter((w) => w.includes(`metric ${name} threw`)).length, 1, `${name} reported once`)
  }
  t.true(written.some((w) => w.includes('sensor unplugged')))
  t.deepEqual(
    json.map((m) => m.name),
    ['ok_total', 'bad_sync', 'bad_async'],
  )
  t.is(sync.name, 'bad_sync')
  // OpenMetrics too (no stray comment lines: the format allows none).
  const om = await r.openMetrics()
  t.true(om.endsWith('# EOF\n') && om.includes('# TYPE hotstats_metric_collect_errors counter\n'))
  t.false(om.split('\n').some((l) => l.startsWith('#') && !/^# (HELP|TYPE|EOF)/.test(l)))
})

// ---------------------------------------------------------------------------------------------
// 2. Registry API.

test('top-level exports: contentType, prometheusContentType, openMetricsContentType, validateMetricName', (t) => {
  t.is(hs.prometheusContentType, pc.prometheusContentType)
  t.is(hs.openMetricsContentType, pc.openMetricsContentType)
  t.is(hs.contentType, pc.contentType)
  t.is(hs.Registry.PROMETHEUS_CONTENT_TYPE, pc.Registry.PROMETHEUS_CONTENT_TYPE)
  t.is(hs.Registry.OPENMETRICS_CONTENT_TYPE, pc.Registry.OPENMETRICS_CONTENT_TYPE)
  for (const name of ['a', 'a_b:c', '_x', ':y', '1a', 'a-b', '', 'é', 'a b', 'A9']) t.is(hs.validateMetricName(name), pc.validateMetricName(name), name)
  // contentType follows the default registry's content type.
  hs.register.setContentType(hs.openMetricsContentType)
  try {
    t.is(hs.contentType, hs.openMetricsContentType)
  } finally {
    hs.register.setContentType(hs.prometheusContentType)
  }
  t.is(hs.contentType, hs.prometheusContentType)
})

test('Registry.merge: one registry with the metrics of all, as prom-client; mixed content types and duplicate names are Errors', async (t) => {
  const a = fresh()
  const b = fresh()
  const c = new hs.Counter({ name: 'a_total', help: 'h', registers: [a] })
  const g = new hs.Gauge({ name: 'b_value', help: 'h', registers: [b] })
  c.inc(2)
  g.set(5)
  const merged = hs.Registry.merge([a, b])
  t.true(merged instanceof hs.Registry)
  t.deepEqual(sampleList(await merged.metrics()), [
    ['a_total{}', 2],
    ['b_value{}', 5],
  ])
  c.inc() // merged holds the metrics, not a copy
  t.is(samples(await merged.metrics()).get('a_total{}'), 3)
  t.is(samples(await a.metrics()).get('a_total{}'), 3, 'the source registry still exposes it')
  const om = new hs.Registry(hs.openMetricsContentType)
  t.throws(() => hs.Registry.merge([a, om]), { instanceOf: Error, message: /same content type/ })
  t.throws(() => pc.Registry.merge([new pc.Registry(), new pc.Registry(pc.openMetricsContentType)]), { instanceOf: Error })
  const dup = fresh()
  new hs.Counter({ name: 'a_total', help: 'other', registers: [dup] })
  t.throws(() => hs.Registry.merge([a, dup]), { instanceOf: Error, message: /already been registered/ })
})

test('registerMetric: the same metric twice is a no-op, another under the same name an Error (as prom-client)', async (t) => {
  const r = fresh()
  const c = new hs.Counter({ name: 'x_total', help: 'h', registers: [r] })
  t.notThrows(() => r.registerMetric(c))
  t.notThrows(() => r.registerMetric(c))
  const other = new hs.Counter({ name: 'x_total', help: 'h', registers: [] })
  t.throws(() => r.registerMetric(other), { instanceOf: Error, message: /already been registered/ })
  const p = new pc.Registry()
  const pcc = new pc.Counter({ name: 'x_total', help: 'h', registers: [p] })
  t.notThrows(() => p.registerMetric(pcc))
  t.throws(() => p.registerMetric(new pc.Counter({ name: 'x_total', help: 'h', registers: [] })), { instanceOf: Error })
  c.inc()
  t.is((await r.metrics()).match(/^x_total /gm)?.length, 1)
  // A metric made with registers: [] joins a registry later and renders there.
  const later = new hs.Gauge({ name: 'later', help: 'h', registers: [] })
  later.set(9)
  r.registerMetric(later)
  t.is(samples(await r.metrics()).get('later{}'), 9)
})

/** prom-client's custom metric shape: any object with a name and get(). */
function customMetrics() {
  return [
    {
      // Without _total: prom-client appends _total to OpenMetrics counter samples whatever the name.
      name: 'custom_requests',
      help: 'Requests, "quoted" \\ and\nnewline.',
      type: 'counter',
      get() {
        return { name: 'custom_requests', help: this.help, type: 'counter', aggregator: 'sum', values: [{ value: 3, labels: { route: '/a', code: 200 } }, { value: 4, labels: {} }] }
      },
    },
    {
      name: 'custom_temp',
      help: 'Temperature.',
      type: 'gauge',
      async get() {
        return { name: 'custom_temp', help: 'Temperature.', type: 'gauge', aggregator: 'sum', values: [{ value: NaN, labels: { room: 'a"b' } }, { value: -Infinity, labels: { room: 'c\\d' } }] }
      },
    },
    {
      name: 'custom_latency',
      help: 'Latency.',
      type: 'histogram',
      get() {
        return {
          name: 'custom_latency',
          help: 'Latency.',
          type: 'histogram',
          aggregator: 'sum',
          values: [
            { value: 1, labels: { le: 0.1 }, metricName: 'custom_latency_bucket' },
            { value: 2, labels: { le: '+Inf' }, metricName: 'custom_latency_bucket' },
            { value: 0.3, labels: {}, metricName: 'custom_latency_sum' },
            { value: 2, labels: {}, metricName: 'custom_latency_count' },
          ],
        }
      },
    },
  ]
}

test('registerMetric of any object with a name and get() renders as prom-client renders custom metrics (both formats)', async (t) => {
  for (const type of [hs.prometheusContentType, hs.openMetricsContentType] as const) {
    const r = new hs.Registry(type)
    const p = new pc.Registry(type)
    for (const m of customMetrics()) {
      r.registerMetric(m)
      p.registerMetric(m as unknown as pc.Metric)
    }
    const ours = await r.metrics()
    const theirs = await p.metrics()
    t.deepEqual(sampleList(ours), sampleList(theirs), type)
    const helpLines = (s: string) => s.split('\n').filter((l) => l.startsWith('# HELP') || l.startsWith('# TYPE'))
    if (type === hs.prometheusContentType) t.deepEqual(helpLines(ours), helpLines(theirs))
    t.is(r.getSingleMetric('custom_temp')?.name, 'custom_temp')
    t.deepEqual(
      (await r.getMetricsAsJSON()).map((m) => m.name),
      ['custom_requests', 'custom_temp', 'custom_latency'],
    )
    // getMetricsAsString(metric): prom-client's name for rendering one metric object.
    const one = customMetrics()[0]
    t.deepEqual(sampleList(await r.getMetricsAsString(one)), sampleList(await p.getMetricsAsString(one as unknown as pc.Metric)))
  }
})

test('getMetricsAsString renders a hotstats metric as prom-client renders its own', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const ours = new hs.Histogram({ name: 'lat', help: 'Latency.', labelNames: ['m'], buckets: [0.1, 1], registers: [r] })
  const theirs = new pc.Histogram({ name: 'lat', help: 'Latency.', labelNames: ['m'], buckets: [0.1, 1], registers: [p] })
  for (const h of [ours, theirs]) {
    h.observe({ m: 'GET' }, 0.05)
    h.observe({ m: 'GET' }, 0.5)
    h.observe({ m: 'PUT' }, 3)
  }
  const a = await r.getMetricsAsString(ours)
  const b = await p.getMetricsAsString(theirs)
  t.deepEqual(sampleList(a), sampleList(b))
  t.is(a.split('\n').slice(0, 2).join('\n'), b.split('\n').slice(0, 2).join('\n'))
  t.is(a, await r.getSingleMetricAsString('lat'))
})

test('setDefaultLabels adds labels to every series (a series label of that name wins), in metrics() and getMetricsAsJSON(), as prom-client', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const make = (lib: typeof hs | typeof pc, reg: hs.Registry | pc.Registry) => {
    const registers = [reg] as never
    const c = new lib.Counter({ name: 'req_total', help: 'h', labelNames: ['route', 'env'], registers })
    const h = new lib.Histogram({ name: 'lat', help: 'h', buckets: [1], registers })
    const g = new lib.Gauge({ name: 'up', help: 'h', registers })
    c.inc({ route: '/a', env: 'staging' })
    c.inc({ route: '/b' }) // env left out: the default fills it
    h.observe(0.5)
    g.set(1)
  }
  make(hs, r)
  make(pc, p)
  r.setDefaultLabels({ env: 'prod', host: 'h1' })
  p.setDefaultLabels({ env: 'prod', host: 'h1' })
  const ours = await r.metrics()
  t.deepEqual(sampleList(ours), sampleList(await p.metrics()))
  t.true(ours.includes('req_total{route="/a",env="staging",host="h1"} 1\n'))
  t.true(ours.includes('up{host="h1",env="prod"} 1\n') || ours.includes('up{env="prod",host="h1"} 1\n'))
  const json = await r.getMetricsAsJSON()
  const pjson = await p.getMetricsAsJSON()
  for (const name of ['req_total', 'up']) {
    const norm = (ms: { name: string; values: { labels: object; value: number }[] }[]) =>
      ms
        .find((m) => m.name === name)!
        .values.map((v) => JSON.stringify([Object.entries(v.labels).sort(), v.value]))
        .sort()
    t.deepEqual(norm(json), norm(pjson as never), name)
  }
  t.throws(() => r.setDefaultLabels({ 'bad-name': 'x' }), { instanceOf: RangeError })
  r.setDefaultLabels({})
  t.false((await r.metrics()).includes('host='))
})

test('clear() always works: metric objects still held keep working, names are free, default labels go', async (t) => {
  const r = fresh()
  const other = fresh()
  const c = new hs.Counter({ name: 'a_total', help: 'h', labelNames: ['k'], registers: [r] })
  const h = new hs.Histogram({ name: 'h', help: 'h', registers: [r] })
  const s = new hs.Summary({ name: 's', help: 'h', registers: [r] })
  // Registered in two registries, with its state in `other`.
  const shared = new hs.Gauge({ name: 'shared', help: 'h', registers: [other, r] })
  const bound = c.labels('x')
  bound.inc()
  r.setDefaultLabels({ env: 'prod' })
  r.clear()
  t.is(await r.metrics(), '')
  // Old objects keep working on their own (as prom-client's), from zero, and never throw,
  // even past the 1024-value staging buffer that flushes by itself.
  t.notThrows(() => {
    bound.inc(2)
    c.inc({ k: 'y' })
    for (let i = 0; i < 3000; i++) h.observe(i)
    for (let i = 0; i < 3000; i++) s.observe(i)
  })
  t.deepEqual(await valuesOf(c), [
    ['', [['k', 'x']], 2],
    ['', [['k', 'y']], 1],
  ])
  t.is((await h.get()).values.find((v) => v.metricName === 'h_count')?.value, 3000)
  t.is((await s.get()).values.find((v) => v.metricName === 's_count')?.value, 3000)
  t.is(await r.metrics(), '', 'what old objects record does not reappear in the cleared registry')
  // Names are free, for any type; the new metric starts empty.
  const g = new hs.Gauge({ name: 'a_total', help: 'now a gauge', registers: [r] })
  g.set(1)
  bound.inc(5)
  t.deepEqual(sampleList(await r.metrics()), [['a_total{}', 1]])
  // A metric homed in another registry is untouched there, records staged before included.
  shared.set(4)
  t.is(samples(await other.metrics()).get('shared{}'), 4)
  // The old object can join a registry again.
  const r2 = fresh()
  r2.registerMetric(c)
  t.is(samples(await r2.metrics()).get('a_total{k="x"}'), 7)
  r.clear()
  r.clear() // twice is fine
  t.is(await r.metrics(), '')
})

test('removeSingleMetric: the registry forgets it, the object keeps working on its own', async (t) => {
  const r = fresh()
  const c = new hs.Counter({ name: 'gone_total', help: 'h', registers: [r] })
  c.inc()
  r.removeSingleMetric('gone_total')
  t.is(r.getSingleMetric('gone_total'), undefined)
  t.notThrows(() => c.inc(2))
  t.deepEqual(await valuesOf(c), [['', [], 2]])
  t.false((await r.metrics()).includes('gone_total'))
  t.notThrows(() => new hs.Counter({ name: 'gone_total', help: 'h', registers: [r] }))
})

// ---------------------------------------------------------------------------------------------
// 3. Summary.

test('an empty summary reports quantiles 0, count 0 and sum 0, exactly as prom-client; emptyQuantile: NaN gives NaN', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const ours = new hs.Summary({ name: 's', help: 'h', percentiles: [0.5, 0.9], registers: [r] })
  const theirs = new pc.Summary({ name: 's', help: 'h', percentiles: [0.5, 0.9], registers: [p] })
  t.deepEqual(await valuesOf(ours), await valuesOf(theirs as never))
  t.deepEqual(sampleList(await r.metrics()), sampleList(await p.metrics()))
  const nan = new hs.Summary({ name: 'n', help: 'h', percentiles: [0.5], emptyQuantile: NaN, registers: [r] })
  t.true(Number.isNaN((await nan.get()).values[0].value))
  t.true((await r.metrics()).includes('n{quantile="0.5"} NaN\n'))
  nan.observe(4)
  t.is((await nan.get()).values[0].value, 4)
  t.throws(() => new hs.Summary({ name: 'bad', help: 'h', emptyQuantile: -1, registers: [r] }), { instanceOf: RangeError })
})

test.serial('pruneAgedBuckets: a series whose window emptied is gone (quantiles, count and sum), as prom-client; its next value starts it again', async (t) => {
  const realNow = Date.now
  let now = 1_700_000_000_000
  Date.now = () => now
  try {
    const r = fresh()
    const p = new pc.Registry()
    const cfg = { name: 'w', help: 'h', labelNames: ['k'], percentiles: [0.5], maxAgeSeconds: 10, ageBuckets: 5, pruneAgedBuckets: true }
    const ours = new hs.Summary({ ...cfg, registers: [r] })
    const theirs = new pc.Summary({ ...cfg, registers: [p] } as never)
    const keep = new hs.Summary({ ...cfg, name: 'kept', pruneAgedBuckets: false, registers: [r] })
    for (const s of [ours, theirs, keep]) {
      s.observe({ k: 'old' }, 1)
      s.observe({ k: 'old' }, 3)
    }
    hs.flushAllMetrics() // staged values take the time of their flush
    now += 8_000
    for (const s of [ours, theirs, keep]) s.observe({ k: 'new' }, 5)
    hs.flushAllMetrics()
    const series = (text: string, name: string) => [...samples(text).keys()].filter((k) => k.startsWith(`${name}_count`)).sort()
    t.deepEqual(series(await r.metrics(), 'w'), ['w_count{k="new"}', 'w_count{k="old"}'])
    now += 4_000 // "old" (12 s) has aged out, "new" (4 s) has not
    const ourText = await r.metrics()
    t.deepEqual(series(ourText, 'w'), ['w_count{k="new"}'])
    t.deepEqual(series(ourText, 'w'), series(await p.metrics(), 'w'))
    t.deepEqual(series(ourText, 'kept'), ['kept_count{k="new"}', 'kept_count{k="old"}'], 'without the option the series stays (quantiles 0)')
    t.is(samples(ourText).get('kept{k="old",quantile="0.5"}'), 0)
    ours.observe({ k: 'old' }, 7) // comes back, counted from zero
    t.is(samples(await r.metrics()).get('w_count{k="old"}'), 1)
    now += 60_000
    t.deepEqual(series(await r.metrics(), 'w'), [])
  } finally {
    Date.now = realNow
  }
})

// ---------------------------------------------------------------------------------------------
// 4. Labels: partial label objects, and label value types in get().

test('partial label objects (labels, inc, observe, set, remove) equal prom-client after random operations', async (t) => {
  const subsets = [{}, { a: 'x' }, { b: 1 }, { a: 'y', b: 'z' }, { a: 1, b: '1' }, { a: '1' }, { b: 'x' }]
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          op: fc.constantFrom('inc', 'labelsInc', 'set', 'gaugeInc', 'dec', 'observe', 'labelsObserve', 'sumObserve', 'remove', 'removeAll', 'bare'),
          labels: fc.constantFrom(...subsets),
          n: fc.integer({ min: 0, max: 40 }),
        }),
        { maxLength: 60 },
      ),
      async (ops) => {
        const r = fresh()
        const p = new pc.Registry()
        const build = (lib: typeof hs | typeof pc, reg: unknown) => {
          const registers = [reg] as never
          return {
            c: new lib.Counter({ name: 'c_total', help: 'h', labelNames: ['a', 'b'], registers }),
            g: new lib.Gauge({ name: 'g', help: 'h', labelNames: ['a', 'b'], registers }),
            h: new lib.Histogram({ name: 'h', help: 'h', labelNames: ['a', 'b'], buckets: [2, 8], registers }),
            s: new lib.Summary({ name: 's', help: 'h', labelNames: ['a', 'b'], percentiles: [0.5], registers }),
          }
        }
        const both = [build(hs, r), build(pc, p)] as unknown as ReturnType<typeof build>[]
        for (const o of ops) {
          const v = o.n / 4
          for (const m of both) {
            const l = { ...o.labels } as Record<string, string>
            if (o.op === 'inc') m.c.inc(l, o.n)
            else if (o.op === 'labelsInc') m.c.labels(l).inc(o.n)
            else if (o.op === 'set') m.g.set(l, v)
            else if (o.op === 'gaugeInc') m.g.labels(l).inc(v)
            else if (o.op === 'dec') m.g.dec(l, v)
            else if (o.op === 'observe') m.h.observe(l, v)
            else if (o.op === 'labelsObserve') m.h.labels(l).observe(v)
            else if (o.op === 'sumObserve') m.s.observe(l, v)
            else if (o.op === 'bare') {
              m.c.inc() // no labels at all on a labeled metric: the series without labels
              m.h.observe(v)
            } else {
              for (const x of o.op === 'removeAll' ? [m.c, m.g, m.h, m.s] : [m.c, m.g]) x.remove(l)
            }
          }
        }
        // Summaries: count and sum (the quantile algorithms differ by design).
        const filter = (text: string) => sampleList(text).filter(([k]) => !/^s\{/.test(k))
        t.deepEqual(filter(await r.metrics()), filter(await p.metrics()))
        for (const name of ['c_total', 'g'] as const) {
          const mine = both[0][name === 'c_total' ? 'c' : 'g'] as unknown as AnyMetric
          const theirs = both[1][name === 'c_total' ? 'c' : 'g'] as unknown as AnyMetric
          t.deepEqual(await valuesOf(mine), await valuesOf(theirs), `${name} get(): label values keep their type`)
        }
        r.clear()
      },
    ),
    { numRuns: 60 },
  )
})

test('label values keep their type in get(): numbers stay numbers, as prom-client', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const ours = new hs.Counter({ name: 'http_total', help: 'h', labelNames: ['code', 'method'], registers: [r] })
  const theirs = new pc.Counter({ name: 'http_total', help: 'h', labelNames: ['code', 'method'], registers: [p] })
  for (const c of [ours, theirs] as const) {
    c.inc({ code: 200, method: 'GET' })
    c.labels(404, 'GET').inc()
    c.inc({ code: '200', method: 'GET' }) // the same series as 200: the first type given stays
    c.inc({ code: 500 })
  }
  const got = await valuesOf(ours)
  t.deepEqual(got, await valuesOf(theirs as never))
  t.is(typeof (await ours.get()).values[0].labels.code, 'number')
  // Past the series limit, the overflow series keeps its own label values.
  const capped = new hs.Counter({ name: 'capped_total', help: 'h', labelNames: ['code'], maxSeries: 1, registers: [r] })
  capped.inc({ code: 1 })
  capped.inc({ code: 2 })
  t.deepEqual(
    (await capped.get()).values.map((v) => v.labels.code),
    [1, '__overflow__'],
  )
  const h = new hs.Histogram({ name: 'hh', help: 'h', labelNames: ['code'], buckets: [1], registers: [r] })
  h.observe({ code: 201 }, 0.5)
  t.deepEqual(
    (await h.get()).values.map((v) => v.labels),
    [{ code: 201, le: 1 }, { code: 201, le: '+Inf' }, { code: 201 }, { code: 201 }],
  )
})

test('a left-out label is not exposed; a lone NUL is not a label value; unknown label names are refused', async (t) => {
  const r = fresh()
  const c = new hs.Counter({ name: 'p_total', help: 'h', labelNames: ['a', 'b'], registers: [r] })
  c.inc({ b: 'only-b' })
  c.labels({}).inc(2)
  const text = await r.metrics()
  t.true(text.includes('p_total{b="only-b"} 1\n') && text.includes('p_total 2\n'), text)
  t.throws(() => c.inc({ a: '\u0000' }), { instanceOf: RangeError })
  t.throws(() => c.inc({ a: 'x', z: 1 } as never), { instanceOf: RangeError, message: /unknown label "z"/ })
  t.throws(() => c.labels('only-one'), { instanceOf: Error }) // positional: every value, as prom-client
  c.remove({ b: 'only-b' })
  t.false((await r.metrics()).includes('only-b'))
  // The promtool-checked text stays valid with left-out labels.
  const { spawnSync } = await import('node:child_process')
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: await r.metrics(), encoding: 'utf8' })
  if (lint.error) t.log('promtool not installed: skipped')
  else t.is(lint.status, 0, `${lint.stdout}${lint.stderr}`)
})

// ---------------------------------------------------------------------------------------------
// 5. Error types: where prom-client throws a TypeError, so does hotstats; where it throws an
// Error, hotstats throws an Error (or a subclass: RangeError for a number out of its domain).

test('errors: the same class (or a subclass) as prom-client, for the same calls; no throw where prom-client accepts', (t) => {
  const cases: Array<[string, (lib: typeof hs | typeof pc, reg: unknown) => unknown]> = [
    ['config not an object', (lib) => new lib.Counter(null as never)],
    ['missing help', (lib, reg) => new lib.Counter({ name: 'x', registers: [reg] } as never)],
    ['invalid name', (lib, reg) => new lib.Counter({ name: 'a-b', help: 'h', registers: [reg] } as never)],
    ['invalid label name', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a-b'], registers: [reg] } as never)],
    ['le on a histogram', (lib, reg) => new lib.Histogram({ name: 'x', help: 'h', labelNames: ['le'], registers: [reg] } as never)],
    ['quantile on a summary', (lib, reg) => new lib.Summary({ name: 'x', help: 'h', labelNames: ['quantile'], registers: [reg] } as never)],
    ['collect not a function', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', collect: 5, registers: [reg] } as never)],
    ['counter inc(-1)', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never).inc(-1)],
    ['counter inc(Infinity)', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never).inc(Infinity)],
    ['counter inc("2")', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never).inc('2' as never)],
    ['counter inc(NaN)', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never).inc(NaN)],
    ['counter inc(null)', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never).inc(null as never)],
    ['counter inc() on a labeled counter', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a'], registers: [reg] } as never).inc()],
    ['gauge set("1")', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', registers: [reg] } as never).set('1' as never)],
    ['gauge set(undefined)', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', registers: [reg] } as never).set(undefined as never)],
    ['gauge inc("1")', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', registers: [reg] } as never).inc('1' as never)],
    ['gauge set(NaN)', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', registers: [reg] } as never).set(NaN)],
    ['gauge dec(Infinity)', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', registers: [reg] } as never).dec(Infinity)],
    ['histogram observe(NaN)', (lib, reg) => new lib.Histogram({ name: 'x', help: 'h', registers: [reg] } as never).observe(NaN)],
    ['histogram observe(Infinity)', (lib, reg) => new lib.Histogram({ name: 'x', help: 'h', registers: [reg] } as never).observe(Infinity)],
    ['histogram observe("1")', (lib, reg) => new lib.Histogram({ name: 'x', help: 'h', registers: [reg] } as never).observe('1' as never)],
    ['summary observe(NaN)', (lib, reg) => new lib.Summary({ name: 'x', help: 'h', registers: [reg] } as never).observe(NaN)],
    ['summary observe(undefined)', (lib, reg) => new lib.Summary({ name: 'x', help: 'h', registers: [reg] } as never).observe(undefined as never)],
    ['bound child observe(NaN)', (lib, reg) => new lib.Histogram({ name: 'x', help: 'h', labelNames: ['a'], registers: [reg] } as never).labels('v').observe(NaN)],
    ['labels() with too few values', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a', 'b'], registers: [reg] } as never).labels('v')],
    ['labels() with an unknown name', (lib, reg) => new lib.Gauge({ name: 'x', help: 'h', labelNames: ['a'], registers: [reg] } as never).labels({ z: '1' } as never)],
    ['inc() with an unknown label', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a'], registers: [reg] } as never).inc({ z: '1' } as never)],
    ['remove() with too few values', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a', 'b'], registers: [reg] } as never).remove('v')],
    ['remove() of a partial label set', (lib, reg) => new lib.Counter({ name: 'x', help: 'h', labelNames: ['a', 'b'], registers: [reg] } as never).remove({ a: 'v' })],
    ['new Registry(bad content type)', (lib) => new lib.Registry('text/html' as never)],
    ['setContentType(bad)', (lib) => new lib.Registry().setContentType('text/html' as never)],
    ['register twice', (lib, reg) => [new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never), new lib.Counter({ name: 'x', help: 'h', registers: [reg] } as never)]],
    ['linearBuckets count 0', (lib) => lib.linearBuckets(0, 1, 0)],
    ['exponentialBuckets start 0', (lib) => lib.exponentialBuckets(0, 2, 3)],
    ['exponentialBuckets factor 1', (lib) => lib.exponentialBuckets(1, 1, 3)],
    ['setRegistries(not a registry)', (lib) => lib.AggregatorRegistry.setRegistries(5 as never)],
    ['Pushgateway push without jobName', (lib, reg) => new lib.Pushgateway('http://127.0.0.1:9', {}, reg as never).push({} as never)],
  ]
  for (const [what, call] of cases) {
    const run = (lib: typeof hs | typeof pc, reg: unknown): Error | null => {
      try {
        call(lib, reg)
        return null
      } catch (e) {
        return e as Error
      }
    }
    const theirs = run(pc, new pc.Registry())
    const ours = run(hs, fresh())
    if (theirs === null) {
      t.is(ours, null, `${what}: prom-client accepts it, hotstats threw ${ours}`)
      continue
    }
    t.true(ours instanceof Error, `${what}: prom-client throws (${theirs}), hotstats did not`)
    t.true(ours instanceof (theirs.constructor as ErrorConstructor), `${what}: prom-client throws a ${theirs.constructor.name}, hotstats a ${ours?.constructor.name} (${ours?.message})`)
    t.true((ours?.message.length ?? 0) > 10, `${what}: a message that says what is wrong`)
  }
})

// ---------------------------------------------------------------------------------------------
// Default metrics.

test('collectDefaultMetrics: prom-client\'s families (less its *_total gauges, which promtool rejects), with prefix and labels; promtool passes', async (t) => {
  const r = fresh()
  const p = new pc.Registry()
  const stop = hs.collectDefaultMetrics({ register: r, prefix: 'app_', labels: { worker: '3' } })
  pc.collectDefaultMetrics({ register: p, prefix: 'app_', labels: { worker: '3' } })
  const keep = setTimeout(() => {}, 10_000) // a timer: nodejs_active_handles/resources have a type to show
  try {
    const ours = await r.metrics()
    const theirs = await p.metrics()
    const families = (text: string) => new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ').slice(2).join(' ')))
    const mine = families(ours)
    const missing = [...families(theirs)].filter((f) => !mine.has(f))
    t.deepEqual(missing.sort(), ['app_nodejs_active_handles_total gauge', 'app_nodejs_active_requests_total gauge', 'app_nodejs_active_resources_total gauge'])
    // Every sample carries the labels.
    for (const [key] of samples(ours)) if (key.startsWith('app_')) t.true(key.includes('worker="3"'), key)
    t.regex(ours, /^app_nodejs_active_handles\{type="\w+",worker="3"\} \d+$/m)
    t.regex(ours, /^app_nodejs_heap_space_size_used_bytes\{space="old",worker="3"\} \d+$/m)
    t.regex(ours, /^app_nodejs_active_resources\{type="Timeout",worker="3"\} \d+$/m)
    const { spawnSync } = await import('node:child_process')
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' })
    t.is(lint.status, 0, `${lint.stdout}${lint.stderr}`)
    t.throws(() => hs.collectDefaultMetrics({ register: fresh(), labels: { 'bad-name': 1 } }), { instanceOf: RangeError })
  } finally {
    clearTimeout(keep)
    stop()
  }
})

test('exemplars: the prom-client call shapes are accepted on OpenMetrics registries (exemplars dropped), a TypeError elsewhere', async (t) => {
  const r = new hs.Registry(hs.openMetricsContentType)
  const p = new pc.Registry(pc.openMetricsContentType)
  const build = (lib: typeof hs | typeof pc, reg: unknown) => {
    const registers = [reg] as never
    return {
      c: new lib.Counter({ name: 'req_total', help: 'h', labelNames: ['route'], enableExemplars: true, registers }),
      h: new lib.Histogram({ name: 'lat', help: 'h', labelNames: ['route'], buckets: [0.1, 1], enableExemplars: true, registers }),
    }
  }
  for (const m of [build(hs, r), build(pc, p)] as ReturnType<typeof build>[]) {
    m.c.inc({ value: 2, labels: { route: '/a' }, exemplarLabels: { trace_id: 'abc' } } as never)
    m.c.inc({ labels: { route: '/a' } } as never)
    m.c.inc()
    m.h.observe({ value: 0.5, labels: { route: '/a' }, exemplarLabels: { trace_id: 'def' } } as never)
  }
  const strip = (text: string) => text.replace(/ # \{.*$/gm, '') // prom-client's exemplars
  t.deepEqual(sampleList(await r.metrics()), sampleList(strip(await p.metrics())))
  t.throws(() => new hs.Counter({ name: 'x_total', help: 'h', enableExemplars: true, registers: [fresh()] }), { instanceOf: TypeError, message: /OpenMetrics/ })
  t.throws(() => new pc.Counter({ name: 'x_total', help: 'h', enableExemplars: true, registers: [new pc.Registry()] }), { instanceOf: TypeError })
})
