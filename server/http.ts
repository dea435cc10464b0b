/**
 * The HTTP routes of `hotstats serve` (main thread): ingest bodies go to the receiver thread,
 * reads to the aggregator thread; this thread only moves bytes and answers, so a flood of events
 * never delays /metrics, the API or the dashboard. See docs/server-api.md.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname, extname, join } from 'node:path'

import { backend, encodeScalarFamily, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, PROMETHEUS_PROTOBUF_CONTENT_TYPE } from '../index'
import type { RuleSet } from '../index'
import type { Request } from './aggregator'
import type { Config } from './config'
import { LOSS_CAUSES, type SharedCounters } from './counters'
import { PARSE_ERROR_REASONS } from './events'
import type { Format } from './exposition'
import type { HttpIngestResult } from './receiver'
import { escapeLabelValue } from './store'

export interface HttpContext {
  config: Config
  counters: SharedCounters
  startedAt: number
  ready: () => boolean
  /** False once shutting down (ingest is refused; Redis outages are the receiver's to answer). */
  accepting: () => boolean
  ask: (req: Request) => Promise<unknown>
  ingest: (contentType: string, body: Uint8Array) => Promise<HttpIngestResult>
  badLines: () => Promise<unknown[]>
  version: string
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
}

/** The static files the dashboard may serve: a fixed list read at start, so no path from a request ever reaches the filesystem. */
function staticFiles(): Map<string, { path: string; type: string }> {
  const files = new Map<string, { path: string; type: string }>()
  const add = (urlPrefix: string, dir: string): void => {
    let names: string[] = []
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const n of names) {
      const p = join(dir, n)
      if (statSync(p).isFile() && MIME[extname(n)] !== undefined) files.set(urlPrefix + n, { path: p, type: MIME[extname(n)] })
    }
  }
  // server/dashboard sits beside this file in the source tree and two levels up from dist/server.
  for (const dir of [join(__dirname, 'dashboard'), join(__dirname, '..', '..', 'server', 'dashboard')]) add('/assets/', dir)
  try {
    add('/assets/uplot/', join(dirname(require.resolve('uplot/package.json')), 'dist'))
  } catch {
    // uplot missing: the dashboard shows numbers without charts
  }
  return files
}

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(text)
}

function negotiate(accept: string | undefined): Format {
  const a = (accept ?? '').toLowerCase()
  if (a.includes('application/vnd.google.protobuf') && a.includes('io.prometheus.client.metricfamily')) return 'protobuf'
  if (a.includes('application/openmetrics-text')) return 'openmetrics'
  return 'prometheus'
}

function intParam(u: URL, name: string, def: number, min: number, max: number): number {
  const raw = u.searchParams.get(name)
  if (raw === null || raw === '') return def
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new RequestError(400, `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`)
  return n
}

function required(u: URL, name: string): string {
  const v = u.searchParams.get(name)
  if (v === null || v === '') throw new RequestError(400, `missing query parameter ${name}`)
  return v
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestError(413, `body of ${declared} bytes is larger than --max-body-bytes ${limit}`))
      req.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(new RequestError(413, `body larger than --max-body-bytes ${limit}`))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      const b = Buffer.concat(chunks)
      resolve(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
    })
    req.on('error', reject)
  })
}

export function serverStats(ctx: HttpContext): Record<string, unknown> {
  const c = ctx.counters
  const events = c.get('events')
  return {
    version: ctx.version,
    uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
    backend: backend(),
    nodeId: ctx.config.redis === null ? null : ctx.config.nodeId,
    startedAt: ctx.startedAt,
    windows: ctx.config.windows,
    redis: ctx.config.redis === null ? null : { connected: c.get('redis_connected') === 1, publishIntervalMs: ctx.config.publishInterval * 1000, publishes: c.get('publishes'), lastPublishMs: c.get('publish_ms_last'), publishedAt: c.get('published_at') || null },
    series: c.get('series'),
    windowPairs: c.get('window_pairs'),
    rssBytes: process.memoryUsage.rss(),
    ingest: {
      events,
      aggregated: c.get('aggregated'),
      inFlight: Math.max(0, events - c.get('aggregated')),
      udpPackets: c.get('udp_packets'),
      udpBytes: c.get('udp_bytes'),
      tcpConnections: c.get('tcp_connections'),
      tcpBytes: c.get('tcp_bytes'),
      httpRequests: c.get('http_events_requests'),
    },
    losses: c.losses(),
    lossesTotal: c.totalLosses(),
  }
}

