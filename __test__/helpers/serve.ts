// Starts `hotstats serve` as a real child process (from the TypeScript sources, through tsx) and
// reads the bound ports from its first line of output.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export interface Served {
  proc: ChildProcess
  http: string
  httpPort: number
  statsdPort: number
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>
  post(path: string, body: string, contentType: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>
  /** Waits until the aggregator has applied every event parsed so far and at least `events` in all. */
  settle(events?: number, timeoutMs?: number): Promise<any>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const root = join(__dirname, '..', '..')

export async function serve(args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), 'serve', '--host', '127.0.0.1', '--http-port', '0', '--statsd-port', '0', '--quiet', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d) => (err += String(d)))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const first = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += String(d)
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    void exited.then((code) => reject(new Error(`hotstats serve exited with ${code} before listening:\n${err}`)))
  })
  const m = /^listening http=([\d.]+):(\d+) statsd=([\d.]+):(\d+)$/.exec(first)
  if (m === null) throw new Error(`unexpected first line ${JSON.stringify(first)}`)
  const http = `http://${m[1]}:${m[2]}`
  const s: Served = {
    proc,
    http,
    httpPort: Number(m[2]),
    statsdPort: Number(m[4]),
    stdout: () => out,
    stderr: () => err,
    exited,
    async get(path, headers = {}) {
      const res = await fetch(http + path, { headers, signal: AbortSignal.timeout(30_000) })
      const text = await res.text()
      let body: any = null
      try {
        body = JSON.parse(text)
      } catch {
        body = null
      }
      return { status: res.status, body, text, headers: res.headers }
    },
    async post(path, body, contentType, headers = {}) {
      const res = await fetch(http + path, { method: 'POST', body, headers: { 'content-type': contentType, ...headers }, signal: AbortSignal.timeout(30_000) })
      const text = await res.text()
      let parsed: any = null
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
      return { status: res.status, body: parsed }
    },
    async settle(events = 0, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      let last: any = null
      for (;;) {
        const r = await s.get('/api/v1/server', headers(args, env))
        last = r.body
        if (r.status === 200 && last.ingest.events >= events && last.ingest.aggregated === last.ingest.events) {
          // UDP datagrams may still sit in the kernel buffer: require two equal reads 100 ms apart.
          await new Promise((res) => setTimeout(res, 100))
          const again = (await s.get('/api/v1/server', headers(args, env))).body
          if (again.ingest.events === last.ingest.events && again.ingest.aggregated === again.ingest.events) return again
        }
        if (Date.now() > deadline) throw new Error(`events did not settle: ${JSON.stringify(last)}`)
        await new Promise((res) => setTimeout(res, 50))
      }
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill(signal)
      return exited
    },
  }
  return s
}

function headers(args: string[], env: Record<string, string>): Record<string, string> {
  const i = args.indexOf('--auth-token')
  const token = i >= 0 ? args[i + 1] : env.HOTSTATS_AUTH_TOKEN
  return token !== undefined ? { authorization: `Bearer ${token}` } : {}
}

/** Exact quantile as the sketches define it: the element at floor(q·(n−1)) of the sorted values. */
export function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(q * (sorted.length - 1))]
}
