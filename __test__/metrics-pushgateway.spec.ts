// Pushgateway (prom-client's API) against a node:http server that records every request, and
// prom-client's Pushgateway sending the same pushes to it: the same methods, paths, headers and
// bodies. Both backends.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

import test from 'ava'
import * as pc from 'prom-client'

import * as hs from '../index'
import { sampleList } from './helpers/exposition'

interface Recorded {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

/** A server that records requests and answers `status` (or never answers, with status 0). */
async function recorder(status = 202): Promise<{ url: string; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      if (status === 0) return // stall
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end(status >= 400 ? 'bad push' : '')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

let n = 0
function registries() {
  const r = new hs.Registry({ name: `push-${process.pid}-${n++}` })
  const p = new pc.Registry()
  for (const [lib, reg] of [
    [hs, r],
    [pc, p],
  ] as const) {
    const registers = [reg] as never
    new lib.Counter({ name: 'batch_records_total', help: 'Records.', labelNames: ['table'], registers }).inc({ table: 'users' }, 1234)
    new lib.Gauge({ name: 'batch_last_success_seconds', help: 'Last success.', registers }).set(1_700_000_000)
  }
  return { r, p }
}

test('push (PUT), pushAdd (POST) and delete (DELETE) with groupings: the same requests as prom-client', async (t) => {
  const srv = await recorder()
  try {
    const { r, p } = registries()
    const ours = new hs.Pushgateway(srv.url, {}, r)
    const theirs = new pc.Pushgateway(srv.url, {}, p)
    const params = { jobName: 'nightly batch', groupings: { instance: 'host-1', zone: 'eu west' } }
    for (const gw of [ours, theirs]) {
      await gw.push(params)
      await gw.pushAdd({ jobName: 'nightly batch' })
      await gw.delete(params)
    }
    t.is(srv.requests.length, 6)
    const [mine, other] = [srv.requests.slice(0, 3), srv.requests.slice(3)]
    t.deepEqual(
      mine.map((q) => [q.method, q.url]),
      [
        ['PUT', '/metrics/job/nightly%20batch/instance/host-1/zone/eu%20west'],
        ['POST', '/metrics/job/nightly%20batch'],
        ['DELETE', '/metrics/job/nightly%20batch/instance/host-1/zone/eu%20west'],
      ],
    )
    t.deepEqual(
      mine.map((q) => [q.method, q.url]),
      other.map((q) => [q.method, q.url]),
    )
    for (let i = 0; i < 2; i++) t.deepEqual(sampleList(mine[i].body), sampleList(other[i].body))
    t.is(mine[0].body, await r.metrics())
    t.is(mine[2].body, '')
    t.is(mine[0].headers['content-type'], hs.prometheusContentType)
    const res = await ours.push({ jobName: 'x' })
    t.is(res.resp.statusCode, 202)
    t.is(res.body, '')
  } finally {
    await srv.close()
  }
})

test('custom headers, gzip (not on DELETE), a path prefix, and the agent option', async (t) => {
  const srv = await recorder(200)
  try {
    const { r } = registries()
    class CountingAgent extends http.Agent {
      connections = 0
      createConnection(...args: Parameters<http.Agent['createConnection']>) {
        this.connections++
        return super.createConnection(...args)
      }
    }
    const agent = new CountingAgent({ keepAlive: true })
    const gw = new hs.Pushgateway(`${srv.url}/prefix/`, { headers: { 'X-Auth': 'token-1', 'Content-Encoding': 'gzip' }, agent }, r)
    await gw.pushAdd({ jobName: 'j', groupings: { a: 1 } })
    await gw.delete({ jobName: 'j' })
    const [add, del] = srv.requests
    t.is(add.url, '/prefix/metrics/job/j/a/1')
    t.is(add.headers['x-auth'], 'token-1')
    t.is(add.headers['content-encoding'], 'gzip')
    t.is(add.body, await r.metrics(), 'the gzipped body inflates to the exposition')
    t.is(del.headers['x-auth'], 'token-1')
    t.is(del.headers['content-encoding'], undefined)
    t.true(agent.connections >= 1, 'requests went through the given agent')
    agent.destroy()
  } finally {
    await srv.close()
  }
})

test('errors: a status >= 400 rejects with it, a missing jobName throws at once, a stalled gateway times out', async (t) => {
  const bad = await recorder(500)
  const stall = await recorder(0)
  try {
    const { r } = registries()
    await t.throwsAsync(new hs.Pushgateway(bad.url, {}, r).push({ jobName: 'j' }), { instanceOf: Error, message: /push failed with status 500, bad push/ })
    t.throws(() => new hs.Pushgateway(bad.url, {}, r).push({} as never), { instanceOf: Error, message: /Missing jobName/ })
    t.throws(() => new pc.Pushgateway(bad.url, {}, new pc.Registry()).push({} as never), { instanceOf: Error, message: /Missing jobName/ })
    // requireJobName: false pushes to /metrics.
    const ok = await recorder(200)
    try {
      await new hs.Pushgateway(ok.url, { requireJobName: false }, r).push({})
      t.is(ok.requests[0].url, '/metrics')
    } finally {
      await ok.close()
    }
    await t.throwsAsync(new hs.Pushgateway(stall.url, { timeout: 200 }, r).push({ jobName: 'j' }), { message: /timed out/ })
    await t.throwsAsync(new hs.Pushgateway('http://127.0.0.1:1', {}, r).push({ jobName: 'j' }), { code: 'ECONNREFUSED' } as never)
    t.throws(() => new hs.Pushgateway('not a url'), { instanceOf: TypeError })
  } finally {
    await bad.close()
    await stall.close()
  }
})

test('a grouping value with a slash or an empty one uses the Pushgateway base64 form (prom-client percent-encodes it)', async (t) => {
  const srv = await recorder(200)
  try {
    const { r } = registries()
    await new hs.Pushgateway(srv.url, {}, r).push({ jobName: 'a/b', groupings: { path: '/var/tmp', empty: '' } })
    t.is(srv.requests[0].url, `/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}/path@base64/${Buffer.from('/var/tmp').toString('base64url')}/empty@base64/=`)
  } finally {
    await srv.close()
  }
})

test('the default registry is pushed when none is given; an OpenMetrics registry is pushed as it renders', async (t) => {
  const srv = await recorder(200)
  try {
    const om = new hs.Registry(hs.openMetricsContentType)
    new hs.Counter({ name: 'om_total', help: 'h', registers: [om] }).inc()
    await new hs.Pushgateway(srv.url, {}, om).push({ jobName: 'j' })
    t.true(srv.requests[0].body.endsWith('# EOF\n'))
    t.is(srv.requests[0].headers['content-type'], undefined, 'as prom-client: no content type is claimed for OpenMetrics')
    const gw = new hs.Pushgateway(srv.url)
    t.is(gw.registry, hs.register)
  } finally {
    await srv.close()
  }
})

// A real Pushgateway (Debian's prometheus-pushgateway, installed by scripts/install-test-servers.sh).
test('a real Pushgateway takes push, pushAdd (gzipped) and delete, and serves what was pushed under the group', async (t) => {
  const { spawn } = await import('node:child_process')
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const free = http.createServer()
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r))
  const port = (free.address() as AddressInfo).port
  await new Promise<void>((r) => free.close(() => r()))
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-pgw-'))
  const gw = spawn('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(dir, 'data')}`], { stdio: 'ignore' })
  const spawnError = new Promise<Error>((r) => gw.once('error', r))
  const base = `http://127.0.0.1:${port}`
  const get = (path: string) => fetch(`${base}${path}`).then(async (res) => ({ status: res.status, text: await res.text() }))
  try {
    const deadline = Date.now() + 20_000
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 100))])
      if (failed) throw new Error(`prometheus-pushgateway could not start (Debian package prometheus-pushgateway): ${failed.message}`)
      if ((await get('/-/ready').catch(() => ({ status: 0 }))).status === 200) break
      if (Date.now() > deadline) throw new Error('prometheus-pushgateway did not become ready')
    }
    const r = new hs.Registry({ name: `push-real-${process.pid}` })
    const c = new hs.Counter({ name: 'batch_records_total', help: 'Records.', labelNames: ['table'], registers: [r] })
    const g = new hs.Gauge({ name: 'batch_duration_seconds', help: 'Duration.', registers: [r] })
    c.inc({ table: 'users' }, 1234)
    g.set(NaN)
    const pusher = new hs.Pushgateway(base, {}, r)
    await pusher.push({ jobName: 'nightly', groupings: { instance: 'host/1' } })
    let text = (await get('/metrics')).text
    t.regex(text, /batch_records_total\{instance="host\/1",job="nightly",table="users"\} 1234/)
    t.regex(text, /batch_duration_seconds\{instance="host\/1",job="nightly"\} NaN/)
    c.inc({ table: 'users' }, 1)
    await new hs.Pushgateway(base, { headers: { 'Content-Encoding': 'gzip' } }, r).pushAdd({ jobName: 'nightly', groupings: { instance: 'host/1' } })
    text = (await get('/metrics')).text
    t.regex(text, /batch_records_total\{instance="host\/1",job="nightly",table="users"\} 1235/)
    await pusher.delete({ jobName: 'nightly', groupings: { instance: 'host/1' } })
    t.notRegex((await get('/metrics')).text, /batch_records_total/)
    // What the gateway refuses is an Error with its status and reason.
    const clash = new hs.Registry()
    new hs.Gauge({ name: 'batch_records_total', help: 'Now a gauge.', registers: [clash] }).set(1)
    await new hs.Pushgateway(base, {}, r).push({ jobName: 'other' })
    await t.throwsAsync(new hs.Pushgateway(base, {}, clash).pushAdd({ jobName: 'third' }), { message: /push failed with status 400/ })
  } finally {
    gw.kill()
  }
})
