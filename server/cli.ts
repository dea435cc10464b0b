/**
 * The `hotstats` command: `hotstats serve [flags]` and `hotstats --help`.
 * The first line printed is always the bound addresses (tests and tools read it):
 *   listening http=127.0.0.1:9102 statsd=127.0.0.1:8125
 */
import { ConfigError, helpText, parseConfig } from './config'
import { startDemo } from './demo'
import { startServer } from './serve'

function fmtBytes(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : `${(n / (1 << 20)).toFixed(0)} MiB`
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    process.stdout.write(helpText() + '\n')
    return argv.length === 0 ? 1 : 0
  }
  if (argv[0] !== 'serve') {
    process.stderr.write(`unknown command ${JSON.stringify(argv[0])}; try: hotstats serve --help\n`)
    return 2
  }
  let config
  try {
    config = parseConfig(argv.slice(1))
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hotstats: ${e.message}\n`)
      return 2
    }
    throw e
  }
  const log = (s: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${s}\n`)
  }
  let server
  try {
    server = await startServer(config, log)
  } catch (e) {
    process.stderr.write(`hotstats: ${(e as Error).message}\n`)
    return 1
  }
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  process.stdout.write(`listening http=${hostForUrl}:${server.httpPort} statsd=${hostForUrl}:${server.statsdPort}\n`)
  if (!config.quiet) {
    const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : hostForUrl
    process.stdout.write(`dashboard http://${shown}:${server.httpPort}/   metrics http://${shown}:${server.httpPort}/metrics\n`)
    if (server.loaded > 0) log(`loaded ${server.loaded} series from ${config.stateDir}`)
    if (server.movedAside !== null) log(`the state file was unusable and was moved to ${server.movedAside}; starting empty`)
  }

  const demo = config.demo ? await startDemo({ host: config.host === '0.0.0.0' ? '127.0.0.1' : config.host, httpPort: server.httpPort, statsdPort: server.statsdPort, rate: config.demoRate, authToken: config.authToken }) : null
  let summary: NodeJS.Timeout | null = null
  if (!config.quiet && (config.demo || process.stdout.isTTY)) {
    let lastEvents = 0
    let lastTime = Date.now()
    summary = setInterval(() => {
      const c = server.counters
      const now = Date.now()
      const events = c.get('events')
      const rate = ((events - lastEvents) * 1000) / (now - lastTime)
      lastEvents = events
      lastTime = now
      process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${Math.round(rate).toLocaleString('en-US')} events/s  ${c.get('series')} series  losses ${c.totalLosses()}  rss ${fmtBytes(process.memoryUsage.rss())}\n`)
    }, 5000)
  }

  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        log(`${signal} again: exiting now`)
        process.exit(1)
      }
      stopping = true
      if (summary !== null) clearInterval(summary)
      if (!config.quiet) log(`${signal}: draining and stopping`)
      ;(demo?.stop() ?? Promise.resolve())
        .then(() => server.close())
        .then(
          ({ statePath }) => {
            if (!config.quiet && statePath !== null) log(`state saved to ${statePath}`)
            resolve(0)
          },
          (e: unknown) => {
            log(`shutdown failed: ${(e as Error).message}`)
            resolve(1)
          },
        )
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`hotstats: ${(e as Error).stack ?? String(e)}\n`)
      process.exit(1)
    },
  )
}
