// `hotstats serve` end to end: a real server process, the hot-shots client in every dialect over
// UDP and TCP, HTTP ingest, and answers checked against an oracle computed from the events sent.
// Runs on both backends (the child inherits HOTSTATS_BACKEND).
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import StatsD from 'hot-shots'

import { HyperLogLog } from '../index'
import { startPrometheus } from './helpers/prometheus'
import { exactQuantile, serve, type Served } from './helpers/serve'
import { rng } from './helpers/statsd-events'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Sends raw datagrams and waits for each send to complete. */
async function sendUdp(port: number, packets: string[]): Promise<void> {
  const s = createSocket('udp4')
  for (const p of packets) await new Promise<void>((res, rej) => s.send(p, port, '127.0.0.1', (e) => (e ? rej(e) : res())))
  s.close()
}

function client(port: number, opts: Record<string, unknown> = {}): StatsD {
  return new StatsD({ host: '127.0.0.1', port, maxBufferSize: 0, errorHandler: (e: Error) => { throw e }, ...opts })
}

async function closeClient(c: StatsD): Promise<void> {
  await new Promise<void>((res) => c.close(() => res()))
}

/** A seeded lognormal sample. */
function lognormal(n: number, seed: number): number[] {
  const rand = rng(seed)
  return Array.from({ length: n }, () => Math.round(1000 * Math.exp(3 + 0.8 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()))) / 1000)
}

function within(t: any, got: number, want: number, alpha: number, what: string): void {
  t.true(Math.abs(got - want) <= alpha * Math.abs(want) + 1e-12, `${what}: got ${got}, want ${want} within ${alpha}`)
}

