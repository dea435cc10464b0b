/**
 * Many instances, one answer: `hotstats serve --redis URL --node-id ID`.
 *
 * Each node aggregates locally and publishes its own state to Redis; any node merges every
 * node's state on read (`scope=cluster`). Every write is idempotent, so a repeated or redelivered
 * publish never counts twice:
 *
 *   hotstats:{ID}:state          HASH  series key -> that series' cumulative state on this node
 *                                      (JSON: exact counter sum, QuantileSketch/Moments bytes),
 *                                      plus "\0pos" (the last event-stream id the state contains)
 *                                      and "\0meta"; written by one HSET, so state and position
 *                                      move together.
 *   hotstats:{ID}:events         STREAM HTTP ingest bodies: POST answers 202 after XADD, so an
 *                                      acknowledged event is in Redis before the node applies it.
 *   hotstats:{ID}:w:<ms>:<index> HASH  a window bucket's per-series state on this node (expires
 *                                      after the longest window), so cluster windows merge buckets.
 *   hotstats:{set:<key>}:<ID>    STRING the node's HyperLogLog of a set, in Redis's own format:
 *                                      PFCOUNT over every node's key (one slot per series, so
 *                                      it works on Redis Cluster too) is the cluster's uniques.
 *   hotstats:nodes               ZSET  node id -> its last publish time (ms).
 *
 * Hash tags keep a node's keys in one slot on Redis Cluster. A node killed with kill -9 restarts
 * with the same id: it loads its state hash, then replays the stream entries after "\0pos"
 * (entries up to it are already in the state, so nothing counts twice and nothing acknowledged
 * is lost). UDP events since the last publish are lost in a crash (publish interval, 1 s).
 */
import Redis, { Cluster } from 'ioredis'

import { HyperLogLog, QuantileSketch } from '../index'
import { SmallSketch } from './small-sketch'
import { b64, checkSeriesState, parseSeriesState, restoreSeries, seriesState, unb64, type SeriesState } from './state'
import { HttpError, QUANTILES, seriesKey, type Store } from './store'
import { BucketState, type Bucket } from './windows'

export type RedisClient = Redis | Cluster

export const KEYS = {
  nodes: 'hotstats:nodes',
  state: (node: string): string => `hotstats:{${node}}:state`,
  events: (node: string): string => `hotstats:{${node}}:events`,
  bucket: (node: string, bucketMs: number, index: number): string => `hotstats:{${node}}:w:${bucketMs}:${index}`,
  hll: (key: string, node: string): string => `hotstats:{set:${key}}:${node}`,
}

const POS = '\u0000pos'
const META = '\u0000meta'
const SEQ = '\u0000seq'

/**
 * The state write, as one script on the node's state hash: it applies a publish only if its
 * sequence number is above the one stored, so a publish delivered twice, or an older one
 * delivered after a newer one, changes nothing. ARGV: seq, then field/value pairs; KEYS[1] the
 * state hash. Deleted series come as fields whose value is empty.
 */
const PUBLISH_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], '\\0seq')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
local set = {}
local del = {}
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then del[#del + 1] = ARGV[i] else set[#set + 1] = ARGV[i]; set[#set + 1] = ARGV[i + 1] end
  if #set >= 1000 then redis.call('HSET', KEYS[1], unpack(set)); set = {} end
  if #del >= 1000 then redis.call('HDEL', KEYS[1], unpack(del)); del = {} end
end
if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
redis.call('HSET', KEYS[1], '\\0seq', ARGV[1])
return 1
`

/** What the script does, on a Map standing for the hash (for the property tests of dedup and reordering). */
export function applyPublishModel(hash: Map<string, string>, seq: number, fields: string[]): boolean {
  const cur = hash.get(SEQ)
  if (cur !== undefined && Number(cur) >= seq) return false
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i + 1] === '') hash.delete(fields[i])
    else hash.set(fields[i], fields[i + 1])
  }
  hash.set(SEQ, String(seq))
  return true
}

/** The cluster's view of one series from the nodes' state hashes (each a Map, as `applyPublishModel` leaves it). */
export function clusterViewModel(hashes: Map<string, string>[], key: string): ReturnType<typeof mergeStates> | null {
  const states = hashes
    .map((h) => h.get(key))
    .map((v) => (v === undefined ? null : parseSeriesState(v)))
    .filter((v): v is SeriesState => v !== null)
  return states.length === 0 ? null : mergeStates(states)
}

export function checkNodeId(id: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error(`--node-id must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(id)}`)
  return id
}

/**
 * A client for `redis://host:port[/db]` or `redis-cluster://host:port,host:port` that reconnects
 * with backoff (100 ms doubling to 2 s) and fails commands at once while disconnected (no
 * unbounded offline queue: callers refuse or retry).
 */
