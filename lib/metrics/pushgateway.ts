/**
 * Pushgateway (prom-client's API): sends a registry's exposition to a Prometheus Pushgateway,
 * for batch jobs that end before a scrape. `push` replaces the group's metrics (PUT), `pushAdd`
 * replaces only the metrics of the same names (POST), `delete` removes the group (DELETE). The
 * group is the job name and the optional groupings, in the URL path.
 *
 * The options are node:http(s) request options (headers, agent, timeout, auth, ...) plus
 * `requireJobName` (default true). `Content-Encoding: gzip` in the headers gzips the body.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import { gzipSync } from 'node:zlib'

import { PROMETHEUS_CONTENT_TYPE } from './exposition'
import { register, type Registry } from './registry'

export interface PushgatewayParameters {
  /** The job the metrics belong to (required unless `requireJobName: false`). */
  jobName?: string
  /** More labels of the group, e.g. `{ instance: 'host-1' }`. */
  groupings?: Record<string, string | number>
}

/**
 * node:http(s) request options (`headers`, `agent`, `timeout`, `auth`, ... as `http.request`
 * takes them), plus `requireJobName`. Typed loosely, so that the public types compile without
 * `@types/node`.
 */
export interface PushgatewayOptions {
  /** Refuse a push without a job name (default true, as prom-client). */
  requireJobName?: boolean
  headers?: Record<string, string | number | readonly string[]>
  /** An `http.Agent`/`https.Agent` (keep-alive, proxies, TLS settings). */
  agent?: unknown
  timeout?: number
  [option: string]: unknown
}

export interface PushgatewayResponse {
  /** node's `http.IncomingMessage` of the gateway's answer. */
  resp: { statusCode?: number; statusMessage?: string; headers: Record<string, string | string[] | undefined> }
  body: string
}

/**
 * One path segment pair of the group: `/name/value`, or `/name@base64/...` when the value has a
 * `/` or is empty (the Pushgateway's encoding for those; percent-encoding a `/` does not survive
 * its router).
 */
function segment(name: string, value: string): string {
  if (value === '' || value.includes('/')) return `/${encodeURIComponent(name)}@base64/${Buffer.from(value).toString('base64url') || '='}`
  return `/${encodeURIComponent(name)}/${encodeURIComponent(value)}`
}

export class Pushgateway {
  readonly gatewayUrl: string
  readonly registry: Registry
  private readonly requireJobName: boolean
  private readonly requestOptions: http.RequestOptions

  /** `url`: the Pushgateway's base URL (a path prefix is kept), e.g. `http://127.0.0.1:9091`. */
  constructor(url: string, options: PushgatewayOptions = {}, registry: Registry = register) {
    if (typeof url !== 'string') throw new TypeError('Pushgateway takes the gateway URL as a string')
    new URL(url) // a TypeError now rather than at the first push
    const { requireJobName = true, ...requestOptions } = options ?? {}
    this.gatewayUrl = url
    this.registry = registry ?? register
    this.requireJobName = requireJobName
    // node checks them when it makes the request (an unknown agent is its TypeError).
    this.requestOptions = requestOptions as http.RequestOptions
  }

  /** Adds or replaces the metrics of the same names in the group (POST). */
  pushAdd(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    this.check(params)
    return this.send('POST', params)
  }

  /** Replaces every metric of the group (PUT). */
  push(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    this.check(params)
    return this.send('PUT', params)
  }

  /** Deletes the group's metrics (DELETE). */
  delete(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    this.check(params)
    return this.send('DELETE', params)
  }

  /** Thrown, not rejected, as prom-client does. */
  private check(params: PushgatewayParameters): void {
    if (params === null || typeof params !== 'object') throw new TypeError('Pushgateway parameters must be an object: { jobName, groupings }')
    if (this.requireJobName && !params.jobName) throw new Error('Missing jobName parameter')
  }

  private target(params: PushgatewayParameters): URL {
    const url = new URL(this.gatewayUrl)
    const prefix = url.pathname.replace(/\/+$/, '')
    let path = `${prefix}/metrics`
    if (params.jobName) {
      path += segment('job', String(params.jobName))
      for (const [k, v] of Object.entries(params.groupings ?? {})) path += segment(k, String(v))
    }
    url.pathname = path
    return url
  }

  private async send(method: 'PUT' | 'POST' | 'DELETE', params: PushgatewayParameters): Promise<PushgatewayResponse> {
    const url = this.target(params)
    const headers: Record<string, string | string[] | number> = { ...(this.requestOptions.headers as Record<string, string> | undefined) }
    const header = (name: string) => Object.keys(headers).find((k) => k.toLowerCase() === name)
    let body: string | Buffer | null = null
    if (method === 'DELETE') {
      const ce = header('content-encoding')
      if (ce) delete headers[ce]
    } else {
      body = await this.registry.metrics()
      const ce = header('content-encoding')
      if (ce && String(headers[ce]).toLowerCase() === 'gzip') body = gzipSync(body)
      if (!header('content-type') && this.registry.contentType === PROMETHEUS_CONTENT_TYPE) headers['Content-Type'] = PROMETHEUS_CONTENT_TYPE
    }
    const mod = url.protocol === 'https:' ? https : http
    return new Promise<PushgatewayResponse>((resolve, reject) => {
      const req = mod.request(url, { ...this.requestOptions, method, headers }, (resp) => {
        let text = ''
        resp.setEncoding('utf8')
        resp.on('data', (chunk: string) => (text += chunk))
        resp.on('end', () => {
          if ((resp.statusCode ?? 0) >= 400) reject(new Error(`push failed with status ${resp.statusCode}, ${text}`))
          else resolve({ resp, body: text })
        })
        resp.on('error', reject)
      })
      req.on('error', reject)
      req.on('timeout', () => req.destroy(new Error('Pushgateway request timed out')))
      req.end(body ?? undefined)
    })
  }
}
