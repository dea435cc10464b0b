// The dashboard in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser). The spec starts `hotstats serve`, sends known events over HTTP and over
// UDP StatsD (hot-shots), opens the page, picks series, and reads back from the page (the DOM's
// data-testid elements and window.__hotstats.charts, the data each chart last drew) that it shows
// the values sent. It fails on any console error or page error, takes a screenshot, then kills
// the server, starts a new one on the same port and checks that the page reconnects by itself.
// Last, a cluster: a real redis-server and two `--redis` nodes; the page on one of them lists
// both nodes with their lag, and its scope toggle shows the sum over the nodes.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import StatsD from 'hot-shots'
import { chromium, type Browser, type Page } from 'playwright-core'

import { freePort } from './helpers/redis'
import { exactQuantile, serve, type Served } from './helpers/serve'
import { rng } from './helpers/statsd-events'

const CHROMIUM = '/usr/bin/chromium'
const root = join(__dirname, '..')
const outDir = join(__dirname, 'output')

// ---------- the events sent, and what they must show ----------

function normals(seed: number): () => number {
  const u = rng(seed)
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())
}

const z = normals(7)
/** dash.latency|route:/checkout: 2000 timings, log-normal around 20 ms (HTTP JSON). */
const LATENCY = Array.from({ length: 2000 }, () => Math.round(Math.exp(3 + 0.5 * z()) * 1000) / 1000)
const LATENCY_KEY = 'dash.latency|route:/checkout'
/** dash.const: 40 timings of exactly 42 (every bucket's p50/p90/p99 is 42). */
const CONST_VALUE = 42
/** dash.spc|host:h1: 20 past 5 s buckets of 8 values each (HTTP, with timestamps); the last 3 shifted by +25. */
const SPC_BUCKETS = 20
const SPC_SHIFTED = 3
const SPC_KEY = 'dash.spc|host:h1'
/** dash.heartbeat: 5 events every 250 ms while the page is open, so the ingest chart has a rate to show. */
const HEARTBEAT_PER_SECOND = 20
const beatSize = HEARTBEAT_PER_SECOND / 4
/** A/B: exposures and conversions per variant (A over HTTP, B over UDP), order values per conversion. */
const AB = { A: { exposures: 1000, conversions: 100 }, B: { exposures: 1000, conversions: 130 } }

interface Ctx {
  server: Served
  browser: Browser
  page: Page
  consoleErrors: { text: string; url: string; phase: string }[]
  phase: string
  sent: number
  heartbeat: NodeJS.Timeout
  heartbeatSince: number
  /** When each heartbeat POST was answered (unix seconds): its events were counted before. */
  beats: number[]
}
let ctx: Ctx

async function postJson(s: Served, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const r = await s.post('/api/v1/events', JSON.stringify(events.slice(i, i + 500)), 'application/json')
    if (r.status !== 202 || r.body.rejected !== 0) throw new Error(`POST /api/v1/events: ${r.status} ${JSON.stringify(r.body)}`)
  }
}

function spcEvents(now: number): { events: object[]; means: number[] } {
  const zz = normals(11)
  const events: object[] = []
  const means: number[] = []
  // Whole buckets back from the current one, at each bucket's middle (one bucket each).
  const bucketStart = Math.floor(now / 5000) * 5000
  for (let k = SPC_BUCKETS; k >= 1; k--) {
    const mean = Math.round((100 + (k <= SPC_SHIFTED ? 25 : 0) + 3 * zz()) * 100) / 100
    means.push(mean)
    for (const d of [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]) {
      events.push({ name: 'dash.spc', type: 'ms', value: mean + d, tags: { host: 'h1' }, timestamp: bucketStart - k * 5000 + 2500 })
    }
  }
  return { events, means }
}