/** The server's own metrics (hotstats_server_*), read from the shared counters. */
function selfMetrics(ctx: HttpContext, format: Format, extra: { refused: { metric: string; n: number }[]; collisions: { metric: string; n: number }[] }): string | Uint8Array {
  const c = ctx.counters
  const families: { name: string; help: string; type: 'counter' | 'gauge'; series: { labels?: Record<string, string>; value: number }[] }[] = [
    { name: 'hotstats_server_udp_packets', help: 'StatsD datagrams received.', type: 'counter', series: [{ value: c.get('udp_packets') }] },
    { name: 'hotstats_server_received_bytes', help: 'StatsD bytes received, by transport.', type: 'counter', series: [{ labels: { transport: 'udp' }, value: c.get('udp_bytes') }, { labels: { transport: 'tcp' }, value: c.get('tcp_bytes') }] },
    { name: 'hotstats_server_events', help: 'Events parsed and handed to the aggregator.', type: 'counter', series: [{ value: c.get('events') }] },
    { name: 'hotstats_server_events_aggregated', help: 'Events the aggregator applied.', type: 'counter', series: [{ value: c.get('aggregated') }] },
    {
      name: 'hotstats_server_parse_errors',
      help: 'Lines or HTTP events refused by the parser, by reason.',
      type: 'counter',
      series: PARSE_ERROR_REASONS.map((r) => ({ labels: { reason: r }, value: c.get(`parse_${r}`) })),
    },
    { name: 'hotstats_server_losses', help: 'Events lost or refused, by cause (parse errors are hotstats_server_parse_errors_total).', type: 'counter', series: LOSS_CAUSES.map((k) => ({ labels: { cause: k }, value: c.get(`loss_${k}`) })) },
    { name: 'hotstats_server_series_refused', help: 'New series refused by a series limit, by metric.', type: 'counter', series: extra.refused.map(({ metric, n }) => ({ labels: { metric }, value: n })) },
    { name: 'hotstats_server_type_collisions', help: 'Events refused because their metric name has another type (or maps onto another series), by metric.', type: 'counter', series: extra.collisions.map(({ metric, n }) => ({ labels: { metric }, value: n })) },
    { name: 'hotstats_server_series', help: 'Series held.', type: 'gauge', series: [{ value: c.get('series') }] },
    { name: 'hotstats_server_in_flight_events', help: 'Events parsed, not yet aggregated.', type: 'gauge', series: [{ value: Math.max(0, c.get('events') - c.get('aggregated')) }] },
    { name: 'hotstats_server_resident_memory_bytes', help: 'Resident set size.', type: 'gauge', series: [{ value: process.memoryUsage.rss() }] },
  ]
  if (format === 'protobuf') {
    const parts = families.filter((f) => f.series.length > 0).map((f) => encodeScalarFamily(f.type === 'counter' ? `${f.name}_total` : f.name, f.help, f.type, f.series))
    return Buffer.concat(parts)
  }
  let out = ''
  for (const f of families) {
    if (f.series.length === 0) continue
    const fam = f.type === 'counter' && format === 'prometheus' ? `${f.name}_total` : f.name
    const sample = f.type === 'counter' ? `${f.name}_total` : f.name
    out += `# HELP ${fam} ${f.help}\n# TYPE ${fam} ${f.type}\n`
    for (const s of f.series) {
      const labels = s.labels === undefined ? '' : `{${Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`
      out += `${sample}${labels} ${s.value}\n`
    }
  }
  return out
}

