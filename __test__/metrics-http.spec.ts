// HTTP integration with the real frameworks: the node:http /metrics handler (content negotiation;
// the protobuf case with a real Prometheus is in metrics-protobuf.spec.ts),
// express middleware and the fastify plugin (route templates, never paths, as labels), and a real
// Prometheus scraping an express app. Both backends.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

import test from 'ava'
import express from 'express'
import Fastify from 'fastify'

import * as hs from '../index'
import { samples } from './helpers/exposition'
import { startPrometheus } from './helpers/prometheus'

let n = 0
const fresh = () => new hs.Registry({ name: `http-spec-${process.pid}-${n++}` })

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((r) => server.close(() => r()))
}

/** The Accept header Prometheus 2.x sends. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

test('negotiateContentType: OpenMetrics when the client ranks it first, else Prometheus text', (t) => {
  t.is(hs.negotiateContentType(undefined), hs.prometheusContentType)
  t.is(hs.negotiateContentType('*/*'), hs.prometheusContentType)
  t.is(hs.negotiateContentType('text/plain'), hs.prometheusContentType)
  t.is(hs.negotiateContentType(PROMETHEUS_ACCEPT), hs.openMetricsContentType)
  t.is(hs.negotiateContentType('application/openmetrics-text'), hs.openMetricsContentType)
  t.is(hs.negotiateContentType('application/openmetrics-text;version=0.0.1'), hs.prometheusContentType)
  t.is(hs.negotiateContentType('text/plain;q=0.9, application/openmetrics-text;q=0.5'), hs.prometheusContentType)
  t.is(hs.negotiateContentType('application/openmetrics-text;q=0'), hs.prometheusContentType)
  // What Prometheus sends with --enable-feature=native-histograms.
  const protobufAccept = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'
  t.is(hs.negotiateContentType(protobufAccept), hs.Registry.PROTOBUF_CONTENT_TYPE)
  t.is(hs.negotiateContentType('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text'), hs.prometheusContentType)
})

test('metricsHandler for node:http: negotiated format, HEAD, 405 for other methods', async (t) => {
  const r = fresh()
  new hs.Counter({ name: 'jobs_total', help: 'h', registers: [r] }).inc(3)
  const server = http.createServer(hs.metricsHandler({ registry: r }))
  const url = await listen(server)
  try {
    let res = await fetch(url)
    t.is(res.status, 200)
    t.is(res.headers.get('content-type'), hs.prometheusContentType)
    t.is(await res.text(), await r.metrics())
    res = await fetch(url, { headers: { accept: PROMETHEUS_ACCEPT } })
    t.is(res.headers.get('content-type'), hs.openMetricsContentType)
    const om = await res.text()
    t.true(om.includes('jobs_total 3\n') && om.endsWith('# EOF\n'))
    res = await fetch(url, { method: 'HEAD' })
    t.is(res.status, 200)
    t.is(await res.text(), '')
    res = await fetch(url, { method: 'POST' })
    t.is(res.status, 405)
    t.is(res.headers.get('allow'), 'GET, HEAD')
  } finally {
    await close(server)
  }
})

test('express: requests counted and timed by route template (mounted routers included), 404s as unmatched, /metrics left out', async (t) => {
  const r = fresh()
  const app = express()
  app.use(hs.httpMetrics({ registry: r }))
  app.get('/metrics', hs.metricsHandler({ registry: r }))
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id })
  })
  const api = express.Router()
  api.post('/items/:itemId', (_req, res) => {
    res.status(201).send('made')
  })
  app.use('/api', api)
  app.get('/boom', () => {
    throw new Error('boom')
  })
  const server = http.createServer(app)
  const url = await listen(server)
  try {
    for (let i = 0; i < 25; i++) t.is((await fetch(`${url}/users/${i}?x=${i}`)).status, 200)
    for (let i = 0; i < 5; i++) t.is((await fetch(`${url}/api/items/item-${i}`, { method: 'POST' })).status, 201)
    t.is((await fetch(`${url}/nope/${Math.random()}`)).status, 404)
    t.is((await fetch(`${url}/nope/again`)).status, 404)
    t.is((await fetch(`${url}/boom`)).status, 500)
    t.is((await fetch(`${url}/users/1`, { method: 'PURGE' as never })).status, 404)
    await fetch(`${url}/metrics`)
    const s = samples(await r.metrics())
    const counts = [...s].filter(([k]) => k.startsWith('http_requests_total{'))
    t.deepEqual(counts.sort(), [
      ['http_requests_total{method="GET",route="/boom",status_code="500"}', 1],
      ['http_requests_total{method="GET",route="/users/:id",status_code="200"}', 25],
      ['http_requests_total{method="GET",route="unmatched",status_code="404"}', 2],
      ['http_requests_total{method="OTHER",route="unmatched",status_code="404"}', 1],
      ['http_requests_total{method="POST",route="/api/items/:itemId",status_code="201"}', 5],
    ])
    t.is(s.get('http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="200"}'), 25)
    t.true(s.get('http_request_duration_seconds_sum{method="GET",route="/users/:id",status_code="200"}')! > 0)
  } finally {
    await close(server)
  }
})