async function sendAll(s: Served): Promise<number> {
  let sent = 0
  // HTTP JSON
  const latency = LATENCY.map((v) => ({ name: 'dash.latency', type: 'ms', value: v, tags: { route: '/checkout' } }))
  const constant = Array.from({ length: 40 }, () => ({ name: 'dash.const', type: 'ms', value: CONST_VALUE }))
  const sampled = Array.from({ length: 100 }, () => ({ name: 'dash.sampled', type: 'c', value: 1, sampleRate: 0.5 }))
  const spc = spcEvents(Date.now()).events
  const v = rng(3)
  const abA = [
    ...Array.from({ length: AB.A.exposures / 5 }, () => ({ name: 'demo.ab.exposures', type: 'c', value: 5, tags: ['variant:A'] })),
    ...Array.from({ length: AB.A.conversions }, () => ({ name: 'demo.ab.conversions', type: 'c', value: 1, tags: ['variant:A'] })),
    ...Array.from({ length: AB.A.conversions }, () => ({ name: 'demo.ab.order_value', type: 'd', value: Math.round((40 + 20 * v()) * 100) / 100, tags: ['variant:A'] })),
  ]
  for (const batch of [latency, constant, sampled, spc, abA]) {
    await postJson(s, batch)
    sent += batch.length
  }
  // One refused line: a parse error the losses table must show.
  const bad = await s.post('/api/v1/events', 'dash.bad:notanumber|c\n', 'text/plain')
  if (bad.status !== 202 || bad.body.rejected !== 1) throw new Error(`bad line: ${bad.status} ${JSON.stringify(bad.body)}`)

  // UDP StatsD through hot-shots (DogStatsD tags), buffered into multi-line datagrams.
  const errors: Error[] = []
  const client = new StatsD({ host: '127.0.0.1', port: s.statsdPort, protocol: 'udp', maxBufferSize: 1200, bufferFlushInterval: 20, errorHandler: (e) => errors.push(e) })
  const udp: (() => void)[] = []
  for (let i = 0; i < 300; i++) udp.push(() => client.increment('dash.requests', 1, { route: '/checkout' }))
  udp.push(() => client.gauge('dash.queue', 17))
  udp.push(() => client.gauge('dash.queue', CONST_VALUE))
  for (let i = 0; i < 500; i++) udp.push(() => client.set('dash.users', `user-${i % 250}`))
  for (let i = 0; i < AB.B.exposures / 10; i++) udp.push(() => client.increment('demo.ab.exposures', 10, { variant: 'B' }))
  for (let i = 0; i < AB.B.conversions; i++) udp.push(() => client.increment('demo.ab.conversions', 1, { variant: 'B' }))
  for (let i = 0; i < AB.B.conversions; i++) udp.push(() => client.distribution('demo.ab.order_value', Math.round((45 + 20 * v()) * 100) / 100, { variant: 'B' }))
  // A few hundred lines at a time, so the loopback socket's buffer never overflows.
  for (let i = 0; i < udp.length; i += 200) {
    for (const f of udp.slice(i, i + 200)) f()
    await new Promise((r) => setTimeout(r, 30))
  }
  sent += udp.length
  await new Promise<void>((resolve) => client.close(() => resolve()))
  if (errors.length) throw new Error(`hot-shots: ${errors.map((e) => e.message).join('; ')}`)
  return sent
}

// ---------- page helpers ----------

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await f()
      if (v !== undefined && v !== null && v !== false) return v as T
      last = v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** The raw number an element shows (its data-value), or null while it shows none. */
async function value(page: Page, testid: string): Promise<number | null> {
  const raw = await page.getByTestId(testid).first().getAttribute('data-value', { timeout: 5000 })
  return raw === null || raw === '' ? null : Number(raw)
}

async function charts(page: Page): Promise<Record<string, { series: (number | null)[][]; [k: string]: unknown }>> {
  return page.evaluate(() => (globalThis as unknown as { __hotstats: { charts: Record<string, { series: (number | null)[][] }> } }).__hotstats.charts)
}

/** Types into the search box, waits for the list to match, and clicks the series with this key. */
async function pick(page: Page, search: string, key: string): Promise<void> {
  await page.getByTestId('series-search').fill(search)
  await until(`the list for ${search}`, async () => {
    const keys = await page.getByTestId('series-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-key') ?? ''))
    return keys.includes(key) && keys.every((k) => k.includes(search))
  })
  await page.locator(`[data-testid="series-item"][data-key="${key}"]`).click()
  await until(`${key} chosen`, async () => (await page.getByTestId('selected-key').textContent()) === key)
}

/** The values of the window menu, in order. */
async function windowMenu(page: Page): Promise<string[]> {
  return page.getByTestId('stats-window').locator('option').evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''))
}

function within(got: number | null, want: number, rel: number): boolean {
  return got !== null && Math.abs(got - want) <= rel * Math.abs(want)
}

// ---------- setup ----------

test.before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard spec needs Debian's chromium (sudo apt-get install -y chromium)`)
  const server = await serve()
  let sent: number
  let browser: Browser
  try {
    sent = await sendAll(server)
    await server.settle(sent)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
  } catch (e) {
    await server.stop('SIGKILL')
    throw e
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const beat = Array.from({ length: beatSize }, () => ({ name: 'dash.heartbeat', type: 'c', value: 1 }))
  const heartbeat = setInterval(() => {
    const s = ctx.server
    void postJson(s, beat).then(
      () => s === ctx.server && ctx.beats.push(Date.now() / 1000),
      () => undefined,
    )
  }, 250)
  ctx = { server, browser, page, consoleErrors: [], phase: 'running', sent, heartbeat, heartbeatSince: Date.now() / 1000, beats: [] }
  // Every console error and uncaught exception is recorded with the phase it happened in.
  page.on('console', (m) => {
    if (m.type() === 'error') ctx.consoleErrors.push({ text: m.text(), url: m.location().url, phase: ctx.phase })
  })
  page.on('pageerror', (e) => ctx.consoleErrors.push({ text: `page error: ${e.message}`, url: '', phase: ctx.phase }))
  await page.goto(server.http + '/')
  await until('the live stream', async () => (await page.getByTestId('conn-status').getAttribute('data-state')) === 'live')
})

