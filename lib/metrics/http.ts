/**
 * HTTP integration: a `/metrics` handler for node:http (and anything that passes node's req/res,
 * express included), request metrics for express (a middleware) and fastify (a plugin).
 *
 * Request metrics are `http_requests_total` and `http_request_duration_seconds` (a histogram),
 * labeled `method`, `route` and `status_code`. `route` is the route template (`/users/:id`), never
 * the path: a request no route matched is labeled `unmatched` (or what `unmatchedRoute` says), and
 * a method outside the standard ones is `OTHER`, so no request can make a new series beyond
 * routes × methods × statuses.
 *
 * The handler negotiates the format from the Accept header: Prometheus's delimited protobuf
 * (what Prometheus asks for with native histograms enabled: they come in the same scrape as
 * every other family), OpenMetrics 1.0.0, or Prometheus text 0.0.4 (the default).
 */

import { Counter } from './counter'
import { PROMETHEUS_PROTOBUF_CONTENT_TYPE } from './native-histogram'
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './exposition'
import { DEFAULT_BUCKETS, Histogram } from './histogram'
import { register, type Registry } from './registry'

export type NegotiatedContentType = typeof PROMETHEUS_CONTENT_TYPE | typeof OPENMETRICS_CONTENT_TYPE | typeof PROMETHEUS_PROTOBUF_CONTENT_TYPE

/** The exposition format an Accept header ranks first among protobuf, OpenMetrics and text (ties: text). */
export function negotiateContentType(accept: string | undefined): NegotiatedContentType {
  if (!accept) return PROMETHEUS_CONTENT_TYPE
  let om = -1
  let text = -1
  let proto = -1
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    let q = 1
    let version: string | undefined
    let protoName: string | undefined
    let encoding: string | undefined
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim())
      if (k === 'q') q = Number(v)
      else if (k === 'version') version = v
      else if (k === 'proto') protoName = v
      else if (k === 'encoding') encoding = v
    }
    if (!(q > 0)) continue
    if (type === 'application/vnd.google.protobuf' && protoName === 'io.prometheus.client.metricfamily' && encoding === 'delimited') proto = Math.max(proto, q)
    else if (type === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) om = Math.max(om, q)
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, type === 'text/plain' ? q : q - 1e-9)
  }
  if (proto > text && proto >= om) return PROMETHEUS_PROTOBUF_CONTENT_TYPE
  return om > text ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE
}

/** The registry in the negotiated format. */
async function render(registry: Registry, type: NegotiatedContentType): Promise<string | Uint8Array> {
  if (type === PROMETHEUS_PROTOBUF_CONTENT_TYPE) return registry.protobuf()
  return type === OPENMETRICS_CONTENT_TYPE ? registry.openMetrics() : registry.prometheusText()
}

export interface MetricsHandlerOptions {
  /** The registry to expose (default: the default registry). */
  registry?: Registry
}

/**
 * The parts of node's `IncomingMessage` the handlers read. The public types name node's request
 * and response structurally, so they compile without `@types/node`; node's (and express's) objects
 * fit them.
 */
export interface HttpRequestLike {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
}

/** The parts of node's `ServerResponse` the handlers use. */
export interface HttpResponseLike {
  statusCode: number
  writeHead(statusCode: number, headers?: Record<string, string | number>): unknown
  end(body?: string | Uint8Array): unknown
  once(event: 'finish', listener: () => void): unknown
}

/**
 * A request handler that answers the registry's metrics: `http.createServer(metricsHandler())`, or
 * `app.get('/metrics', metricsHandler())` in express. GET and HEAD; another method gets a 405.
 */
