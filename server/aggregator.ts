/**
 * The aggregator thread of `hotstats serve`: owns the Store, applies the receiver's event
 * batches, answers the HTTP thread's reads (stats, series, top, history, control charts, A/B,
 * /metrics), expires idle series and saves state. It runs in its own worker_thread, so neither
 * parsing (the receiver thread) nor answering HTTP (the main thread) waits for it, and /metrics
 * is rendered here in slices with event batches applied in between.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'

import type { RuleSet } from '../index'
import type { Config } from './config'
import { SharedCounters } from './counters'
import { renderProtobuf, renderText, type Format } from './exposition'
import { NameMapper } from './mapping'
import { encodeState, loadState, moveAside, StateFileError, writeStateFile } from './state'
import { ClusterNode, connectRedis, whenReady } from './cluster'
import { HttpError, parseTagsParam, Store, type EventBatch } from './store'
import { readFileSync } from 'node:fs'

export interface AggregatorData {
  config: Config
  counters: SharedArrayBuffer
  receiver: MessagePort
}

export type Request =
  | { op: 'stats'; name: string; tags: string | null; window: number | null; cluster?: boolean }
  | { op: 'cluster' }
  | { op: 'series'; match: string; offset: number; limit: number }
  | { op: 'top'; by: string; limit: number; window: number }
  | { op: 'history'; name: string; tags: string | null; seconds: number }
  | { op: 'spc'; name: string; tags: string | null; seconds: number; rules: RuleSet }
  | { op: 'ab'; exposures: string; conversions: string; value: string | null; tag: string; a: string; b: string }
  | { op: 'metrics'; format: Format }
  | { op: 'save' }
  | { op: 'shutdown' }

const SLICE_MS = 8

async function main(): Promise<void> {
  const { config, counters: buf, receiver } = workerData as AggregatorData
  const counters = new SharedCounters(buf)
  const mapper = config.mapping === null ? NameMapper.default() : NameMapper.fromYaml(readFileSync(config.mapping, 'utf8'), config.mapping)
  const store = new Store({
    windows: config.windows,
    relativeAccuracy: config.relativeAccuracy,
    maxSeries: config.maxSeries,
    maxSeriesPerMetric: config.maxSeriesPerMetric,
    ttlMs: config.seriesTtl * 1000,
    mapper,
    counters,
  })

  let loaded = 0
  let movedAside: string | null = null
  let cluster: ClusterNode | null = null
  if (config.redis !== null) {
    // With Redis, the node's state lives there (and survives kill -9 up to the last publish).
    const redis = connectRedis(config.redis, `hotstats-aggregator-${config.nodeId}`)
    redis.on('error', () => {}) // reconnects by itself; publishes retry
    await whenReady(redis)
    cluster = new ClusterNode(redis, config.nodeId!, store)
    loaded = await cluster.load()
    // A Redis that restarted may have lost what this node published: publish everything again.
    let wasDown = false
    redis.on('close', () => (wasDown = true))
    redis.on('ready', () => {
      if (wasDown) cluster?.republishAll()
      wasDown = false
    })
  } else if (config.stateDir !== null) {
    try {
      loaded = loadState(store, config.stateDir).series
    } catch (e) {
      if (!(e instanceof StateFileError) || config.stateCorrupt !== 'move-aside') throw e
      movedAside = moveAside(config.stateDir)
      for (const s of [...store.series.values()]) store.delete(s)
    }
  }

  let drained = false
  const drainWaiters: (() => void)[] = []
  // Batches read from the Redis event stream wait while a publish encodes the state, so the
  // stream position published always matches the state published with it.
  const deferred: { batch: EventBatch; streamId: string }[] = []
  const applyBatch = (batch: EventBatch, streamId: string | undefined): void => {
    store.apply(batch)
    counters.add('aggregated', batch.n)
    if (streamId !== undefined && cluster !== null) cluster.pos = streamId
  }
  receiver.on('message', (m: { type: 'batch'; batch: EventBatch; streamId?: string } | { type: 'drained' }) => {
    if (m.type === 'batch') {
      if (m.streamId !== undefined && (cluster?.encoding === true || deferred.length > 0)) deferred.push({ batch: m.batch, streamId: m.streamId })
      else applyBatch(m.batch, m.streamId)
    } else {
      drained = true
      for (const w of drainWaiters.splice(0)) w()
    }
  })

  const save = (): string | null => (config.stateDir === null ? null : writeStateFile(config.stateDir, encodeState(store)))

  const expiry = setInterval(() => {
    store.expire()
    counters.set('window_pairs', store.windows.pairs())
  }, Math.max(250, Math.min(5_000, (config.seriesTtl * 1000) / 2 || 5_000)))
  expiry.unref()
  if (config.stateDir !== null && config.snapshotInterval > 0) {
    setInterval(() => {
      try {
        save()
      } catch (e) {
        parentPort!.postMessage({ type: 'log', message: `periodic state save failed: ${(e as Error).message}` })
      }
    }, config.snapshotInterval * 1000).unref()
  }

  let publishError: string | null = null
  if (cluster !== null) cluster.onEncoded = () => {
    for (const d of deferred.splice(0)) applyBatch(d.batch, d.streamId)
  }
  const publish = async (): Promise<void> => {
    if (cluster === null) return
    try {
      await cluster.publish()
      counters.set('publishes', cluster.count)
      counters.set('publish_ms_last', cluster.lastPublishMs)
      counters.set('published_at', cluster.publishedAt)
      if (publishError !== null) parentPort!.postMessage({ type: 'log', message: 'publishing to Redis again' })
      publishError = null
    } catch (e) {
      const msg = (e as Error).message
      if (publishError !== msg) parentPort!.postMessage({ type: 'log', message: `publish to Redis failed (will retry): ${msg}` })
      publishError = msg
    } finally {
      for (const d of deferred.splice(0)) applyBatch(d.batch, d.streamId)
    }
  }
  if (cluster !== null) setInterval(() => void publish(), config.publishInterval * 1000).unref()

  const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r))

  /** Runs a generator to its end, giving the event loop (incoming batches) a turn every SLICE_MS. */
  async function sliced<T>(gen: Generator<T>): Promise<T[]> {
    const out: T[] = []
    let t0 = performance.now()
    for (const chunk of gen) {
      out.push(chunk)
      if (performance.now() - t0 > SLICE_MS) {
        await yieldLoop()
        t0 = performance.now()
      }
    }
    return out
  }

  let lastNodes: Awaited<ReturnType<ClusterNode['nodes']>> = []
  async function handle(r: Request, id: number): Promise<unknown> {
    switch (r.op) {
      case 'stats':
        if (r.cluster === true) {
          if (cluster === null) throw new HttpError(400, 'scope=cluster needs --redis')
          try {
            return await cluster.stats(r.name, parseTagsParam(r.tags), r.window)
          } catch (e) {
            if (e instanceof HttpError) throw e
            throw new HttpError(503, `Redis unreachable: ${(e as Error).message}`)
          }
        }
        return store.stats(r.name, parseTagsParam(r.tags), r.window)
      case 'cluster': {
        if (cluster === null) return { node: null, nodes: [] }
        try {
          lastNodes = await cluster.nodes()
          return { node: config.nodeId, publishedAt: cluster.publishedAt, publishIntervalMs: config.publishInterval * 1000, nodes: lastNodes, stale: false }
        } catch (e) {
          // Redis unreachable: the last list known, marked stale.
          return { node: config.nodeId, publishedAt: cluster.publishedAt, publishIntervalMs: config.publishInterval * 1000, nodes: lastNodes, stale: true, error: (e as Error).message }
        }
      }
      case 'series':
        return store.list(r.match, r.offset, r.limit)
      case 'top':
        return store.top(r.by, r.limit, r.window)
      case 'history':
        return store.history(r.name, parseTagsParam(r.tags), r.seconds)
      case 'spc':
        return store.spc(r.name, parseTagsParam(r.tags), r.seconds, r.rules)
      case 'ab':
        return store.ab(r)
      case 'metrics': {
        const refused = [...store.refusedByMetric].map(([metric, n]) => ({ metric, n }))
        const collisions = [...store.collisionsByMetric].map(([metric, n]) => ({ metric, n }))
        if (r.format === 'protobuf') {
          const parts = await sliced(renderProtobuf(store, config.nativeHistogramSchema))
          const body = Buffer.concat(parts)
          return { body, refused, collisions }
        }
        // Text goes to the HTTP thread slice by slice (one message per ~8 ms of rendering), so no
        // step copies or joins the whole body at once.
        let t0 = performance.now()
        let piece = ''
        for (const chunk of renderText(store, r.format)) {
          piece += chunk
          if (performance.now() - t0 > SLICE_MS) {
            parentPort!.postMessage({ id, chunk: piece })
            piece = ''
            await yieldLoop()
            t0 = performance.now()
          }
        }
        if (piece !== '') parentPort!.postMessage({ id, chunk: piece })
        return { body: null, refused, collisions }
      }
      case 'save': {
        if (!drained) await new Promise<void>((res) => drainWaiters.push(res))
        if (cluster !== null) {
          while (cluster.busy) await publish()
          await publish() // the last changes (an unreachable Redis is logged: stream entries stay there)
        }
        const path = cluster === null ? save() : null
        return { path, series: store.series.size }
      }
      case 'shutdown':
        clearInterval(expiry)
        return null
    }
  }

  parentPort!.on('message', (m: { id: number; req: Request }) => {
    handle(m.req, m.id).then(
      (result) => parentPort!.postMessage({ id: m.id, result }),
      (e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500
        parentPort!.postMessage({ id: m.id, error: { status, message: e instanceof Error ? e.message : String(e) } })
      },
    )
  })
  parentPort!.postMessage({ type: 'ready', loaded, movedAside, pos: cluster?.pos ?? null })
}

main().catch((e: unknown) => {
  parentPort!.postMessage({ type: 'fatal', message: e instanceof Error ? e.message : String(e) })
})