test.after.always(async () => {
  if (ctx) clearInterval(ctx.heartbeat)
  await ctx?.browser.close().catch(() => undefined)
  await ctx?.server.stop('SIGKILL').catch(() => undefined)
})

// ---------- checks (in order: they share the page) ----------

test.serial('the header and the losses table show the server as the API reports it', async (t) => {
  const { page, server } = ctx
  const api = (await server.get('/api/v1/server')).body
  t.is(await page.getByTestId('server-backend').getAttribute('data-value'), api.backend)
  if (process.env.HOTSTATS_BACKEND) t.is(api.backend, process.env.HOTSTATS_BACKEND)
  t.is(await page.getByTestId('server-node').getAttribute('data-value'), api.nodeId === null ? '' : String(api.nodeId))
  // One node without --redis: no cluster panel, no scope toggle.
  t.is(api.redis, null)
  t.true(await page.getByTestId('cluster-panel').isHidden())
  t.true(await page.getByTestId('scope-toggle').isHidden())
  // The window menu is the server's windows (then "since start").
  t.deepEqual(await windowMenu(page), [...(api.windows as number[]).map(String), ''])
  // The count the page shows is the API's (read again each time: events still arriving may add a series).
  const shown = await until('the series count', async () => {
    const now = (await server.get('/api/v1/server')).body.series as number
    return (await value(page, 'server-series')) === now && now
  })
  t.true(shown >= api.series)
  t.true((await value(page, 'ingest-events'))! >= ctx.sent)
  t.true((await value(page, 'server-rss'))! > 1e6)
  t.true((await value(page, 'server-uptime'))! >= 0)
  // Every loss counter, by cause and parse errors by reason, with the API's values.
  let checked = 0
  for (const [name, v] of Object.entries(api.losses as Record<string, number | Record<string, number>>)) {
    if (typeof v === 'number') {
      t.is(await value(page, `loss-${name}`), v, name)
      checked++
    } else {
      for (const [reason, n] of Object.entries(v)) {
        t.is(await value(page, `loss-${name}-${reason}`), n, `${name} ${reason}`)
        checked++
      }
    }
  }
  t.true(checked >= 8)
  t.is(await value(page, 'loss-parse_error-bad_value'), 1)
  t.regex((await page.locator('[data-loss="parse_error-bad_value"]').getAttribute('class')) ?? '', /nonzero/)
  t.notRegex((await page.locator('[data-loss="ring_full"]').getAttribute('class')) ?? '', /nonzero/)
  t.is(await value(page, 'loss-total'), 1)
  // The sample of refused lines names the line sent.
  await page.locator('#bad-lines-box summary').click()
  await until('the refused line', async () => ((await page.getByTestId('bad-lines').textContent()) ?? '').includes('dash.bad:notanumber|c'))
  // The ingest chart draws the live ticks' events/s: over the ticks drawn since the heartbeat
  // started, rate × seconds adds up to the heartbeat events sent between the first and last tick.
  const c = await until('ingest ticks', async () => {
    const ing = (await charts(page)).ingest
    return ing.series[0].filter((x) => x !== null && x > ctx.heartbeatSince + 1).length >= 6 ? ing : null
  })
  const [ts, eps] = c.series as number[][]
  const first = ts.findIndex((x) => x > ctx.heartbeatSince + 1)
  let drawn = 0
  for (let i = first + 1; i < ts.length; i++) drawn += eps[i] * (ts[i] - ts[i - 1])
  const posted = ctx.beats.filter((b) => b > ts[first] && b <= ts[ts.length - 1]).length * beatSize
  t.true(Math.abs(drawn - posted) <= 3 * beatSize, `events/s drawn ${eps.slice(first).join(', ')}: ${drawn} events, ${posted} posted`)
  t.true(posted >= 5 * beatSize)
  t.true((await value(page, 'ingest-rate'))! > 0)
  t.true((await value(page, 'ingest-events'))! >= ctx.sent)
  t.true(api.series >= 13)
})

