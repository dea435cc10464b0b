/**
 * Every setting of `hotstats serve`, in one table: its flag, its environment variable, its
 * default and its help line. `--help` is printed from this table, and the config file
 * (`--config FILE`, JSON or YAML with the flags' names as keys) uses the same names.
 * Precedence: flag, then environment variable, then config file, then default.
 */
import { readFileSync } from 'node:fs'
import { load as loadYaml } from 'js-yaml'

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list'

interface Setting {
  flag: string
  kind: Kind
  def: string | number | boolean | number[] | null
  help: string
}

export const SETTINGS: Setting[] = [
  { flag: 'host', kind: 'string', def: '127.0.0.1', help: 'address to bind (HTTP and StatsD); 0.0.0.0 for every interface' },
  { flag: 'http-port', kind: 'int', def: 9102, help: 'HTTP port (/metrics, API, dashboard); 0 picks a free one' },
  { flag: 'statsd-port', kind: 'int', def: 8125, help: 'StatsD port, UDP and TCP; 0 picks a free one' },
  { flag: 'state-dir', kind: 'string', def: null, help: 'save state here on shutdown (and periodically), load it on start' },
  { flag: 'snapshot-interval', kind: 'number', def: 60, help: 'seconds between periodic state saves (with --state-dir; 0: only on shutdown)' },
  { flag: 'state-corrupt', kind: 'string', def: 'fail', help: "an unusable state file: 'fail' (exit with an error naming it) or 'move-aside' (rename it and start empty)" },
  { flag: 'mapping', kind: 'string', def: null, help: "statsd_exporter mapping file (YAML); without one, dots and dashes become '_'" },
  { flag: 'auth-token', kind: 'string', def: null, help: 'require Authorization: Bearer TOKEN on /api/v1/* (ingest and reads)' },
  { flag: 'auth-metrics', kind: 'bool', def: false, help: 'also require the token on /metrics and /-/*' },
  { flag: 'config', kind: 'string', def: null, help: 'read settings from a JSON or YAML file (keys are the flag names)' },
  { flag: 'windows', kind: 'list', def: [60, 300, 900], help: 'sliding windows in seconds for the stats API, comma-separated' },
  { flag: 'relative-accuracy', kind: 'number', def: 0.01, help: 'quantile sketches: relative accuracy α' },
  { flag: 'max-series', kind: 'int', def: 500_000, help: 'series kept in total; new ones past it are refused and counted' },
  { flag: 'max-series-per-metric', kind: 'int', def: 100_000, help: 'series kept per Prometheus metric name' },
  { flag: 'series-ttl', kind: 'number', def: 3600, help: 'seconds an idle series is kept (0: forever); then it leaves /metrics and memory' },
  { flag: 'max-tags', kind: 'int', def: 32, help: 'most tags per line; more is a parse error' },
  { flag: 'max-line-bytes', kind: 'int', def: 4096, help: 'longest StatsD line' },
  { flag: 'max-packet-bytes', kind: 'int', def: 65535, help: 'largest UDP datagram accepted; larger ones are dropped whole and counted (packet_too_large)' },
  { flag: 'max-body-bytes', kind: 'int', def: 10 * 1024 * 1024, help: 'largest HTTP ingest body; 413 past it' },
  { flag: 'max-in-flight', kind: 'int', def: 2_000_000, help: 'events parsed but not yet aggregated before new ones are refused (ring_full)' },
  { flag: 'udp-recv-buffer', kind: 'int', def: 32 * 1024 * 1024, help: 'requested UDP receive buffer (the kernel caps it at net.core.rmem_max)' },
  { flag: 'native-histogram-schema', kind: 'int', def: 8, help: 'schema of the native histograms in protobuf scrapes (-4..8)' },
  { flag: 'redis', kind: 'string', def: null, help: 'share state with other instances through Redis: redis://host:port, or redis-cluster://host:port,host:port' },
  { flag: 'node-id', kind: 'string', def: null, help: 'this instance in the cluster (with --redis; keep it across restarts); default: hostname-httpport' },
  { flag: 'publish-interval', kind: 'number', def: 1, help: 'seconds between publishes of this node\'s state to Redis' },
  { flag: 'demo', kind: 'bool', def: false, help: 'run a built-in load generator against this server (StatsD and HTTP, A/B variants, a latency shift)' },
  { flag: 'demo-rate', kind: 'int', def: 20_000, help: 'demo events per second' },
  { flag: 'quiet', kind: 'bool', def: false, help: 'print only the listening line' },
]

export interface Config {
  host: string
  httpPort: number
  statsdPort: number
  stateDir: string | null
  snapshotInterval: number
  stateCorrupt: 'fail' | 'move-aside'
  mapping: string | null
  authToken: string | null
  authMetrics: boolean
  config: string | null
  windows: number[]
  relativeAccuracy: number
  maxSeries: number
  maxSeriesPerMetric: number
  seriesTtl: number
  maxTags: number
  maxLineBytes: number
  maxPacketBytes: number
  maxBodyBytes: number
  maxInFlight: number
  udpRecvBuffer: number
  nativeHistogramSchema: number
  redis: string | null
  nodeId: string | null
  publishInterval: number
  demo: boolean
  demoRate: number
  quiet: boolean
}

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
const envName = (flag: string): string => `HOTSTATS_${flag.toUpperCase().replace(/-/g, '_')}`

export class ConfigError extends Error {}