export function connectRedis(url: string, name: string): RedisClient {
  const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2000)
  if (url.startsWith('redis-cluster://')) {
    const nodes = url
      .slice('redis-cluster://'.length)
      .split(',')
      .map((hp) => {
        const [host, port] = hp.split(':')
        return { host, port: Number(port) }
      })
    return new Cluster(nodes, {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      redisOptions: { connectionName: name, maxRetriesPerRequest: 1 },
    })
  }
  return new Redis(url, { connectionName: name, retryStrategy, maxRetriesPerRequest: 1, enableOfflineQueue: false, enableAutoPipelining: true })
}

export function whenReady(r: RedisClient, timeoutMs = 15_000): Promise<void> {
  if (r.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${r.status})`)), timeoutMs)
    r.once('ready', () => {
      clearTimeout(t)
      resolve()
    })
  })
}

/** Stream ids compare as (ms, seq). */
export function streamIdLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt)
  const [bm, bs] = b.split('-').map(BigInt)
  return am < bm || (am === bm && as < bs)
}

interface BucketJson {
  count: number
  sum: number
  comp: number
  min: number | null
  max: number | null
  last: number | null
  sketch?: string
  hll?: string
}

function bucketJson(store: Store, b: Bucket, id: number): BucketJson | null {
  const st = b.series.get(id)
  if (st === undefined) return null
  const j: BucketJson = { count: st.count, sum: st.sum, comp: st.comp, min: Number.isFinite(st.min) ? st.min : null, max: Number.isFinite(st.max) ? st.max : null, last: Number.isNaN(st.last) ? null : st.last }
  if (st.dist !== null) j.sketch = b64(st.dist.view().serialize())
  if (b.uniques !== null && b.uniques.count({ s: String(id) }) > 0) j.hll = b64(b.uniques.toHyperLogLog({ s: String(id) }).toRedis())
  void store
  return j
}

/** The aggregator's side: load this node's state, publish it, answer cluster reads. */
export class ClusterNode {
  /** Last event-stream id applied (and so contained in the state once published). */
  pos = '0-0'
  /** Publish sequence number (kept in the hash, so it keeps rising across restarts). */
  seq = 0
  publishedAt = 0
  publishes = 0
  lastPublishMs = 0
  private publishing: Promise<void> | null = null
  /** True while a publish captures the state (stream batches must wait: see `publish`). */
  encoding = false
  /** Called when a publish has captured the state (the caller applies what waited). */
  onEncoded: () => void = () => {}

  constructor(
    readonly redis: RedisClient,
    readonly node: string,
    readonly store: Store,
  ) {
    store.track()
  }

  /** Loads this node's published state (a restart with the same id); returns the series loaded. */
  async load(): Promise<number> {
    const all = await this.redis.hgetall(KEYS.state(this.node))
    const now = Date.now()
    let n = 0
    for (const [field, value] of Object.entries(all)) {
      if (field === POS) {
        this.pos = value
        continue
      }
      if (field === SEQ) {
        this.seq = Number(value)
        continue
      }
      if (field === META) continue
      let st: unknown
      try {
        st = JSON.parse(value)
      } catch {
        throw new Error(`Redis ${KEYS.state(this.node)} field ${JSON.stringify(field)} is not JSON`)
      }
      if (!checkSeriesState(st)) throw new Error(`Redis ${KEYS.state(this.node)} field ${JSON.stringify(field)} is not a series state`)
      if (restoreSeries(this.store, st, now)) n++
    }
    this.store.dirty!.clear()
    await this.loadWindows()
    return n
  }

  /** Loads this node's live window buckets back (a restart), so its next writes to them add to what it had. */
  private async loadWindows(): Promise<void> {
    const now = Date.now()
    for (const tier of this.store.windows.tierList()) {
      const cur = Math.floor(now / tier.bucketMs)
      const indexes = Array.from({ length: tier.buckets }, (_, i) => cur - i)
      const all = await Promise.all(indexes.map((i) => this.redis.hgetall(KEYS.bucket(this.node, tier.bucketMs, i))))
      all.forEach((fields, i) => {
        for (const [key, value] of Object.entries(fields)) {
          const s = this.store.series.get(key)
          if (s === undefined) continue
          const j = JSON.parse(value) as BucketJson
          const st = new BucketState()
          st.count = j.count
          st.sum = j.sum
          st.comp = j.comp
          st.min = j.min ?? Infinity
          st.max = j.max ?? -Infinity
          st.last = j.last ?? NaN
          if (j.sketch !== undefined) {
            const sk = QuantileSketch.deserialize(unb64(j.sketch))
            st.dist = SmallSketch.from(sk, sk.relativeAccuracy)
          }
          this.store.windows.restore(tier.bucketMs, indexes[i], s.id, st, j.hll === undefined ? null : HyperLogLog.fromRedis(unb64(j.hll)))
        }
      })
    }
    this.store.windows.takeTouched()
  }

  get busy(): boolean {
    return this.publishing !== null
  }

  /** Publishes finished. */
  get count(): number {
    return this.publishes
  }

  /**
   * Publishes the series and window buckets changed since the last publish. Encoding yields to
   * the event loop every few ms; while `encoding`, the caller must not apply stream batches (so
   * `pos` matches the state captured), while UDP batches may go on (they simply mark series
   * dirty again). Once the state is captured (`onEncoded`), everything may be applied: the
   * writes to Redis carry the captured copy.
   */
  publish(): Promise<void> {
    this.publishing ??= this.doPublish().finally(() => {
      this.publishing = null
    })
    return this.publishing
  }

  private async doPublish(): Promise<void> {
    const t0 = performance.now()
    const store = this.store
    const dirty = [...store.dirty!]
    store.dirty!.clear()
    const deleted = store.deletedKeys.splice(0)
    const touched = store.windows.takeTouched()
    const pos = this.pos
    this.encoding = true
    const fields: string[] = []
    const sets: [string, Buffer][] = []
    const buckets: { key: string; fields: string[]; ttlMs: number }[] = []
    let sliceStart = performance.now()
    const maybeYield = async (): Promise<void> => {
      if (performance.now() - sliceStart > 5) {
        await new Promise((r) => setImmediate(r))
        sliceStart = performance.now()
      }
    }
    try {
      for (const s of dirty) {
        if (!store.series.has(s.key)) continue
        const st = seriesState(store, s)
        if (st.hll !== undefined) sets.push([KEYS.hll(s.key, this.node), Buffer.from(unb64(st.hll))])
        fields.push(s.key, JSON.stringify(st))
        await maybeYield()
      }
      const span = store.windows.longestSpan()
      for (const { bucket, ids } of touched) {
        const bf: string[] = []
        for (let k = 0; k < ids.length; k++) {
          const id = ids[k]
          const s = store.byId.get(id)
          const j = s === undefined ? null : bucketJson(store, bucket, id)
          if (s !== undefined && j !== null) bf.push(s.key, JSON.stringify(j))
          if ((k & 255) === 255) await maybeYield()
        }
        if (bf.length > 0) buckets.push({ key: KEYS.bucket(this.node, bucket.bucketMs, bucket.index), fields: bf, ttlMs: span + 2 * bucket.bucketMs })
        await maybeYield()
      }
      this.encoding = false
      this.onEncoded()
      const now = Date.now()
      // Sets and window buckets first (idempotent overwrites, in any slot), then the state script
      // (the node's slot), then the node list. Separate commands, auto-pipelined by ioredis, so the
      // same code runs on Redis Cluster (a pipeline there must stay in one slot).
      const r = this.redis
      await Promise.all([
        ...sets.map(([k, v]) => r.set(k, v)),
        ...buckets.map((b) => r.hset(b.key, ...b.fields).then(() => r.pexpire(b.key, b.ttlMs))),
      ])
      for (const k of deleted) fields.push(k, '')
      // The one write that moves the state and its stream position together (if seq is new).
      const seq = Math.max(this.seq + 1, now)
      await r.eval(PUBLISH_SCRIPT, 1, KEYS.state(this.node), seq, ...fields, POS, pos, META, JSON.stringify({ publishedAt: now, series: store.series.size }))
      await r.zadd(KEYS.nodes, now, this.node)
      this.seq = seq
      // Entries up to pos are in the state: trim what is older (pos itself stays as the mark).
      await this.redis.xtrim(KEYS.events(this.node), 'MINID', pos).catch(() => {})
      this.publishedAt = now
      this.publishes++
      this.lastPublishMs = performance.now() - t0
    } catch (e) {
      if (this.encoding) {
        this.encoding = false
        this.onEncoded()
      }
      // Nothing is lost: mark everything dirty again for the next attempt.
      for (const s of dirty) if (store.series.has(s.key)) store.dirty!.add(s)
      store.deletedKeys.push(...deleted)
      store.windows.retouch(touched)
      throw e
    }
  }

  /** After Redis comes back (maybe without its data), the next publish writes the whole state. */
  republishAll(): void {
    for (const s of this.store.series.values()) this.store.dirty!.add(s)
  }

  /** Every node that ever published, with its last publish time. */
  async nodes(): Promise<{ id: string; publishedAt: number; lagMs: number; series: number | null }[]> {
    const flat = await this.redis.zrange(KEYS.nodes, 0, -1, 'WITHSCORES')
    const now = Date.now()
    const out: { id: string; publishedAt: number; lagMs: number; series: number | null }[] = []
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i], publishedAt: Number(flat[i + 1]), lagMs: now - Number(flat[i + 1]), series: null })
    const metas = await Promise.all(out.map((n) => this.redis.hget(KEYS.state(n.id), META)))
    metas.forEach((m, i) => {
      if (m !== null) out[i].series = (JSON.parse(m) as { series: number }).series
    })
    return out
  }

  /** One series merged over every node: cumulative (window null) or over a window. */
  async stats(name: string, tags: [string, string][], window: number | null): Promise<Record<string, unknown>> {
    this.store.checkWindow(window)
    const key = seriesKey(name, tags)
    const nodes = (await this.redis.zrange(KEYS.nodes, 0, -1)).sort()
    const states = (await Promise.all(nodes.map((n) => this.redis.hget(KEYS.state(n), key))))
      // A node's state that is not one (corrupt in Redis) is left out, as a node without the series.
      .map((v) => (v === null ? null : parseSeriesState(v)))
      .filter((v): v is SeriesState => v !== null)
    if (states.length === 0) throw new HttpError(404, `unknown series ${JSON.stringify(key)} on every node`)
    const type = states[0].type
    const merged = mergeStates(states)
    const out: Record<string, unknown> = { key, name, type, tags: Object.fromEntries(tags), scope: 'cluster', nodes: states.length, window }
    const quantiles = (sk: QuantileSketch | null): Record<string, number> | null => {
      if (sk === null || sk.count === 0) return null
      const qs = sk.quantiles([...QUANTILES])
      return Object.fromEntries(QUANTILES.map((q, i) => [String(q), qs[i]]))
    }
    if (window === null) {
      out.count = merged.count
      out.value = merged.value
      out.uniques = type === 's' ? await this.redis.pfcount(...nodes.map((n) => KEYS.hll(key, n))) : null
      if (merged.sketch !== null) {
        const sk = merged.sketch
        Object.assign(out, { count: sk.count, sum: sk.sum, min: sk.min, max: sk.max, mean: sk.mean, quantiles: quantiles(sk) })
      } else Object.assign(out, { sum: type === 'c' ? merged.sum : null, min: null, max: null, mean: type === 'c' && merged.count > 0 ? merged.sum / merged.count : null, quantiles: null })
      out.rate = null
      return out
    }
    const now = Date.now()
    const { bucketMs, indexes } = this.store.windows.windowBuckets(window, now)
    const reads = await Promise.all(nodes.flatMap((n) => indexes.map((i) => this.redis.hget(KEYS.bucket(n, bucketMs, i), key))))
    const b = new BucketState()
    let comp = 0
    let sketch: QuantileSketch | null = null
    let hll: HyperLogLog | null = null
    for (const r of reads) {
      if (r === null) continue
      const j = JSON.parse(r) as BucketJson
      b.count += j.count
      const t = b.sum + j.sum
      comp += Math.abs(b.sum) >= Math.abs(j.sum) ? b.sum - t + j.sum : j.sum - t + b.sum
      b.sum = t
      comp += j.comp
      if (j.min !== null && j.min < b.min) b.min = j.min
      if (j.max !== null && j.max > b.max) b.max = j.max
      if (j.last !== null) b.last = j.last
      if (j.sketch !== undefined) {
        const sk = QuantileSketch.deserialize(unb64(j.sketch))
        sketch = sketch === null ? sk : sketch.merge(sk)
      }
      if (j.hll !== undefined) (hll ??= new HyperLogLog()).merge(HyperLogLog.fromRedis(unb64(j.hll)))
    }
    const seconds = this.store.windows.windowSeconds(window, now)
    const sum = b.sum + comp
    const isSet = type === 's'
    return {
      ...out,
      count: b.count,
      sum: isSet ? null : sum,
      min: b.count === 0 || isSet ? null : b.min,
      max: b.count === 0 || isSet ? null : b.max,
      mean: b.count === 0 || isSet ? null : sum / b.count,
      value: type === 'g' && b.count > 0 ? b.last : null,
      uniques: isSet ? (hll?.count() ?? 0) : null,
      quantiles: quantiles(sketch),
      rate: (type === 'c' ? sum : b.count) / seconds,
    }
  }
}

/**
 * Merges one series' states from several nodes: counters add (each node's exact compensated
 * sum), distributions merge their sketches (bins add), gauges take the most recently
 * seen node's value. Order-independent: the inputs are sorted by node first by the caller, and
 * every step is commutative for counts and bins.
 */
export function mergeStates(states: SeriesState[]): { count: number; sum: number; value: number | null; sketch: QuantileSketch | null } {
  let count = 0
  let sum = 0
  let comp = 0
  let value: number | null = null
  let latest = -Infinity
  let sketch: QuantileSketch | null = null
  for (const st of states) {
    count += st.count
    if (st.sum !== undefined) {
      const x = st.sum
      const t = sum + x
      comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum
      sum = t
      comp += st.comp ?? 0
    }
    if (st.value !== undefined && st.lastSeen > latest) {
      latest = st.lastSeen
      value = st.value
    }
    if (st.sketch !== undefined) {
      const sk = QuantileSketch.deserialize(unb64(st.sketch))
      sketch = sketch === null ? sk : sketch.merge(sk)
    }
  }
  return { count, sum: sum + comp, value, sketch }
}

/** The receiver's side: reads this node's event stream after `pos` and hands each entry over. */
export class StreamReader {
  private stopped = false
  private last: string

  constructor(
    private readonly redis: RedisClient,
    private readonly node: string,
    from: string,
    /** Called per entry in order; `last` on the last entry of a read (the caller may flush there). */
    private readonly onEntry: (id: string, contentType: string, body: Buffer, last: boolean) => void,
    private readonly canRead: () => boolean,
  ) {
    this.last = from
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.canRead()) {
        await new Promise((r) => setTimeout(r, 5))
        continue
      }
      let res: [Buffer, [Buffer, Buffer[]][]][] | null
      try {
        res = (await this.redis.xreadBuffer('COUNT', 200, 'BLOCK', 500, 'STREAMS', KEYS.events(this.node), this.last)) as [Buffer, [Buffer, Buffer[]][]][] | null
      } catch (e) {
        if (process.env.HOTSTATS_DEBUG_STREAM) process.stderr.write(`xread failed: ${(e as Error).message}\n`)
        if (this.stopped) return
        await new Promise((r) => setTimeout(r, 200)) // Redis away: ioredis reconnects; try again
        continue
      }
      if (process.env.HOTSTATS_DEBUG_STREAM) process.stderr.write(`xread from ${this.last}: ${res === null ? 'null' : res.length}\n`)
      if (res === null) continue
      for (const [, entries] of res) {
        for (let e = 0; e < entries.length; e++) {
          const [idBuf, fields] = entries[e]
          const id = idBuf.toString()
          let ct = 'text/plain'
          let body: Buffer = Buffer.alloc(0)
          for (let i = 0; i + 1 < fields.length; i += 2) {
            const f = fields[i].toString()
            if (f === 'ct') ct = fields[i + 1].toString()
            else if (f === 'body') body = fields[i + 1]
          }
          this.onEntry(id, ct, body, e === entries.length - 1)
          this.last = id
        }
      }
    }
  }

  stop(): void {
    this.stopped = true
  }
}