test.serial('the search box lists matching series and a distribution shows its count and quantiles', async (t) => {
  const { page } = ctx
  await pick(page, 'dash.latency', LATENCY_KEY)
  // The default window (60 s) shows what /api/v1/stats?window=60 answers.
  await until('the 60 s window', async () => {
    const api = (await ctx.server.get(`/api/v1/stats?name=dash.latency&tags=route:/checkout&window=60`)).body
    return api.window === 60 && (await value(page, 'stat-count')) === api.count && (await value(page, 'stat-p99')) === api.quantiles['0.99']
  })
  // Since the start: exactly what was sent, however long this run took.
  await page.getByTestId('stats-window').selectOption('')
  await until('the count', async () => (await value(page, 'stat-count')) === LATENCY.length && ((await page.getByTestId('stats-status').textContent()) ?? '').includes('since'))
  const sorted = [...LATENCY].sort((a, b) => a - b)
  for (const [id, q] of [['stat-p50', 0.5], ['stat-p90', 0.9], ['stat-p99', 0.99]] as const) {
    const got = await value(page, id)
    t.true(within(got, exactQuantile(LATENCY, q), 0.01), `${id}: ${got} vs exact ${exactQuantile(LATENCY, q)}`)
    // what people read is the same number, rounded
    t.true(within(Number(((await page.getByTestId(id).textContent()) ?? '').replace(/,/g, '')), got!, 0.001))
  }
  t.is(await value(page, 'stat-min'), sorted[0])
  t.is(await value(page, 'stat-max'), sorted[sorted.length - 1])
  t.true(within(await value(page, 'stat-mean'), LATENCY.reduce((a, b) => a + b, 0) / LATENCY.length, 1e-9))
  // The charts: every event is in the rate chart's buckets, the band lies within the values sent.
  const c = await until('the history charts', async () => {
    const all = await charts(page)
    return all.seriesRate && all.quantiles ? all : null
  })
  const step = c.seriesRate.step as number
  const counts = c.seriesRate.count as (number | null)[]
  t.is(counts.reduce<number>((a, b) => a + (b ?? 0), 0), LATENCY.length)
  // events/s per bucket; the newest bucket, still filling, over the seconds it has covered
  const partial = c.seriesRate.partialLast as number | undefined
  c.seriesRate.series[1].forEach((r, i) => {
    if (counts[i] === null) return t.is(r, null)
    const want = counts[i]! / (partial !== undefined && i === counts.length - 1 ? partial : step)
    t.true(within(r, want, 1e-9), `bucket ${i}: ${r} vs ${want}`)
  })
  const [, p50, p90, p99] = c.quantiles.series
  const drawn = p99.filter((x): x is number => x !== null)
  t.true(drawn.length >= 1)
  for (let i = 0; i < p50.length; i++) {
    if (p50[i] === null) continue
    t.true(p50[i]! <= p90[i]! && p90[i]! <= p99[i]!)
    t.true(p50[i]! >= sorted[0] * 0.99 && p99[i]! <= sorted[sorted.length - 1] * 1.01)
  }
  // A quantile chart whose every value is 42.
  await pick(page, 'dash.const', 'dash.const')
  const k = await until('the constant series', async () => {
    const all = await charts(page)
    return all.quantiles && all.quantiles.series[1].some((x) => x !== null) ? all.quantiles : null
  })
  for (const s of k.series.slice(1)) for (const x of s) if (x !== null) t.true(within(x, CONST_VALUE, 0.01), `${x}`)
  t.true(within(await value(page, 'stat-p99'), CONST_VALUE, 0.01))
})

test.serial('counters, a gauge and a set show what was sent over UDP and HTTP', async (t) => {
  const { page } = ctx
  await page.getByTestId('stats-window').selectOption('') // since the start: exact totals
  await pick(page, 'dash.requests', 'dash.requests|route:/checkout')
  await until('the UDP counter', async () => (await value(page, 'stat-count')) === 300)
  t.is(await value(page, 'stat-sum'), 300)
  t.true(await page.getByTestId('stat-rate').isHidden()) // no rate since the start
  // Sample rates: 100 events sent @0.5 count as 200.
  await pick(page, 'dash.sampled', 'dash.sampled')
  await until('the sampled counter', async () => (await value(page, 'stat-count')) === 100)
  t.is(await value(page, 'stat-sum'), 200)
  await pick(page, 'dash.queue', 'dash.queue')
  await until('the gauge', async () => (await value(page, 'stat-value')) === CONST_VALUE)
  const g = await until('the gauge chart', async () => (await charts(page)).value)
  t.is(g.series[1].filter((x) => x !== null).at(-1), CONST_VALUE)
  t.true(await page.locator('#box-quantiles').isHidden())
  await pick(page, 'dash.users', 'dash.users')
  await until('the set', async () => within(await value(page, 'stat-uniques'), 250, 0.03))
  t.is(await value(page, 'stat-count'), 500)
  const u = await until('the uniques chart', async () => (await charts(page)).uniques)
  // Per bucket: at most the 250 members (all of them when one bucket got every event).
  const perBucket = u.series[1].filter((x): x is number => x !== null)
  t.true(perBucket.length >= 1 && perBucket.every((x) => x >= 1 && x <= 250 * 1.03))
  if (perBucket.length === 1) t.true(within(perBucket[0], 250, 0.03))
  t.true(await page.locator('#box-uniques').isVisible())
  t.regex((await page.getByTestId('spc-status').textContent()) ?? '', /sets? /)
})