test('every StatsD type through hot-shots (StatsD, DogStatsD, Telegraf; UDP and TCP) against an oracle', async (t) => {
  const s = await serve()
  t.teardown(() => s.stop('SIGKILL'))
  const latencies = lognormal(2000, 7)
  const dd = client(s.statsdPort, { globalTags: { env: 'test' } })
  const plain = client(s.statsdPort)
  const telegraf = client(s.statsdPort, { telegraf: true })
  const tcp = client(s.statsdPort, { protocol: 'tcp' })

  // Counters: 100 increments of 3 and 50 of 1; sampled ones are forced through (hot-shots samples
  // with Math.random), so the server must count value / rate exactly.
  for (let i = 0; i < 100; i++) plain.increment('hs.requests', 3)
  for (let i = 0; i < 50; i++) dd.increment('hs.tagged', 1, { route: '/a' })
  const random = Math.random
  Math.random = () => 0
  try {
    for (let i = 0; i < 40; i++) dd.increment('hs.sampled', 2, 0.25, { route: '/b' })
    for (let i = 0; i < 10; i++) plain.increment('hs.sampled.plain', 1, 0.1)
  } finally {
    Math.random = random
  }
  // Gauges: absolute, then signed deltas.
  plain.gauge('hs.queue', 10)
  plain.gaugeDelta('hs.queue', 5)
  plain.gaugeDelta('hs.queue', -3)
  // Timers, histograms, distributions.
  for (const v of latencies) dd.timing('hs.latency', v, { route: '/a' })
  for (const v of latencies.slice(0, 500)) dd.histogram('hs.hist', v)
  for (const v of latencies.slice(0, 500)) dd.distribution('hs.dist', v)
  // Sets: 3000 members with repeats.
  const members = Array.from({ length: 6000 }, (_, i) => `user-${i % 3000}`)
  for (const m of members) dd.set('hs.users', m)
  // Telegraf dialect and TCP.
  for (let i = 0; i < 20; i++) telegraf.increment('hs.telegraf', 1, { region: 'eu' })
  for (let i = 0; i < 30; i++) tcp.increment('hs.tcp', 2)
  await Promise.all([dd, plain, telegraf, tcp].map(closeClient))

  await s.settle(100 + 50 + 40 + 10 + 3 + 2000 + 1000 + 6000 + 20 + 30)
  const stats = async (q: string): Promise<any> => {
    const r = await s.get(`/api/v1/stats?${q}`)
    t.is(r.status, 200, `${q}: ${r.text}`)
    return r.body
  }
  const requests = await stats('name=hs.requests')
  t.is(requests.type, 'c')
  t.is(requests.sum, 300)
  t.is(requests.count, 100)
  t.is((await stats('name=hs.tagged&tags=env:test,route:/a')).sum, 50)
  const sampled = await stats('name=hs.sampled&tags=route:/b,env:test')
  t.is(sampled.sum, 40 * 2 / 0.25)
  t.is(sampled.count, 40)
  t.is((await stats('name=hs.sampled.plain')).sum, 10 / 0.1)
  t.is((await stats('name=hs.queue')).value, 12)
  t.is((await stats('name=hs.telegraf&tags=region:eu')).sum, 20)
  t.is((await stats('name=hs.tcp')).sum, 60)

  const lat = await stats('name=hs.latency&tags=env:test,route:/a')
  t.is(lat.count, latencies.length)
  t.is(lat.min, Math.min(...latencies))
  t.is(lat.max, Math.max(...latencies))
  for (const q of [0.5, 0.9, 0.99, 0.999]) within(t, lat.quantiles[String(q)], exactQuantile(latencies, q), 0.01, `p${q}`)
  const win = await stats('name=hs.latency&tags=env:test,route:/a&window=60')
  t.is(win.count, latencies.length)
  t.true(win.rate > 0)
  for (const q of [0.5, 0.99]) within(t, win.quantiles[String(q)], exactQuantile(latencies, q), 0.01, `window p${q}`)
  t.is((await stats('name=hs.hist&tags=env:test')).count, 500)
  t.is((await stats('name=hs.dist&tags=env:test')).count, 500)

  // Sets: what one HyperLogLog fed every member says, and within 3 standard errors of the truth.
  const users = await stats('name=hs.users&tags=env:test')
  const hll = new HyperLogLog().addMany(members)
  t.is(users.uniques, hll.count())
  t.true(Math.abs(users.uniques - 3000) <= 3 * 0.0081 * 3000, `uniques ${users.uniques}`)
  t.is((await stats('name=hs.users&tags=env:test&window=60')).uniques, hll.count())

  t.is((await s.get('/api/v1/stats?name=hs.nope')).status, 404)
  t.is((await s.get('/api/v1/stats?name=hs.requests&window=7')).status, 400)
  const series = await s.get('/api/v1/series?match=hs.&limit=5')
  t.is(series.body.total, 11)
  t.is(series.body.series.length, 5)
  const top = await s.get('/api/v1/top?by=rate&limit=3')
  t.is(top.body.series[0].key, 'hs.users|env:test')
  const card = await s.get('/api/v1/top?by=cardinality&limit=3')
  t.is(card.body.series[0].uniques, hll.count())

  // /metrics: Prometheus text that promtool accepts, with the values sent.
  const m = await s.get('/metrics')
  t.is(m.status, 200)
  t.regex(m.text, /^hs_requests_total 300$/m)
  t.regex(m.text, /^hs_sampled_total\{env="test",route="\/b"\} 320$/m)
  t.regex(m.text, /^hs_queue 12$/m)
  t.regex(m.text, /^hs_latency_count\{env="test",route="\/a"\} 2000$/m)
  t.regex(m.text, /^hotstats_server_events_total \d+$/m)
  const check = spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8' })
  t.is(check.status, 0, check.stdout + check.stderr)
  const om = await s.get('/metrics', { accept: 'application/openmetrics-text; version=1.0.0' })
  t.regex(om.headers.get('content-type') ?? '', /openmetrics/)
  t.regex(om.text, /# TYPE hs_requests counter\nhs_requests_total 300\n/)
  t.true(om.text.endsWith('# EOF\n'))
})

test('HTTP ingest: JSON, NDJSON and StatsD text; 202 with accepted/rejected/errors; bad lines counted and logged', async (t) => {
  const s = await serve()
  t.teardown(() => s.stop('SIGKILL'))
  const j = await s.post(
    '/api/v1/events',
    JSON.stringify([
      { name: 'web.hits', type: 'c', value: 2, tags: { page: 'home' } },
      { name: 'web.hits', type: 'c', value: 1, tags: ['page:home'], sampleRate: 0.5 },
      { name: 'web.ms', type: 'ms', value: 12.5 },
      { name: 'web.bad', type: 'c', value: 'x' },
      { name: 'web.users', type: 's', value: 42 },
      { name: 'web.temp', type: 'g', value: 21.5 },
    ]),
    'application/json',
  )
  t.is(j.status, 202)
  t.is(j.body.accepted, 5)
  t.is(j.body.rejected, 1)
  t.deepEqual(j.body.errors, [{ index: 3, reason: 'bad_value' }])
  const nd = await s.post('/api/v1/events', '{"name":"web.hits","type":"c","value":4,"tags":{"page":"home"}}\nnot json\n{"name":"web.ms","type":"ms","value":7.5}\n', 'application/x-ndjson')
  t.is(nd.status, 202)
  t.is(nd.body.accepted, 2)
  t.is(nd.body.rejected, 1)
  const txt = await s.post('/api/v1/events', 'web.hits:3|c|#page:home\nweb.ms:abc|ms\nweb.ms:1|zz\n', 'text/plain')
  t.is(txt.status, 202)
  t.is(txt.body.accepted, 1)
  t.is(txt.body.rejected, 2)
  // A packet with bad lines among good ones: the good ones count.
  await sendUdp(s.statsdPort, ['web.hits:1|c|#page:home\n:1|c\nweb.hits:1|c|@2|#page:home\nweb.hits:1|c|#page:home'])
  await s.settle(10)
  const hits = (await s.get('/api/v1/stats?name=web.hits&tags=page:home')).body
  t.is(hits.sum, 2 + 1 / 0.5 + 4 + 3 + 1 + 1)
  t.is((await s.get('/api/v1/stats?name=web.users')).body.uniques, 1)
  t.is((await s.get('/api/v1/stats?name=web.temp')).body.value, 21.5)
  const srv = (await s.get('/api/v1/server')).body
  t.is(srv.losses.parse_error.bad_value, 2)
  t.is(srv.losses.parse_error.bad_type, 1)
  t.is(srv.losses.parse_error.bad_json, 1)
  t.is(srv.losses.parse_error.empty_line_name, 1)
  t.is(srv.losses.parse_error.bad_sample_rate, 1)
  t.true(srv.badLines.some((l: any) => l.line.includes('web.ms:1|zz') && l.reason === 'bad_type'))
  const m = (await s.get('/metrics')).text
  t.regex(m, /^hotstats_server_parse_errors_total\{reason="bad_value"\} 2$/m)
  // Bounded body.
  const big = await s.post('/api/v1/events', 'x'.repeat(11 * 1024 * 1024), 'text/plain')
  t.is(big.status, 413)
  t.is((await s.get('/api/v1/server')).body.losses.body_too_large, 1)
})

test('type collisions are refused at ingest and counted; /metrics never fails; limits and TTL', async (t) => {
  const s = await serve(['--max-series-per-metric', '3', '--series-ttl', '2', '--max-packet-bytes', '200'])
  t.teardown(() => s.stop('SIGKILL'))
  await sendUdp(s.statsdPort, ['clash.x:1|c', 'clash.x:2|g', 'clash-x:5|g', 'lim:1|c|#i:1\nlim:1|c|#i:2\nlim:1|c|#i:3\nlim:1|c|#i:4\nlim:1|c|#i:5'])
  await s.settle(8)
  const srv = (await s.get('/api/v1/server')).body
  t.is(srv.losses.type_collision, 2)
  t.is(srv.losses.series_limit, 2)
  await sendUdp(s.statsdPort, [`big:1|c\n${'x'.repeat(300)}:1|c`])
  await sleep(200)
  t.is((await s.get('/api/v1/server')).body.losses.packet_too_large, 1)
  const m = await s.get('/metrics')
  t.is(m.status, 200)
  t.regex(m.text, /^hotstats_server_series_refused_total\{metric="lim"\} 2$/m)
  t.regex(m.text, /^hotstats_server_type_collisions_total\{metric="clash_x"\} 2$/m)
  t.is(spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8' }).status, 0)
  // Idle series expire after the TTL (2 s; the sweep runs at least every second).
  const deadline = Date.now() + 10_000
  while ((await s.get('/api/v1/server')).body.series > 0 && Date.now() < deadline) await sleep(200)
  t.is((await s.get('/api/v1/server')).body.series, 0)
  t.notRegex((await s.get('/metrics')).text, /^clash_x_total/m)
})

test('a mapping file in statsd_exporter format names the series', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-map-'))
  const file = join(dir, 'mapping.yml')
  writeFileSync(
    file,
    [
      'mappings:',
      '  - match: "test.dispatcher.*.*.*"',
      '    name: "dispatcher_events_total"',
      '    labels:',
      '      processor: "$1"',
      '      action: "$2"',
      '      outcome: "$3"',
      '      job: "test_dispatcher"',
      '  - match: "drop.*"',
      '    action: drop',
      '    name: "dropped"',
      '',
    ].join('\n'),
  )
  const s = await serve(['--mapping', file])
  t.teardown(() => s.stop('SIGKILL'))
  await sendUdp(s.statsdPort, ['test.dispatcher.FooProcessor.send.success:3|c', 'drop.me:1|c', 'other.name-x:2|c'])
  await s.settle(2)
  const m = (await s.get('/metrics')).text
  t.regex(m, /^dispatcher_events_total\{action="send",job="test_dispatcher",outcome="success",processor="FooProcessor"\} 3$/m)
  t.regex(m, /^other_name_x_total 2$/m)
  t.notRegex(m, /dropped/)
  t.is((await s.get('/api/v1/server')).body.losses.mapping_drop, 1)
})

test('auth token: ingest and API need it, constant-time compared; static files stay in their folder', async (t) => {
  const s = await serve(['--auth-token', 's3cret'])
  t.teardown(() => s.stop('SIGKILL'))
  t.is((await s.post('/api/v1/events', 'a:1|c', 'text/plain')).status, 401)
  t.is((await s.post('/api/v1/events', 'a:1|c', 'text/plain', { authorization: 'Bearer wrong' })).status, 401)
  t.is((await s.post('/api/v1/events', 'a:1|c', 'text/plain', { authorization: 'Bearer s3cret' })).status, 202)
  t.is((await s.get('/api/v1/series')).status, 401)
  t.is((await s.get('/api/v1/series', { authorization: 'Bearer s3cret' })).status, 200)
  t.is((await s.get('/metrics')).status, 200)
  t.is((await s.get('/-/healthy')).status, 200)
  t.is((await s.get('/-/ready')).status, 200)
  for (const p of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/..%2fpackage.json', '/../../etc/passwd', '/assets/uplot/../package.json']) {
    const r = await s.get(p)
    t.is(r.status, 404, p)
  }
})

test('state survives SIGTERM and kill -9 (periodic snapshot); a corrupt file is an error naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-state-'))
  const members = Array.from({ length: 500 }, (_, i) => `m${i}`)
  const a = await serve(['--state-dir', dir, '--snapshot-interval', '1'])
  await sendUdp(a.statsdPort, ['st.count:5|c', 'st.count:2|c|@0.5', 'st.gauge:7|g', ...lognormal(300, 3).map((v) => `st.ms:${v}|ms`), members.map((m) => `st.set:${m}|s`).join('\n')])
  await a.settle(3 + 300 + 500)
  const before = (await a.get('/api/v1/stats?name=st.ms')).body
  t.is(await a.stop('SIGTERM'), 0)
  t.true(existsSync(join(dir, 'state.hsv')))

  const b = await serve(['--state-dir', dir, '--snapshot-interval', '1'])
  t.is((await b.get('/api/v1/stats?name=st.count')).body.sum, 9)
  t.is((await b.get('/api/v1/stats?name=st.gauge')).body.value, 7)
  const ms = (await b.get('/api/v1/stats?name=st.ms')).body
  t.deepEqual([ms.count, ms.sum, ms.min, ms.max, ms.quantiles], [before.count, before.sum, before.min, before.max, before.quantiles])
  t.is((await b.get('/api/v1/stats?name=st.set')).body.uniques, new HyperLogLog().addMany(members).count())
  // Continue counting, let a periodic snapshot happen, then kill -9: at most one interval lost.
  await sendUdp(b.statsdPort, ['st.count:1|c'])
  await b.settle(1)
  await sleep(2500)
  await b.stop('SIGKILL')
  const c = await serve(['--state-dir', dir])
  t.is((await c.get('/api/v1/stats?name=st.count')).body.sum, 10)
  t.regex((await c.get('/metrics')).text, /^st_count_total 10$/m)
  t.is(await c.stop('SIGTERM'), 0)

  // Corrupt: one byte flipped in the body. Default: refuse to start, naming the file.
  const path = join(dir, 'state.hsv')
  const bytes = readFileSync(path)
  bytes[bytes.length - 5] ^= 0xff
  writeFileSync(path, bytes)
  await t.throwsAsync(serve(['--state-dir', dir]), { message: /state file .*state\.hsv is unusable: checksum mismatch/ })
  writeFileSync(path, bytes.subarray(0, 30))
  await t.throwsAsync(serve(['--state-dir', dir]), { message: /state\.hsv is unusable: .*truncated/ })
  const d = await serve(['--state-dir', dir, '--state-corrupt', 'move-aside'])
  t.is((await d.get('/api/v1/server')).body.series, 0)
  t.true(readdirSync(dir).some((f) => f.startsWith('state.hsv.corrupt-')))
  t.is(await d.stop('SIGINT'), 0)
})

