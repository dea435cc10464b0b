/**
 * collectDefaultMetrics: the process metrics prom-client exposes, under the same names, so
 * dashboards built for it keep working. Values are read when the registry is read (`collect`),
 * except the GC pause histogram (a PerformanceObserver on 'gc' entries) and the event-loop
 * delay statistics (perf_hooks.monitorEventLoopDelay), which accumulate between reads.
 *
 * One rename: prom-client's nodejs_active_resources_total gauge is nodejs_active_resources here
 * (promtool rejects _total on a gauge).
 *
 * Process-wide values (CPU, memory, fds): call it from one thread of a process (the main one);
 * two threads calling it would add CPU time twice.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

import { Counter } from './counter'
import { Gauge } from './gauge'
import { Histogram } from './histogram'
import { register as defaultRegistry, type Registry } from './registry'

export interface DefaultMetricsOptions {
  register?: Registry
  /** Prepended to every name. */
  prefix?: string
  /** Buckets of nodejs_gc_duration_seconds (prom-client's default). */
  gcDurationBuckets?: number[]
  /** Resolution of the event-loop delay monitor, ms (default 10). */
  eventLoopMonitoringPrecision?: number
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
  const linux = process.platform === 'linux'

  let lastCpu = process.cpuUsage()
  const cpuUser = new Counter({ name: `${p}process_cpu_user_seconds_total`, help: 'Total user CPU time spent in seconds.', registers })
  const cpuSystem = new Counter({ name: `${p}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.', registers })
  new Counter({
    name: `${p}process_cpu_seconds_total`,
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const now = process.cpuUsage()
      const user = Math.max(0, now.user - lastCpu.user) / 1e6
      const system = Math.max(0, now.system - lastCpu.system) / 1e6
      lastCpu = now
      cpuUser.inc(user)
      cpuSystem.inc(system)
      this.inc(user + system)
    },
  })
  new Gauge({ name: `${p}process_start_time_seconds`, help: 'Start time of the process since unix epoch in seconds.', registers }).set(
    Math.round((Date.now() - process.uptime() * 1000) / 1000),
  )
  new Gauge({
    name: `${p}process_resident_memory_bytes`,
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss())
    },
  })
  if (linux) {
    const fromStatus = (name: string, help: string, field: string) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        registers,
        collect() {
          const v = procStatusBytes(field)
          if (v !== null) this.set(v)
        },
      })
    fromStatus('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'VmSize')
    fromStatus('process_heap_bytes', 'Process heap size in bytes.', 'VmData')
    new Gauge({
      name: `${p}process_open_fds`,
      help: 'Number of open file descriptors.',
      registers,
      collect() {
        try {
          this.set(readdirSync('/proc/self/fd').length - 1) // less the one readdir opened
        } catch {
          // /proc not mounted: leave it
        }
      },
    })
    const maxFds = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (maxFds) new Gauge({ name: `${p}process_max_fds`, help: 'Maximum number of open file descriptors.', registers }).set(Number(maxFds[1]))
  }

  const elu = monitorEventLoopDelay({ resolution: options.eventLoopMonitoringPrecision ?? 10 })
  elu.enable()
  const stat = (suffix: string, help: string, read: () => number) =>
    new Gauge({
      name: `${p}nodejs_eventloop_lag_${suffix}seconds`,
      help,
      registers,
      collect() {
        // Before its first sample the monitor reports min = 2^63 and max = 0: leave the gauges.
        if ((elu as unknown as { count?: number }).count === 0) return
        const v = read() / 1e9
        if (Number.isFinite(v)) this.set(v)
      },
    })
  new Gauge({
    name: `${p}nodejs_eventloop_lag_seconds`,
    help: 'Lag of event loop in seconds.',
    registers,
    collect() {
      const start = process.hrtime.bigint()
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          this.set(Number(process.hrtime.bigint() - start) / 1e9)
          resolve()
        }),
      )
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
      registers,
      collect() {
        this.set(read(process.memoryUsage()))
      },
    })
  mem('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (m) => m.heapTotal)
  mem('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (m) => m.heapUsed)
  mem('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (m) => m.external)
  const resources = process as unknown as { getActiveResourcesInfo?: () => string[] }
  if (typeof resources.getActiveResourcesInfo === 'function') {
    new Gauge({
      name: `${p}nodejs_active_resources`,
      help: 'Total number of active resources.',
      registers,
      collect() {
        this.set(resources.getActiveResourcesInfo!().length)
      },
    })
  }
  const [major, minor, patch] = process.versions.node.split('.').map(Number)
  new Gauge({ name: `${p}nodejs_version_info`, help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch'], registers }).set(
    { version: process.version, major, minor, patch },
    1,
  )

  const gc = new Histogram({
    name: `${p}nodejs_gc_duration_seconds`,
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: options.gcDurationBuckets ?? [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  })
  const children = new Map(Object.entries(GC_KINDS).map(([k, kind]) => [Number(k), gc.labels(kind)]))
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