test.serial('the top-k tables rank by rate and by cardinality, and a row picks its series', async (t) => {
  const { page, server } = ctx
  // By rate: the live stream's list, as /api/v1/top answers it (the same window, a second apart).
  let api: { series: { key: string; rate: number }[] } = { series: [] }
  await until('the top by rate', async () => {
    api = (await server.get('/api/v1/top?by=rate&limit=10')).body
    const keys = await page.getByTestId('top-rate-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))
    return keys.length >= 5 && keys.join() === api.series.map((s) => s.key).join()
  })
  const rates = (await page.getByTestId('top-rate-value').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))))) as number[]
  rates.forEach((r, i) => t.true(within(r, api.series[i].rate, 0.25), `${r} vs ${api.series[i].rate}`))
  t.true(api.series.some((s) => s.key === LATENCY_KEY))
  const card = page.locator('[data-testid="top-cardinality-row"][data-key="dash.users"] [data-testid="top-cardinality-value"]')
  await card.waitFor({ timeout: 10_000 })
  t.true(within(Number(await card.getAttribute('data-value')), 250, 0.03))
  await page.locator(`[data-testid="top-rate-row"][data-key="${LATENCY_KEY}"]`).click()
  await until('the row picked', async () => (await page.getByTestId('selected-key').textContent()) === LATENCY_KEY)
})

test.serial('the control chart draws the bucket means, its limits, and flags the injected shift', async (t) => {
  const { page, server } = ctx
  await pick(page, 'dash.spc', SPC_KEY)
  await until('the control chart', async () => (await value(page, 'spc-points')) === SPC_BUCKETS)
  const api = (await server.get('/api/v1/spc?name=dash.spc&tags=host:h1&seconds=300')).body
  const c = (await charts(page)).spc
  const [, points, center, ucl, lcl, marked] = c.series
  t.deepEqual(points, api.points)
  t.is(points.length, SPC_BUCKETS)
  t.is(await value(page, 'spc-ucl'), api.ucl)
  t.is(await value(page, 'spc-lcl'), api.lcl)
  t.is(await value(page, 'spc-center'), api.center)
  t.true(center.every((x) => x === api.center) && ucl.every((x) => x === api.ucl) && lcl.every((x) => x === api.lcl))
  // The last 3 buckets (+25) are beyond the UCL, marked in the chart and listed.
  const shifted = Array.from({ length: SPC_SHIFTED }, (_, i) => SPC_BUCKETS - SPC_SHIFTED + i)
  for (const i of shifted) {
    t.true(points[i]! > api.ucl, `point ${i} = ${points[i]} vs UCL ${api.ucl}`)
    t.is(marked[i], points[i])
    t.truthy(await page.locator(`[data-testid="spc-violation"][data-index="${i}"][data-rule="1"]`).count())
  }
  // Marked points are exactly the violations the API returned.
  const flagged = new Set<number>(api.violations.map((v: { index: number }) => v.index))
  marked.forEach((x, i) => t.is(x !== null, flagged.has(i), `index ${i}`))
  t.is(await value(page, 'spc-violation-count'), api.violations.length)
  t.is(await page.getByTestId('spc-violation').count(), Math.min(50, api.violations.length))
})

