/**
 * The load generator of benchmark/cluster.ts: a separate Node process (forked with IPC) that the
 * benchmark drives with one command at a time and that answers with what it did. Payloads are
 * built before the clock starts.
 *
 * - `closed`: `connections` keep-alive clients POST JSON arrays of events back to back (each sends
 *   its next batch as soon as its previous one is answered) for warm-up + measured seconds; answers
 *   with the 202s, events accepted and latencies inside the measured interval (epoch ms bounds, so
 *   the driver can read the servers' counters over the same interval).
 * - `open`: POSTs batches at a fixed request rate (sent on schedule whether or not earlier ones
 *   answered); latency is from each request's scheduled time to its full answer.
 * - `poll`: GETs one URL back to back (one request in flight) and answers with every sample.
 * - `udp`: sends StatsD lines over a connected loopback socket at a set rate.
 * - `query`: GETs a list of paths one after another; answers with each latency and status.
 *
 * The series are shared with the driver: series i (0 ≤ i < n) is a counter (even i) or a timer
 * (odd i) named `cl.c<k>` / `cl.t<k>` (k = floor(i / 200)) with the tag `h:h<(i >> 1) % 100>`.
 */
import { createSocket } from 'node:dgram'
import { Agent, request } from 'node:http'

export function seriesOf(i: number): { name: string; type: 'c' | 'ms'; tag: string } {
  const k = Math.floor(i / 200)
  const type = i % 2 === 0 ? 'c' : 'ms'
  return { name: `cl.${type === 'c' ? 'c' : 't'}${k}`, type, tag: `h${(i >> 1) % 100}` }
}

/** A timer value that varies with the event index (0.1 .. 2000 ms). */
function value(j: number): number {
  const x = Math.imul(j + 1, 2654435761) >>> 0
  return (1 + (x % 20_000)) / 10
}

/** Batch b of `per` events over `series` series, in order (batch b covers series b*per .. b*per+per-1, wrapping). */
export function batchBody(b: number, per: number, series: number, prefix = ''): string {
  const out: unknown[] = []
  for (let k = 0; k < per; k++) {
    const j = b * per + k
    const s = seriesOf(j % series)
    out.push(s.type === 'c' ? { name: prefix + s.name, type: 'c', value: 1, tags: { h: s.tag } } : { name: prefix + s.name, type: 'ms', value: value(j), tags: { h: s.tag } })
  }
  return JSON.stringify(out)
}

/** Enough distinct bodies to cover every series once (at least 64). */
function bodies(per: number, series: number): Buffer[] {
  const n = Math.max(64, Math.ceil(series / per))
  return Array.from({ length: n }, (_, b) => Buffer.from(batchBody(b, per, series)))
}

export interface ClosedCommand {
  op: 'closed'
  url: string
  connections: number
  warmupMs: number
  ms: number
  eventsPerRequest: number
  series: number
}
export interface ClosedResult {
  /** Epoch ms of the measured interval. */
  from: number
  to: number
  requests: number
  statuses: Record<string, number>
  /** Events acknowledged (202, `accepted` of the answer) inside the interval. */
  accepted: number
  /** Events accepted over the whole command (warm-up included). */
  acceptedTotal: number
  latencyMs: { p50: number; p99: number; max: number }
  cpuMs: number
}

export interface OpenCommand {
  op: 'open'
  url: string
  rps: number
  ms: number
  eventsPerRequest: number
  series: number
  /** Name prefix (probes use their own series). */
  prefix?: string
}
export interface OpenResult {
  /** Per request: [scheduled epoch ms, latency ms, status]. */
  samples: [number, number, number][]
  accepted: number
  lateSends: number
}

export interface PollCommand {
  op: 'poll'
  url: string
  ms: number
  fields: string[]
}
export interface PollResult {
  /** [sent epoch ms, received epoch ms, ...fields] per sample. */
  samples: number[][]
}