test('a real Prometheus scrapes it: text, and protobuf with native histograms', async (t) => {
  const s = await serve()
  t.teardown(() => s.stop('SIGKILL'))
  const values = lognormal(3000, 11)
  const lines = values.map((v) => `prom.latency:${v}|d|#route:/x`)
  for (let i = 0; i < lines.length; i += 50) await sendUdp(s.statsdPort, [lines.slice(i, i + 50).join('\n')])
  await sendUdp(s.statsdPort, ['prom.requests:7|c|@0.5|#route:/x'])
  await s.settle(3001)
  for (const flags of [[], ['--enable-feature=native-histograms']]) {
    const prom = await startPrometheus(`127.0.0.1:${s.httpPort}`, flags)
    try {
      await prom.waitFor('prom_requests_total', (r) => r.length === 1 && r[0].value === 14)
      t.is((await prom.query('prom_requests_total{route="/x"}'))[0].value, 14)
      if (flags.length === 0) {
        const r = await prom.waitFor('prom_latency_count', (x) => x.length === 1)
        t.is(r[0].value, 3000)
        const p99 = await prom.query('prom_latency{quantile="0.99"}')
        within(t, p99[0].value, exactQuantile(values, 0.99), 0.01, 'summary p99 through Prometheus')
      } else {
        const c = await prom.waitFor('histogram_count(prom_latency)', (x) => x.length === 1)
        t.is(c[0].value, 3000)
        const q = await prom.query('histogram_quantile(0.9, prom_latency)')
        // Rebinning into schema-8 buckets plus Prometheus's interpolation: about 1.3% (README).
        within(t, q[0].value, exactQuantile(values, 0.9), 0.03, 'native histogram p90 through Prometheus')
      }
    } finally {
      await prom.stop()
    }
  }
})

