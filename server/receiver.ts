/**
 * The receiver thread of `hotstats serve`: owns the StatsD sockets (UDP and TCP on one port),
 * parses every line (and the HTTP ingest bodies the main thread hands over), applies the mapping
 * file's drops, and sends the events to the aggregator thread in column batches. Parsing here
 * and aggregating there use two cores, and the main thread (which answers /metrics, the API and
 * the dashboard) does neither.
 *
 * Nothing is lost silently: the kernel's drop count for the UDP socket (/proc/net/udp), parse
 * errors by reason (with a sampled log of bad lines), and events refused because the aggregator
 * is more than --max-in-flight events behind (ring_full) are all counted.
 */
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { StringDecoder } from 'node:string_decoder'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'

import type { Config } from './config'
import { SharedCounters } from './counters'
import { STATSD_TYPES, type EventSink, type ParseErrorReason, type ParseLimits, type StatsdEvent } from './events'
import { connectRedis, KEYS, StreamReader, whenReady, type RedisClient } from './cluster'
import { decodeJsonEvents, decodeNdjsonEvents } from './http-events'
import { NameMapper } from './mapping'
import { detach, parseStatsdLines } from './statsd'
import { GAUGE_DELTA, newBatch, seriesKey, type EventBatch } from './store'

export interface ReceiverData {
  config: Config
  counters: SharedArrayBuffer
  aggregator: MessagePort
  /** With --redis: the event-stream position the aggregator's state already contains. */
  streamPos: string | null
}

export interface HttpIngest {
  op: 'http'
  id: number
  contentType: string
  body: Uint8Array
}

export interface HttpIngestResult {
  id: number
  accepted: number
  rejected: number
  errors: { index: number; reason: ParseErrorReason }[]
  full: boolean
  /** --redis: the events could not be stored in Redis (503). */
  unavailable?: boolean
}

/** Most events per batch, and the first capacity of a batch (it doubles as events arrive). */
const BATCH = 4096
const BATCH_FIRST = 256
/** A batch that is not full goes to the aggregator this long after its first event. */
const FLUSH_MS = 1
const MAX_LISTED_ERRORS = 100
/** Bad lines kept for the operator (the newest ones), and how often one is sampled. */
const BAD_LINE_LOG = 50

const { config, counters: buf, aggregator, streamPos } = workerData as ReceiverData
const counters = new SharedCounters(buf)
const mapper = config.mapping === null ? NameMapper.default() : NameMapper.fromYaml(readFileSync(config.mapping, 'utf8'), config.mapping)
const limits: ParseLimits = { maxLineLength: config.maxLineBytes, maxTags: config.maxTags }
const typeCode = new Map(STATSD_TYPES.map((t, i) => [t, i]))

let batch: EventBatch = newBatch(BATCH_FIRST)
/** Series keys numbered for the aggregator (see EventBatch). */
const keyIds = new Map<string, number>()
const KEY_IDS_MAX = Math.max(100_000, 2 * config.maxSeries)
let flushScheduled = false
let flushTimer: NodeJS.Timeout | null = null
const EVENTS = counters.slot('events')
const AGGREGATED = counters.slot('aggregated')
const UDP_PACKETS = counters.slot('udp_packets')
const UDP_BYTES = counters.slot('udp_bytes')
const dropsPossible = mapper.canDrop

/** Doubles the batch's columns (up to BATCH). */
function grow(): void {
  const cap = Math.min(BATCH, batch.ids.length * 2)
  const b = newBatch(cap)
  b.n = batch.n
  b.ids.set(batch.ids)
  b.types.set(batch.types)
  b.values.set(batch.values)
  b.rates.set(batch.rates)
  b.times.set(batch.times)
  b.newKeys = batch.newKeys
  b.reset = batch.reset
  b.members = batch.members
  batch = b
}
let badSeen = 0
const badLines: { time: number; reason: ParseErrorReason; line: string }[] = []

