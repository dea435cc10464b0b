// Starts a real redis-server (Debian package) on a free loopback port for a test file.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

import Redis from 'ioredis'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface RedisServer {
  client: Redis
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  const failed = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`redis-server did not start (is the Debian package installed?): ${e.message}`))))
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await Promise.race([client.connect(), failed])
      await client.ping()
      break
    } catch (e) {
      if (Date.now() > deadline || (e as Error).message.startsWith('redis-server did not start')) {
        proc.kill()
        throw e
      }
      client.disconnect()
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    client,
    async stop() {
      client.disconnect()
      proc.kill('SIGTERM')
      await new Promise((r) => proc.once('exit', r))
    },
  }
}
