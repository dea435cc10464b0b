/**
 * The load generator of benchmark/server.ts: a separate Node process (forked with IPC) that the
 * benchmark drives with one command at a time and that answers with what it did.
 *
 * - `udp`: sends StatsD over a connected loopback UDP socket at a controlled rate (lines/s) until
 *   a known total is sent; answers with the lines and packets sent and the time it took (so the
 *   rate it actually offered is known: a generator that cannot keep up says so).
 * - `poll`: GETs one URL back to back (keep-alive, one request in flight) for a while and answers
 *   with every sample (send time, receive time, the numbers read): the outside view of a server's
 *   progress counters, used to find ingest stalls.
 * - `http`: POSTs JSON event batches open-loop at a fixed request rate (a request is sent on
 *   schedule whether or not earlier ones have answered) and answers with each latency.
 *
 * Payloads are built once per command, before the clock starts.
 */
import { createSocket } from 'node:dgram'
import { Agent, request } from 'node:http'

export interface Workload {
  /** c: counters `bench.cN:1|c`; ms: timers `bench.tN:V|ms`; mix: the first half of the names counters, the rest timers. */
  type: 'c' | 'ms' | 'mix'
  /** Distinct series: `names` metric names, each with `tagValues` values of one DogStatsD tag (1: no tag). */
  names: number
  tagValues: number
  linesPerPacket: number
  /**
   * Window history: line i of pass k (k = floor(i / series)) carries a DogStatsD timestamp
   * `|T<historyNow - HISTORY_AGES[k]>`, so 70 passes put one event of each series in every 5 s
   * bucket of the last 5 minutes and every 1 min bucket of the last 15 (a server's window state
   * after 15 minutes of every series being active), without waiting 15 minutes.
   */
  historyNow?: number
}

/** Seconds before `historyNow` of each history pass: 60 × 5 s, then 10 × 1 min back to 14.5 min. */
export const HISTORY_AGES = [...Array.from({ length: 60 }, (_, k) => 2 + 5 * k), ...Array.from({ length: 10 }, (_, k) => 330 + 60 * k)]

export interface UdpCommand extends Workload {
  op: 'udp'
  port: number
  /** Lines per second offered by this process. */
  rate: number
  /** Lines to send in all (rounded up to whole packets). */
  lines: number
}

export interface UdpResult {
  lines: number
  packets: number
  ms: number
  errors: number
}

export interface PollCommand {
  op: 'poll'
  url: string
  ms: number
  /** Dotted paths of the numbers to read from the JSON answer. */
  fields: string[]
}

export interface PollResult {
  /** [sent, received, ...fields] per sample; times in ms since the epoch (performance.timeOrigin + now), comparable across processes. */
  samples: number[][]
}

export interface HttpCommand {
  op: 'http'
  url: string
  rps: number
  seconds: number
  eventsPerRequest: number
}

export interface HttpResult {
  latenciesMs: number[]
  statuses: Record<string, number>
  accepted: number
  ms: number
}

export type Command = UdpCommand | PollCommand | HttpCommand

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const immediate = () => new Promise((r) => setImmediate(r))

/** The i-th line of a workload (i cycles over the series; timer values vary with i). */
export function line(w: Workload, i: number): string {
  const series = w.names * w.tagValues
  const s = i % series
  const name = Math.floor(s / w.tagValues)
  const tag = w.tagValues > 1 ? `|#host:h${s % w.tagValues}` : ''
  const ts = w.historyNow === undefined ? '' : `|T${w.historyNow - HISTORY_AGES[Math.floor(i / series) % HISTORY_AGES.length]}`
  const timer = w.type === 'ms' || (w.type === 'mix' && name >= w.names / 2)
  if (!timer) return `bench.c${name}:1|c${tag}${ts}`
  // A spread of latencies, 0.1..~2000 ms, different on every pass over the series.
  const x = Math.imul(i + 1, 2654435761) >>> 0
  const v = (1 + (x % 20_000)) / 10
  return `bench.t${name}:${v}|ms${tag}${ts}`
}

/** The packets of a workload: whole passes over the series, at least 2000 packets. */
function packets(w: Workload): Buffer[] {
  const series = w.names * w.tagValues
  if (w.historyNow !== undefined) return Array.from({ length: Math.ceil((series * HISTORY_AGES.length) / w.linesPerPacket) }, (_, p) => Buffer.from(Array.from({ length: w.linesPerPacket }, (_, k) => line(w, p * w.linesPerPacket + k)).join('\n')))
  let n = Math.max(2000, Math.ceil(series / w.linesPerPacket))
  // Whole passes, so every series gets the same number of lines per cycle.
  while ((n * w.linesPerPacket) % series !== 0 && n < 4 * series) n++
  const out: Buffer[] = []
  for (let p = 0, i = 0; p < n; p++) {
    const ls: string[] = []
    for (let k = 0; k < w.linesPerPacket; k++) ls.push(line(w, i++))
    out.push(Buffer.from(ls.join('\n')))
  }
  return out
}