test.serial('the A/B panel shows the exposures, conversions, rates and the API verdicts', async (t) => {
  const { page, server } = ctx
  const q = '/api/v1/ab?exposures=demo.ab.exposures&conversions=demo.ab.conversions&value=demo.ab.order_value&tag=variant&a=A&b=B'
  const api = (await server.get(q)).body
  await until('the A/B panel', async () => (await value(page, 'ab-b-conversions')) === AB.B.conversions)
  for (const slot of ['a', 'b'] as const) {
    const want = AB[slot === 'a' ? 'A' : 'B']
    t.is(await value(page, `ab-${slot}-exposures`), want.exposures)
    t.is(await value(page, `ab-${slot}-conversions`), want.conversions)
    t.is(await value(page, `ab-${slot}-rate`), want.conversions / want.exposures)
    t.is(await value(page, `ab-${slot}-value-count`), want.conversions)
    const ci = page.getByTestId(`ab-${slot}-ci`)
    const lo = Number(await ci.getAttribute('data-lo'))
    const hi = Number(await ci.getAttribute('data-hi'))
    t.true(lo < want.conversions / want.exposures && want.conversions / want.exposures < hi)
  }
  const prob = (await value(page, 'ab-prob-b-beats-a'))!
  t.true(prob > 0 && prob < 1)
  t.is(prob, api.bayesian.probBBeatsA)
  t.true(prob > 0.9) // 13% against 10% of 1000 each
  // The z-test, checked independently: pooled two-proportion z.
  const pool = (AB.A.conversions + AB.B.conversions) / (AB.A.exposures + AB.B.exposures)
  const zStat = (AB.B.conversions / AB.B.exposures - AB.A.conversions / AB.A.exposures) / Math.sqrt(pool * (1 - pool) * (1 / AB.A.exposures + 1 / AB.B.exposures))
  t.true(within(Math.abs((await value(page, 'ab-z-statistic'))!), zStat, 1e-9))
  t.is(await value(page, 'ab-z-pvalue'), api.zTest.pValue)
  t.true(api.zTest.pValue > 0.03 && api.zTest.pValue < 0.04) // two-sided p for |z| = 2.10
  const welch = (await value(page, 'ab-welch-pvalue'))!
  t.is(welch, api.welch.pValue)
  t.true(welch >= 0 && welch <= 1)
  t.is(await page.getByTestId('ab-error').count(), api.errors.length)
  // Another experiment name: no data yet, with the server's reasons.
  await page.getByTestId('ab-input-exposures').fill('nope.exposures')
  await until('no data yet', async () => ((await page.getByTestId('ab-status').textContent()) ?? '').includes('no data yet'))
  await page.getByTestId('ab-input-exposures').fill('demo.ab.exposures')
  await until('the A/B panel again', async () => (await value(page, 'ab-a-exposures')) === AB.A.exposures)
})

test.serial('screenshot at 1280×800, and no console errors so far', async (t) => {
  const { page } = ctx
  await pick(page, 'dash.spc', SPC_KEY)
  await page.getByTestId('series-search').fill('')
  await page.getByTestId('stats-window').selectOption('60')
  await until('the control chart', async () => (await value(page, 'spc-points')) === SPC_BUCKETS)
  await page.waitForTimeout(2500) // one more poll, so every panel is drawn
  // Readable at 1280 wide: nothing overflows sideways.
  t.true(
    await page.evaluate(() => {
      const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } }
      return g.document.documentElement.scrollWidth <= g.innerWidth
    }),
  )
  mkdirSync(outDir, { recursive: true })
  const file = join(outDir, 'dashboard.png')
  await page.screenshot({ path: file, fullPage: true })
  // The README's picture is this screenshot; refresh it with HOTSTATS_UPDATE_SCREENSHOT=1 (a
  // normal run leaves the committed file alone).
  if (process.env.HOTSTATS_UPDATE_SCREENSHOT === '1') copyFileSync(file, join(root, 'docs', 'dashboard.png'))
  t.deepEqual(ctx.consoleErrors, [])
})

test.serial('the page reconnects when the server restarts, and live data flows again', async (t) => {
  const { page } = ctx
  const port = ctx.server.httpPort
  const before = (await ctx.server.get('/api/v1/server')).body
  clearInterval(ctx.heartbeat)
  await new Promise((r) => setTimeout(r, 500))
  ctx.phase = 'restart'
  await ctx.server.stop('SIGKILL')
  await until('the page to notice', async () => (await page.getByTestId('conn-status').getAttribute('data-state')) !== 'live', 10_000)
  // A new server on the same HTTP port (a fresh state: no --state-dir), with other windows.
  ctx.server = await until('a new server on the same port', () => serve(['--http-port', String(port), '--windows', '60,300,3600']), 20_000)
  t.is(ctx.server.httpPort, port)
  await until('the page to reconnect', async () => (await page.getByTestId('conn-status').getAttribute('data-state')) === 'live', 20_000)
  const restarts = await page.evaluate(() => (globalThis as unknown as { __hotstats: { restarts: number } }).__hotstats.restarts)
  t.true(restarts >= 1)
  t.true((await value(page, 'server-uptime'))! < before.uptimeSeconds)
  // The window menu follows the new server's windows, and keeps the window chosen (60 s).
  await until('the new windows', async () => (await windowMenu(page)).join() === '60,300,3600,')
  t.is(await page.getByTestId('stats-window').inputValue(), '60')
  // The chosen series is gone with the old state: "no data yet", then new events show up.
  await until('no data yet', async () => ((await page.getByTestId('stats-status').textContent()) ?? '').includes('no data yet'))
  const restartedAt = Date.now() / 1000
  await postJson(ctx.server, Array.from({ length: 7 }, (_, i) => ({ name: 'dash.spc', type: 'ms', value: 100 + i, tags: { host: 'h1' } })))
  await ctx.server.settle(7)
  await until('the new events on the page', async () => (await value(page, 'stat-count')) === 7, 20_000)
  await until('ingest-events from the new server', async () => (await value(page, 'ingest-events')) === 7)
  await until('live ticks after the restart', async () => {
    const c = (await charts(page)).ingest
    return c.series[0].filter((x) => x !== null && x > restartedAt).length >= 2
  })
  ctx.phase = 'after-restart'
  await page.waitForTimeout(2500)
  // While the server was down the browser logged its failed connections (that is the
  // browser's own network log); nothing else, and nothing at all before or after.
  const tolerated = (e: { text: string; phase: string }): boolean =>
    e.phase === 'restart' && /net::ERR_(CONNECTION_REFUSED|EMPTY_RESPONSE|CONNECTION_RESET|INCOMPLETE_CHUNKED_ENCODING|CONNECTION_CLOSED)/.test(e.text)
  t.log(`${ctx.consoleErrors.filter(tolerated).length} failed connections logged by the browser while the server was down`)
  t.deepEqual(
    ctx.consoleErrors.filter((e) => !tolerated(e)),
    [],
  )
})