export function metricsHandler(options: MetricsHandlerOptions = {}): (req: HttpRequestLike, res: HttpResponseLike) => Promise<void> {
  const registry = options.registry ?? register
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('Method Not Allowed\n')
      return
    }
    const accept = req.headers.accept
    const type = negotiateContentType(Array.isArray(accept) ? accept.join(', ') : accept)
    let body: string | Uint8Array
    try {
      body = await render(registry, type)
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`)
      return
    }
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

export interface HttpMetricsOptions {
  /** Where the request metrics are registered (default: the default registry). */
  registry?: Registry
  /** Prepended to the metric names. */
  prefix?: string
  /** Latency buckets, seconds (default: prom-client's). */
  buckets?: readonly number[]
  /** The `route` of a request no route matched (404s, static files). Default 'unmatched'. */
  unmatchedRoute?: string
  /** Paths not measured, matched on the path without its query (default: ['/metrics']). */
  exclude?: readonly string[]
  /** The path the fastify plugin serves the metrics on (default '/metrics'; false: none). */
  metricsPath?: string | false
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])

type Labels = 'method' | 'route' | 'status_code'

/** The two request metrics, shared by every middleware on one registry with one prefix. */
class RequestMetrics {
  readonly unmatched: string
  private readonly count: Counter<Labels>
  private readonly duration: Histogram<Labels>
  private readonly exclude: Set<string>

  constructor(o: HttpMetricsOptions) {
    if (o === null || typeof o !== 'object') throw new TypeError('HTTP metrics options must be an object')
    const registry = o.registry ?? register
    const p = o.prefix ?? ''
    const labelNames = ['method', 'route', 'status_code'] as const
    const reuse = <M>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make()
    this.count = reuse(`${p}http_requests_total`, () => new Counter({ name: `${p}http_requests_total`, help: 'HTTP requests, by route template, method and status.', labelNames, registers: [registry] }))
    this.duration = reuse(
      `${p}http_request_duration_seconds`,
      () => new Histogram({ name: `${p}http_request_duration_seconds`, help: 'HTTP request latency in seconds, by route template, method and status.', labelNames, buckets: o.buckets ?? DEFAULT_BUCKETS, registers: [registry] }),
    )
    if (!(this.count instanceof Counter) || !(this.duration instanceof Histogram)) throw new Error(`${p}http_requests_total or ${p}http_request_duration_seconds is already registered as another kind of metric`)
    this.unmatched = o.unmatchedRoute ?? 'unmatched'
    this.exclude = new Set(o.exclude ?? ['/metrics'])
  }

  excluded(url: string | undefined): boolean {
    if (!url || this.exclude.size === 0) return false
    const q = url.indexOf('?')
    return this.exclude.has(q < 0 ? url : url.slice(0, q))
  }

  record(method: string | undefined, route: string | undefined, status: number, seconds: number): void {
    const m = method !== undefined && METHODS.has(method) ? method : 'OTHER'
    const labels = { method: m, route: route ?? this.unmatched, status_code: status }
    this.count.inc(labels)
    this.duration.observe(labels, seconds)
  }
}

interface ExpressRequest extends HttpRequestLike {
  baseUrl?: string
  originalUrl?: string
  route?: { path?: unknown }
}

/** The template of the express route that matched, with the routers' mount paths before it. */
function expressRoute(req: ExpressRequest): string | undefined {
  const path = req.route?.path
  if (path === undefined) return undefined
  const template = Array.isArray(path) ? path.map(String).join('|') : String(path)
  return `${req.baseUrl ?? ''}${template}` || '/'
}

/**
 * express middleware: `app.use(httpMetrics())` before the routes. Each response is counted and
 * timed under its route template (read when the response starts, while express still has the
 * matched route and mount path on the request).
 */
export function httpMetrics(options: HttpMetricsOptions = {}): (req: HttpRequestLike, res: HttpResponseLike, next: (err?: unknown) => void) => void {
  const metrics = new RequestMetrics(options)
  return (req, res, next) => {
    const r = req as ExpressRequest
    if (metrics.excluded(r.originalUrl ?? req.url)) return next()
    const start = process.hrtime.bigint()
    let route: string | undefined
    const writeHead = res.writeHead
    res.writeHead = function (this: HttpResponseLike, ...args: unknown[]) {
      route ??= expressRoute(r)
      return (writeHead as (...a: unknown[]) => unknown).apply(this, args)
    } as typeof res.writeHead
    res.once('finish', () => {
      route ??= expressRoute(r)
      metrics.record(req.method, route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9)
    })
    next()
  }
}

interface FastifyLike {
  addHook(name: 'onResponse', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>): unknown
  get(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown
}
interface FastifyRequestLike {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  routeOptions?: { url?: string }
  routerPath?: string
  is404?: boolean
}
interface FastifyReplyLike {
  statusCode: number
  elapsedTime?: number
  header(name: string, value: string): FastifyReplyLike
}

/**
 * fastify plugin: `await app.register(fastifyMetrics, { registry })`. Counts and times every
 * response under its route template (`request.routeOptions.url`, prefixes included) and serves the
 * registry on `metricsPath` (default '/metrics'). It applies to the whole instance (it skips
 * fastify's encapsulation, as fastify-plugin does).
 */
export const fastifyMetrics = Object.assign(
  async function fastifyMetrics(instance: FastifyLike, options: HttpMetricsOptions = {}): Promise<void> {
    const metrics = new RequestMetrics(options)
    const registry = options.registry ?? register
    const path = options.metricsPath ?? '/metrics'
    instance.addHook('onResponse', async (request, reply) => {
      if (metrics.excluded(request.url)) return
      const route = request.is404 ? undefined : (request.routeOptions?.url ?? request.routerPath)
      metrics.record(request.method, route, reply.statusCode, (reply.elapsedTime ?? 0) / 1000)
    })
    if (path !== false) {
      instance.get(path, async (request, reply) => {
        const type = negotiateContentType(request.headers.accept as string | undefined)
        reply.header('content-type', type)
        const body = await render(registry, type)
        return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      })
    }
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'hotstats-metrics' },
)
