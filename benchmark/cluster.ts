/**
 * `npm run bench:cluster`: `hotstats serve --redis` instances sharing one redis-server, in one run
 * (issue 17's benchmark). The servers run from dist/ (`node dist/server/cli.js serve`; from the
 * sources through tsx with HOTSTATS_BENCH_FROM_SOURCES=1); a redis-server of our own runs on a free
 * loopback port with `--save '' --appendonly yes --appendfsync everysec` (AOF in a temporary
 * directory, Redis's default AOF setting); the load comes from separate Node processes
 * (benchmark/cluster-load.ts).
 *
 * 1. Durable HTTP ingest, 1 vs 2 instances: keep-alive clients (one load process per instance) POST
 *    JSON arrays of 100 events (half counters, half timers, over 1,000 series) back to back for
 *    TP_WARM + TP_MS; events/s acknowledged (202: XADD to the node's Redis stream done) inside the
 *    measured interval. One instance is run with 16, 64 and 128 clients (a closed loop needs enough
 *    requests in flight to fill the pipeline); two instances with the best of those per instance.
 *    Also, over the same interval: events/s applied by the aggregators (`ingest.aggregated`), CPU
 *    cores used by each process and by the busiest threads of a server (/proc), by the whole
 *    machine (/proc/stat: other users' processes included), and, after the load stops, how long the
 *    aggregators take to apply everything acknowledged.
 * 2. Publish cost and ingest stalls, one node with SERIES series: a background load (open loop,
 *    BG_RPS batches of 100 events/s over all SERIES series, so every series is dirty at every
 *    publish) keeps it busy while (a) a probe process POSTs 1-event batches open-loop every
 *    1000/PROBE_RPS ms (latency from the scheduled send to the 202: the ack path, XADD included),
 *    and (b) a poller GETs /api/v1/server back to back (the longest time between two polls that
 *    saw `ingest.aggregated` advance: the apply path, an upper bound that includes one poll round
 *    trip; `redis.lastPublishMs` read at every publish). Run twice, on fresh nodes: publishes off
 *    (`--publish-interval 3600`, the baseline) and every 1 s (the default). Redis's SLOWLOG
 *    (threshold 1 ms) gives how long each publish command kept Redis itself busy (every node's
 *    XADDs wait behind it).
 * 3. Cluster queries: 3 nodes, the same SERIES series on each, sent over StatsD UDP with DogStatsD
 *    timestamps spread over the last 92 s (19 passes, one event per series per 5 s bucket: a 60 s
 *    window holds 12 full buckets on every node while the queries run, like a series active for
 *    a minute and a half). Once every node has published: QUERIES sequential
 *    `GET /api/v1/stats?name=..&tags=..&scope=cluster` for random series (cumulative, then
 *    `window=60`), median and p99 from one keep-alive client (answers checked: their `count` and
 *    `nodes`); then again while each node ingests BG_RPS batches/s over all its series (so each
 *    publishes SERIES dirty series every second).
 * 4. Redis memory per series: INFO memory `used_memory` after the 3 nodes' publishes minus before
 *    (Redis flushed first), per node-series; and split with MEMORY USAGE (SAMPLES 0) into the
 *    state hash (per series) and window bucket hashes (per series and bucket), from which the
 *    cost of a series active for 15 minutes (its state + 60 5-s buckets + 15 1-min buckets per
 *    node) is extrapolated.
 *
 * HOTSTATS_BENCH_QUICK=1 runs a short version at small scale (1,000 series) for development;
 * HOTSTATS_BENCH_FROM_SOURCES=1 runs the servers from the sources (tsx), HOTSTATS_BENCH_SERVER_DIR=DIR
 * from another compiled copy (DIR/server/cli.js; set HOTSTATS_NATIVE_PATH if DIR is outside the package);
 * HOTSTATS_BENCH_NODE_ARGS adds Node flags to the servers (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
 * HOTSTATS_BENCH_COMMIT labels the sources the servers were built from (default: git HEAD of this tree).
 * Writes benchmark/results/cluster.json and cluster.md (a quick run only with HOTSTATS_BENCH_WRITE=1).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

import Redis from 'ioredis'

import type { ClosedResult, Command, OpenResult, PollResult, QueryResult, UdpResult } from './cluster-load'
import { seriesOf } from './cluster-load'

const QUICK = process.env.HOTSTATS_BENCH_QUICK === '1'
const FROM_SOURCES = process.env.HOTSTATS_BENCH_FROM_SOURCES === '1'
/** Where the compiled server is (default dist/): a directory holding server/cli.js. */
const SERVER_DIR = process.env.HOTSTATS_BENCH_SERVER_DIR ?? join(__dirname, '..', 'dist')
const NODE_ARGS = (process.env.HOTSTATS_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
const SERIES = QUICK ? 1000 : 10_000
const TP_SERIES = 1000
const PER_REQUEST = 100
/** Keep-alive clients per instance tried with 1 instance; the best is used for 2 instances. */
const CONNS = QUICK ? [16, 64] : [16, 64, 128]
const TP_WARM = QUICK ? 1000 : 2000
const TP_MS = QUICK ? 3000 : 8000
const STALL_MS = QUICK ? 4000 : 12_000
const BG_RPS = (2 * SERIES) / PER_REQUEST // every series twice a second
const PROBE_RPS = 200
const QUERIES = QUICK ? 100 : 400
const QUERY_WARM = 20
/**
 * Ages (s) of the fill passes: one event per series in each 5 s bucket of the last 92 s, so a
 * 60 s window still holds 12 full buckets half a minute after the fill (when the queries run).
 */
const FILL_AGES = Array.from({ length: 19 }, (_, k) => 2 + 5 * k)
const FILL_RATE = QUICK ? 50_000 : 100_000
const TARGETS = { ingestPerInstance: 200_000, queryMs: 50, stallMs: 20 }
const root = join(__dirname, '..')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (s: string) => process.stderr.write(`[cluster] ${s}\n`)

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, c) => a - c)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const median = (xs: number[]) => percentile(xs, 50)
const max = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => Math.max(a, b), -Infinity))

// ---- processes --------------------------------------------------------------------------------

