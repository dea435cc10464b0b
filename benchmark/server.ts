/**
 * `npm run bench:server`: `hotstats serve` against its peers, in one run, one at a time, with the
 * same load generator over loopback:
 *   - hotstats serve, from dist/ (`node dist/server/cli.js serve`),
 *   - etsy statsd 0.9.0 (`node node_modules/statsd/stats.js`, flushInterval 1000, with the
 *     counting backend benchmark/server-statsd-backend.js: what it aggregated, summed per flush),
 *   - a prom-client service doing the same job (benchmark/server-prom-client.ts: node:dgram, a
 *     naive parser, prom-client 15 Counter/Summary, node:http /metrics).
 * The generator (benchmark/server-load.ts) runs as separate Node processes, sending StatsD over a
 * connected UDP socket at a set rate up to a known total of lines.
 *
 * - Lossless rate, per workload: the highest rate the generator actually offered (lines sent /
 *   time taken) at which the server accounted for ≥ 99% of the lines sent (hotstats: `ingest.events`
 *   of /api/v1/server; statsd: its counting backend; the prom-client service: its own line
 *   counter) and, where the server can be read mid-run, had applied ≥ 99% of them within 100 ms of
 *   the last send (hotstats: `ingest.aggregated`, so a backlog queued inside the server does not
 *   pass for throughput; the prom-client service: its counter). Each step sends for STEP_S seconds;
 *   the rate doubles until a step fails, then two bisection steps (geometric) refine it. A failed
 *   step is run again and fails only if it fails twice (other work on the machine can spoil one).
 *   A step the generator could not offer in time (< 95% of the asked rate) is marked
 *   generator-limited; one that passes like that is retried with two generator processes.
 *   Every server instance first gets half a second of each small workload (JIT warm-up, not
 *   counted). statsd keeps its shipped socket buffer (the kernel default); the other two ask for
 *   32 MiB (capped by net.core.rmem_max).
 * - RSS (VmRSS from /proc) at 100k series (1,000 names × 100 values of a DogStatsD tag; half the
 *   names counters, half timers): after one pass over them, and after the 100k-series rate sweep
 *   (a couple of minutes of sliding-window state). hotstats' windows keep state per (series,
 *   bucket) for 15 minutes, so a third instance measures their steady state: HISTORY_NAMES × 100
 *   series get one event in every 5 s bucket of the last 5 minutes and every 1 min bucket of the
 *   last 15 (DogStatsD `|T` timestamps), and the growth is scaled to 100k series.
 * - /metrics at 100k series: median wall time of SCRAPES sequential scrapes (text format) on an
 *   idle server, body size; and the longest ingest stall while scraping: a steady stream runs
 *   (100k lines/s, or half the server's lossless rate if lower) while a second process polls the
 *   server's progress counter back to back (hotstats: `ingest.aggregated`; the prom-client service:
 *   its line counter); the stall is the longest time between two polls that saw the counter
 *   advance (from the first one's send to the second one's answer: an upper bound that includes a
 *   poll round trip), in a baseline phase and in a phase with scrapes back to back; each phase's
 *   loss is counted too. statsd has no /metrics (it pushes), so it has no row there.
 * - HTTP ingest: POST /api/v1/events, JSON arrays of 100 events, open-loop at 1,000 requests/s for
 *   HTTP_S seconds after HTTP_WARM_S seconds of the same (reported apart as the cold start); latency
 *   from each request's scheduled send time to its full answer. The client's own code is warmed
 *   against a trivial local server before any contender runs.
 *
 * HOTSTATS_BENCH_QUICK=1 runs a short version at small scale (10k series) for development;
 * HOTSTATS_BENCH_NODE_ARGS adds Node flags to the hotstats server (e.g. `--cpu-prof --cpu-prof-dir=DIR`:
 * the receiver and aggregator threads write their own profiles when the server exits on SIGTERM).
 * Writes benchmark/results/server.json and server.md.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'

import { HISTORY_AGES, type Command, type HttpResult, type PollResult, type UdpResult, type Workload } from './server-load'

const QUICK = process.env.HOTSTATS_BENCH_QUICK === '1'
const STEP_S = QUICK ? 0.8 : 1.25
const REFINE = 2
const NAMES_100K = QUICK ? 100 : 1000 // × 100 tag values
const SCRAPES = QUICK ? 3 : 5
const HTTP_S = QUICK ? 2 : 5
const HTTP_WARM_S = 2
const HISTORY_NAMES = QUICK ? 20 : 100 // × 100 tag values
const STALL_PHASE_S = QUICK ? 1.5 : 3
const root = join(__dirname, '..')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function median(xs: number[]): number {
  const s = [...xs].sort((a, c) => a - c)
  return s.length === 0 ? NaN : s[s.length >> 1]
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, c) => a - c)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

// ---- processes --------------------------------------------------------------------------------

/** Resident and peak resident set size of a process, bytes (Linux /proc). */
function rss(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** CPU seconds (user + system) a process has used, all its threads. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100 // utime, stime in clock ticks (USER_HZ 100)
}

