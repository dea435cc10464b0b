/**
 * The "prom-client service" of benchmark/server.ts: what a team would write to do hotstats serve's
 * job with the usual Node parts. One process, one thread: node:dgram receives StatsD, a naive
 * parser (split on '\n', ':', '|', `|#` tags) records into prom-client 15 metrics (counters →
 * Counter, gauges → Gauge, timers → Summary with the same quantiles hotstats serves, histograms and
 * distributions → Histogram), and node:http serves GET /metrics (registry.metrics()), POST
 * /api/v1/events (a JSON array of {name, type, value, tags?}, answered 202 {accepted, rejected})
 * and GET /stats (its own counters, for the benchmark to read).
 *
 * A metric's label names are fixed by the first line seen for it (prom-client needs them up
 * front); a later line with other tag keys is refused and counted. Usage:
 *   node --import tsx benchmark/server-prom-client.ts [--http-port 0] [--statsd-port 0]
 * The first line printed is `listening http=127.0.0.1:P statsd=127.0.0.1:S`, like hotstats serve.
 */
import { createSocket } from 'node:dgram'
import { createServer } from 'node:http'

import * as prom from 'prom-client'

const QUANTILES = [0.5, 0.9, 0.99, 0.999]

type Recorder = { labelNames: string[]; record: (labels: Record<string, string>, v: number) => void }

const registry = new prom.Registry()
const metrics = new Map<string, Recorder>()
const stats = { lines: 0, packets: 0, bad: 0, labelMismatch: 0, httpEvents: 0 }

function promName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(s) ? '_' + s : s
}

function recorder(name: string, type: string, labelNames: string[]): Recorder | null {
  const n = promName(name)
  const key = n + '|' + type
  const have = metrics.get(key)
  if (have !== undefined) return have
  const opts = { name: n, help: name, labelNames, registers: [registry] }
  let r: Recorder
  try {
    switch (type) {
      case 'c': {
        const m = new prom.Counter({ ...opts, name: n + '_total' })
        r = { labelNames, record: (l, v) => m.inc(l, v) }
        break
      }
      case 'g': {
        const m = new prom.Gauge(opts)
        r = { labelNames, record: (l, v) => m.set(l, v) }
        break
      }
      case 'ms': {
        const m = new prom.Summary({ ...opts, percentiles: QUANTILES })
        r = { labelNames, record: (l, v) => m.observe(l, v) }
        break
      }
      case 'h':
      case 'd': {
        const m = new prom.Histogram(opts)
        r = { labelNames, record: (l, v) => m.observe(l, v) }
        break
      }
      default:
        return null
    }
  } catch {
    return null // a name registered with another type
  }
  metrics.set(key, r)
  return r
}

/** Records one StatsD line; false if it was refused. */
function recordLine(text: string): boolean {
  let body = text
  const labels: Record<string, string> = {}
  const labelNames: string[] = []
  const hash = body.indexOf('|#')
  if (hash >= 0) {
    for (const t of body.slice(hash + 2).split(',')) {
      const c = t.indexOf(':')
      const k = promName(c >= 0 ? t.slice(0, c) : t)
      labels[k] = c >= 0 ? t.slice(c + 1) : ''
      labelNames.push(k)
    }
    body = body.slice(0, hash)
  }
  const colon = body.indexOf(':')
  if (colon <= 0) return false
  const fields = body.slice(colon + 1).split('|')
  const v = Number(fields[0])
  if (fields.length < 2 || !Number.isFinite(v)) return false
  const rate = fields[2]?.startsWith('@') ? Number(fields[2].slice(1)) : 1
  const type = fields[1]
  const r = recorder(body.slice(0, colon), type, labelNames)
  if (r === null) return false
  if (r.labelNames.length !== labelNames.length || r.labelNames.some((k, i) => k !== labelNames[i])) {
    stats.labelMismatch++
    return false
  }
  r.record(labels, type === 'c' ? v / rate : v)
  return true
}

function recordPacket(text: string): void {
  for (const l of text.split('\n')) {
    if (l.length === 0) continue
    if (recordLine(l)) stats.lines++
    else stats.bad++
  }
}

function recordJson(text: string): { accepted: number; rejected: number } {
  let accepted = 0
  let rejected = 0
  const parsed = JSON.parse(text) as unknown
  for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
    const ev = e as { name?: unknown; type?: unknown; value?: unknown; tags?: unknown }
    if (typeof ev.name !== 'string' || typeof ev.type !== 'string' || typeof ev.value !== 'number') {
      rejected++
      continue
    }
    const tags = ev.tags !== null && typeof ev.tags === 'object' && !Array.isArray(ev.tags) ? (ev.tags as Record<string, string>) : {}
    const labels: Record<string, string> = {}
    const labelNames: string[] = []
    for (const [k, v] of Object.entries(tags)) {
      labels[promName(k)] = String(v)
      labelNames.push(promName(k))
    }
    const r = recorder(ev.name, ev.type, labelNames)
    if (r === null || r.labelNames.length !== labelNames.length || r.labelNames.some((k, i) => k !== labelNames[i])) {
      rejected++
      continue
    }
    r.record(labels, ev.value)
    accepted++
  }
  stats.httpEvents += accepted
  return { accepted, rejected }
}

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}

async function main(): Promise<void> {
  const udp = createSocket({ type: 'udp4', recvBufferSize: 32 << 20 })
  udp.on('message', (msg) => {
    stats.packets++
    recordPacket(msg.toString('utf8'))
  })
  await new Promise<void>((r) => udp.bind(flag('--statsd-port', 0), '127.0.0.1', () => r()))
  const http = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        try {
          if (req.method === 'GET' && req.url === '/metrics') {
            const text = await registry.metrics()
            res.writeHead(200, { 'content-type': registry.contentType }).end(text)
          } else if (req.method === 'GET' && req.url === '/stats') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...stats, metricFamilies: metrics.size, rssBytes: process.memoryUsage.rss() }))
          } else if (req.method === 'POST' && req.url === '/api/v1/events') {
            const r = recordJson(Buffer.concat(chunks).toString('utf8'))
            res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ ...r, errors: [] }))
          } else res.writeHead(404).end()
        } catch (e) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }))
        }
      })()
    })
  })
  await new Promise<void>((r) => http.listen(flag('--http-port', 0), '127.0.0.1', () => r()))
  const h = http.address()
  process.stdout.write(`listening http=127.0.0.1:${typeof h === 'object' && h !== null ? h.port : 0} statsd=127.0.0.1:${udp.address().port}\n`)
}

void main()
