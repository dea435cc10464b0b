/**
 * collectDefaultMetrics: the process metrics prom-client exposes, under the same names, so
 * dashboards built for it keep working. Values are read when the registry is read (`collect`),
 * except the GC pause histogram (a PerformanceObserver on 'gc' entries) and the event-loop
 * delay statistics (perf_hooks.monitorEventLoopDelay), which accumulate between reads.
 *
 * prom-client's nodejs_active_{handles,requests,resources}_total gauges are left out (promtool
 * rejects _total on a gauge): their value is `sum(nodejs_active_handles)` and so on, from the
 * per-type gauges of the same names without _total.
 *
 * Process-wide values (CPU, memory, fds): call it from one thread of a process (the main one);
 * two threads calling it would add CPU time twice.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'

import { Counter } from './counter'
import { Gauge } from './gauge'
import { Histogram } from './histogram'
import { validateLabelName } from './metric'
import { register as defaultRegistry, type Registry } from './registry'

export interface DefaultMetricsOptions {
  register?: Registry
  /** Prepended to every name. */
  prefix?: string
  /** Buckets of nodejs_gc_duration_seconds (prom-client's default). */
  gcDurationBuckets?: number[]
  /** Resolution of the event-loop delay monitor, ms (default 10). */
  eventLoopMonitoringPrecision?: number
  /** Labels added to every default metric, e.g. `{ worker: '3' }`. */
  labels?: Record<string, string | number>
}

/** The names collectDefaultMetrics registers (without prefix), as prom-client's `metricsList`. */
export const DEFAULT_METRICS = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
] as const

/** Counts of the objects in `list` by constructor name (prom-client's aggregateByObjectName). */
function byType(list: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const x of list) {
    const name = (x as { constructor?: { name?: string } } | null)?.constructor?.name
    if (name) out.set(name, (out.get(name) ?? 0) + 1)
  }
  return out
}

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' }