function flush(streamId?: string): void {
  flushScheduled = false
  if (flushTimer !== null) {
    clearTimeout(flushTimer)
    flushTimer = null
  }
  if (batch.n === 0 && streamId === undefined && !batch.reset) return
  counters.values[EVENTS] += batch.n
  aggregator.postMessage({ type: 'batch', batch, streamId }, [batch.ids.buffer, batch.types.buffer, batch.values.buffer, batch.rates.buffer, batch.times.buffer] as ArrayBuffer[])
  batch = newBatch(BATCH_FIRST)
}

function full(): boolean {
  return counters.values[EVENTS] + batch.n - counters.values[AGGREGATED] >= config.maxInFlight
}

/** Per-request tallies (HTTP ingest reports them; UDP/TCP only count). */
class Tally {
  accepted = 0
  rejected = 0
  index = 0
  full = false
  errors: { index: number; reason: ParseErrorReason }[] = []
}

let tally: Tally | null = null
/** Only count (validate an HTTP body before it goes to the Redis stream; it is applied when read back). */
let dryRun = false

function sanitizeTag(s: string): string {
  return s.indexOf(',') >= 0 || s.indexOf('|') >= 0 ? s.replace(/[,|]/g, '_') : s
}

const sink: EventSink = {
  event(e: StatsdEvent): void {
    const t = tally
    if (t !== null) t.index++
    if (dropsPossible && mapper.map(e.name, e.type) === null) {
      counters.loss('mapping_drop')
      if (t !== null) t.accepted++ // accepted, and dropped by the operator's own rule
      return
    }
    if (dryRun) {
      if (t !== null) t.accepted++
      return
    }
    if (full()) {
      counters.loss('ring_full')
      if (t !== null) {
        t.rejected++
        t.full = true
      }
      return
    }
    const tags = e.tags
    for (let i = 0; i < tags.length; i++) {
      const [k, v] = tags[i]
      if (k.indexOf(',') >= 0 || v.indexOf(',') >= 0 || k.indexOf('|') >= 0 || v.indexOf('|') >= 0) tags[i] = [sanitizeTag(k), sanitizeTag(v)]
    }
    const name = e.name.indexOf('|') >= 0 ? e.name.replace(/\|/g, '_') : e.name
    const key = tags.length === 0 ? name : seriesKey(name, tags)
    let kid = keyIds.get(key)
    if (kid === undefined) {
      if (keyIds.size >= KEY_IDS_MAX) {
        // Forget the numbering (the aggregator too, at this batch) rather than grow without bound.
        flush()
        keyIds.clear()
        batch.reset = true
      }
      kid = keyIds.size
      const owned = detach(key) // a key sliced from a packet would keep the whole packet alive
      keyIds.set(owned, kid)
      batch.newKeys.push(kid, owned)
    }
    if (batch.n === batch.ids.length) grow()
    const i = batch.n++
    batch.ids[i] = kid
    batch.types[i] = typeCode.get(e.type)! | (e.delta === true ? GAUGE_DELTA : 0)
    batch.values[i] = e.value
    batch.rates[i] = e.sampleRate
    batch.times[i] = e.timestampMs ?? 0
    if (e.member !== undefined) batch.members[i] = e.member
    if (t !== null) t.accepted++
    // Full, or within FLUSH_MS: a message per ~millisecond, not per datagram.
    if (batch.n === BATCH) flush()
    else if (!flushScheduled) {
      flushScheduled = true
      flushTimer = setTimeout(flush, FLUSH_MS)
    }
  },
  error(reason: ParseErrorReason, line: string): void {
    counters.parseError(reason)
    const t = tally
    if (t !== null) {
      t.rejected++
      if (t.errors.length < MAX_LISTED_ERRORS) t.errors.push({ index: t.index, reason })
      t.index++
    }
    // Sample: every bad line while few arrive, then one in 64.
    if (badSeen++ < 1000 || badSeen % 64 === 0) {
      badLines.push({ time: Date.now(), reason, line })
      if (badLines.length > BAD_LINE_LOG) badLines.shift()
    }
  },
}