export interface UdpCommand {
  op: 'udp'
  port: number
  /** One line per (pass, series): pass p carries the StatsD timestamp `|T<now - ages[p]>` (seconds), none if ages is empty (one pass). */
  series: number
  ages: number[]
  rate: number
  linesPerPacket: number
}
export interface UdpResult {
  /** The epoch second the timestamps count back from. */
  now: number
  lines: number
  ms: number
  errors: number
}

export interface QueryCommand {
  op: 'query'
  base: string
  paths: string[]
}
export interface QueryResult {
  /** [latency ms, status, body bytes, answer's count, answer's nodes] per query. */
  samples: [number, number, number, number, number][]
  firstErrors: string[]
}

export type Command = ClosedCommand | OpenCommand | PollCommand | UdpCommand | QueryCommand

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const epoch = (): number => performance.timeOrigin + performance.now()

function pct(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

function post(agent: Agent, url: URL, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', (e) => resolve({ status: 0, text: String(e) }))
    req.end(body)
  })
}

function get(agent: Agent, url: URL): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', (e) => resolve({ status: 0, text: String(e) }))
    req.end()
  })
}

function acceptedOf(text: string): number {
  try {
    return (JSON.parse(text) as { accepted?: number }).accepted ?? 0
  } catch {
    return 0
  }
}

async function closed(c: ClosedCommand): Promise<ClosedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: c.connections })
  const url = new URL(c.url)
  const bs = bodies(c.eventsPerRequest, c.series)
  const t0 = performance.now()
  const from = t0 + c.warmupMs
  const to = from + c.ms
  const statuses: Record<string, number> = {}
  const lat: number[] = []
  let requests = 0
  let accepted = 0
  let acceptedTotal = 0
  let next = 0
  let cpu0: NodeJS.CpuUsage | null = null
  const client = async (): Promise<void> => {
    for (;;) {
      const start = performance.now()
      if (start >= to) return
      if (cpu0 === null && start >= from) cpu0 = process.cpuUsage()
      const r = await post(agent, url, bs[next++ % bs.length])
      const end = performance.now()
      const n = r.status === 202 ? acceptedOf(r.text) : 0
      acceptedTotal += n
      // A request counts in the interval if it was answered inside it.
      if (end >= from && end < to) {
        requests++
        statuses[r.status] = (statuses[r.status] ?? 0) + 1
        accepted += n
        lat.push(end - start)
      }
      if (r.status === 0) await sleep(10)
    }
  }
  await Promise.all(Array.from({ length: c.connections }, () => client()))
  const cpu = process.cpuUsage(cpu0 ?? undefined)
  agent.destroy()
  lat.sort((a, b) => a - b)
  return {
    from: performance.timeOrigin + from,
    to: performance.timeOrigin + to,
    requests,
    statuses,
    accepted,
    acceptedTotal,
    latencyMs: { p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1] ?? NaN },
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
}

async function open(c: OpenCommand): Promise<OpenResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const url = new URL(c.url)
  const bs =
    c.prefix === undefined ? bodies(c.eventsPerRequest, c.series) : Array.from({ length: 64 }, (_, b) => Buffer.from(batchBody(b, c.eventsPerRequest, c.series, c.prefix)))
  const total = Math.round((c.rps * c.ms) / 1000)
  const samples: [number, number, number][] = []
  let accepted = 0
  let lateSends = 0
  const pending: Promise<void>[] = []
  // Warm a few connections up (not measured).
  await Promise.all(Array.from({ length: 4 }, () => post(agent, url, bs[0]).then((r) => void (accepted += r.status === 202 ? acceptedOf(r.text) : 0))))
  const t0 = performance.now()
  let sent = 0
  while (sent < total) {
    const now = performance.now()
    const due = Math.min(total, Math.floor(((now - t0) / 1000) * c.rps) + 1)
    while (sent < due) {
      const scheduled = t0 + (sent / c.rps) * 1000
      if (performance.now() - scheduled > 2) lateSends++
      const body = bs[sent % bs.length]
      pending.push(
        post(agent, url, body).then((r) => {
          samples.push([performance.timeOrigin + scheduled, performance.now() - scheduled, r.status])
          if (r.status === 202) accepted += acceptedOf(r.text)
        }),
      )
      sent++
    }
    const wait = t0 + (sent / c.rps) * 1000 - performance.now()
    await sleep(Math.max(0, Math.min(wait, 1)))
  }
  await Promise.all(pending)
  agent.destroy()
  return { samples, accepted, lateSends }
}

