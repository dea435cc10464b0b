/**
 * `hotstats serve --demo`: a load generator in its own thread that sends realistic traffic to
 * the server over real sockets, so a newcomer sees live statistics at once:
 *   - StatsD over UDP: request counters by route and status (some sampled at @0.5), latency
 *     timers by route, a queue-depth gauge, a set of user ids;
 *   - HTTP JSON batches (POST /api/v1/events): an A/B experiment, exposures and conversions
 *     tagged variant:A / variant:B (B converts a little better) with an order value;
 *   - a latency shift: every other 2 minutes /search gets 60% slower, which the control chart of
 *     `demo.api.latency` (route:/search) flags.
 */
import { createSocket } from 'node:dgram'
import { request } from 'node:http'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

import { spawnWorker } from './serve'

export interface DemoOptions {
  host: string
  httpPort: number
  statsdPort: number
  /** Events per second, in total. */
  rate: number
  authToken: string | null
}

export async function startDemo(opts: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const w = spawnWorker('demo', { workerData: opts })
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve())
    w.once('error', reject)
  })
  return {
    async stop() {
      w.postMessage('stop')
      await new Promise<void>((r) => {
        w.once('exit', () => r())
        setTimeout(() => void w.terminate(), 2000).unref()
      })
    },
  }
}

/** A seeded generator (mulberry32), so two demo runs send the same traffic. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function runDemo(opts: DemoOptions): void {
  const rand = rng(42)
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const udp = createSocket(opts.host.includes(':') ? 'udp6' : 'udp4')
  const routes = [
    { route: '/users', median: 12 },
    { route: '/orders', median: 35 },
    { route: '/search', median: 60 },
  ]
  const started = Date.now()
  let stopped = false
  const tickMs = 50
  const perTick = Math.max(1, Math.round((opts.rate * tickMs) / 1000))

  const statsdTick = (): void => {
    const shifted = Math.floor((Date.now() - started) / 120_000) % 2 === 1
    const lines: string[] = []
    // ~85% of the events go over StatsD: per request a counter and a timer, sometimes a set member.
    const requests = Math.max(1, Math.floor((perTick * 0.85) / 2.2))
    for (let i = 0; i < requests; i++) {
      const r = routes[Math.floor(rand() * routes.length)]
      const status = rand() < 0.02 ? 500 : 200
      const factor = shifted && r.route === '/search' ? 1.6 : 1
      const ms = r.median * factor * Math.exp(0.35 * normal())
      lines.push(rand() < 0.3 ? `demo.api.requests:1|c|@0.5|#route:${r.route},status:${status}` : `demo.api.requests:1|c|#route:${r.route},status:${status}`)
      lines.push(`demo.api.latency:${ms.toFixed(3)}|ms|#route:${r.route}`)
      if (rand() < 0.2) lines.push(`demo.users:u${Math.floor(rand() * 5000)}|s`)
    }
    lines.push(`demo.queue.depth:${Math.round(50 + 30 * Math.sin((Date.now() - started) / 20_000) + 5 * normal())}|g`)
    // Datagrams of up to ~1400 bytes (one Ethernet MTU), lines whole.
    let packet = ''
    for (const l of lines) {
      if (packet.length + l.length + 1 > 1400) {
        udp.send(packet, opts.statsdPort, opts.host)
        packet = ''
      }
      packet += packet === '' ? l : '\n' + l
    }
    if (packet !== '') udp.send(packet, opts.statsdPort, opts.host)
  }

  const httpTick = (): void => {
    const events: unknown[] = []
    const n = Math.max(2, Math.round((perTick * 0.15 * 4) / 2))
    for (let i = 0; i < n; i++) {
      const variant = rand() < 0.5 ? 'A' : 'B'
      events.push({ name: 'demo.ab.exposures', type: 'c', value: 1, tags: { variant } })
      if (rand() < (variant === 'A' ? 0.1 : 0.12)) {
        events.push({ name: 'demo.ab.conversions', type: 'c', value: 1, tags: { variant } })
        events.push({ name: 'demo.ab.order_value', type: 'd', value: Math.round(100 * 40 * Math.exp(0.5 * normal())) / 100, tags: { variant } })
      }
    }
    const body = JSON.stringify(events)
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    if (opts.authToken !== null) headers.authorization = `Bearer ${opts.authToken}`
    const req = request({ host: opts.host, port: opts.httpPort, path: '/api/v1/events', method: 'POST', headers, agent: false }, (res) => res.resume())
    req.on('error', () => {})
    req.end(body)
  }

  let ticks = 0
  const timer = setInterval(() => {
    if (stopped) return
    statsdTick()
    if (++ticks % 4 === 0) httpTick() // every 200 ms
  }, tickMs)
  parentPort!.on('message', () => {
    stopped = true
    clearInterval(timer)
    udp.close()
    setTimeout(() => process.exit(0), 100)
  })
  parentPort!.postMessage('started')
}

if (!isMainThread && (workerData as DemoOptions | undefined)?.statsdPort !== undefined && parentPort !== null) runDemo(workerData as DemoOptions)