function convert(s: Setting, raw: unknown, from: string): unknown {
  const bad = (want: string): never => {
    throw new ConfigError(`${from}: --${s.flag} must be ${want}, got ${JSON.stringify(raw)}`)
  }
  switch (s.kind) {
    case 'string':
      return typeof raw === 'string' || typeof raw === 'number' ? String(raw) : bad('a string')
    case 'bool':
      if (typeof raw === 'boolean') return raw
      if (raw === 'true' || raw === '1' || raw === '') return true
      if (raw === 'false' || raw === '0') return false
      return bad('true or false')
    case 'int': {
      const n = typeof raw === 'number' ? raw : Number(raw)
      return Number.isInteger(n) && n >= 0 && String(raw).trim() !== '' ? n : bad('a non-negative integer')
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : Number(raw)
      return Number.isFinite(n) && String(raw).trim() !== '' ? n : bad('a number')
    }
    case 'list': {
      const parts = Array.isArray(raw) ? raw : String(raw).split(',')
      const ns = parts.map((p) => Number(p))
      return ns.length > 0 && ns.every((n) => Number.isInteger(n) && n > 0) ? ns : bad('a comma-separated list of positive integers')
    }
  }
}

/** Parses `serve` flags (argv after `serve`), the environment, and the config file. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s]))
  const fromFlags = new Map<string, unknown>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} (see hotstats --help)`)
    let name = arg.slice(2)
    let value: string | undefined
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    const s = byFlag.get(name)
    if (s === undefined) throw new ConfigError(`unknown flag --${name} (see hotstats --help)`)
    if (value === undefined) {
      if (s.kind === 'bool' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) value = 'true'
      else if (i + 1 < argv.length) value = argv[++i]
      else throw new ConfigError(`--${name} needs a value`)
    }
    fromFlags.set(name, convert(s, value, 'command line'))
  }
  const fromEnv = new Map<string, unknown>()
  for (const s of SETTINGS) {
    const v = env[envName(s.flag)]
    if (v !== undefined && v !== '') fromEnv.set(s.flag, convert(s, v, `environment ${envName(s.flag)}`))
  }
  const fromFile = new Map<string, unknown>()
  const file = (fromFlags.get('config') ?? fromEnv.get('config')) as string | undefined
  if (file !== undefined) {
    let doc: unknown
    try {
      doc = loadYaml(readFileSync(file, 'utf8')) // YAML is a superset of JSON
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`)
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${file}: expected a mapping of setting names to values`)
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
      const s = byFlag.get(k) ?? SETTINGS.find((x) => camel(x.flag) === k)
      if (s === undefined) throw new ConfigError(`config file ${file}: unknown setting ${JSON.stringify(k)}`)
      fromFile.set(s.flag, convert(s, v, `config file ${file}`))
    }
  }
  const out: Record<string, unknown> = {}
  for (const s of SETTINGS) {
    out[camel(s.flag)] = fromFlags.has(s.flag) ? fromFlags.get(s.flag) : fromEnv.has(s.flag) ? fromEnv.get(s.flag) : fromFile.has(s.flag) ? fromFile.get(s.flag) : s.def
  }
  const c = out as unknown as Config
  for (const p of ['httpPort', 'statsdPort'] as const) if (c[p] > 65535) throw new ConfigError(`--${p === 'httpPort' ? 'http-port' : 'statsd-port'} must be at most 65535, got ${c[p]}`)
  if (c.stateCorrupt !== 'fail' && c.stateCorrupt !== 'move-aside') throw new ConfigError(`--state-corrupt must be 'fail' or 'move-aside', got ${JSON.stringify(c.stateCorrupt)}`)
  if (!(c.relativeAccuracy > 0 && c.relativeAccuracy < 1)) throw new ConfigError(`--relative-accuracy must be in (0, 1), got ${c.relativeAccuracy}`)
  if (c.nativeHistogramSchema < -4 || c.nativeHistogramSchema > 8) throw new ConfigError(`--native-histogram-schema must be in -4..8, got ${c.nativeHistogramSchema}`)
  if (c.maxSeries < 1 || c.maxSeriesPerMetric < 1) throw new ConfigError('--max-series and --max-series-per-metric must be at least 1')
  if (c.redis !== null && !/^redis(-cluster)?:\/\//.test(c.redis)) throw new ConfigError(`--redis must be redis://host:port or redis-cluster://host:port,..., got ${JSON.stringify(c.redis)}`)
  if (c.nodeId !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(c.nodeId)) throw new ConfigError(`--node-id must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(c.nodeId)}`)
  if (!(c.publishInterval > 0)) throw new ConfigError(`--publish-interval must be > 0, got ${c.publishInterval}`)
  if (Math.max(...c.windows) > 24 * 3600) throw new ConfigError('--windows: the longest window is 86400 seconds')
  return c
}

export function helpText(): string {
  const lines = [
    'hotstats serve: a real-time statistics server (StatsD/DogStatsD and HTTP in; Prometheus /metrics, a JSON stats API and a live dashboard out)',
    '',
    'usage: hotstats serve [flags]',
    '       hotstats --help',
    '',
    'flags (each also read from the environment variable shown, and from --config FILE):',
  ]
  for (const s of SETTINGS) {
    const arg = s.kind === 'bool' ? '' : ` ${s.kind === 'list' ? 'LIST' : s.kind === 'string' ? 'VALUE' : 'N'}`
    const def = s.def === null ? '' : ` (default ${Array.isArray(s.def) ? s.def.join(',') : String(s.def)})`
    lines.push(`  --${s.flag}${arg}`.padEnd(34) + `${s.help}${def}  [${envName(s.flag)}]`)
  }
  lines.push('', 'The first line printed is the bound addresses, e.g. `listening http=127.0.0.1:9102 statsd=127.0.0.1:8125`.')
  lines.push('HTTP API: docs/server-api.md. SIGTERM/SIGINT: stop accepting, drain, save state (with --state-dir), exit 0.')
  return lines.join('\n')
}