function pick(o: unknown, path: string): number {
  let x = o as Record<string, unknown>
  for (const k of path.split('.')) x = x?.[k] as Record<string, unknown>
  return typeof x === 'number' ? x : NaN
}

async function poll(c: PollCommand): Promise<PollResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const url = new URL(c.url)
  const samples: number[][] = []
  const t0 = performance.now()
  for (;;) {
    const sent = performance.now()
    if (sent - t0 >= c.ms) break
    const r = await get(agent, url)
    let body: unknown = null
    try {
      body = JSON.parse(r.text)
    } catch {
      body = null
    }
    samples.push([performance.timeOrigin + sent, epoch(), ...c.fields.map((f) => pick(body, f))])
  }
  agent.destroy()
  return { samples }
}

async function udp(c: UdpCommand): Promise<UdpResult> {
  const now = Math.floor(Date.now() / 1000)
  const passes = c.ages.length === 0 ? [null] : c.ages
  const packets: Buffer[] = []
  let lines: string[] = []
  let j = 0
  for (const age of passes) {
    const ts = age === null ? '' : `|T${now - age}`
    for (let i = 0; i < c.series; i++, j++) {
      const s = seriesOf(i)
      lines.push(s.type === 'c' ? `${s.name}:1|c|#h:${s.tag}${ts}` : `${s.name}:${value(j)}|ms|#h:${s.tag}${ts}`)
      if (lines.length === c.linesPerPacket) {
        packets.push(Buffer.from(lines.join('\n')))
        lines = []
      }
    }
  }
  if (lines.length > 0) packets.push(Buffer.from(lines.join('\n')))
  const total = passes.length * c.series
  const sock = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 })
  let errors = 0
  sock.on('error', () => errors++)
  await new Promise<void>((r) => sock.connect(c.port, '127.0.0.1', () => r()))
  const pps = c.rate / c.linesPerPacket
  const t0 = performance.now()
  let sent = 0
  while (sent < packets.length) {
    const due = Math.min(packets.length, Math.floor(((performance.now() - t0) / 1000) * pps) + 1)
    if (due <= sent) {
      await sleep(1)
      continue
    }
    const burst = Math.min(due, sent + Math.max(1, Math.ceil(pps / 500)))
    while (sent < burst) sock.send(packets[sent++])
    await new Promise((r) => setImmediate(r))
  }
  await new Promise<void>((r) => sock.send(Buffer.alloc(0), () => r()))
  const ms = performance.now() - t0
  sock.close()
  return { now, lines: total, ms, errors }
}

async function query(c: QueryCommand): Promise<QueryResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const samples: [number, number, number, number, number][] = []
  const firstErrors: string[] = []
  for (const p of c.paths) {
    const url = new URL(c.base + p)
    const t = performance.now()
    const r = await get(agent, url)
    const ms = performance.now() - t
    let body: { count?: number; nodes?: number } = {}
    try {
      body = JSON.parse(r.text) as { count?: number; nodes?: number }
    } catch {
      // counted by status
    }
    samples.push([ms, r.status, r.text.length, body.count ?? NaN, body.nodes ?? NaN])
    if (r.status !== 200 && firstErrors.length < 5) firstErrors.push(`${r.status} ${p}: ${r.text.slice(0, 200)}`)
  }
  agent.destroy()
  return { samples, firstErrors }
}

if (require.main === module && process.send !== undefined) {
  process.on('message', (m: Command) => {
    const run = m.op === 'closed' ? closed(m) : m.op === 'open' ? open(m) : m.op === 'poll' ? poll(m) : m.op === 'udp' ? udp(m) : query(m)
    run.then(
      (result) => process.send!({ ok: true, result }),
      (e: unknown) => process.send!({ ok: false, error: String((e as Error).stack ?? e) }),
    )
  })
  process.send({ ready: true })
}