function procStatusBytes(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Registers the default metrics; returns a function that stops the GC and event-loop monitors. */
export function collectDefaultMetrics(options: DefaultMetricsOptions = {}): () => void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  const registers = [options.register ?? defaultRegistry]
  const p = options.prefix ?? ''
  const L = options.labels ?? {}
  if (L === null || typeof L !== 'object') throw new TypeError('labels must be an object of label names and values')
  for (const k of Object.keys(L)) if (!validateLabelName(k) || k === 'type' || k === 'space' || k === 'kind') throw new RangeError(`invalid default-metrics label name ${JSON.stringify(k)}`)
  const labelNames = Object.keys(L)
  const linux = process.platform === 'linux'

  let lastCpu = process.cpuUsage()
  const cpuUser = new Counter({ name: `${p}process_cpu_user_seconds_total`, help: 'Total user CPU time spent in seconds.', labelNames, registers })
  const cpuSystem = new Counter({ name: `${p}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.', labelNames, registers })
  new Counter({
    name: `${p}process_cpu_seconds_total`,
    help: 'Total user and system CPU time spent in seconds.',
    labelNames,
    registers,
    collect() {
      const now = process.cpuUsage()
      const user = Math.max(0, now.user - lastCpu.user) / 1e6
      const system = Math.max(0, now.system - lastCpu.system) / 1e6
      lastCpu = now
      cpuUser.inc(L, user)
      cpuSystem.inc(L, system)
      this.inc(L, user + system)
    },
  })
  new Gauge({ name: `${p}process_start_time_seconds`, help: 'Start time of the process since unix epoch in seconds.', labelNames, registers }).set(
    L,
    Math.round((Date.now() - process.uptime() * 1000) / 1000),
  )
  new Gauge({
    name: `${p}process_resident_memory_bytes`,
    help: 'Resident memory size in bytes.',
    labelNames,
    registers,
    collect() {
      this.set(L, process.memoryUsage.rss())
    },
  })
  if (linux) {
    const fromStatus = (name: string, help: string, field: string) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames,
        registers,
        collect() {
          const v = procStatusBytes(field)
          if (v !== null) this.set(L, v)
        },
      })
    fromStatus('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'VmSize')
    fromStatus('process_heap_bytes', 'Process heap size in bytes.', 'VmData')
    new Gauge({
      name: `${p}process_open_fds`,
      help: 'Number of open file descriptors.',
      labelNames,
      registers,
      collect() {
        try {
          this.set(L, readdirSync('/proc/self/fd').length - 1) // less the one readdir opened
        } catch {
          // /proc not mounted: leave it
        }
      },
    })
    const maxFds = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (maxFds) new Gauge({ name: `${p}process_max_fds`, help: 'Maximum number of open file descriptors.', labelNames, registers }).set(L, Number(maxFds[1]))
  }

  const elu = monitorEventLoopDelay({ resolution: options.eventLoopMonitoringPrecision ?? 10 })
  elu.enable()
  // The seven statistics of the delays since the last read, as prom-client: the first gauge's
  // collect sets all seven, then resets the monitor.
  const stats: Array<[Gauge<string>, () => number]> = []
  const readStats = () => {
    // Before its first sample the monitor reports min = 2^63 and max = 0: leave the gauges.
    if ((elu as unknown as { count?: number }).count === 0) return
    for (const [g, read] of stats) {
      const v = read() / 1e9
      if (Number.isFinite(v)) g.set(L, v)
    }
    elu.reset()
  }
  const stat = (suffix: string, help: string, read: () => number) =>
    stats.push([new Gauge({ name: `${p}nodejs_eventloop_lag_${suffix}seconds`, help, labelNames, registers, collect: stats.length === 0 ? readStats : undefined }), read])
  new Gauge({
    name: `${p}nodejs_eventloop_lag_seconds`,
    help: 'Lag of event loop in seconds.',
    labelNames,
    registers,
    // As prom-client: a read starts a measurement and exposes the one finished since the last
    // read (0 at first). Not awaited, so a read needs no timer (it resolves under fake timers).
    collect() {
      const start = process.hrtime.bigint()
      setImmediate(() => this.set(L, Number(process.hrtime.bigint() - start) / 1e9))
    },
  })
  stat('min_', 'The minimum recorded event loop delay.', () => elu.min)
  stat('max_', 'The maximum recorded event loop delay.', () => elu.max)
  stat('mean_', 'The mean of the recorded event loop delays.', () => elu.mean)
  stat('stddev_', 'The standard deviation of the recorded event loop delays.', () => elu.stddev)
  stat('p50_', 'The 50th percentile of the recorded event loop delays.', () => elu.percentile(50))
  stat('p90_', 'The 90th percentile of the recorded event loop delays.', () => elu.percentile(90))
  stat('p99_', 'The 99th percentile of the recorded event loop delays.', () => elu.percentile(99))

  const mem = (name: string, help: string, read: (m: NodeJS.MemoryUsage) => number) =>
    new Gauge({
      name: `${p}${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.set(L, read(process.memoryUsage()))
      },
    })
  mem('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (m) => m.heapTotal)
  mem('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (m) => m.heapUsed)
  mem('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (m) => m.external)
  // Per-type counts, as prom-client's gauges of these names (their *_total twins are left out).
  const perType = (name: string, help: string, list: () => readonly unknown[] | Map<string, number>) =>
    new Gauge({
      name: `${p}${name}`,
      help,
      labelNames: ['type', ...labelNames],
      registers,
      collect() {
        const got = list()
        this.reset()
        for (const [type, n] of got instanceof Map ? got : byType(got)) this.set({ type, ...L }, n)
      },
    })
  const proc = process as unknown as { getActiveResourcesInfo?: () => string[]; _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] }
  if (typeof proc.getActiveResourcesInfo === 'function') {
    perType('nodejs_active_resources', 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.', () => {
      const counts = new Map<string, number>()
      for (const type of proc.getActiveResourcesInfo!()) counts.set(type, (counts.get(type) ?? 0) + 1)
      return counts
    })
  }
  if (typeof proc._getActiveHandles === 'function') {
    perType('nodejs_active_handles', 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.', () => proc._getActiveHandles!())
  }
  if (typeof proc._getActiveRequests === 'function') {
    perType('nodejs_active_requests', 'Number of active libuv requests grouped by request type. Every request type is C++ class name.', () => proc._getActiveRequests!())
  }
  // One read of the heap spaces sets all three gauges (the first one's collect runs it).
  const setSpaces = () => {
    for (const sp of getHeapSpaceStatistics()) {
      const space = sp.space_name.endsWith('_space') ? sp.space_name.slice(0, -6) : sp.space_name
      spaces[0].set({ space, ...L }, sp.space_size)
      spaces[1].set({ space, ...L }, sp.space_used_size)
      spaces[2].set({ space, ...L }, sp.space_available_size)
    }
  }
  const spaces = (['total', 'used', 'available'] as const).map(
    (k) =>
      new Gauge({
        name: `${p}nodejs_heap_space_size_${k}_bytes`,
        help: `Process heap space size ${k} from Node.js in bytes.`,
        labelNames: ['space', ...labelNames],
        registers,
        collect: k === 'total' ? setSpaces : undefined,
      }),
  )
  const [major, minor, patch] = process.versions.node.split('.').map(Number)
  new Gauge({ name: `${p}nodejs_version_info`, help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch', ...labelNames], registers }).set(
    { version: process.version, major, minor, patch, ...L },
    1,
  )

  const gc = new Histogram({
    name: `${p}nodejs_gc_duration_seconds`,
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind', ...labelNames],
    buckets: options.gcDurationBuckets ?? [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  })
  const children = new Map(Object.entries(GC_KINDS).map(([k, kind]) => [Number(k), gc.labels({ kind, ...L })]))
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      children.get(kind ?? 0)?.observe(e.duration / 1000)
    }
  })
  observer.observe({ entryTypes: ['gc'] })

  return () => {
    observer.disconnect()
    elu.disable()
  }
}