function parseBody(contentType: string, body: Uint8Array, t: Tally | null, onlyCount: boolean): void {
  tally = t
  dryRun = onlyCount
  try {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
    const ct = contentType.split(';')[0].trim().toLowerCase()
    if (ct === 'application/x-ndjson' || ct === 'application/ndjson' || ct === 'application/jsonl') decodeNdjsonEvents(text, sink)
    else if (ct === 'application/json') decodeJsonEvents(text, sink)
    else parseStatsdLines(text, sink, limits)
  } finally {
    tally = null
    dryRun = false
  }
}

function handleHttp(m: HttpIngest): void {
  const t = new Tally()
  const reply = (extra: Partial<HttpIngestResult> = {}): void => {
    const result: HttpIngestResult = { id: m.id, accepted: t.accepted, rejected: t.rejected, errors: t.errors, full: t.full, ...extra }
    parentPort!.postMessage({ type: 'http', result })
  }
  if (writer === null) {
    parseBody(m.contentType, m.body, t, false)
    flush() // in the pipeline before the 202
    reply()
    return
  }
  // --redis: acknowledged means stored. Validate (for the answer), XADD, then answer; the events
  // are applied when the stream reader reads them back, exactly once (see server/cluster.ts).
  parseBody(m.contentType, m.body, t, true)
  if (writer.status !== 'ready' || t.accepted === 0) {
    if (t.accepted > 0) counters.loss('redis_unavailable', t.accepted)
    reply({ unavailable: t.accepted > 0 })
    return
  }
  writer.xadd(KEYS.events(config.nodeId!), '*', 'ct', m.contentType, 'body', Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength)).then(
    () => reply(),
    () => {
      counters.loss('redis_unavailable', t.accepted)
      reply({ unavailable: true })
    },
  )
}

let writer: RedisClient | null = null
let reader: StreamReader | null = null
if (config.redis !== null) {
  writer = connectRedis(config.redis, `hotstats-writer-${config.nodeId}`)
  writer.on('error', () => {})
  writer.on('ready', () => counters.set('redis_connected', 1))
  writer.on('close', () => counters.set('redis_connected', 0))
  const readConn = connectRedis(config.redis, `hotstats-reader-${config.nodeId}`)
  readConn.on('error', () => {})
  reader = new StreamReader(
    readConn,
    config.nodeId!,
    streamPos ?? '0-0',
    (id, ct, body, last) => {
      parseBody(ct, body, null, false)
      if (last) flush(id) // one batch per read, carrying the stream id it reaches
    },
    () => !full(),
  )
  void reader.run()
}

// ---- sockets --------------------------------------------------------------------------------

let udp: Socket | null = null
let tcp: Server | null = null
const connections = new Set<import('node:net').Socket>()

function readUdpDrops(port: number, v6: boolean): number | null {
  try {
    const text = readFileSync(v6 ? '/proc/net/udp6' : '/proc/net/udp', 'utf8')
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
    let drops = 0
    let found = false
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 13) continue
      if (f[1].endsWith(`:${hexPort}`)) {
        drops += Number(f[f.length - 1]) || 0
        found = true
      }
    }
    return found ? drops : null
  } catch {
    return null // not Linux: the kernel's count is not available
  }
}

function bindUdp(port: number, v6: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: v6 ? 'udp6' : 'udp4', recvBufferSize: config.udpRecvBuffer })
    s.once('error', reject)
    s.bind(port, config.host, () => {
      s.off('error', reject)
      resolve(s)
    })
  })
}

