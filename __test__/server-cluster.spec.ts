// Many machines: `hotstats serve --redis` instances merge exactly through a real redis-server
// (and a real 3-master Redis Cluster), with kill -9 of a node after a 202 and a Redis restart,
// checked against an oracle of every event acknowledged. Plus properties of dedup and merge.
import test from 'ava'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import fc from 'fast-check'

import { HyperLogLog, QuantileSketch } from '../index'
import { applyPublishModel, clusterViewModel } from '../server/cluster'
import { freePort } from './helpers/redis'
import { exactQuantile, serve, type Served } from './helpers/serve'
import { rng } from './helpers/statsd-events'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface RedisProc {
  port: number
  proc: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<void>
}

async function startRedisServer(port: number, dir: string, extra: string[] = []): Promise<RedisProc> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', ...extra], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' })
    if (r.stdout.trim() === 'PONG') break
    if (Date.now() > deadline) throw new Error('redis-server did not start (is the Debian package installed?)')
    await sleep(50)
  }
  return {
    port,
    proc,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return
      proc.kill(signal)
      await new Promise((r) => proc.once('exit', r))
    },
  }
}

/** Known events and what the whole cluster must answer for them. */
class Oracle {
  counter = 0
  latencies: number[] = []
  members: string[] = []
  private rand = rng(99)

  batch(n: number): object[] {
    const events: object[] = []
    for (let i = 0; i < n; i++) {
      const k = this.rand()
      if (k < 0.4) {
        const rate = [1, 0.5, 0.25, 0.1][Math.floor(this.rand() * 4)]
        const value = 1 + Math.floor(this.rand() * 5)
        events.push({ name: 'cl.requests', type: 'c', value, sampleRate: rate, tags: { app: 'x' } })
      } else if (k < 0.8) {
        const v = Math.round(1000 * Math.exp(3 + this.rand() * 2)) / 1000
        events.push({ name: 'cl.latency', type: 'd', value: v })
      } else {
        events.push({ name: 'cl.users', type: 's', value: `u${Math.floor(this.rand() * 700)}` })
      }
    }
    return events
  }

  /** Counts a batch as acknowledged. */
  ack(events: object[]): void {
    for (const e of events as { type: string; value: number | string; sampleRate?: number }[]) {
      if (e.type === 'c') this.counter += (e.value as number) / (e.sampleRate ?? 1)
      else if (e.type === 'd') this.latencies.push(e.value as number)
      else this.members.push(e.value as string)
    }
  }
}

/** POSTs a batch until some node answers 202 (retrying 503s and refused connections). */
async function postUntilAck(nodes: () => Served[], start: number, events: object[]): Promise<void> {
  const body = JSON.stringify(events)
  for (let attempt = 0; ; attempt++) {
    const list = nodes()
    const s = list[(start + attempt) % list.length]
    try {
      const r = await s.post('/api/v1/events', body, 'application/json')
      if (r.status === 202) return
    } catch {
      // a node that is down: try the next one
    }
    if (attempt > 400) throw new Error('no node acknowledged a batch')
    await sleep(25)
  }
}

async function clusterEquals(t: any, nodes: Served[], oracle: Oracle): Promise<void> {
  const sketch = new QuantileSketch().addMany(oracle.latencies)
  const hll = new HyperLogLog().addMany(oracle.members)
  // Wait until every node published everything (cluster counters reach the oracle).
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await nodes[0].get('/api/v1/stats?name=cl.latency&scope=cluster')
    if (r.status === 200 && r.body.count === oracle.latencies.length) break
    if (Date.now() > deadline) throw new Error(`cluster did not converge: ${r.text}; want ${oracle.latencies.length}`)
    await sleep(200)
  }
  await sleep(1500) // one more publish interval for the other series
  for (const s of nodes) {
    const c = (await s.get('/api/v1/stats?name=cl.requests&tags=app:x&scope=cluster')).body
    t.is(c.sum, oracle.counter, 'counter sum (value / rate) exact')
    const d = (await s.get('/api/v1/stats?name=cl.latency&scope=cluster')).body
    t.is(d.count, oracle.latencies.length)
    t.is(d.min, Math.min(...oracle.latencies))
    t.is(d.max, Math.max(...oracle.latencies))
    for (const q of ['0.5', '0.9', '0.99', '0.999']) {
      const want = exactQuantile(oracle.latencies, Number(q))
      t.true(Math.abs(d.quantiles[q] - want) <= 0.01 * want, `p${q} ${d.quantiles[q]} vs ${want}`)
      // Bit for bit: the merged sketch answers exactly what one sketch fed every event answers.
      t.is(d.quantiles[q], sketch.quantile(Number(q)), `p${q} equals a single sketch`)
    }
    t.is((await s.get('/api/v1/stats?name=cl.users&scope=cluster')).body.uniques, hll.count())
    const w = (await s.get('/api/v1/stats?name=cl.latency&scope=cluster&window=900')).body
    t.is(w.count, oracle.latencies.length, 'the 15-minute cluster window merges every node bucket')
  }
}

