// The exposition checked by Prometheus's own tools: `promtool check metrics` (Debian package
// prometheus) lints it, and a real Prometheus server scrapes it from an HTTP endpoint, in
// OpenMetrics and then in the 0.0.4 text format, and answers queries with the recorded values.
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import test from 'ava'

import * as hs from '../index'
import { startPrometheus } from './helpers/prometheus'

function setup(name: string) {
  const r = new hs.Registry({ name: `${name}-${process.pid}` })
  const c = new hs.Counter({ name: 'app_requests_total', help: 'Requests by route.\nSecond line \\ backslash.', labelNames: ['route', 'code'], registers: [r] })
  const g = new hs.Gauge({ name: 'app_queue_depth', help: 'Queue depth.', labelNames: ['queue'], registers: [r] })
  const h = new hs.Histogram({ name: 'app_latency_seconds', help: 'Latency.', labelNames: ['route'], buckets: [0.1, 0.5, 1], registers: [r] })
  const s = new hs.Summary({ name: 'app_payload_bytes', help: 'Payload sizes.', percentiles: [0.5, 0.99], maxAgeSeconds: 600, ageBuckets: 3, registers: [r] })
  c.inc({ route: 'a"b\\c', code: 200 }, 3)
  c.inc({ route: '/x\ny', code: 500 })
  g.set({ queue: 'jobs' }, 12.5)
  for (const v of [0.05, 0.2, 0.2, 0.7, 3]) h.observe({ route: '/x' }, v)
  for (let i = 1; i <= 100; i++) s.observe(i)
  return { r, c, g, h, s }
}

function promtool(text: string): { status: number | null; out: string } {
  const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (p.error) throw new Error(`promtool did not run (is the Debian package prometheus installed?): ${p.error.message}`)
  return { status: p.status, out: `${p.stdout}${p.stderr}` }
}

test('promtool check metrics passes the text format for every type, and the non-counter families of OpenMetrics', async (t) => {
  const { r } = setup('promtool')
  const text = await r.metrics()
  t.deepEqual(promtool(text), { status: 0, out: '' })
  // promtool 2.42 reads its input with the 0.0.4 parser, which does not know OpenMetrics'
  // counter naming (family x, sample x_total); every other family is the same text in both.
  const om = await r.openMetrics()
  t.true(om.endsWith('# EOF\n'))
  const withoutCounters = om.replace(/# HELP app_requests [\s\S]*?(?=# HELP app_queue_depth)/, '')
  t.false(withoutCounters.includes('app_requests'))
  t.deepEqual(promtool(withoutCounters), { status: 0, out: '' })
  // And it does fail on a broken exposition, so the checks above can fail.
  t.not(promtool(text.replace('# TYPE app_queue_depth gauge', '# TYPE app_queue_depth gauge\n# TYPE app_queue_depth counter')).status, 0)
})

test('a real Prometheus scrapes OpenMetrics, then the text format, and its queries return the recorded values', async (t) => {
  const { r, c, g } = setup('scrape')
  let format: 'openmetrics' | 'prometheus' = 'openmetrics'
  let served = ''
  const server = createServer((req, res) => {
    const om = format === 'openmetrics' && String(req.headers.accept).includes('application/openmetrics-text')
    const body = om ? r.openMetrics() : r.prometheusText()
    body.then((text) => {
      served = om ? 'openmetrics' : 'prometheus'
      res.writeHead(200, { 'content-type': om ? hs.OPENMETRICS_CONTENT_TYPE : hs.PROMETHEUS_CONTENT_TYPE })
      res.end(text)
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const prom = await startPrometheus(`127.0.0.1:${(server.address() as AddressInfo).port}`)
  try {
    const check = async () => {
      const one = (xs: Array<{ value: number }>) => xs.length === 1
      t.is((await prom.waitFor('up{job="hotstats"}', (x) => one(x) && x[0].value === 1))[0].value, 1)
      t.is((await prom.waitFor('app_requests_total{route="a\\"b\\\\c",code="200"}', one))[0].value, 3)
      t.is((await prom.waitFor('app_requests_total{route="/x\\ny",code="500"}', one))[0].value, 1)
      t.is((await prom.waitFor('app_latency_seconds_count{route="/x"}', one))[0].value, 5)
      t.is((await prom.waitFor('app_latency_seconds_bucket{route="/x",le="0.5"}', one))[0].value, 3)
      t.is((await prom.waitFor('app_latency_seconds_sum{route="/x"}', one))[0].value, 4.15)
      t.is((await prom.waitFor('app_payload_bytes_count', one))[0].value, 100)
      t.is((await prom.waitFor('app_payload_bytes_sum', one))[0].value, 5050)
      const p99 = (await prom.waitFor('app_payload_bytes{quantile="0.99"}', one))[0].value
      t.true(Math.abs(p99 - 99) <= 0.99 * 1.01, `p99 ${p99}`) // the 99th of 1..100, within 1%
    }
    await check()
    t.is(served, 'openmetrics')
    t.is((await prom.waitFor('app_queue_depth{queue="jobs"}', (x) => x.length === 1))[0].value, 12.5)
    // Now the 0.0.4 text format, with new values.
    format = 'prometheus'
    g.set({ queue: 'jobs' }, -4)
    c.inc({ route: '/late', code: 201 }, 9)
    await prom.waitFor('app_queue_depth{queue="jobs"}', (x) => x.length === 1 && x[0].value === -4)
    t.is(served, 'prometheus')
    t.is((await prom.waitFor('app_requests_total{route="/late"}', (x) => x.length === 1))[0].value, 9)
    await check()
  } finally {
    await prom.stop()
    server.close()
  }
})