// ---------- a cluster: two nodes sharing one redis-server ----------

/** What each node receives: a counter (some at sample rate 0.5) and a distribution. */
const CLUSTER = {
  a: { hits: 60, hitValue: 2, hitRate: 1, latency: 300, seed: 21 },
  b: { hits: 40, hitValue: 2, hitRate: 0.5, latency: 200, seed: 22 },
}
const HITS_KEY = 'dash.cluster.hits|app:x'

function clusterEvents(n: (typeof CLUSTER)['a']): { events: object[]; sum: number; latencies: number[] } {
  const u = rng(n.seed)
  const latencies = Array.from({ length: n.latency }, () => Math.round(Math.exp(2 + u()) * 1000) / 1000)
  const events = [
    ...Array.from({ length: n.hits }, () => ({ name: 'dash.cluster.hits', type: 'c', value: n.hitValue, sampleRate: n.hitRate, tags: { app: 'x' } })),
    ...latencies.map((v) => ({ name: 'dash.cluster.latency', type: 'ms', value: v })),
  ]
  return { events, sum: (n.hits * n.hitValue) / n.hitRate, latencies }
}

/** A redis-server (Debian's) on a free loopback port, without persistence; resolves once it answers PING. */
async function redisServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise((r) => proc.once('exit', r))
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await exited
  }
  const deadline = Date.now() + 10_000
  while (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') {
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop()
      throw new Error('redis-server did not start (is the Debian package redis-server installed?)')
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { port, stop }
}