/** CPU seconds (user + system) a process has used, all its threads (Linux /proc, USER_HZ 100). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return NaN
  }
}

/** CPU seconds the whole machine has been busy (all processes, all CPUs: /proc/stat minus idle and iowait). */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
  return (total - f[3] - f[4]) / 100
}

/** CPU seconds per thread (by thread id) of a process. */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>()
  let tids: string[] = []
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100)
    } catch {
      // the thread ended
    }
  }
  return out
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000)
    proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    proc.kill('SIGTERM')
  })
}

interface RedisProc {
  proc: ChildProcess
  port: number
  url: string
  client: Redis
  dir: string
  version: string
}

async function startRedis(): Promise<RedisProc> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--slowlog-log-slower-than', '1000', '--slowlog-max-len', '10000']
  const proc = spawn('redis-server', args, { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' })
    if (r.stdout?.trim() === 'PONG') break
    if (Date.now() > deadline) throw new Error('redis-server did not start (is the Debian package installed?)')
    await sleep(50)
  }
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 })
  const info = await client.info('server')
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?'
  return { proc, port, url: `redis://127.0.0.1:${port}`, client, dir, version }
}

interface Node {
  id: string
  proc: ChildProcess
  pid: number
  http: string
  statsdPort: number
  server(): Promise<ServerInfo>
  stderr(): string
}

interface ServerInfo {
  series: number
  rssBytes: number
  ingest: { events: number; aggregated: number }
  redis: { connected: boolean; publishes: number; lastPublishMs: number; publishedAt: number | null }
  lossesTotal: number
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  return (await r.json()) as T
}

async function startNode(redis: RedisProc, id: string, extra: string[] = []): Promise<Node> {
  const entry = FROM_SOURCES ? ['--import', 'tsx', join(root, 'server', 'cli.ts')] : [join(SERVER_DIR, 'server', 'cli.js')]
  const args = [...NODE_ARGS, ...entry, 'serve', '--host', '127.0.0.1', '--http-port', '0', '--statsd-port', '0', '--quiet', '--redis', redis.url, '--node-id', id, ...extra]
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
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
    proc.once('exit', (code) => reject(new Error(`hotstats serve (${id}) exited with ${code}:\n${err}`)))
  })
  const m = /^listening http=([\d.]+):(\d+) statsd=([\d.]+):(\d+)$/.exec(first)
  if (m === null) throw new Error(`unexpected first line ${JSON.stringify(first)}`)
  const http = `http://${m[1]}:${m[2]}`
  return { id, proc, pid: proc.pid!, http, statsdPort: Number(m[4]), server: () => getJson<ServerInfo>(`${http}/api/v1/server`), stderr: () => err }
}

// ---- the load generator processes ------------------------------------------------------------

interface Loader {
  proc: ChildProcess
  run<T>(c: Command): Promise<T>
}