test('hotstats --help documents every flag with its environment variable; bad flags exit 2', (t) => {
  const cli = join(__dirname, '..', 'server', 'cli.ts')
  const help = execFileSync(process.execPath, ['--import', 'tsx', cli, '--help'], { encoding: 'utf8' })
  for (const f of ['--host', '--http-port', '--statsd-port', '--state-dir', '--mapping', '--auth-token', '--config']) t.true(help.includes(f), f)
  t.true(help.includes('HOTSTATS_HTTP_PORT'))
  const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--http-port', 'abc'], { encoding: 'utf8' })
  t.is(bad.status, 2)
  t.regex(bad.stderr, /--http-port must be a non-negative integer/)
})

test('flags also come from the environment and a config file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-cfg-'))
  const cfg = join(dir, 'cfg.yml')
  writeFileSync(cfg, 'windows: [10, 60]\nmax-tags: 2\n')
  const s = await serve(['--config', cfg], { HOTSTATS_AUTH_TOKEN: 'envtok' })
  t.teardown(() => s.stop('SIGKILL'))
  t.is((await s.get('/api/v1/series')).status, 401)
  await sendUdp(s.statsdPort, ['cfg.x:1|c|#a:1,b:2,c:3', 'cfg.x:1|c|#a:1'])
  await s.settle(1)
  const auth = { authorization: 'Bearer envtok' }
  t.is((await s.get('/api/v1/stats?name=cfg.x&tags=a:1&window=10', auth)).body.count, 1)
  t.is((await s.get('/api/v1/server', auth)).body.losses.parse_error.too_many_tags, 1)
})

// Keeps the Served type import used when only some tests run.
export type _S = Served