/** CPU seconds per thread of a process ('main', or the thread id: Node names every thread 'node'). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const f = raw.split(') ')[1].split(' ')
      out.set(tid === String(pid) ? 'main' : `thread ${tid}`, (Number(f[11]) + Number(f[12])) / 100)
    } catch {
      // the thread ended
    }
  }
  return out
}

async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4')
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))
    const p = s.address().port
    s.close()
    return p
  }
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const a = srv.address()
  await new Promise((r) => srv.close(r))
  return typeof a === 'object' && a !== null ? a.port : 0
}

/** Starts a server that prints `listening http=H:P statsd=H:S` first. */
/** Every server process started, so none outlives a benchmark that fails half-way. */
const started = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
})

function track(p: ChildProcess): ChildProcess {
  started.add(p)
  p.once('exit', () => started.delete(p))
  return p
}

async function startListening(cmd: string, args: string[]): Promise<{ proc: ChildProcess; http: string; statsdPort: number }> {
  const proc = track(spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d) => (err += String(d)))
  const first = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += String(d)
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        proc.stdout!.off('data', onData)
        proc.stdout!.resume()
        resolve(out.slice(0, nl))
      }
    }
    proc.stdout!.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${err}`)))
  })
  const m = /^listening http=([\d.]+):(\d+) statsd=([\d.]+):(\d+)$/.exec(first)
  if (m === null) throw new Error(`unexpected first line ${JSON.stringify(first)}`)
  return { proc, http: `http://${m[1]}:${m[2]}`, statsdPort: Number(m[4]) }
}

async function getJson(url: string): Promise<any> {
  const r = await fetch(url)
  return r.json()
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    proc.kill('SIGTERM')
  })
}

// ---- the load generator processes ------------------------------------------------------------

interface Loader {
  proc: ChildProcess
  run<T>(c: Command): Promise<T>
}