async function loader(): Promise<Loader> {
  const proc = fork(join(__dirname, 'cluster-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
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

/** Samples every `everyMs` (epoch ms, each node's /api/v1/server, CPU seconds of the given pids) until stopped. */
interface Sample {
  t: number
  servers: ServerInfo[]
  cpu: number[]
  /** Per node: CPU seconds of each of its threads. */
  threads: Map<number, number>[]
  machine: number
}

function sampler(nodes: Node[], pids: number[], everyMs: number): { stop(): Promise<Sample[]> } {
  const out: Sample[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const t = Date.now()
      const cpu = pids.map(cpuSeconds)
      const threads = nodes.map((n) => threadCpu(n.pid))
      const machine = machineBusySeconds()
      const servers = await Promise.all(nodes.map((n) => n.server()))
      out.push({ t, servers, cpu, threads, machine })
      await sleep(Math.max(0, everyMs - (Date.now() - t)))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return out
    },
  }
}

/**
 * Watches each node on its own (every 50 ms) and collects redis.lastPublishMs once per publish. A
 * publish is told by its `publishedAt` (not by `publishes`, which counts every caller that awaited
 * the publish: one that outlasts --publish-interval is counted twice). Publishes start at least a
 * second apart, so none is missed while the server answers within that.
 */
function publishWatch(nodes: Node[]): { stop(): Promise<number[][]> } {
  let running = true
  const loops = nodes.map(async (n) => {
    const out: number[] = []
    let last: number | null = null
    while (running) {
      const s = await n.server()
      if (s.redis.publishedAt !== null && s.redis.publishedAt !== last) {
        if (last !== null) out.push(s.redis.lastPublishMs)
        last = s.redis.publishedAt
      }
      await sleep(50)
    }
    return out
  })
  return {
    async stop() {
      running = false
      return Promise.all(loops)
    },
  }
}

/** Waits until every node has applied at least `events[i]` events; ms waited (from `since`, epoch ms), null on timeout. */
async function drained(nodes: Node[], events: number[], since: number, timeoutMs = 60_000): Promise<number | null> {
  for (;;) {
    const s = await Promise.all(nodes.map((n) => n.server()))
    if (s.every((x, i) => x.ingest.aggregated >= events[i])) return Date.now() - since
    if (Date.now() - since > timeoutMs) return null
    await sleep(50)
  }
}

/** Waits until a node's UDP events have settled (two equal reads 200 ms apart, all applied). */
async function settled(n: Node, timeoutMs = 60_000): Promise<ServerInfo> {
  const deadline = Date.now() + timeoutMs
  let last = -1
  for (;;) {
    const s = await n.server()
    if (s.ingest.aggregated === s.ingest.events && s.ingest.events === last) return s
    last = s.ingest.aggregated === s.ingest.events ? s.ingest.events : -1
    if (Date.now() > deadline) throw new Error(`${n.id}: events did not settle: ${JSON.stringify(s.ingest)}`)
    await sleep(200)
  }
}

/** Waits for a publish that started after this call: two new `publishedAt` values (the first may have been under way). */
async function published(n: Node, timeoutMs = 120_000): Promise<ServerInfo> {
  const seen = new Set<number | null>([(await n.server()).redis.publishedAt])
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await n.server()
    seen.add(s.redis.publishedAt)
    if (seen.size >= 3) return s
    if (Date.now() > deadline) throw new Error(`${n.id}: no publish in ${timeoutMs} ms`)
    await sleep(50)
  }
}

// ---- 1. durable HTTP ingest, 1 vs 2 instances ---------------------------------------------------

interface Throughput {
  instances: number
  connections: number
  perInstance: {
    acked: number
    applied: number
    ackP50Ms: number
    ackP99Ms: number
    statuses: Record<string, number>
    drainMs: number | null
    serverCores: number
    /** Cores used by the main thread, and by the busiest other thread (a worker: receiver or aggregator). */
    mainThreadCores: number
    busiestWorkerCores: number
    maxPublishMs: number
  }[]
  ackedTotal: number
  appliedTotal: number
  /** Cores used over the measured interval; machine: every process on the machine (others' included). */
  cores: { servers: number; redis: number; load: number; machine: number }
  cpuUsPerEvent: { server: number; redis: number; load: number }
  loadCpuMs: number[]
}

async function throughput(redis: RedisProc, loads: Loader[], n: number, connections: number): Promise<Throughput> {
  const nodes: Node[] = []
  for (let i = 0; i < n; i++) nodes.push(await startNode(redis, `tp${n}-${connections}-${i}`))
  const pids = [...nodes.map((x) => x.pid), redis.proc.pid!, ...loads.slice(0, n).map((l) => l.proc.pid!)]
  const smp = sampler(nodes, pids, 250)
  const results = await Promise.all(
    nodes.map((node, i) => loads[i].run<ClosedResult>({ op: 'closed', url: `${node.http}/api/v1/events`, connections, warmupMs: TP_WARM, ms: TP_MS, eventsPerRequest: PER_REQUEST, series: TP_SERIES })),
  )
  const end = Date.now()
  const drainMs = await Promise.all(nodes.map((node, i) => drained([node], [results[i].acceptedTotal], end)))
  const samples = await smp.stop()
  // Counters and CPU over the measured interval: the first and last samples inside it.
  const from = Math.max(...results.map((r) => r.from))
  const to = Math.min(...results.map((r) => r.to))
  const inside = samples.filter((s) => s.t >= from && s.t <= to)
  const a = inside[0]
  const b = inside[inside.length - 1]
  const secs = (b.t - a.t) / 1000
  const cpu = (k: number) => (b.cpu[k] - a.cpu[k]) / secs
  const perInstance = nodes.map((_, i) => ({
    acked: results[i].accepted / (TP_MS / 1000),
    applied: (b.servers[i].ingest.aggregated - a.servers[i].ingest.aggregated) / secs,
    ackP50Ms: results[i].latencyMs.p50,
    ackP99Ms: results[i].latencyMs.p99,
    statuses: results[i].statuses,
    drainMs: drainMs[i],
    serverCores: cpu(i),
    mainThreadCores: ((b.threads[i].get(nodes[i].pid) ?? NaN) - (a.threads[i].get(nodes[i].pid) ?? NaN)) / secs,
    busiestWorkerCores: max([...b.threads[i]].filter(([tid]) => tid !== nodes[i].pid && a.threads[i].has(tid)).map(([tid, v]) => (v - a.threads[i].get(tid)!) / secs)),
    maxPublishMs: max(samples.map((s) => s.servers[i].redis.lastPublishMs)),
  }))
  const ackedTotal = perInstance.reduce((x, p) => x + p.acked, 0)
  const cores = { servers: nodes.reduce((x, _, i) => x + cpu(i), 0), redis: cpu(n), load: loads.slice(0, n).reduce((x, _, i) => x + cpu(n + 1 + i), 0), machine: (b.machine - a.machine) / secs }
  for (const node of nodes) await stop(node.proc)
  return {
    instances: n,
    connections,
    perInstance,
    ackedTotal,
    appliedTotal: perInstance.reduce((x, p) => x + p.applied, 0),
    cores,
    cpuUsPerEvent: { server: (cores.servers * 1e6) / ackedTotal, redis: (cores.redis * 1e6) / ackedTotal, load: (cores.load * 1e6) / ackedTotal },
    loadCpuMs: results.map((r) => r.cpuMs),
  }
}

// ---- 2. publish cost and ingest stalls -----------------------------------------------------------

interface Stall {
  publishInterval: number
  publishes: number
  publishMs: { median: number; max: number; all: number[] }
  probe: { n: number; p50: number; p99: number; max: number; duringPublishMax: number | null; outsidePublishMax: number | null; non202: number }
  applyGapMs: { p99: number; max: number; duringPublishMax: number | null; outsidePublishMax: number | null; polls: number }
  background: { acceptedPerSec: number; p99: number; max: number; lateSends: number }
  redisSlowlog: Record<string, { n: number; maxMs: number; medianMs: number }>
  series: number
  rssBytes: number
}

async function stall(redis: RedisProc, loads: Loader[], publishInterval: number): Promise<Stall> {
  const node = await startNode(redis, `stall-${publishInterval}`, ['--publish-interval', String(publishInterval)])
  // One pass over every series first (so the node holds them all), then the measured run.
  await loads[0].run<OpenResult>({ op: 'open', url: `${node.http}/api/v1/events`, rps: 500, ms: (SERIES / PER_REQUEST / 500) * 1000, eventsPerRequest: PER_REQUEST, series: SERIES })
  await sleep(1500)
  await redis.client.slowlog('RESET')
  const lead = 1000
  const bg = loads[0].run<OpenResult>({ op: 'open', url: `${node.http}/api/v1/events`, rps: BG_RPS, ms: STALL_MS + 2 * lead, eventsPerRequest: PER_REQUEST, series: SERIES })
  await sleep(lead)
  const fields = ['ingest.aggregated', 'redis.publishes', 'redis.lastPublishMs', 'redis.publishedAt', 'series', 'rssBytes']
  const [probe, poll] = await Promise.all([
    loads[1].run<OpenResult>({ op: 'open', url: `${node.http}/api/v1/events`, rps: PROBE_RPS, ms: STALL_MS, eventsPerRequest: 1, series: 1, prefix: 'probe.' }),
    loads[2].run<PollResult>({ op: 'poll', url: `${node.http}/api/v1/server`, ms: STALL_MS, fields }),
  ])
  const bgr = await bg
  const slow = (await redis.client.slowlog('GET', 10_000)) as [number, number, number, string[]][]
  const info = await node.server()
  await stop(node.proc)

  // Publishes seen by the poller: [start, end] (epoch ms) from the sample where the count rose
  // (received time) back by its own lastPublishMs and one poll round trip.
  const ps = poll.samples
  const pubs: { start: number; end: number; ms: number }[] = []
  for (let i = 1; i < ps.length; i++) {
    // A new publishedAt (index 5) is a new publish (the `publishes` count can count one twice).
    if (ps[i][5] !== ps[i - 1][5] && Number.isFinite(ps[i][5])) pubs.push({ start: ps[i - 1][0] - ps[i][4], end: ps[i][1], ms: ps[i][4] })
  }
  const overlaps = (a: number, b: number) => pubs.some((p) => a < p.end && b > p.start)
  // Probes: latency from the scheduled send; during a publish if the request's span overlaps one.
  const lat = probe.samples.map((s) => s[1])
  const during = probe.samples.filter((s) => overlaps(s[0], s[0] + s[1])).map((s) => s[1])
  const outside = probe.samples.filter((s) => !overlaps(s[0], s[0] + s[1])).map((s) => s[1])
  // Apply gaps: the time between consecutive polls that saw `aggregated` advance.
  const gaps: { from: number; to: number; ms: number }[] = []
  let lastAdvance: number | null = null
  for (let i = 1; i < ps.length; i++) {
    if (ps[i][2] > ps[i - 1][2]) {
      if (lastAdvance !== null) gaps.push({ from: lastAdvance, to: ps[i][1], ms: ps[i][1] - lastAdvance })
      lastAdvance = ps[i][1]
    }
  }
  const gapDuring = gaps.filter((g) => overlaps(g.from, g.to)).map((g) => g.ms)
  const gapOutside = gaps.filter((g) => !overlaps(g.from, g.to)).map((g) => g.ms)
  const byCommand = new Map<string, number[]>()
  for (const [, , us, argv] of slow) {
    const cmd = String(argv[0]).toLowerCase()
    byCommand.set(cmd, [...(byCommand.get(cmd) ?? []), us / 1000])
  }
  const redisSlowlog: Stall['redisSlowlog'] = {}
  for (const [cmd, xs] of byCommand) redisSlowlog[cmd] = { n: xs.length, maxMs: max(xs), medianMs: median(xs) }
  const bgLat = bgr.samples.map((s) => s[1])
  return {
    publishInterval,
    publishes: pubs.length,
    publishMs: { median: median(pubs.map((p) => p.ms)), max: max(pubs.map((p) => p.ms)), all: pubs.map((p) => Math.round(p.ms * 10) / 10) },
    probe: {
      n: lat.length,
      p50: median(lat),
      p99: percentile(lat, 99),
      max: max(lat),
      duringPublishMax: during.length > 0 ? max(during) : null,
      outsidePublishMax: outside.length > 0 ? max(outside) : null,
      non202: probe.samples.filter((s) => s[2] !== 202).length,
    },
    applyGapMs: {
      p99: percentile(gaps.map((g) => g.ms), 99),
      max: max(gaps.map((g) => g.ms)),
      duringPublishMax: gapDuring.length > 0 ? max(gapDuring) : null,
      outsidePublishMax: gapOutside.length > 0 ? max(gapOutside) : null,
      polls: ps.length,
    },
    background: { acceptedPerSec: bgr.accepted / ((STALL_MS + 2 * lead) / 1000), p99: percentile(bgLat, 99), max: max(bgLat), lateSends: bgr.lateSends },
    redisSlowlog,
    series: info.series,
    rssBytes: info.rssBytes,
  }
}

// ---- 3 + 4. cluster queries and Redis memory -------------------------------------------------------

interface QueryStats {
  n: number
  /** Mean `count` of the answers (events merged per series) and the fewest nodes an answer merged. */
  meanCount: number
  minNodes: number
  median: number
  p99: number
  max: number
  non200: number
  bodyBytes: number
  errors: string[]
}

function queryPaths(n: number, seed: number, window: number | null): string[] {
  let a = seed >>> 0
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return Array.from({ length: n }, () => {
    const s = seriesOf(Math.floor(rand() * SERIES))
    return `/api/v1/stats?name=${s.name}&tags=h:${s.tag}&scope=cluster${window === null ? '' : `&window=${window}`}`
  })
}

function queryStats(r: QueryResult): QueryStats {
  const xs = r.samples.slice(QUERY_WARM)
  const lat = xs.map((s) => s[0])
  return { n: xs.length, meanCount: xs.reduce((a, s) => a + s[3], 0) / xs.length, minNodes: Math.min(...xs.map((s) => s[4])), median: median(lat), p99: percentile(lat, 99), max: max(lat), non200: xs.filter((s) => s[1] !== 200).length, bodyBytes: median(xs.map((s) => s[2])), errors: r.firstErrors }
}

interface Cluster {
  nodes: number
  seriesPerNode: number
  fill: { linesPerNode: number; udpMs: number[]; eventsPerNode: number[]; losses: number[] }
  publishAfterFillMs: number[]
  check: { series: string; cumulative: { nodes: unknown; count: unknown; expected: number }; window60: { nodes: unknown; count: unknown; expected: number } }
  idle: { cumulative: QueryStats; window60: QueryStats; window60ExpectedCountAtEnd: number }
  /** publishMs: per node, the longest publish while the queries ran; publishesMs: all of them. */
  loaded: { cumulative: QueryStats; window60: QueryStats; publishMs: number[]; publishesMs: number[][]; backgroundAcceptedPerSec: number }
  memory: {
    usedBefore: number
    usedAfter: number
    perNodeSeries: number
    stateBytesPerSeries: number
    bucketKeys: number
    bucketFields: number
    bucketBytesPerField: number
    streamBytes: number
    otherBytes: number
    activeFor15MinPerNodeSeries: number
    /** Mean HSTRLEN of a field's value: state and 5 s bucket, counters and timers. */
    valueBytes: { stateCounter: number; stateTimer: number; bucketCounter: number; bucketTimer: number }
    rssPerNode: number[]
  }
}

async function memoryUsage(r: Redis, key: string): Promise<number> {
  return Number(await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
}

async function scanKeys(r: Redis, match: string): Promise<string[]> {
  const out: string[] = []
  let cursor = '0'
  do {
    const [c, keys] = await r.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    cursor = c
    out.push(...keys)
  } while (cursor !== '0')
  return out
}

async function cluster(redis: RedisProc, loads: Loader[]): Promise<Cluster> {
  const r = redis.client
  await r.flushall()
  await sleep(200)
  const usedBefore = Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1])
  const nodes: Node[] = []
  for (let i = 0; i < 3; i++) nodes.push(await startNode(redis, `q${i + 1}`))
  const fills: UdpResult[] = []
  const infos: ServerInfo[] = []
  const fillWatch = publishWatch(nodes)
  for (const [i, node] of nodes.entries()) {
    fills.push(await loads[i].run<UdpResult>({ op: 'udp', port: node.statsdPort, series: SERIES, ages: FILL_AGES, rate: FILL_RATE, linesPerPacket: 20 }))
    infos.push(await settled(node))
  }
  const pub = await Promise.all(nodes.map((n) => published(n)))
  const fillPublishes = await fillWatch.stop()
  const usedAfter = Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1])
  // Where the bytes are.
  let state = 0
  let bucketBytes = 0
  let bucketFields = 0
  let bucketKeys = 0
  let streamBytes = 0
  for (const node of nodes) {
    state += await memoryUsage(r, `hotstats:{${node.id}}:state`)
    for (const k of await scanKeys(r, `hotstats:{${node.id}}:w:*`)) {
      bucketKeys++
      bucketBytes += await memoryUsage(r, k)
      bucketFields += await r.hlen(k)
    }
    if ((await r.exists(`hotstats:{${node.id}}:events`)) === 1) streamBytes += await memoryUsage(r, `hotstats:{${node.id}}:events`)
  }
  // Value sizes by type (HSTRLEN over 200 series of node 1: 100 counters, 100 timers).
  const sizes = { stateCounter: 0, stateTimer: 0, bucketCounter: 0, bucketTimer: 0 }
  const someBucket = (await scanKeys(r, `hotstats:{${nodes[0].id}}:w:5000:*`))[0]
  for (let i = 0; i < 200; i++) {
    const s = seriesOf(i)
    const field = `${s.name}|h:${s.tag}`
    const st = await r.hstrlen(`hotstats:{${nodes[0].id}}:state`, field)
    const bu = someBucket === undefined ? 0 : await r.hstrlen(someBucket, field)
    if (s.type === 'c') {
      sizes.stateCounter += st / 100
      sizes.bucketCounter += bu / 100
    } else {
      sizes.stateTimer += st / 100
      sizes.bucketTimer += bu / 100
    }
  }
  const nodeSeries = nodes.length * SERIES
  const perField = bucketBytes / bucketFields
  const memory: Cluster['memory'] = {
    usedBefore,
    usedAfter,
    perNodeSeries: (usedAfter - usedBefore) / nodeSeries,
    stateBytesPerSeries: state / nodeSeries,
    bucketKeys,
    bucketFields,
    bucketBytesPerField: perField,
    streamBytes,
    otherBytes: usedAfter - usedBefore - state - bucketBytes - streamBytes,
    activeFor15MinPerNodeSeries: state / nodeSeries + 75 * perField,
    valueBytes: sizes,
    rssPerNode: pub.map((p) => p.rssBytes),
  }

  // Correctness check of one answer: every node has every event of the series.
  const probe = seriesOf(1)
  const one = await getJson<Record<string, unknown>>(`${nodes[0].http}/api/v1/stats?name=${probe.name}&tags=h:${probe.tag}&scope=cluster`)
  const oneW = await getJson<Record<string, unknown>>(`${nodes[0].http}/api/v1/stats?name=${probe.name}&tags=h:${probe.tag}&scope=cluster&window=60`)
  // A 60 s window is the 12 newest 5 s buckets (the current one included): the fill events whose bucket is among them.
  const inWindow = (at: number) => fills.reduce((n, f) => n + FILL_AGES.filter((a) => Math.floor(((f.now - a) * 1000) / 5000) >= Math.floor(at / 5000) - 11).length, 0)
  const check = { series: `${probe.name}|h:${probe.tag}`, cumulative: { nodes: one.nodes, count: one.count, expected: 3 * FILL_AGES.length }, window60: { nodes: oneW.nodes, count: oneW.count, expected: inWindow(Date.now()) } }

  const q = loads[3]
  const idleCum = queryStats(await q.run<QueryResult>({ op: 'query', base: nodes[0].http, paths: queryPaths(QUERIES + QUERY_WARM, 1, null) }))
  const idleWin = queryStats(await q.run<QueryResult>({ op: 'query', base: nodes[0].http, paths: queryPaths(QUERIES + QUERY_WARM, 2, 60) }))
  const idleWinExpected = inWindow(Date.now())

  // Under load: every node ingests BG_RPS batches/s over all its series and publishes them all each second.
  const loadMs = QUICK ? 5000 : 12_000
  const bgs = nodes.map((node, i) => loads[i].run<OpenResult>({ op: 'open', url: `${node.http}/api/v1/events`, rps: BG_RPS, ms: loadMs, eventsPerRequest: PER_REQUEST, series: SERIES }))
  await sleep(1500)
  const loadWatch = publishWatch(nodes)
  const loadCum = queryStats(await q.run<QueryResult>({ op: 'query', base: nodes[0].http, paths: queryPaths(QUERIES / 2 + QUERY_WARM, 3, null) }))
  const loadWin = queryStats(await q.run<QueryResult>({ op: 'query', base: nodes[0].http, paths: queryPaths(QUERIES / 2 + QUERY_WARM, 4, 60) }))
  const loadPublishes = await loadWatch.stop()
  const bgr = await Promise.all(bgs)
  for (const node of nodes) await stop(node.proc)
  return {
    nodes: nodes.length,
    seriesPerNode: SERIES,
    fill: { linesPerNode: fills[0].lines, udpMs: fills.map((f) => Math.round(f.ms)), eventsPerNode: infos.map((x) => x.ingest.events), losses: infos.map((x) => x.lossesTotal) },
    publishAfterFillMs: fillPublishes.map((xs) => max(xs)),
    check,
    idle: { cumulative: idleCum, window60: idleWin, window60ExpectedCountAtEnd: idleWinExpected },
    loaded: {
      cumulative: loadCum,
      window60: loadWin,
      publishMs: loadPublishes.map((xs) => max(xs)),
      publishesMs: loadPublishes,
      backgroundAcceptedPerSec: bgr.reduce((x, b) => x + b.accepted, 0) / (loadMs / 1000),
    },
    memory,
  }
}

