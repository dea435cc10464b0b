// Starts a real Prometheus server (Debian package `prometheus`) that scrapes one local HTTP
// endpoint every second, and queries it through its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { freePort } from './redis'

export interface PrometheusServer {
  /** Instant query; the result vector's [labels, value] pairs. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>
  /** Polls `query` until `ready(result)` holds (or throws after timeoutMs). */
  waitFor(promql: string, ready: (r: Array<{ metric: Record<string, string>; value: number }>) => boolean, timeoutMs?: number): Promise<Array<{ metric: Record<string, string>; value: number }>>
  stop(): Promise<void>
}

export async function startPrometheus(target: string, flags: string[] = []): Promise<PrometheusServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-prom-'))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: hotstats', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
  )
  const proc: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  proc.stderr?.on('data', (d) => {
    log = (log + String(d)).slice(-4000)
  })
  let exited: string | null = null
  proc.once('error', (e) => (exited = `prometheus did not start (is the Debian package installed?): ${e.message}`))
  proc.once('exit', (code) => (exited ??= `prometheus exited with code ${code}:\n${log}`))

  const query: PrometheusServer['query'] = async (promql) => {
    if (exited) throw new Error(exited)
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`)
    const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`)
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
  }
  const server: PrometheusServer = {
    query,
    async waitFor(promql, ready, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      let last: unknown = null
      for (;;) {
        try {
          const r = await query(promql)
          if (ready(r)) return r
          last = r
        } catch (e) {
          if (exited) throw e
          last = e
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${promql}; last: ${JSON.stringify(last)}\n${log}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    },
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM')
        await new Promise((r) => proc.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}