async function udp(c: UdpCommand): Promise<UdpResult> {
  const pk = packets(c)
  const sock = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 })
  let errors = 0
  sock.on('error', () => errors++)
  await new Promise<void>((r) => sock.connect(c.port, '127.0.0.1', () => r()))
  const total = Math.ceil(c.lines / c.linesPerPacket)
  const pps = c.rate / c.linesPerPacket
  const t0 = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * pps) + 1)
    if (due <= sent) {
      await sleep(1)
      continue
    }
    // At most ~2 ms of packets per turn, then give the event loop a turn. No callback per send:
    // a loopback send almost always completes synchronously (uv_udp_try_send), and a callback
    // costs ~20% of the generator's rate.
    const burst = Math.min(due, sent + Math.max(1, Math.ceil(pps / 500)))
    while (sent < burst) sock.send(pk[sent++ % pk.length])
    await immediate()
  }
  // Sends still queued in libuv go out in order: this one's callback says they are all out.
  await new Promise<void>((r) => sock.send(Buffer.alloc(0), () => r()))
  const ms = performance.now() - t0
  sock.close()
  return { lines: total * c.linesPerPacket, packets: total, ms, errors }
}

function pick(o: unknown, path: string): number {
  let x = o as Record<string, unknown>
  for (const k of path.split('.')) x = x?.[k] as Record<string, unknown>
  return typeof x === 'number' ? x : NaN
}

function get(agent: Agent, url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

async function poll(c: PollCommand): Promise<PollResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const url = new URL(c.url)
  const samples: number[][] = []
  const t0 = performance.now()
  const epoch = performance.timeOrigin
  for (;;) {
    const sent = performance.now()
    if (sent - t0 >= c.ms) break
    const body = JSON.parse(await get(agent, url)) as unknown
    samples.push([epoch + sent, epoch + performance.now(), ...c.fields.map((f) => pick(body, f))])
  }
  agent.destroy()
  return { samples }
}

function events(n: number, k: number): string {
  const out: unknown[] = []
  for (let i = 0; i < n; i++) {
    const x = Math.imul(k * n + i + 1, 2654435761) >>> 0
    out.push(i % 2 === 0 ? { name: `http.req${i % 10}`, type: 'c', value: 1 } : { name: `http.latency${i % 10}`, type: 'ms', value: (1 + (x % 20_000)) / 10, tags: { route: `/r${i % 5}` } })
  }
  return JSON.stringify(out)
}

async function http(c: HttpCommand): Promise<HttpResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const url = new URL(c.url)
  const bodies = Array.from({ length: 50 }, (_, k) => Buffer.from(events(c.eventsPerRequest, k)))
  const total = Math.round(c.rps * c.seconds)
  const latenciesMs: number[] = []
  const statuses: Record<string, number> = {}
  let accepted = 0
  let inFlight = 0
  const one = (body: Buffer, scheduled: number): void => {
    inFlight++
    const req = request(url, { agent, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => {
        // From the scheduled send time: a request the client could not send on time counts its wait.
        latenciesMs.push(performance.now() - scheduled)
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1
        try {
          accepted += (JSON.parse(text) as { accepted?: number }).accepted ?? 0
        } catch {
          // not JSON: counted by status only
        }
        inFlight--
      })
    })
    req.on('error', () => {
      statuses.error = (statuses.error ?? 0) + 1
      inFlight--
    })
    req.end(body)
  }
  // Warm the connections up (not measured).
  await Promise.all(Array.from({ length: 8 }, () => new Promise((r) => request(url, { agent, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => res.resume().on('end', r)).end(bodies[0]))))
  const t0 = performance.now()
  let sent = 0
  while (sent < total) {
    const now = performance.now()
    const due = Math.min(total, Math.floor(((now - t0) / 1000) * c.rps) + 1)
    while (sent < due) {
      one(bodies[sent % bodies.length], t0 + (sent / c.rps) * 1000)
      sent++
    }
    await sleep(1)
  }
  while (inFlight > 0) await sleep(1)
  const ms = performance.now() - t0
  agent.destroy()
  return { latenciesMs, statuses, accepted, ms }
}

if (require.main === module && process.send !== undefined) {
  process.on('message', (m: Command) => {
    const run = m.op === 'udp' ? udp(m) : m.op === 'poll' ? poll(m) : http(m)
    run.then(
      (result) => process.send!({ ok: true, result }),
      (e: unknown) => process.send!({ ok: false, error: String((e as Error).stack ?? e) }),
    )
  })
  process.send({ ready: true })
}
