// prom-client's AggregatorRegistry: clusterMetrics() across real cluster workers (setRegistries,
// default labels, custom metrics, aggregators), AggregatorRegistry.aggregate and `aggregators`
// compared with prom-client's on the same getMetricsAsJSON() input. Both backends.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'
import * as pc from 'prom-client'

import * as hs from '../index'
import { sampleList, samples } from './helpers/exposition'

test('clusterMetrics(): the registries each worker chose, merged by aggregator, with their default labels and custom metrics', (t) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'aggregator-app.ts')], { encoding: 'utf8', timeout: 60_000 })
  const { text, om, legacy } = JSON.parse(out) as { text: string; om: string; legacy: string }
  const s = samples(text)
  t.is(s.get('jobs_total{app="demo",queue="q"}'), 10 + 11 + 12)
  t.is(s.get('load_avg{app="demo"}'), 3) // average of 0, 3, 6
  t.false([...s.keys()].some((k) => k.startsWith('secret')), 'aggregator omit')
  for (const w of ['0', '1', '2']) t.is(s.get(`worker_info{app="demo",worker="${w}"}`), 1)
  t.is(s.get('size_bytes_count{app="demo"}'), 3)
  t.is(s.get('size_bytes_sum{app="demo"}'), 600)
  t.true(Math.abs(s.get('size_bytes{app="demo",quantile="0.5"}')! - 200) <= 2, 'the median of the merged sketch')
  t.is(s.get('custom_total{app="demo",kind="x"}'), 6)
  t.is(s.get('default_total{}'), 3)
  t.true(om.endsWith('# EOF\n') && om.includes('# TYPE jobs counter\n'))
  t.is(samples(om).get('jobs_total{app="demo",queue="q"}'), 33)
  // The earlier name, by registry name: the default registry only.
  t.deepEqual(sampleList(legacy), [['default_total{}', 3]])
})

test('ClusterAggregator is AggregatorRegistry (an alias), and AggregatorRegistry is a Registry', async (t) => {
  t.is(hs.ClusterAggregator, hs.AggregatorRegistry)
  const a = new hs.AggregatorRegistry()
  t.true(a instanceof hs.Registry)
  t.is(a.contentType, hs.prometheusContentType)
  // Not in a cluster primary with workers: nothing to merge, as prom-client.
  t.is(await a.clusterMetrics(), await new pc.AggregatorRegistry().clusterMetrics())
})

/** Three "workers": prom-client registries with the same metrics and different values. */
async function workersJson(): Promise<pc.metric[][]> {
  const out: pc.metric[][] = []
  for (let k = 0; k < 3; k++) {
    const r = new pc.Registry()
    const registers = [r]
    new pc.Counter({ name: 'c_total', help: 'h', labelNames: ['q'], registers }).inc({ q: k === 2 ? 'b' : 'a' }, k + 1)
    for (const aggregator of ['sum', 'first', 'min', 'max', 'average', 'omit'] as const) {
      new pc.Gauge({ name: `g_${aggregator}`, help: 'h', aggregator, registers }).set(k * 2 + 1)
    }
    const h = new pc.Histogram({ name: 'h', help: 'h', buckets: [1, 5], registers })
    h.observe(k)
    h.observe(4)
    out.push(await r.getMetricsAsJSON())
  }
  return out
}

test('AggregatorRegistry.aggregate(metricsArr) equals prom-client on the same getMetricsAsJSON() input, in both formats', async (t) => {
  const input = await workersJson()
  for (const type of [hs.prometheusContentType, hs.openMetricsContentType] as const) {
    const ours = hs.AggregatorRegistry.aggregate(input as never, type)
    const theirs = pc.AggregatorRegistry.aggregate(input, type)
    t.true(ours instanceof hs.Registry)
    t.is(ours.contentType, type)
    // prom-client writes an aggregated OpenMetrics counter named x_total as x_total_total (its
    // wrapper's get() keeps the _total its metrics() strips); hotstats writes x_total.
    t.deepEqual(sampleList(await ours.metrics()), sampleList((await theirs.metrics()).replace(/_total_total/g, '_total')), type)
  }
  const s = samples(await hs.AggregatorRegistry.aggregate(input as never).metrics())
  t.is(s.get('g_average{}'), 3)
  t.is(s.get('g_min{}'), 1)
  t.is(s.get('g_max{}'), 5)
  t.is(s.get('g_first{}'), 1)
  t.is(s.get('g_sum{}'), 9)
  t.false(s.has('g_omit{}'))
  t.throws(() => hs.AggregatorRegistry.aggregate([[{ name: 'x', help: 'h', type: 'gauge', aggregator: 'median' as never, values: [] }]]), { instanceOf: Error, message: /not a defined aggregator/ })
})

test('the aggregators export: the same functions as prom-client', async (t) => {
  const input = (await workersJson()).map((w) => w.find((m) => m.name === 'h')!)
  t.deepEqual(Object.keys(hs.aggregators).sort(), Object.keys(pc.aggregators).sort())
  for (const name of Object.keys(pc.aggregators) as (keyof typeof pc.aggregators)[]) {
    t.deepEqual(hs.aggregators[name](input as never), pc.aggregators[name](input) as never, name)
  }
})

test('setRegistries takes a Registry or an array of them (a TypeError otherwise)', (t) => {
  t.notThrows(() => hs.AggregatorRegistry.setRegistries(hs.register))
  t.notThrows(() => hs.AggregatorRegistry.setRegistries([hs.register]))
  t.throws(() => hs.AggregatorRegistry.setRegistries([{}] as never), { instanceOf: TypeError })
})