test.serial('a cluster: the panel lists every node with its lag, and the cluster scope shows the sum over the nodes', async (t) => {
  const redis = await redisServer()
  t.teardown(() => redis.stop())
  const url = `redis://127.0.0.1:${redis.port}`
  const nodes: Record<'a' | 'b', Served> = {} as Record<'a' | 'b', Served>
  t.teardown(() => Promise.all(Object.values(nodes).map((n) => n.stop('SIGKILL'))))
  for (const id of ['a', 'b'] as const) nodes[id] = await serve(['--redis', url, '--node-id', id, '--publish-interval', '0.5'])
  const a = clusterEvents(CLUSTER.a)
  const b = clusterEvents(CLUSTER.b)
  await postJson(nodes.a, a.events)
  await postJson(nodes.b, b.events)
  await nodes.a.settle(a.events.length)
  await nodes.b.settle(b.events.length)
  const all = [...a.latencies, ...b.latencies]

  // The page opens on node a right away (before the nodes have published what they got).
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => page.close())
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url}`)
  })
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`))
  await page.goto(nodes.a.http + '/')
  await until('the live stream', async () => (await page.getByTestId('conn-status').getAttribute('data-state')) === 'live')
  t.is(await page.getByTestId('server-node').getAttribute('data-value'), 'a')

  // The cluster panel: both nodes, each with its last publish, a small lag and its series.
  await until('the cluster panel', async () => page.getByTestId('cluster-panel').isVisible())
  const rows = await until('both nodes with their series published', async () => {
    const r = await page.getByTestId('cluster-node-row').evaluateAll((els) =>
      els.map((e) => ({
        node: e.getAttribute('data-node'),
        self: e.getAttribute('data-self'),
        stale: e.getAttribute('data-stale'),
        publishedAt: Number(e.querySelector('[data-testid="cluster-node-published"]')!.getAttribute('data-value')),
        lag: Number(e.querySelector('[data-testid="cluster-node-lag"]')!.getAttribute('data-value')),
        series: e.querySelector('[data-testid="cluster-node-series"]')!.getAttribute('data-value'),
      })),
    )
    return r.length === 2 && r.every((x) => x.series === '2') ? r : null
  })
  t.deepEqual(
    rows.map((r) => [r.node, r.self, r.stale]),
    [
      ['a', 'true', 'false'],
      ['b', 'false', 'false'],
    ],
  )
  for (const r of rows) {
    t.true(r.lag >= 0 && r.lag < 2500, `node ${r.node}: lag ${r.lag} ms with a 0.5 s publish interval`)
    t.true(Math.abs(r.publishedAt - Date.now()) < 10_000, `node ${r.node} published at ${r.publishedAt}`)
  }
  t.is(await page.getByTestId('cluster-status').getAttribute('data-value'), '2')
  t.true(await page.getByTestId('scope-toggle').isVisible())

  // Node scope (the default): node a's own numbers only, since the start.
  await page.getByTestId('stats-window').selectOption('')
  await pick(page, 'dash.cluster', HITS_KEY)
  t.is(await page.getByTestId('scope-toggle').getAttribute('data-value'), 'node')
  await until('node a\'s counter', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'node' && (await value(page, 'stat-sum')) === a.sum)
  t.is(await value(page, 'stat-count'), CLUSTER.a.hits)

  // Cluster scope: the exact sum over both nodes (and what /api/v1/stats?scope=cluster answers).
  await page.getByTestId('scope-cluster').click()
  t.is(await page.getByTestId('scope-toggle').getAttribute('data-value'), 'cluster')
  await until('the cluster\'s counter', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'cluster' && (await value(page, 'stat-sum')) === a.sum + b.sum, 20_000)
  t.is(a.sum + b.sum, 120 + 160)
  t.is(await value(page, 'stat-count'), CLUSTER.a.hits + CLUSTER.b.hits)
  t.regex((await page.getByTestId('stats-status').textContent()) ?? '', /cluster: 2 nodes/)
  const api = (await nodes.a.get(`/api/v1/stats?name=dash.cluster.hits&tags=app:x&scope=cluster`)).body
  t.is(api.sum, a.sum + b.sum)
  t.is(api.scope, 'cluster')

  // The cluster's 60 s window merges both nodes' buckets.
  await page.getByTestId('stats-window').selectOption('60')
  await until('the cluster\'s 60 s window', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'cluster' && (await value(page, 'stat-count')) === CLUSTER.a.hits + CLUSTER.b.hits)
  t.is(await value(page, 'stat-sum'), a.sum + b.sum)
  await page.getByTestId('stats-window').selectOption('')

  // Another series keeps the cluster scope: the distribution over both nodes.
  await pick(page, 'dash.cluster.latency', 'dash.cluster.latency')
  await until('the cluster\'s distribution', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'cluster' && (await value(page, 'stat-count')) === all.length, 20_000)
  t.is(await value(page, 'stat-min'), Math.min(...all))
  t.is(await value(page, 'stat-max'), Math.max(...all))
  t.true(within(await value(page, 'stat-p50'), exactQuantile(all, 0.5), 0.01))

  // And back to this node: its own count again.
  await page.getByTestId('scope-node').click()
  await until('node a\'s distribution', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'node' && (await value(page, 'stat-count')) === CLUSTER.a.latency)
  await page.getByTestId('scope-cluster').click()
  await until('the cluster again', async () => (await page.getByTestId('stats').getAttribute('data-scope')) === 'cluster' && (await value(page, 'stat-count')) === all.length)
  await page.waitForTimeout(2500) // one more poll of every panel
  mkdirSync(outDir, { recursive: true })
  await page.screenshot({ path: join(outDir, 'dashboard-cluster.png'), fullPage: true })

  // Node b dies: it stops publishing, and its row is highlighted once its lag passes 3 publish
  // intervals (the server reports its interval: 0.5 s here).
  const staleAfter = Number(await page.getByTestId('cluster-panel').getAttribute('data-stale-after-ms'))
  t.is(staleAfter, 1500)
  await nodes.b.stop('SIGKILL')
  const killedAt = Date.now()
  await until('node b behind', async () => (await page.locator('[data-testid="cluster-node-row"][data-node="b"]').getAttribute('data-stale')) === 'true', 15_000)
  t.true(Date.now() - killedAt >= staleAfter - 600, 'not highlighted before its lag passes the threshold')
  const bRow = page.locator('[data-testid="cluster-node-row"][data-node="b"]')
  t.regex((await bRow.getAttribute('class')) ?? '', /stale/)
  t.true(Number(await bRow.getByTestId('cluster-node-lag').getAttribute('data-value')) > staleAfter)
  const aRow = page.locator('[data-testid="cluster-node-row"][data-node="a"]')
  t.is(await aRow.getAttribute('data-stale'), 'false')
  // b's published state still counts in the cluster view.
  t.is(await value(page, 'stat-count'), all.length)
  t.deepEqual(errors, [])
})
