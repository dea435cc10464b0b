/**
 * The server's own counters, in one SharedArrayBuffer that every thread of the server sees:
 * each counter is written by exactly one thread (the receiver, the aggregator or the HTTP
 * thread) and read by any, so /metrics, /api/v1/server and the live feed never wait for a
 * busy ingest thread to answer.
 */
import { PARSE_ERROR_REASONS, type ParseErrorReason } from './events'

/** Loss causes other than parse errors (each one a counter). */
export const LOSS_CAUSES = [
  'udp_receive_buffer', // the kernel dropped datagrams: the socket's drop count in /proc/net/udp
  'ring_full', // the aggregator was behind by more than the in-flight bound: events refused
  'series_limit', // a new series past --max-series or --max-series-per-metric
  'type_collision', // a name already used by another type (counter vs gauge ...)
  'series_collision', // two StatsD series that map to the same Prometheus series
  'late', // a timestamp outside every window (still counted in the cumulative view)
  'mapping_drop', // the mapping file said `action: drop`
  'body_too_large', // an HTTP body past --max-body-bytes
  'tcp_line_too_long', // a TCP line past the limit (the rest of that line is skipped)
  'packet_too_large', // a UDP datagram past --max-packet-bytes (dropped whole)
  'redis_unavailable', // HTTP ingest refused (503) while Redis was unreachable (--redis)
] as const
export type LossCause = (typeof LOSS_CAUSES)[number]

const NAMES = [
  'udp_packets',
  'udp_bytes',
  'tcp_connections',
  'tcp_bytes',
  'http_requests',
  'http_events_requests',
  'events', // events handed to the aggregator
  'aggregated', // events the aggregator applied (accepted into a series or refused by a limit)
  'series',
  'window_pairs',
  'udp_drops_base', // the kernel's drop count when the socket opened (its counter is per socket)
  'redis_connected', // 1 while the receiver's Redis connection is ready (--redis)
  'publishes', // states published to Redis
  'publish_ms_last', // how long the last publish took
  'published_at', // when (ms since the epoch)
  ...LOSS_CAUSES.map((c) => `loss_${c}`),
  ...PARSE_ERROR_REASONS.map((r) => `parse_${r}`),
] as const

const INDEX = new Map<string, number>(NAMES.map((n, i) => [n, i]))

export class SharedCounters {
  readonly values: Float64Array
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(NAMES.length * 8)) {
    this.values = new Float64Array(buffer)
  }

  /** The slot of a counter, for hot paths that add to `values[i]` directly. */
  slot(name: string): number {
    return this.index(name)
  }

  private index(name: string): number {
    const i = INDEX.get(name)
    if (i === undefined) throw new Error(`no server counter ${name}`)
    return i
  }

  add(name: string, n = 1): void {
    this.values[this.index(name)] += n
  }

  set(name: string, v: number): void {
    this.values[this.index(name)] = v
  }

  get(name: string): number {
    return this.values[this.index(name)]
  }

  loss(cause: LossCause, n = 1): void {
    this.values[this.index(`loss_${cause}`)] += n
  }

  parseError(reason: ParseErrorReason): void {
    this.values[this.index(`parse_${reason}`)]++
  }

  parseErrors(): Record<string, number> {
    return Object.fromEntries(PARSE_ERROR_REASONS.map((r) => [r, this.get(`parse_${r}`)]))
  }

  losses(): Record<string, number | Record<string, number>> {
    return { parse_error: this.parseErrors(), ...Object.fromEntries(LOSS_CAUSES.map((c) => [c, this.get(`loss_${c}`)])) }
  }

  totalLosses(): number {
    let n = 0
    for (const r of PARSE_ERROR_REASONS) n += this.get(`parse_${r}`)
    for (const c of LOSS_CAUSES) n += this.get(`loss_${c}`)
    return n
  }
}
