/**
 * `hotstats serve`: starts the three threads and ties them together.
 *
 *   receiver thread   UDP + TCP StatsD sockets, parses lines and HTTP bodies, applies mapping drops
 *        │ event batches (MessagePort, columns transferred)
 *   aggregator thread the Store: cumulative series, sliding windows, limits, TTL, state file
 *        │ answers reads (stats, top, history, /metrics rendered in slices)
 *   main thread       HTTP: routes, dashboard, live feed; never parses or aggregates
 *
 * Shutdown (SIGTERM/SIGINT or `close()`): not ready, stop the HTTP listener, close the sockets,
 * send the receiver's last batch, wait until the aggregator has applied it, save the state
 * (with --state-dir), stop the threads.
 */
import { createServer, type Server } from 'node:http'
import { hostname } from 'node:os'
import { extname, join } from 'node:path'
import { MessageChannel, Worker, type WorkerOptions } from 'node:worker_threads'

import type { Request } from './aggregator'
import type { Config } from './config'
import { SharedCounters } from './counters'
import { createHandler, type HttpContext } from './http'
import type { HttpIngestResult } from './receiver'

export interface RunningServer {
  httpPort: number
  statsdPort: number
  host: string
  counters: SharedCounters
  /** Loaded series from the state file, and where a corrupt one was moved. */
  loaded: number
  movedAside: string | null
  close(): Promise<{ statePath: string | null }>
}

/**
 * A worker thread running one of the files beside this one: .js in dist/, or .ts when run from
 * the sources through tsx (whose loader a worker does not get from --import, so it is required).
 */