// ---- report ---------------------------------------------------------------------------------------

const fmtK = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0))
const ms = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(x < 10 ? 2 : 1))
const bytes = (x: number) => (x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(1)} MiB` : x >= 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${Math.round(x)} B`)
const yes = (b: boolean) => (b ? 'yes' : '**no**')

async function main(): Promise<void> {
  const started = Date.now()
  const load0 = loadavg()
  const cpuQuota = (() => {
    try {
      return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim()
    } catch {
      return null
    }
  })()
  log(`load average ${load0.map((x) => x.toFixed(2)).join(' ')}; ${QUICK ? 'QUICK (small scale)' : 'full'} run; servers from ${FROM_SOURCES ? 'sources (tsx)' : SERVER_DIR}`)
  const redis = await startRedis()
  const loads = await Promise.all(Array.from({ length: 4 }, () => loader()))
  let result: Record<string, unknown> = {}
  try {
    const sweep: Throughput[] = []
    for (const c of CONNS) {
      log(`1. durable HTTP ingest, 1 instance, ${c} clients`)
      sweep.push(await throughput(redis, loads, 1, c))
      log(`   ${fmtK(sweep[sweep.length - 1].ackedTotal)} events/s acked`)
      await redis.client.flushall()
    }
    const one = sweep.reduce((a, b) => (b.ackedTotal > a.ackedTotal ? b : a))
    log(`1. durable HTTP ingest, 2 instances, ${one.connections} clients each`)
    const two = await throughput(redis, loads, 2, one.connections)
    log(`   ${fmtK(two.ackedTotal)} events/s acked`)
    await redis.client.flushall()
    log(`2. publish stalls: ${SERIES} series, publishes off (baseline)`)
    const base = await stall(redis, loads, 3600)
    log(`2. publish stalls: ${SERIES} series, publishes every 1 s`)
    const pub = await stall(redis, loads, 1)
    log(`   publish ${ms(pub.publishMs.median)} ms median, ${ms(pub.publishMs.max)} max; probe max ${ms(pub.probe.max)} (baseline ${ms(base.probe.max)})`)
    log(`3. cluster queries: 3 nodes × ${SERIES} series`)
    const cl = await cluster(redis, loads)
    log(`   cumulative p99 ${ms(cl.idle.cumulative.p99)} ms, window=60 p99 ${ms(cl.idle.window60.p99)} ms`)
    const load1 = loadavg()
    result = {
      date: new Date().toISOString(),
      commit: process.env.HOTSTATS_BENCH_COMMIT ?? sourceCommit(),
      quick: QUICK,
      node: process.version,
      redis: { version: redis.version, config: "--save '' --appendonly yes --appendfsync everysec" },
      servers: FROM_SOURCES ? 'sources (tsx)' : SERVER_DIR,
      cpus: { count: cpus().length, quota: cpuQuota },
      loadAverage: { start: load0, end: load1 },
      seconds: (Date.now() - started) / 1000,
      params: { SERIES, TP_SERIES, PER_REQUEST, CONNS, TP_WARM, TP_MS, STALL_MS, BG_RPS, PROBE_RPS, QUERIES },
      throughput: { sweep, one, two },
      stall: { base, publish: pub },
      cluster: cl,
    }
    writeResults(result as unknown as Results)
  } finally {
    for (const l of loads) l.proc.kill()
    redis.client.disconnect()
    await stop(redis.proc)
    rmSync(redis.dir, { recursive: true, force: true })
  }
}