async function runScenario(t: any, redisUrl: string, restartRedis: (() => Promise<void>) | null, label: string): Promise<void> {
  const ids = ['n1', 'n2', 'n3'].map((n) => `${label}-${n}`)
  const nodes: Served[] = []
  for (const id of ids) nodes.push(await serve(['--redis', redisUrl, '--node-id', id, '--publish-interval', '0.5']))
  t.teardown(() => Promise.all(nodes.map((n) => n.stop('SIGKILL'))))
  const oracle = new Oracle()
  let turn = 0
  const send = async (batches: number): Promise<void> => {
    for (let i = 0; i < batches; i++) {
      const ev = oracle.batch(100)
      await postUntilAck(() => nodes, turn++, ev)
      oracle.ack(ev)
    }
  }
  await send(30)
  // kill -9 right after a 202, before the node's next publish: the events are only in its stream.
  const ev = oracle.batch(100)
  const r = await nodes[1].post('/api/v1/events', JSON.stringify(ev), 'application/json')
  t.is(r.status, 202)
  oracle.ack(ev)
  await nodes[1].stop('SIGKILL')
  await send(10)
  nodes[1] = await serve(['--redis', redisUrl, '--node-id', ids[1], '--publish-interval', '0.5'])
  await send(10)
  if (restartRedis !== null) {
    await restartRedis()
    await send(10)
    // Readiness follows Redis: every node is ready again once it reconnected.
    for (const s of nodes) {
      const deadline = Date.now() + 15_000
      while ((await s.get('/-/ready')).status !== 200 && Date.now() < deadline) await sleep(100)
      t.is((await s.get('/-/ready')).status, 200)
    }
  }
  await send(10)
  await clusterEquals(t, nodes, oracle)
  const cl = (await nodes[0].get('/api/v1/cluster')).body
  t.deepEqual(cl.nodes.map((n: { id: string }) => n.id).sort(), [...ids].sort())
}

test('3 instances, 1 Redis: kill -9 after a 202 and a Redis restart lose nothing acknowledged; the cluster view equals the oracle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-redis-'))
  const port = await freePort()
  let redis = await startRedisServer(port, dir)
  t.teardown(() => redis.stop('SIGKILL'))
  await runScenario(
    t,
    `redis://127.0.0.1:${port}`,
    async () => {
      await redis.stop('SIGTERM')
      await sleep(300)
      redis = await startRedisServer(port, dir)
    },
    'single',
  )
})

test('while Redis is down, ingest answers 503 (counted) and /-/ready is not ready', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-redis-'))
  const port = await freePort()
  let redis = await startRedisServer(port, dir)
  t.teardown(() => redis.stop('SIGKILL'))
  const s = await serve(['--redis', `redis://127.0.0.1:${port}`, '--node-id', 'down1'])
  t.teardown(() => s.stop('SIGKILL'))
  t.is((await s.post('/api/v1/events', 'a:1|c', 'text/plain')).status, 202)
  await redis.stop('SIGKILL')
  await sleep(300)
  t.is((await s.get('/-/ready')).status, 503)
  const r = await s.post('/api/v1/events', 'a:1|c', 'text/plain')
  t.is(r.status, 503)
  t.is((await s.get('/api/v1/server')).body.losses.redis_unavailable, 1)
  redis = await startRedisServer(port, dir)
  const deadline = Date.now() + 15_000
  while ((await s.get('/-/ready')).status !== 200 && Date.now() < deadline) await sleep(100)
  t.is((await s.post('/api/v1/events', 'a:1|c', 'text/plain')).status, 202)
  const d2 = Date.now() + 10_000
  let sum = 0
  while (Date.now() < d2) {
    sum = (await s.get('/api/v1/stats?name=a&scope=cluster')).body?.sum ?? 0
    if (sum === 2) break
    await sleep(100)
  }
  t.is(sum, 2)
})