async function loader(): Promise<Loader> {
  const proc = track(fork(join(__dirname, 'server-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  await new Promise((r) => proc.once('message', r))
  let chain: Promise<unknown> = Promise.resolve()
  return {
    proc,
    run<T>(c: Command): Promise<T> {
      const p = chain.then(
        () =>
          new Promise<T>((resolve, reject) => {
            proc.once('message', (m: { ok: boolean; result?: T; error?: string }) => (m.ok ? resolve(m.result as T) : reject(new Error(m.error))))
            proc.send(c)
          }),
      )
      chain = p.catch(() => {})
      return p
    },
  }
}

// ---- the contenders ---------------------------------------------------------------------------

interface Contender {
  name: string
  pid: number
  statsdPort: number
  http: string | null
  /** Lines accounted for so far (what the lossless rate counts). */
  count(): Promise<number>
  /** Lines applied so far, readable mid-run (null where only the final count is known). */
  progress(): Promise<number | null>
  /** Waits until everything sent before `since` (performance.now ms) is accounted for; the count. */
  settle(since: number): Promise<number>
  /** The URL and JSON fields a poller reads progress from (null: not pollable). */
  poll: { url: string; field: string } | null
  series(): Promise<number | null>
  extra(): Promise<Record<string, unknown>>
  stop(): Promise<void>
}

/** Polls `read` until it gives the same value twice 150 ms apart (UDP still in the kernel drains). */
async function stable(read: () => Promise<{ value: number; done: boolean }>, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs
  let last = await read()
  for (;;) {
    await sleep(last.done ? 150 : 50)
    const now = await read()
    if (now.done && last.done && now.value === last.value) return now.value
    if (performance.now() > deadline) throw new Error(`no settle: ${JSON.stringify(now)}`)
    last = now
  }
}

async function hotstats(): Promise<Contender> {
  const nodeArgs = (process.env.HOTSTATS_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const s = await startListening(process.execPath, [...nodeArgs, join(root, 'dist', 'server', 'cli.js'), 'serve', '--host', '127.0.0.1', '--http-port', '0', '--statsd-port', '0', '--quiet'])
  const server = () => getJson(s.http + '/api/v1/server')
  return {
    name: 'hotstats serve',
    pid: s.proc.pid!,
    statsdPort: s.statsdPort,
    http: s.http,
    count: async () => (await server()).ingest.events,
    progress: async () => (await server()).ingest.aggregated,
    settle: () =>
      stable(async () => {
        const j = await server()
        return { value: j.ingest.events, done: j.ingest.aggregated === j.ingest.events }
      }),
    poll: { url: s.http + '/api/v1/server', field: 'ingest.aggregated' },
    series: async () => (await server()).series,
    extra: async () => {
      const j = await server()
      return { losses: j.losses, windowPairs: j.windowPairs, series: j.series, udpPackets: j.ingest.udpPackets }
    },
    stop: () => stop(s.proc),
  }
}

async function etsyStatsd(dir: string): Promise<Contender> {
  const port = await freePort('udp')
  const mgmt = await freePort('tcp')
  const config = join(dir, 'statsd-config.js')
  writeFileSync(
    config,
    `{ port: ${port}, address: "127.0.0.1", mgmt_port: ${mgmt}, mgmt_address: "127.0.0.1", flushInterval: 1000, title: false,
       backends: [${JSON.stringify(join(__dirname, 'server-statsd-backend.js'))}], automaticConfigReload: false }`,
  )
  const proc = track(spawn(process.execPath, [join(root, 'node_modules', 'statsd', 'stats.js'), config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
  let flushes: { t: number; lines: number; keys: number; received: number; badLines: number }[] = []
  let buf = ''
  let err = ''
  proc.stderr!.on('data', (d) => (err += String(d)))
  proc.stdout!.on('data', (d) => {
    buf += String(d)
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const m = /HOTSTATS_BENCH_FLUSH (.*)$/.exec(line)
      if (m !== null) {
        flushes.push({ t: performance.now(), ...JSON.parse(m[1]) })
        if (flushes.length > 100) flushes = flushes.slice(-10)
      }
    }
  })
  // Up when its first flush is reported (the UDP socket is bound before the flush timer starts).
  const t0 = performance.now()
  while (flushes.length === 0) {
    if (proc.exitCode !== null) throw new Error(`statsd exited: ${err}`)
    if (performance.now() - t0 > 15_000) throw new Error(`statsd did not flush: ${err}`)
    await sleep(50)
  }
  const last = () => flushes[flushes.length - 1]
  return {
    name: 'etsy statsd 0.9.0',
    pid: proc.pid!,
    statsdPort: port,
    http: null,
    count: async () => last().lines,
    progress: async () => null,
    // The first flush 300 ms or more after the last send: statsd parses synchronously as datagrams
    // arrive, so by then its only queue (the kernel's socket buffer) has drained.
    settle: async (since) => {
      const deadline = performance.now() + 30_000
      while (last().t < since + 300) {
        if (performance.now() > deadline) throw new Error('statsd stopped flushing')
        await sleep(20)
      }
      return last().lines
    },
    poll: null,
    series: async () => last().keys,
    extra: async () => ({ badLines: last().badLines, keys: last().keys, linesReceived: last().received, linesAggregated: last().lines }),
    stop: () => stop(proc),
  }
}

async function promClientService(): Promise<Contender> {
  const s = await startListening(process.execPath, ['--import', 'tsx', join(__dirname, 'server-prom-client.ts')])
  const st = () => getJson(s.http + '/stats')
  return {
    name: 'prom-client service',
    pid: s.proc.pid!,
    statsdPort: s.statsdPort,
    http: s.http,
    count: async () => (await st()).lines,
    progress: async () => (await st()).lines,
    settle: () => stable(async () => ({ value: (await st()).lines, done: true })),
    poll: { url: s.http + '/stats', field: 'lines' },
    series: async () => null,
    extra: async () => {
      const j = await st()
      return { bad: j.bad, labelMismatch: j.labelMismatch, metricFamilies: j.metricFamilies }
    },
    stop: () => stop(s.proc),
  }
}

// ---- lossless rate ----------------------------------------------------------------------------

interface Step {
  offered: number
  achieved: number
  generators: number
  sent: number
  counted: number
  loss: number
  /** Applied within 100 ms of the last send, as a share of the lines sent (null: not readable). */
  timely: number | null
  generatorLimited: boolean
  pass: boolean
  /** CPU cores the server used during the step. */
  serverCores: number
}

interface Search {
  workload: Workload & { label: string }
  rate: number
  generatorLimited: boolean
  steps: Step[]
}

let loaders: Loader[] = []

async function step(c: Contender, w: Workload, rate: number, generators: number, minLines: number): Promise<Step> {
  const before = await c.count()
  const lines = Math.max(minLines, Math.round(rate * STEP_S))
  const cpu0 = cpuSeconds(c.pid)
  const t0 = performance.now()
  const results = await Promise.all(
    loaders.slice(0, generators).map((l) => l.run<UdpResult>({ op: 'udp', port: c.statsdPort, ...w, rate: rate / generators, lines: Math.ceil(lines / generators) })),
  )
  const end = performance.now()
  const cpu1 = cpuSeconds(c.pid)
  await sleep(100)
  const mid = await c.progress()
  const after = await c.settle(end)
  const sent = results.reduce((a, r) => a + r.lines, 0)
  const ms = Math.max(...results.map((r) => r.ms))
  const achieved = (sent / ms) * 1000
  const counted = after - before
  const loss = 1 - counted / sent
  const timely = mid === null ? null : (mid - before) / sent
  const generatorLimited = achieved < 0.95 * rate
  return {
    offered: rate,
    achieved,
    generators,
    sent,
    counted,
    loss,
    timely,
    generatorLimited,
    pass: loss < 0.01 && (timely === null || timely >= 0.99),
    serverCores: (cpu1 - cpu0) / ((end - t0) / 1000),
  }
}

function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(0)}k`
}

async function lossless(c: Contender, w: Workload & { label: string }, start: number, minLines = 0): Promise<Search> {
  const steps: Step[] = []
  let generators = 1
  const log = (s: Step) =>
    process.stdout.write(
      `  ${c.name} ${w.label}: offered ${fmtRate(s.offered)}/s achieved ${fmtRate(s.achieved)}/s (${s.generators} gen) loss ${(s.loss * 100).toFixed(2)}% timely ${s.timely === null ? '-' : (s.timely * 100).toFixed(1) + '%'} cores ${s.serverCores.toFixed(2)} ${s.pass ? 'pass' : 'FAIL'}${s.generatorLimited ? ' (generator-limited)' : ''}\n`,
    )
  const run = async (rate: number): Promise<Step> => {
    let s = await step(c, w, rate, generators, minLines)
    log(s)
    if (s.pass && s.generatorLimited && generators === 1 && loaders.length > 1) {
      steps.push(s)
      generators = 2
      s = await step(c, w, rate, generators, minLines)
      log(s)
    }
    // Other work on the machine can spoil one step: a failure counts when it happens twice.
    if (!s.pass && !s.generatorLimited) {
      steps.push(s)
      s = await step(c, w, rate, generators, minLines)
      log(s)
    }
    steps.push(s)
    return s
  }
  let lo: Step | null = null
  let hi: Step | null = null
  let rate = start
  // Down until a step passes, or up until one fails (or the generator cannot offer more).
  for (let i = 0; i < 12; i++) {
    const s = await run(rate)
    if (s.pass) {
      lo = s
      if (s.generatorLimited || hi !== null) break
      rate *= 2
    } else {
      hi = s
      if (lo !== null) break
      rate /= 2
    }
  }
  if (lo !== null && hi !== null && !lo.generatorLimited) {
    let a = lo.offered
    let b = hi.offered
    for (let i = 0; i < REFINE; i++) {
      const m = Math.sqrt(a * b)
      const s = await run(m)
      if (s.pass) a = m
      else b = m
      if (s.generatorLimited) break
    }
  }
  const passed = steps.filter((s) => s.pass)
  const best = passed.length === 0 ? null : passed.reduce((x, y) => (y.achieved > x.achieved ? y : x))
  const limited = best !== null && best.generatorLimited && best.achieved >= Math.max(...steps.map((s) => s.achieved)) * 0.97
  return { workload: w, rate: best?.achieved ?? 0, generatorLimited: limited, steps }
}

// ---- /metrics, stalls, HTTP ingest ------------------------------------------------------------

async function scrape(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now()
  const r = await fetch(url + '/metrics')
  const body = await r.arrayBuffer()
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`)
  return { ms: performance.now() - t0, bytes: body.byteLength }
}

interface StallPhase {
  maxGapMs: number
  maxPollIntervalMs: number
  polls: number
  sent: number
  counted: number
  loss: number
}

/** The longest time between two polls that each saw the counter advance (samples: [sent, received, value]). */
function longestGap(samples: number[][], from: number, to: number): { maxGapMs: number; maxPollIntervalMs: number; polls: number } {
  const inside = samples.filter((s) => s[0] >= from && s[1] <= to)
  let maxGap = 0
  let maxInterval = 0
  let lastAdvance: number | null = null
  for (let i = 1; i < inside.length; i++) {
    maxInterval = Math.max(maxInterval, inside[i][1] - inside[i - 1][1])
    if (inside[i][2] > inside[i - 1][2]) {
      // The counter was read when the request arrived: between the send and the answer.
      if (lastAdvance !== null) maxGap = Math.max(maxGap, inside[i][1] - lastAdvance)
      lastAdvance = inside[i][0]
    }
  }
  return { maxGapMs: maxGap, maxPollIntervalMs: maxInterval, polls: inside.length }
}

/**
 * A steady stream at `rate` in two phases of STALL_PHASE_S each, a baseline and one with scrapes
 * back to back, while a poller process reads the progress counter; each phase's lines are sent
 * by one generator command, so its loss is exact.
 */
async function stallTest(c: Contender, w: Workload, rate: number): Promise<{ rate: number; baseline: StallPhase; scraping: StallPhase; scrapes: number[] }> {
  const phase = async (scraping: boolean): Promise<{ stall: StallPhase; scrapes: number[] }> => {
    const ms = STALL_PHASE_S * 1000
    const before = await c.count()
    const polled = loaders[loaders.length - 1].run<PollResult>({ op: 'poll', url: c.poll!.url, ms: ms + 1000, fields: [c.poll!.field] })
    await sleep(100)
    let sending = true
    let to = 0 // when the stream ended (epoch ms)
    const sent = loaders[0].run<UdpResult>({ op: 'udp', port: c.statsdPort, ...w, rate, lines: Math.round((rate * ms) / 1000) }).finally(() => {
      sending = false
      to = performance.timeOrigin + performance.now()
    })
    await sleep(100) // the stream is flowing
    const from = performance.timeOrigin + performance.now()
    const scrapes: number[] = []
    if (scraping) while (sending) scrapes.push((await scrape(c.http!)).ms)
    const r = await sent
    const { samples } = await polled
    const after = await c.settle(performance.now())
    const gap = longestGap(samples, from, to)
    return { stall: { ...gap, sent: r.lines, counted: after - before, loss: 1 - (after - before) / r.lines }, scrapes }
  }
  const baseline = await phase(false)
  const scraping = await phase(true)
  return { rate, baseline: baseline.stall, scraping: scraping.stall, scrapes: scraping.scrapes }
}

async function httpIngest(c: Contender): Promise<{ p50: number; p99: number; max: number; mean: number; requests: number; accepted: number; statuses: Record<string, number>; cold: { p50: number; p99: number; max: number } }> {
  const run = (seconds: number) => loaders[0].run<HttpResult>({ op: 'http', url: c.http + '/api/v1/events', rps: 1000, seconds, eventsPerRequest: 100 })
  // The first seconds on a fresh server include the JIT warming up its JSON path: measured apart.
  const cold = (await run(HTTP_WARM_S)).latenciesMs
  const r = await run(HTTP_S)
  const l = r.latenciesMs
  return {
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    max: Math.max(...l),
    mean: l.reduce((a, x) => a + x, 0) / l.length,
    requests: l.length,
    accepted: r.accepted,
    statuses: r.statuses,
    cold: { p50: percentile(cold, 50), p99: percentile(cold, 99), max: Math.max(...cold) },
  }
}

/** Warms the HTTP client's own code against a trivial local server, so no contender pays for it. */
async function warmClient(): Promise<void> {
  const srv = createHttpServer((req, res) => req.resume().on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":100,"rejected":0,"errors":[]}')))
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const a = srv.address()
  const port = typeof a === 'object' && a !== null ? a.port : 0
  await loaders[0].run<HttpResult>({ op: 'http', url: `http://127.0.0.1:${port}/api/v1/events`, rps: 1000, seconds: 2, eventsPerRequest: 100 })
  await new Promise((r) => srv.close(r))
}

// ---- one contender, all stages -----------------------------------------------------------------

const SMALL = (type: Workload['type'], linesPerPacket: number, label: string) => ({ type, names: 100, tagValues: 1, linesPerPacket, label })
const BIG = { type: 'mix' as const, names: NAMES_100K, tagValues: 100, linesPerPacket: 20, label: `${(NAMES_100K * 100) / 1000}k series (½ counters, ½ timers), 20 lines/packet` }

interface ContenderResult {
  name: string
  rates: Search[]
  rss: { afterOnePass: number; afterSweep: number; peak: number; seriesSeen: number | null; windowPairs: unknown } | null
  history: Awaited<ReturnType<typeof history>> | null
  metrics: { medianMs: number; times: number[]; bytes: number } | null
  stall: Awaited<ReturnType<typeof stallTest>> | null
  http: Awaited<ReturnType<typeof httpIngest>> | null
  threads: Record<string, number>
  extra: Record<string, unknown>
}

/** JIT warm-up before any measured step: half a second of each small workload, not counted. */
async function warmUp(c: Contender): Promise<void> {
  for (const [type, lpp] of [['c', 1], ['c', 20], ['ms', 1], ['ms', 20]] as const) {
    await step(c, SMALL(type, lpp, 'warm-up'), lpp === 1 ? 20_000 : 100_000, 1, 0)
  }
}

/**
 * Window state after 15 minutes of every series being active, at HISTORY_NAMES × 100 series:
 * one pass, then 70 passes with DogStatsD timestamps that put an event of each series in every
 * 5 s bucket of the last 5 minutes and every 1 min bucket of the last 15 (benchmark/server-load.ts
 * HISTORY_AGES); RSS after each. Only for a server with sliding windows.
 */
async function history(c: Contender): Promise<{ series: number; afterOnePass: number; withHistory: number; windowPairs: unknown; loss: number }> {
  const w = { type: 'mix' as const, names: HISTORY_NAMES, tagValues: 100, linesPerPacket: 20 }
  const series = w.names * w.tagValues
  await step(c, w, 50_000, 1, series)
  await sleep(1000)
  const afterOnePass = rss(c.pid).rss
  const s = await step(c, { ...w, historyNow: Math.floor(Date.now() / 1000) }, 150_000, 1, series * HISTORY_AGES.length)
  await sleep(5500) // the server counts window pairs every 5 s
  const withHistory = rss(c.pid).rss
  const windowPairs = (await c.extra()).windowPairs
  console.log(`  ${series} series with 15 min of window history: RSS ${(afterOnePass / 2 ** 20).toFixed(0)} → ${(withHistory / 2 ** 20).toFixed(0)} MB, ${String(windowPairs)} window pairs, loss ${(s.loss * 100).toFixed(2)}%`)
  return { series, afterOnePass, withHistory, windowPairs, loss: s.loss }
}

async function measure(make: () => Promise<Contender>, starts: number[], windows: boolean): Promise<ContenderResult> {
  // Part 1: the four small workloads and HTTP ingest, on one instance.
  let c = await make()
  console.log(`${c.name} (pid ${c.pid})`)
  await warmUp(c)
  const rates: Search[] = []
  const small = [SMALL('c', 1, 'counters, 1 line/packet'), SMALL('c', 20, 'counters, 20 lines/packet'), SMALL('ms', 1, 'timers, 1 line/packet'), SMALL('ms', 20, 'timers, 20 lines/packet')]
  for (let i = 0; i < small.length; i++) rates.push(await lossless(c, small[i], starts[i]))
  const http = c.http !== null ? await httpIngest(c) : null
  if (http !== null) console.log(`  HTTP ingest: p50 ${http.p50.toFixed(2)} ms p99 ${http.p99.toFixed(2)} ms max ${http.max.toFixed(1)} ms (cold, first ${HTTP_WARM_S} s: p99 ${http.cold.p99.toFixed(1)} ms), ${http.accepted} events accepted`)
  const extra1 = await c.extra()
  await c.stop()

  // Part 2: 100k series on a fresh instance: one pass, RSS, the sweep, RSS, /metrics, stalls.
  c = await make()
  const series = NAMES_100K * 100
  const cpuBefore = threadCpu(c.pid)
  await step(c, BIG, Math.min(50_000, starts[4]), 1, series)
  await sleep(1000)
  const afterOnePass = rss(c.pid).rss
  const seriesSeen = await c.series()
  console.log(`  ${seriesSeen ?? '?'} series after one pass: RSS ${(afterOnePass / 2 ** 20).toFixed(0)} MB`)
  const sweep = await lossless(c, BIG, starts[4], 2 * series)
  rates.push(sweep)
  await sleep(1000)
  const r = rss(c.pid)
  const windowPairs = (await c.extra()).windowPairs ?? null
  console.log(`  after the sweep: RSS ${(r.rss / 2 ** 20).toFixed(0)} MB (peak ${(r.hwm / 2 ** 20).toFixed(0)} MB)${windowPairs === null ? '' : `, ${String(windowPairs)} window pairs`}`)
  let metrics: ContenderResult['metrics'] = null
  let stall: ContenderResult['stall'] = null
  if (c.http !== null) {
    const times: number[] = []
    let bytes = 0
    for (let i = 0; i < SCRAPES; i++) {
      const s = await scrape(c.http)
      times.push(s.ms)
      bytes = s.bytes
    }
    metrics = { medianMs: median(times), times, bytes }
    console.log(`  /metrics: median ${metrics.medianMs.toFixed(0)} ms, ${(bytes / 2 ** 20).toFixed(1)} MB`)
    stall = await stallTest(c, BIG, Math.min(100_000, sweep.rate / 2))
    console.log(
      `  stall at ${fmtRate(stall.rate)}/s: baseline ${stall.baseline.maxGapMs.toFixed(1)} ms (poll ≤ ${stall.baseline.maxPollIntervalMs.toFixed(1)} ms, loss ${(stall.baseline.loss * 100).toFixed(2)}%), scraping ${stall.scraping.maxGapMs.toFixed(1)} ms (poll ≤ ${stall.scraping.maxPollIntervalMs.toFixed(1)} ms, loss ${(stall.scraping.loss * 100).toFixed(2)}%, ${stall.scrapes.length} scrapes: ${stall.scrapes.map((x) => x.toFixed(0)).join(', ')} ms)`,
    )
  }
  const cpuAfter = threadCpu(c.pid)
  const threads: Record<string, number> = {}
  for (const [k, v] of cpuAfter) if (v - (cpuBefore.get(k) ?? 0) >= 0.05) threads[k] = +(v - (cpuBefore.get(k) ?? 0)).toFixed(2)
  const extra2 = await c.extra()
  await c.stop()

  // Part 3 (a server with sliding windows): their state after 15 minutes, on a fresh instance.
  let hist: ContenderResult['history'] = null
  if (windows) {
    c = await make()
    hist = await history(c)
    await c.stop()
  }
  return { name: c.name, rates, rss: { afterOnePass, afterSweep: r.rss, peak: r.hwm, seriesSeen, windowPairs }, history: hist, metrics, stall, http, threads, extra: { small: extra1, big: extra2 } }
}

// ---- report -----------------------------------------------------------------------------------

function fmtMB(b: number | undefined): string {
  return b === undefined || !Number.isFinite(b) ? 'n/a' : `${(b / 2 ** 20).toFixed(0)}`
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-bench-server-'))
  const startedAt = Date.now()
  loaders = await Promise.all([loader(), loader(), loader()])
  await warmClient()
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  console.log(`load average before: ${load}; ${cpus().length} CPUs; step ${STEP_S} s${QUICK ? ' (quick mode)' : ''}`)
  const h = await measure(hotstats, [100_000, 800_000, 100_000, 800_000, 200_000], true)
  const s = await measure(() => etsyStatsd(dir), [20_000, 200_000, 20_000, 200_000, 100_000], false)
  const p = await measure(promClientService, [50_000, 400_000, 50_000, 200_000, 100_000], false)
  for (const l of loaders) l.proc.kill()
  const minutes = (Date.now() - startedAt) / 60_000
  const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

  const rate = (r: Search) => `${fmtRate(r.rate)}${r.generatorLimited ? ' (≥, generator-limited)' : ''}`
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a')
  const rows: string[] = [
    '| StatsD lines/s accepted with < 1% loss | hotstats serve | etsy statsd | prom-client service | hotstats / statsd | hotstats / prom-client |',
    '|---|---|---|---|---|---|',
  ]
  for (let i = 0; i < h.rates.length; i++) {
    const label = h.rates[i].workload.label + (i < 4 ? ', 100 series' : '')
    rows.push(`| ${label} | ${rate(h.rates[i])} | ${rate(s.rates[i])} | ${rate(p.rates[i])} | ${ratio(h.rates[i].rate, s.rates[i].rate)} | ${ratio(h.rates[i].rate, p.rates[i].rate)} |`)
  }
  const cores = (r: Search) => {
    const best = r.steps.filter((x) => x.pass).reduce((x, y) => (y.achieved > x.achieved ? y : x), r.steps[0])
    return best?.serverCores.toFixed(2) ?? 'n/a'
  }
  rows.push(`| server CPU cores used at that rate (counters, 20 lines/packet) | ${cores(h.rates[1])} | ${cores(s.rates[1])} | ${cores(p.rates[1])} | | |`)
  const big = `${(NAMES_100K * 100) / 1000}k`
  const held = (x: ContenderResult) => (x.rss?.seriesSeen == null ? '' : ` (${x.rss.seriesSeen})`)
  const push = (...xs: (string | null)[]) => rows.push(...xs.filter((x): x is string => x !== null))
  const histEst = h.history === null || h.rss === null ? NaN : h.rss.afterOnePass + ((NAMES_100K * 100) / h.history.series) * (h.history.withHistory - h.history.afterOnePass)
  push(
    '',
    `| ${big} series | hotstats serve | etsy statsd | prom-client service |`,
    '|---|---|---|---|',
    `| RSS after one pass over the series, MB (series held, where the server says) | ${fmtMB(h.rss?.afterOnePass)}${held(h)} | ${fmtMB(s.rss?.afterOnePass)}${held(s)} | ${fmtMB(p.rss?.afterOnePass)}${held(p)} |`,
    `| RSS after the rate sweep, MB | ${fmtMB(h.rss?.afterSweep)} (${String(h.rss?.windowPairs)} window pairs) | ${fmtMB(s.rss?.afterSweep)} | ${fmtMB(p.rss?.afterSweep)} |`,
    `| peak RSS, MB | ${fmtMB(h.rss?.peak)} | ${fmtMB(s.rss?.peak)} | ${fmtMB(p.rss?.peak)} |`,
    h.history === null
      ? null
      : `| windows after 15 min of every series active: ${h.history.series / 1000}k series measured (one pass → with history), MB; ${big} estimated | ${fmtMB(h.history.afterOnePass)} → ${fmtMB(h.history.withHistory)} (${String(h.history.windowPairs)} window pairs); ≈ ${fmtMB(histEst)} | n/a (no windows) | n/a (no windows) |`,
    `| /metrics, median of ${SCRAPES} scrapes, ms (body MB) | ${h.metrics?.medianMs.toFixed(0)} (${fmtMB(h.metrics?.bytes)}) | n/a (push only) | ${p.metrics?.medianMs.toFixed(0)} (${fmtMB(p.metrics?.bytes)}) |`,
    `| longest ingest gap while scraping back to back, ms (baseline without scrapes) | ${h.stall?.scraping.maxGapMs.toFixed(0)} (${h.stall?.baseline.maxGapMs.toFixed(0)}) | n/a | ${p.stall?.scraping.maxGapMs.toFixed(0)} (${p.stall?.baseline.maxGapMs.toFixed(0)}) |`,
    `| scrape time under that stream, ms | ${h.stall?.scrapes.map((x) => x.toFixed(0)).join(', ')} | n/a | ${p.stall?.scrapes.map((x) => x.toFixed(0)).join(', ')} |`,
    `| loss in that stream while scraping (baseline) | ${((h.stall?.scraping.loss ?? NaN) * 100).toFixed(2)}% (${((h.stall?.baseline.loss ?? NaN) * 100).toFixed(2)}%) at ${fmtRate(h.stall?.rate ?? 0)}/s | n/a | ${((p.stall?.scraping.loss ?? NaN) * 100).toFixed(2)}% (${((p.stall?.baseline.loss ?? NaN) * 100).toFixed(2)}%) at ${fmtRate(p.stall?.rate ?? 0)}/s |`,
    '',
    `| HTTP ingest, 1,000 req/s × 100 events (JSON), ${HTTP_S} s after ${HTTP_WARM_S} s of warm-up | p50 ms | p99 ms | max ms | events accepted | warm-up p99 ms |`,
    '|---|---|---|---|---|---|',
    `| hotstats serve | ${h.http?.p50.toFixed(2)} | ${h.http?.p99.toFixed(2)} | ${h.http?.max.toFixed(1)} | ${h.http?.accepted} / ${(h.http?.requests ?? 0) * 100} | ${h.http?.cold.p99.toFixed(1)} |`,
    `| prom-client service | ${p.http?.p50.toFixed(2)} | ${p.http?.p99.toFixed(2)} | ${p.http?.max.toFixed(1)} | ${p.http?.accepted} / ${(p.http?.requests ?? 0) * 100} | ${p.http?.cold.p99.toFixed(1)} |`,
  )
  const bestSmall = h.rates.slice(0, 4).reduce((x, y) => (y.rate > x.rate ? y : x))
  const ratios = h.rates.map((r, i) => ({ r: r.rate / s.rates[i].rate, label: r.workload.label }))
  const minRatio = ratios.reduce((x, y) => (y.r < x.r ? y : x))
  const targets: Array<[string, number | undefined, number, 'le' | 'ge', string]> = [
    [`≥ 1M StatsD lines/s with < 1% loss (best: ${bestSmall.workload.label})`, bestSmall.rate / 1e6, 1, 'ge', 'M/s'],
    [`≥ 10× etsy statsd's lossless rate, in every row (lowest: ${minRatio.label})`, minRatio.r, 10, 'ge', '×'],
    [`RSS ≤ 200 MB at ${big} series (after the sweep, a few minutes of windows)`, h.rss === null ? undefined : h.rss.afterSweep / 2 ** 20, 200, 'le', ' MB'],
    [`… with 15 minutes of window history (estimate from ${(h.history?.series ?? 0) / 1000}k series)`, Number.isFinite(histEst) ? histEst / 2 ** 20 : undefined, 200, 'le', ' MB'],
    [`/metrics at ${big} series < 250 ms`, h.metrics?.medianMs, 250, 'le', ' ms'],
    ['no ingest stall > 20 ms while scraping', h.stall?.scraping.maxGapMs, 20, 'le', ' ms'],
    ['HTTP ingest p99 < 10 ms at 1,000 req/s', h.http?.p99, 10, 'le', ' ms'],
  ]
  rows.push('', '| target | measured | met |', '|---|---|---|')
  for (const [name, v, want, dir2, unit] of targets) rows.push(`| ${name} | ${v === undefined ? 'n/a' : v.toFixed(2) + unit} | ${v !== undefined && (dir2 === 'ge' ? v >= want : v <= want) ? 'yes' : 'no'} |`)
  const notes = [
    '- Lossless rate: lines sent by the generator / the time it took, for the fastest step at which the server accounted for ≥ 99% of them ' +
      '(hotstats: `ingest.events`; statsd: its counting backend; prom-client service: its line counter) and, where readable mid-run, had applied ≥ 99% ' +
      'within 100 ms of the last send (hotstats: `ingest.aggregated`). A failing step is run twice. "generator-limited": the generator could not send faster.',
    `- RSS: VmRSS of the server process. The ${big}-series workload is 1,000 names × 100 values of a DogStatsD tag, half counters, half timers. ` +
      'The window row fills every 5 s and 1 min bucket of the last 15 minutes with timestamped lines (`|T`) for a tenth of the series and scales the growth ×10.',
    '- /metrics: wall time of a text scrape from the client, idle server. Ingest gap: the longest time between two back-to-back polls of the progress counter ' +
      '(hotstats `ingest.aggregated`, prom-client service its line counter) that both saw it advance, under a steady stream, with and without scrapes running back to back.',
    '- HTTP ingest: open-loop POSTs of JSON arrays; latency from the scheduled send time to the full answer.',
  ]
  const md = [
    `Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ${cpus().length} CPUs, the generator on the same machine; load average before ${load}, after ${loadAfter} (other work on the machine shows as noise); ${minutes.toFixed(1)} min; steps of ${STEP_S} s` +
      `${QUICK ? ' (quick mode: small scale, not the real figures)' : ''}. etsy statsd 0.9.0 with flushInterval 1000 and a counting backend; ` +
      'the prom-client service is benchmark/server-prom-client.ts (one thread; timers as Summary). Details: the header of benchmark/server.ts.',
    '',
    ...rows,
    '',
    ...notes,
    '',
  ].join('\n')
  console.log('\n' + md)
  rmSync(dir, { recursive: true, force: true })
  if (QUICK) process.exit(0) // a quick run's figures are not the benchmark's
  const out = join(__dirname, 'results')
  writeFileSync(join(out, 'server.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadBefore: load, loadAfter, quick: QUICK, stepSeconds: STEP_S, minutes, contenders: [h, s, p] }, null, 2))
  writeFileSync(join(out, 'server.md'), md)
  process.exit(0)
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    for (const l of loaders) l.proc.kill()
    process.exit(1)
  })
}

// The stages, for running one part on its own while working on the server (set the loaders first).
export { warmClient, etsyStatsd, hotstats, httpIngest, lossless, measure, promClientService, scrape, stallTest, step, loader, BIG, SMALL }
export function setLoaders(ls: Loader[]): void {
  loaders = ls
}