test('fastify: the plugin counts by route template (prefixes included), 404s as unmatched, and serves /metrics', async (t) => {
  const r = fresh()
  const app = Fastify()
  await app.register(hs.fastifyMetrics, { registry: r })
  app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }))
  await app.register(
    async (scoped) => {
      scoped.post('/items/:itemId', async (_req, reply) => reply.code(201).send('made'))
    },
    { prefix: '/api' },
  )
  try {
    for (let i = 0; i < 10; i++) t.is((await app.inject({ url: `/users/${i}` })).statusCode, 200)
    for (let i = 0; i < 3; i++) t.is((await app.inject({ method: 'POST', url: `/api/items/${i}` })).statusCode, 201)
    t.is((await app.inject({ url: '/missing/1' })).statusCode, 404)
    const res = await app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } })
    t.is(res.headers['content-type'], hs.openMetricsContentType)
    t.true(res.body.endsWith('# EOF\n'))
    const s = samples(await r.metrics())
    t.deepEqual([...s].filter(([k]) => k.startsWith('http_requests_total{')).sort(), [
      ['http_requests_total{method="GET",route="/users/:id",status_code="200"}', 10],
      ['http_requests_total{method="GET",route="unmatched",status_code="404"}', 1],
      ['http_requests_total{method="POST",route="/api/items/:itemId",status_code="201"}', 3],
    ])
    t.is(s.get('http_request_duration_seconds_count{method="POST",route="/api/items/:itemId",status_code="201"}'), 3)
    t.true((await app.inject({ url: '/metrics' })).body.includes('http_requests_total{'), 'text format by default')
  } finally {
    await app.close()
  }
})

test('two middlewares on one registry share the metrics; another kind under the name is an Error', (t) => {
  const r = fresh()
  t.notThrows(() => {
    hs.httpMetrics({ registry: r })
    hs.httpMetrics({ registry: r })
  })
  const clash = fresh()
  new hs.Gauge({ name: 'http_requests_total', help: 'h', registers: [clash] })
  t.throws(() => hs.httpMetrics({ registry: clash }), { instanceOf: Error })
})

test('a real Prometheus scrapes an express app: route templates only, in the same scrape as the app metrics', async (t) => {
  const r = fresh()
  const app = express()
  app.use(hs.httpMetrics({ registry: r }))
  app.get('/metrics', hs.metricsHandler({ registry: r }))
  app.get('/orders/:orderId', (_req, res) => {
    res.send('ok')
  })
  new hs.Gauge({ name: 'app_ready', help: 'h', registers: [r] }).set(1)
  const server = http.createServer(app)
  const url = await listen(server)
  const prom = await startPrometheus(url.replace('http://', ''))
  try {
    for (let i = 0; i < 40; i++) await fetch(`${url}/orders/${i}`)
    const got = await prom.waitFor('sum by (route, method, status_code) (http_requests_total)', (res) => res.some((x) => x.value === 40))
    t.deepEqual(
      got.map((x) => [x.metric.route, x.metric.method, x.metric.status_code, x.value]),
      [['/orders/:orderId', 'GET', '200', 40]],
    )
    const ready = await prom.waitFor('app_ready', (res) => res.length === 1)
    t.is(ready[0].value, 1)
    const buckets = await prom.query('count(http_request_duration_seconds_bucket)')
    t.is(buckets[0].value, hs.DEFAULT_BUCKETS.length + 1)
  } finally {
    await prom.stop()
    await close(server)
  }
})