export function createHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  const files = staticFiles()
  const tokenDigest = ctx.config.authToken === null ? null : createHash('sha256').update(ctx.config.authToken).digest()
  const authorized = (req: IncomingMessage, u: URL): boolean => {
    if (tokenDigest === null) return true
    const h = req.headers.authorization ?? ''
    const given = h.startsWith('Bearer ') ? h.slice(7) : (u.searchParams.get('access_token') ?? '')
    // Constant time: compare fixed-length digests, whatever the lengths of the strings.
    return timingSafeEqual(createHash('sha256').update(given).digest(), tokenDigest)
  }
  const live = new Set<ServerResponse>()
  let liveTimer: NodeJS.Timeout | null = null
  // The last 5 minutes of ticks, replayed to a page that connects (its charts start filled).
  const backlog: string[] = []
  const BACKLOG = 300
  const tick = async (): Promise<void> => {
    // The top-k walks every series' window: only while a dashboard listens.
    let top: unknown = null
    if (live.size > 0) {
      try {
        top = await ctx.ask({ op: 'top', by: 'rate', limit: 10, window: ctx.config.windows[0] })
      } catch {
        top = null
      }
    }
    const data = `data: ${JSON.stringify({ time: Date.now(), server: serverStats(ctx), top: { rate: (top as { series?: unknown } | null)?.series ?? [] } })}\n\n`
    backlog.push(data)
    if (backlog.length > BACKLOG) backlog.shift()
    for (const r of live) r.write(data)
  }
  // Ticks run from the start (cheap: counters and one top-k read a second), so the backlog exists.
  liveTimer = setInterval(() => void tick(), 1000)
  liveTimer.unref()

  async function route(req: IncomingMessage, res: ServerResponse, u: URL): Promise<void> {
    const path = u.pathname
    const method = req.method ?? 'GET'
    if (path.startsWith('/api/v1/') && !authorized(req, u)) throw new RequestError(401, 'missing or wrong bearer token')
    if ((path === '/metrics' || path.startsWith('/-/')) && ctx.config.authMetrics && !authorized(req, u)) throw new RequestError(401, 'missing or wrong bearer token')

    if (path === '/api/v1/events') {
      if (method !== 'POST') throw new RequestError(405, 'POST events here')
      if (!ctx.accepting()) throw new RequestError(503, 'the server is shutting down: not accepting events')
      ctx.counters.add('http_events_requests')
      let body: Uint8Array
      try {
        body = await readBody(req, ctx.config.maxBodyBytes)
      } catch (e) {
        if (e instanceof RequestError && e.status === 413) ctx.counters.loss('body_too_large')
        throw e
      }
      const r = await ctx.ingest(req.headers['content-type'] ?? 'text/plain', body)
      if (r.unavailable === true) {
        json(res, 503, { error: 'Redis is unreachable: events not stored, retry later', accepted: 0, rejected: r.rejected + r.accepted, errors: r.errors })
        return
      }
      if (r.full && r.accepted === 0) {
        json(res, 503, { error: 'the aggregator is behind (ring_full): retry later', accepted: r.accepted, rejected: r.rejected, errors: r.errors })
        return
      }
      json(res, 202, { accepted: r.accepted, rejected: r.rejected, errors: r.errors })
      return
    }
    if (method !== 'GET' && method !== 'HEAD') throw new RequestError(405, `${method} is not allowed on ${path}`)
    switch (path) {
      case '/-/healthy':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n')
        return
      case '/-/ready':
        if (ctx.ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('Ready\n')
        else res.writeHead(503, { 'content-type': 'text/plain' }).end('Not ready\n')
        return
      case '/metrics': {
        const format = negotiate(req.headers.accept)
        const r = (await ctx.ask({ op: 'metrics', format })) as { body: Uint8Array | null; chunks?: string[]; refused: { metric: string; n: number }[]; collisions: { metric: string; n: number }[] }
        const own = selfMetrics(ctx, format, r)
        if (format === 'protobuf') {
          res.writeHead(200, { 'content-type': PROMETHEUS_PROTOBUF_CONTENT_TYPE })
          res.end(Buffer.concat([Buffer.from(r.body as Uint8Array), Buffer.from(own as Uint8Array)]))
        } else {
          res.writeHead(200, { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE })
          for (const chunk of r.chunks ?? []) res.write(chunk)
          res.end((own as string) + (format === 'openmetrics' ? '# EOF\n' : ''))
        }
        return
      }
      case '/api/v1/stats': {
        const w = u.searchParams.get('window')
        const window = w === null || w === '' ? null : intParam(u, 'window', 0, 1, 86400)
        const scope = u.searchParams.get('scope') ?? 'node'
        if (scope !== 'node' && scope !== 'cluster') throw new RequestError(400, `scope must be node or cluster, got ${JSON.stringify(scope)}`)
        json(res, 200, await ctx.ask({ op: 'stats', name: required(u, 'name'), tags: u.searchParams.get('tags'), window, cluster: scope === 'cluster' }))
        return
      }
      case '/api/v1/cluster':
        json(res, 200, await ctx.ask({ op: 'cluster' }))
        return
      case '/api/v1/series':
        json(res, 200, await ctx.ask({ op: 'series', match: u.searchParams.get('match') ?? '', offset: intParam(u, 'offset', 0, 0, 1e9), limit: intParam(u, 'limit', 100, 1, 10_000) }))
        return
      case '/api/v1/top':
        json(res, 200, await ctx.ask({ op: 'top', by: u.searchParams.get('by') ?? 'rate', limit: intParam(u, 'limit', 10, 1, 1000), window: intParam(u, 'window', ctx.config.windows[0], 1, 86400) }))
        return
      case '/api/v1/history':
        json(res, 200, await ctx.ask({ op: 'history', name: required(u, 'name'), tags: u.searchParams.get('tags'), seconds: intParam(u, 'seconds', 300, 1, 86400) }))
        return
      case '/api/v1/spc': {
        const rules = (u.searchParams.get('rules') ?? 'western-electric') as RuleSet
        if (!['western-electric', 'nelson', 'limits'].includes(rules)) throw new RequestError(400, 'rules must be western-electric, nelson or limits')
        json(res, 200, await ctx.ask({ op: 'spc', name: required(u, 'name'), tags: u.searchParams.get('tags'), seconds: intParam(u, 'seconds', 900, 1, 86400), rules }))
        return
      }
      case '/api/v1/ab':
        json(
          res,
          200,
          await ctx.ask({
            op: 'ab',
            exposures: required(u, 'exposures'),
            conversions: required(u, 'conversions'),
            value: u.searchParams.get('value') || null,
            tag: u.searchParams.get('tag') || 'variant',
            a: u.searchParams.get('a') || 'A',
            b: u.searchParams.get('b') || 'B',
          }),
        )
        return
      case '/api/v1/server':
        json(res, 200, { ...serverStats(ctx), badLines: await ctx.badLines() })
        return
      case '/api/v1/live': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
        res.write('retry: 1000\n\n')
        live.add(res)
        req.on('close', () => live.delete(res))
        for (const d of backlog) res.write(d)
        return
      }
      case '/':
      case '/index.html': {
        const f = files.get('/assets/index.html')
        if (f === undefined) throw new RequestError(404, 'the dashboard is not installed')
        res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(method === 'HEAD' ? undefined : readFileSync(f.path))
        return
      }
    }
    const f = files.get(path)
    if (f !== undefined) {
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(method === 'HEAD' ? undefined : readFileSync(f.path))
      return
    }
    throw new RequestError(404, `no route ${path}`)
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    ctx.counters.add('http_requests')
    let u: URL
    try {
      u = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      json(res, 400, { error: 'bad request URL' })
      return
    }
    route(req, res, u).catch((e: unknown) => {
      const status = typeof (e as { status?: unknown }).status === 'number' ? (e as { status: number }).status : 500
      if (res.headersSent) {
        res.destroy()
        return
      }
      json(res, status, { error: e instanceof Error ? e.message : String(e) })
    })
  }
  ;(handler as unknown as { closeLive: () => void }).closeLive = () => {
    if (liveTimer !== null) clearInterval(liveTimer)
    for (const r of live) r.end()
    live.clear()
  }
  return handler
}