/** The commit the servers' sources are at, and whether server/ or lib/ differ from it. */
function sourceCommit(): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? ''
  const sha = git(['rev-parse', '--short', 'HEAD']) || 'unknown'
  return git(['status', '--porcelain', '--', 'server', 'lib', 'index.ts']) === '' ? sha : `${sha} (server/ or lib/ modified)`
}

interface Results {
  date: string
  commit?: string
  quick: boolean
  node: string
  redis: { version: string; config: string }
  servers: string
  cpus: { count: number; quota: string | null }
  loadAverage: { start: number[]; end: number[] }
  seconds: number
  throughput: { sweep: Throughput[]; one: Throughput; two: Throughput }
  stall: { base: Stall; publish: Stall }
  cluster: Cluster
}

function writeResults(r: Results): void {
  const { one, two } = r.throughput
  const { base, publish } = r.stall
  const c = r.cluster
  const lines: string[] = []
  lines.push(
    `Commit ${r.commit ?? 'unknown'}; Node ${r.node}; Redis ${r.redis.version} (${r.redis.config}, one redis-server on loopback); ${r.date.slice(0, 10)}; ${r.cpus.count} CPUs shared by the servers, Redis and the load processes (quota ${r.cpus.quota ?? 'none'}); load average ${r.loadAverage.start.map((x) => x.toFixed(2)).join('/')} at the start${r.quick ? '; **QUICK run (small scale, 1,000 series): not the full benchmark**' : ''}. Servers from ${r.servers}. Whole run ${r.seconds.toFixed(0)} s.`,
    '',
  )
  lines.push(`| durable HTTP ingest, 1 instance: keep-alive clients | ${r.throughput.sweep.map((t) => t.connections).join(' | ')} |`)
  lines.push(`|---|${r.throughput.sweep.map(() => '---|').join('')}`)
  lines.push(`| events/s acknowledged (202) | ${r.throughput.sweep.map((t) => fmtK(t.ackedTotal)).join(' | ')} |`)
  lines.push(`| 202 latency p50 / p99 ms | ${r.throughput.sweep.map((t) => `${ms(t.perInstance[0].ackP50Ms)} / ${ms(t.perInstance[0].ackP99Ms)}`).join(' | ')} |`)
  lines.push('')
  lines.push(`| durable HTTP ingest (POST /api/v1/events, ${PER_REQUEST} events per JSON array, ${one.connections} keep-alive clients per instance, 202 after XADD) | 1 instance | 2 instances |`)
  lines.push('|---|---|---|')
  lines.push(`| events/s acknowledged, all instances | ${fmtK(one.ackedTotal)} | ${fmtK(two.ackedTotal)} |`)
  lines.push(`| events/s acknowledged, per instance | ${fmtK(one.perInstance[0].acked)} | ${two.perInstance.map((p) => fmtK(p.acked)).join(' + ')} |`)
  lines.push(`| events/s applied by the aggregators, same interval | ${fmtK(one.appliedTotal)} | ${fmtK(two.appliedTotal)} |`)
  lines.push(`| 202 latency p50 / p99 ms | ${ms(one.perInstance[0].ackP50Ms)} / ${ms(one.perInstance[0].ackP99Ms)} | ${two.perInstance.map((p) => `${ms(p.ackP50Ms)} / ${ms(p.ackP99Ms)}`).join(', ')} |`)
  lines.push(`| backlog applied after the load stopped, ms | ${one.perInstance.map((p) => ms(p.drainMs)).join(', ')} | ${two.perInstance.map((p) => ms(p.drainMs)).join(', ')} |`)
  const cores = (t: Throughput) => `${t.cores.servers.toFixed(2)} / ${t.cores.redis.toFixed(2)} / ${t.cores.load.toFixed(2)} / ${t.cores.machine.toFixed(2)}`
  lines.push(`| CPU cores used: servers / redis-server / load processes / whole machine (other users included) | ${cores(one)} | ${cores(two)} |`)
  const threads = (t: Throughput) => t.perInstance.map((p) => `${p.mainThreadCores.toFixed(2)} / ${p.busiestWorkerCores.toFixed(2)}`).join(', ')
  lines.push(`| cores used by a server's main thread / its busiest worker thread | ${threads(one)} | ${threads(two)} |`)
  lines.push(`| CPU µs per acknowledged event: server / redis-server / load | ${one.cpuUsPerEvent.server.toFixed(2)} / ${one.cpuUsPerEvent.redis.toFixed(2)} / ${one.cpuUsPerEvent.load.toFixed(2)} | ${two.cpuUsPerEvent.server.toFixed(2)} / ${two.cpuUsPerEvent.redis.toFixed(2)} / ${two.cpuUsPerEvent.load.toFixed(2)} |`)
  lines.push('')
  lines.push(`| one node, ${fmtK(SERIES)} series, background ${fmtK(BG_RPS * PER_REQUEST)} events/s over all of them | publishes off | publish every 1 s |`)
  lines.push('|---|---|---|')
  lines.push(`| publishes seen; redis.lastPublishMs median / max | ${base.publishes}; n/a | ${publish.publishes}; ${ms(publish.publishMs.median)} / ${ms(publish.publishMs.max)} |`)
  lines.push(`| 1-event POST, every ${1000 / PROBE_RPS} ms open-loop: 202 latency p50 / p99 / max ms | ${ms(base.probe.p50)} / ${ms(base.probe.p99)} / ${ms(base.probe.max)} | ${ms(publish.probe.p50)} / ${ms(publish.probe.p99)} / ${ms(publish.probe.max)} |`)
  lines.push(`| … max of the probes overlapping a publish / the others | n/a / ${ms(base.probe.outsidePublishMax)} | ${ms(publish.probe.duringPublishMax)} / ${ms(publish.probe.outsidePublishMax)} |`)
  lines.push(`| longest gap in ingest.aggregated progress (polled back to back), p99 / max ms | ${ms(base.applyGapMs.p99)} / ${ms(base.applyGapMs.max)} | ${ms(publish.applyGapMs.p99)} / ${ms(publish.applyGapMs.max)} |`)
  lines.push(`| … max gap overlapping a publish / the others | n/a / ${ms(base.applyGapMs.outsidePublishMax)} | ${ms(publish.applyGapMs.duringPublishMax)} / ${ms(publish.applyGapMs.outsidePublishMax)} |`)
  const slow = (s: Stall) =>
    Object.entries(s.redisSlowlog)
      .sort((a, b) => b[1].maxMs - a[1].maxMs)
      .map(([k, v]) => `${k} ×${v.n} max ${ms(v.maxMs)}`)
      .join(', ') || 'none'
  lines.push(`| Redis commands ≥ 1 ms (SLOWLOG: Redis busy, every client waits) | ${slow(base)} | ${slow(publish)} |`)
  lines.push('')
  lines.push(`| cluster query, 3 nodes × ${fmtK(SERIES)} series (same series on each, one event per 5 s bucket over the last ${FILL_AGES[FILL_AGES.length - 1]} s) | median ms | p99 ms | max ms |`)
  lines.push('|---|---|---|---|')
  lines.push(`| scope=cluster, cumulative, idle | ${ms(c.idle.cumulative.median)} | ${ms(c.idle.cumulative.p99)} | ${ms(c.idle.cumulative.max)} |`)
  lines.push(`| scope=cluster, window=60, idle | ${ms(c.idle.window60.median)} | ${ms(c.idle.window60.p99)} | ${ms(c.idle.window60.max)} |`)
  lines.push(`| scope=cluster, cumulative, each node ingesting ${fmtK(BG_RPS * PER_REQUEST)} events/s over all its series | ${ms(c.loaded.cumulative.median)} | ${ms(c.loaded.cumulative.p99)} | ${ms(c.loaded.cumulative.max)} |`)
  lines.push(`| scope=cluster, window=60, same load | ${ms(c.loaded.window60.median)} | ${ms(c.loaded.window60.p99)} | ${ms(c.loaded.window60.max)} |`)
  lines.push('')
  lines.push(
    `Fill: ${fmtK(c.fill.linesPerNode)} StatsD lines per node over UDP; events counted per node ${c.fill.eventsPerNode.join(', ')} (UDP losses ${c.fill.losses.join(', ')}); answers checked: one series' cumulative count ${String(c.check.cumulative.count)} over ${String(c.check.cumulative.nodes)} nodes (expected ${c.check.cumulative.expected}), window=60 count ${String(c.check.window60.count)} (expected ${c.check.window60.expected}); the idle queries' answers merged on average ${c.idle.cumulative.meanCount.toFixed(1)} events per series cumulative and ${c.idle.window60.meanCount.toFixed(1)} over 60 s (${c.idle.window60ExpectedCountAtEnd} expected at the end of the run: 3 nodes × the fill's buckets still in the window), from at least ${Math.min(c.idle.cumulative.minNodes, c.idle.window60.minNodes)} nodes. The publish after the fill (${fmtK(SERIES)} series, each in ${(c.memory.bucketFields / (3 * SERIES)).toFixed(0)} window buckets) took ${c.publishAfterFillMs.map((x) => ms(x)).join(', ')} ms (redis.lastPublishMs); while the queries ran under load, the nodes' publishes took at most ${c.loaded.publishMs.map((x) => ms(x)).join(', ')} ms (${c.loaded.publishesMs.map((x) => x.length).join(', ')} publishes).`,
  )
  lines.push('')
  const m = c.memory
  lines.push('| Redis memory (used_memory, INFO memory) | bytes |')
  lines.push('|---|---|')
  lines.push(`| per node-series: (after − before) / ${fmtK(3 * SERIES)}, each series in ${(m.bucketFields / (3 * SERIES)).toFixed(0)} window buckets | ${bytes(m.perNodeSeries)} |`)
  lines.push(`| … of which the state hash field (MEMORY USAGE) | ${bytes(m.stateBytesPerSeries)} |`)
  lines.push(`| … per window bucket field (${m.bucketKeys} bucket hashes, ${fmtK(m.bucketFields)} fields) | ${bytes(m.bucketBytesPerField)} |`)
  const vb = m.valueBytes
  lines.push(`| … value sizes (HSTRLEN): state counter / timer; 5 s bucket counter / timer | ${Math.round(vb.stateCounter)} / ${Math.round(vb.stateTimer)}; ${Math.round(vb.bucketCounter)} / ${Math.round(vb.bucketTimer)} |`)
  lines.push(`| a series active for 15 min, per node (state + 60 + 15 bucket fields), extrapolated | ${bytes(m.activeFor15MinPerNodeSeries)} |`)
  lines.push(`| 3 nodes × ${fmtK(SERIES)} series, whole Redis growth | ${bytes(m.usedAfter - m.usedBefore)} |`)
  lines.push('')
  const stallAck = publish.probe.duringPublishMax ?? publish.probe.max
  const stallApply = publish.applyGapMs.duringPublishMax ?? publish.applyGapMs.max
  const qWorst = Math.max(c.idle.cumulative.p99, c.idle.window60.p99)
  const qLoaded = Math.max(c.loaded.cumulative.p99, c.loaded.window60.p99)
  lines.push('| target | measured | met |')
  lines.push('|---|---|---|')
  lines.push(`| durable HTTP ingest ≥ 200k events/s per instance (batches of 100), 1 instance | ${fmtK(one.perInstance[0].acked)}/s | ${yes(one.perInstance[0].acked >= TARGETS.ingestPerInstance)} |`)
  const minTwo = Math.min(...two.perInstance.map((p) => p.acked))
  lines.push(`| … per instance with 2 instances on one Redis (slower one) | ${fmtK(minTwo)}/s | ${yes(minTwo >= TARGETS.ingestPerInstance)} |`)
  lines.push(`| cluster query over 3 nodes × ${fmtK(SERIES)} series < 50 ms (p99, cumulative and window=60, idle) | ${ms(qWorst)} ms | ${yes(qWorst < TARGETS.queryMs)} |`)
  lines.push(`| … while every node ingests and publishes (p99) | ${ms(qLoaded)} ms | ${yes(qLoaded < TARGETS.queryMs)} |`)
  // The longest single Redis command of a publish (eval: the state script; hset: a window bucket): Redis runs
  // nothing else meanwhile, so every node's XADD, hence its 202, waits that long: a lower bound of the ack stall.
  const redisBlock = Math.max(0, ...['eval', 'hset', 'set'].map((k) => publish.redisSlowlog[k]?.maxMs ?? 0))
  lines.push(`| a publish never stalls ingest > 20 ms: Redis busy with one publish command (SLOWLOG max; every node's XADD, so its 202, waits behind it) | ${ms(redisBlock)} ms | ${yes(redisBlock <= TARGETS.stallMs)} |`)
  lines.push(`| … 202 latency of 1-event probes overlapping a publish (max) | ${ms(stallAck)} ms (publishes off: ${ms(base.probe.max)}) | ${yes(stallAck <= TARGETS.stallMs)} |`)
  lines.push(`| … applying acknowledged events: longest gap in ingest.aggregated during a publish | ${ms(stallApply)} ms (publishes off: ${ms(base.applyGapMs.max)}) | ${yes(stallApply <= TARGETS.stallMs)} |`)
  const md = lines.join('\n') + '\n'
  process.stdout.write('\n' + md)
  // A quick run only prints, unless asked to write (so it never replaces a full run's results by accident).
  if (r.quick && process.env.HOTSTATS_BENCH_WRITE !== '1') return
  writeFileSync(join(__dirname, 'results', 'cluster.json'), JSON.stringify(r, null, 2) + '\n')
  writeFileSync(join(__dirname, 'results', 'cluster.md'), md)
}

// HOTSTATS_BENCH_REPORT_ONLY=1: only render cluster.md (and the table) again from cluster.json.
const run = process.env.HOTSTATS_BENCH_REPORT_ONLY === '1' ? async () => writeResults(JSON.parse(readFileSync(join(__dirname, 'results', 'cluster.json'), 'utf8')) as Results) : main
run().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