test('the same against a 3-master Redis Cluster', async (t) => {
  const ports = [await freePort(), await freePort(), await freePort()]
  const servers: RedisProc[] = []
  for (const p of ports) servers.push(await startRedisServer(p, mkdtempSync(join(tmpdir(), 'hotstats-rc-')), ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`]))
  t.teardown(() => Promise.all(servers.map((s) => s.stop('SIGKILL'))))
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
  t.is(create.status, 0, create.stdout + create.stderr)
  const deadline = Date.now() + 15_000
  while (!spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('cluster did not become ok')
    await sleep(100)
  }
  await runScenario(t, `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, null, 'rc')
})

// ---- properties ----------------------------------------------------------------------------

const stateArb = fc.record({
  counter: fc.integer({ min: 0, max: 1000 }),
  values: fc.array(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { maxLength: 20 }),
})

test('dedup: publishes delivered again, late or interleaved with newer ones never count twice nor regress the state', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.option(fc.string(), { nil: undefined })), { maxLength: 4 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 30 }),
      (publishes, extra) => {
        // Publish i carries seq i + 1; a field with an undefined value is a deletion ('').
        const encoded = publishes.map((p) => p.flatMap(([k, v]) => [k, v === undefined ? '' : `v:${v}`]))
        const once = new Map<string, string>()
        encoded.forEach((f, i) => applyPublishModel(once, i + 1, f))
        // The sender publishes in order; the network may deliver any earlier publish again at
        // any later point (a retried or duplicated write).
        const deliveries: number[] = encoded.map((_, i) => i)
        for (const [at, which] of extra) {
          const pos = at % (deliveries.length + 1)
          const latestBefore = Math.max(-1, ...deliveries.slice(0, pos))
          if (latestBefore >= 0) deliveries.splice(pos, 0, which % (latestBefore + 1))
        }
        const got = new Map<string, string>()
        for (const d of deliveries) {
          const before = new Map(got)
          const applied = applyPublishModel(got, d + 1, encoded[d])
          if (!applied) t.deepEqual(got, before, 'a refused publish changes nothing')
        }
        t.deepEqual(got, once)
      },
    ),
    { numRuns: 300 },
  )
})

test('merge: the cluster view does not depend on the order nodes are merged in; counters and sketch counts add exactly', (t) => {
  fc.assert(
    fc.property(fc.array(stateArb, { minLength: 1, maxLength: 5 }), fc.nat(), (nodes, seed) => {
      const hashes = nodes.map((n) => {
        const sk = new QuantileSketch().addMany(n.values)
        const c = { key: 'c', type: 'c', count: 1, lastSeen: 0, sum: n.counter, comp: 0 }
        const d = { key: 'd', type: 'd', count: n.values.length, lastSeen: 0, sketch: Buffer.from(sk.serialize()).toString('base64') }
        return new Map([
          ['c', JSON.stringify(c)],
          ['d', JSON.stringify(d)],
        ])
      })
      const perm = [...hashes].sort((a, b) => ((hashes.indexOf(a) * 31 + seed) % 7) - ((hashes.indexOf(b) * 31 + seed) % 7))
      const a = clusterViewModel(hashes, 'c')!
      const b = clusterViewModel(perm, 'c')!
      t.is(a.sum, nodes.reduce((s, n) => s + n.counter, 0))
      t.is(a.sum, b.sum)
      const da = clusterViewModel(hashes, 'd')!
      const db = clusterViewModel(perm, 'd')!
      const all = nodes.flatMap((n) => n.values)
      t.is(da.sketch!.count, all.length)
      t.is(db.sketch!.count, all.length)
      if (all.length > 0) {
        const single = new QuantileSketch().addMany(all)
        for (const q of [0, 0.5, 0.99, 1]) {
          t.is(da.sketch!.quantile(q), single.quantile(q))
          t.is(db.sketch!.quantile(q), single.quantile(q))
        }
      }
    }),
    { numRuns: 100 },
  )
})