function listenTcp(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((conn) => {
      connections.add(conn)
      counters.add('tcp_connections')
      const dec = new StringDecoder('utf8')
      let rest = ''
      let skipping = false
      conn.on('data', (chunk: Buffer) => {
        counters.add('tcp_bytes', chunk.length)
        let text = rest + dec.write(chunk)
        if (skipping) {
          const nl = text.indexOf('\n')
          if (nl < 0) {
            rest = ''
            return
          }
          text = text.slice(nl + 1)
          skipping = false
        }
        const last = text.lastIndexOf('\n')
        if (last < 0) rest = text
        else {
          parseStatsdLines(text.slice(0, last), sink, limits)
          rest = text.slice(last + 1)
        }
        if (rest.length > config.maxLineBytes) {
          counters.loss('tcp_line_too_long')
          rest = ''
          skipping = true
        }
      })
      conn.on('end', () => {
        const text = rest + dec.end()
        if (!skipping && text.length > 0) parseStatsdLines(text, sink, limits)
        rest = ''
      })
      conn.on('error', () => {}) // a reset connection loses only its unterminated line
      conn.on('close', () => connections.delete(conn))
    })
    srv.once('error', reject)
    srv.listen(port, config.host, () => {
      srv.off('error', reject)
      resolve(srv)
    })
  })
}

async function start(): Promise<number> {
  // With --redis, ingest answers only once the event stream is reachable (else the first POSTs
  // would be refused as redis_unavailable while the connection is still being made).
  if (writer !== null) await whenReady(writer)
  const v6 = config.host.includes(':')
  // One port for both: bind UDP first (port 0 picks one), then TCP on the same number; if that
  // number is taken for TCP, try again with another free port.
  for (let attempt = 0; ; attempt++) {
    const u = await bindUdp(config.statsdPort, v6)
    const port = u.address().port
    try {
      tcp = await listenTcp(port)
      udp = u
      break
    } catch (e) {
      u.close()
      if (config.statsdPort !== 0 || attempt > 20) throw e
    }
  }
  const port = udp!.address().port
  udp!.on('message', (msg) => {
    counters.values[UDP_PACKETS]++
    counters.values[UDP_BYTES] += msg.length
    if (msg.length > config.maxPacketBytes) {
      counters.loss('packet_too_large')
      return
    }
    parseStatsdLines(msg.toString('utf8'), sink, limits)
  })
  udp!.on('error', () => {})
  const base = readUdpDrops(port, v6)
  if (base !== null) {
    counters.set('udp_drops_base', base)
    setInterval(() => {
      const d = readUdpDrops(port, v6)
      if (d !== null) counters.set('loss_udp_receive_buffer', Math.max(0, d - base))
    }, 1000).unref()
  }
  return port
}

async function close(): Promise<void> {
  // Read what the kernel still holds, then stop.
  const port = udp?.address().port
  await new Promise<void>((r) => setImmediate(r))
  if (port !== undefined) {
    const d = readUdpDrops(port, config.host.includes(':'))
    if (d !== null) counters.set('loss_udp_receive_buffer', Math.max(0, d - counters.get('udp_drops_base')))
  }
  udp?.close()
  await new Promise<void>((r) => {
    if (tcp === null) return r()
    tcp.close(() => r())
    for (const c of connections) {
      c.end()
      setTimeout(() => c.destroy(), 1000).unref()
    }
  })
  reader?.stop()
  flush()
  aggregator.postMessage({ type: 'drained' })
}

parentPort!.on('message', (m: HttpIngest | { op: 'close' } | { op: 'badLines'; id: number }) => {
  if (m.op === 'http') handleHttp(m)
  else if (m.op === 'badLines') parentPort!.postMessage({ type: 'badLines', id: m.id, lines: badLines.slice() })
  else
    close().then(
      () => parentPort!.postMessage({ type: 'closed' }),
      (e: unknown) => parentPort!.postMessage({ type: 'closed', error: String(e) }),
    )
})

start().then(
  (port) => parentPort!.postMessage({ type: 'listening', port }),
  (e: unknown) => parentPort!.postMessage({ type: 'fatal', message: `cannot bind StatsD port ${config.host}:${config.statsdPort}: ${(e as Error).message}` }),
)