export function spawnWorker(name: string, options: WorkerOptions): Worker {
  const file = join(__dirname, name + extname(__filename))
  if (extname(file) !== '.ts') return new Worker(file, options)
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)})`, { ...options, eval: true })
}

function version(): string {
  for (const p of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      return (require(p) as { version: string }).version
    } catch {
      // try the next layout
    }
  }
  return 'unknown'
}

function once<T>(w: Worker, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { type?: string; message?: string }): void => {
      if (m.type === type) {
        w.off('message', onMsg)
        resolve(m as T)
      } else if (m.type === 'fatal') {
        w.off('message', onMsg)
        reject(new Error(m.message))
      }
    }
    w.on('message', onMsg)
    w.once('error', reject)
  })
}

export async function startServer(config: Config, log: (s: string) => void = () => {}): Promise<RunningServer> {
  if (config.redis !== null && config.nodeId === null) config = { ...config, nodeId: `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 50)}-${config.httpPort}` }
  if (config.redis !== null && config.stateDir !== null) log('--state-dir is not used with --redis: the node state lives in Redis')
  const counters = new SharedCounters()
  const pipe = new MessageChannel()
  const aggregator = spawnWorker('aggregator', {
    workerData: { config, counters: counters.buffer, receiver: pipe.port2 },
    transferList: [pipe.port2],
  })
  const ready = await once<{ loaded: number; movedAside: string | null; pos: string | null }>(aggregator, 'ready').catch(async (e: unknown) => {
    await aggregator.terminate()
    throw e
  })
  const receiver = spawnWorker('receiver', {
    workerData: { config, counters: counters.buffer, aggregator: pipe.port1, streamPos: ready.pos },
    transferList: [pipe.port1],
  })
  const { port: statsdPort } = await once<{ port: number }>(receiver, 'listening').catch(async (e: unknown) => {
    await Promise.all([aggregator.terminate(), receiver.terminate()])
    throw e
  })

  // Request/answer plumbing to the two threads.
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; chunks: string[] }>()
  aggregator.on('message', (m: { id?: number; result?: unknown; chunk?: string; error?: { status: number; message: string }; type?: string; message?: string }) => {
    if (m.type === 'log') log(m.message ?? '')
    if (m.id === undefined) return
    const p = pending.get(m.id)
    if (p === undefined) return
    if (m.chunk !== undefined) {
      p.chunks.push(m.chunk) // part of a streamed answer (/metrics text); the result comes last
      return
    }
    pending.delete(m.id)
    if (m.error !== undefined) p.reject(Object.assign(new Error(m.error.message), { status: m.error.status }))
    else if (p.chunks.length > 0 && m.result !== null && typeof m.result === 'object') p.resolve({ ...(m.result as object), chunks: p.chunks })
    else p.resolve(m.result)
  })
  const ask = (req: Request): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject, chunks: [] })
      aggregator.postMessage({ id, req })
    })
  const ingestPending = new Map<number, (r: HttpIngestResult) => void>()
  const badLinePending = new Map<number, (l: unknown[]) => void>()
  receiver.on('message', (m: { type: string; result?: HttpIngestResult; id?: number; lines?: unknown[] }) => {
    if (m.type === 'http' && m.result !== undefined) {
      ingestPending.get(m.result.id)?.(m.result)
      ingestPending.delete(m.result.id)
    } else if (m.type === 'badLines' && m.id !== undefined) {
      badLinePending.get(m.id)?.(m.lines ?? [])
      badLinePending.delete(m.id)
    }
  })
  const crashed = (who: string) => (e: Error) => {
    log(`the ${who} thread failed: ${e.stack ?? e.message}`)
    process.exitCode = 1
  }
  aggregator.on('error', crashed('aggregator'))
  receiver.on('error', crashed('receiver'))

  let accepting = true
  const startedAt = Date.now()
  const ctx: HttpContext = {
    config,
    counters,
    startedAt,
    ready: () => accepting && (config.redis === null || counters.get('redis_connected') === 1),
    accepting: () => accepting,
    ask,
    ingest: (contentType, body) =>
      new Promise((resolve) => {
        const id = nextId++
        ingestPending.set(id, resolve)
        const copy = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice()
        receiver.postMessage({ op: 'http', id, contentType, body: copy }, [copy.buffer as ArrayBuffer])
      }),
    badLines: () =>
      new Promise((resolve) => {
        const id = nextId++
        badLinePending.set(id, resolve)
        receiver.postMessage({ op: 'badLines', id })
      }),
    version: version(),
  }
  const handler = createHandler(ctx)
  const http: Server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, handler)
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(config.httpPort, config.host, () => {
      http.off('error', reject)
      resolve()
    })
  }).catch(async (e: unknown) => {
    await Promise.all([aggregator.terminate(), receiver.terminate()])
    throw new Error(`cannot bind HTTP port ${config.host}:${config.httpPort}: ${(e as Error).message}`)
  })
  const addr = http.address()
  const httpPort = typeof addr === 'object' && addr !== null ? addr.port : config.httpPort

  let closing: Promise<{ statePath: string | null }> | null = null
  const close = (): Promise<{ statePath: string | null }> => {
    closing ??= (async () => {
      accepting = false
      ;(handler as unknown as { closeLive: () => void }).closeLive()
      const httpClosed = new Promise<void>((r) => http.close(() => r()))
      http.closeIdleConnections()
      const receiverClosed = new Promise<void>((r) => {
        const onClosed = (m: { type: string }): void => {
          if (m.type !== 'closed') return
          receiver.off('message', onClosed)
          r()
        }
        receiver.on('message', onClosed)
      })
      receiver.postMessage({ op: 'close' })
      await receiverClosed
      const saved = (await ask({ op: 'save' })) as { path: string | null }
      await ask({ op: 'shutdown' })
      setTimeout(() => http.closeAllConnections(), 2000).unref()
      await httpClosed
      await Promise.all([receiver.terminate(), aggregator.terminate()])
      return { statePath: saved.path }
    })()
    return closing
  }

  return { httpPort, statsdPort, host: config.host, counters, loaded: ready.loaded, movedAside: ready.movedAside, close }
}
