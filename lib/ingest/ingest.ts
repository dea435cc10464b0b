/**
 * Ingestor: many producers (the main thread and worker_threads) push events into their own
 * single-producer rings in one SharedArrayBuffer (lib/ingest/ring.ts), and aggregation threads drain
 * them into sliding windows (crates/hotstats-core/src/ingest/). A push is a few typed-array
 * stores: no lock, no Node-API call. On the JS backend the owner's event loop drains the rings
 * on a timer instead of a native thread (lib/ingest/js.ts).
 *
 * Capacity is bounded: a full ring refuses (`onFull: 'reject'`, the push returns false and
 * `rejected` counts it), drops its oldest event (`'drop-oldest'`, counted as dropped), or, for
 * async callers, `'wait'`: `pushAsync` waits for room up to `waitTimeoutMs`. At every instant
 * accepted = aggregated + dropped + in flight (`counts()`).
 */
import { native, rangeErrors } from '../backend/backend'
import * as hll from '../hll/js'
import { JsIngestCore } from './js'
import { numberArg, numberOption, typeName } from '../backend/check'
import { checkOptions, checkQuantiles, type WindowStats } from '../window/window'
import { createPool, type FullPolicy, readLayout, RingWriter } from './ring'

export type { FullPolicy } from './ring'

export interface IngestorOptions {
  /** The window's length in ms; default 60 000. */
  windowMs?: number
  /** Buckets in the ring of buckets; default 60. */
  buckets?: number
  /** Relative accuracy of the quantiles, in [1e-6, 1); default 0.01. */
  relativeAccuracy?: number
  /** Use each event's `timestamp` (ms) instead of the aggregation time. */
  eventTime?: boolean
  /** Event time: how far behind the newest timestamp an event may be; default 0. */
  allowedLatenessMs?: number
  /** Producer rings (at most this many producers at once); default 16. */
  producers?: number
  /** Events per ring (a power of two); default 65 536. */
  capacity?: number
  /** Bytes of key names per producer; default 64 KiB. */
  keyLogBytes?: number
  /** What a full ring does; default 'reject'. */
  onFull?: FullPolicy
  /** How long `pushAsync` waits for room; default 1000 ms. */
  waitTimeoutMs?: number
  /** Aggregation threads (native); default: from the CPU budget (cgroup quota, affinity). 0: none. */
  threads?: number
  /** JS backend: how often the owner's event loop drains the rings; default 5 ms. */
  drainIntervalMs?: number
}

/** What a worker needs to become a producer: pass it in workerData or postMessage. */
export interface IngestorHandle {
  pool: SharedArrayBuffer
  waitTimeoutMs: number
}

export interface IngestCounts {
  /** Events producers published into the rings. */
  accepted: number
  /** Events the aggregation took out of the rings (late and invalid ones included). */
  aggregated: number
  /** Published, not aggregated yet. */
  inFlight: number
  /** Taken out by drop-oldest producers to make room. */
  dropped: number
  /** Refused pushes (full ring, or the ingestor was closed). */
  rejected: number
  /** Aggregated events older than the window allowed (event time). */
  late: number
  /** Aggregated events with bad bytes (someone wrote garbage into the shared memory). */
  invalid: number
}

export interface CpuBudget {
  /** The tightest cgroup v2 cpu.max quota in CPUs, or null without one. */
  quota: number | null
  /** CPUs in the affinity mask. */
  affinity: number
  /** min(quota, affinity): what the thread count was sized from. */
  cpus: number
}

export interface PushOptions {
  /** Event time (ms); required by an `eventTime` ingestor. */
  timestamp?: number
  /** An element to count distinct: a string (hashed as UTF-8) or bytes. */
  unique?: string | Uint8Array
}

export interface IngestEvent extends PushOptions {
  key: string
  value: number
}

type Core = Pick<JsIngestCore, 'stats' | 'quantiles' | 'keys' | 'counts' | 'pending' | 'seal' | 'watermark' | 'threads' | 'cpu'> & { flush(): void; close(timeoutMs: number): number }

type NativeIngestor = InstanceType<NonNullable<typeof native>['NativeIngestor']>

/** The native ingestor as a Core whose errors are RangeErrors, as the JS core's are. */
function nativeCore(c: NativeIngestor): Core {
  return {
    stats: (key, now) => rangeErrors(() => c.stats(key, now)),
    quantiles: (key, now, qs) => rangeErrors(() => c.quantiles(key, now, qs)),
    keys: () => rangeErrors(() => c.keys()),
    counts: () => rangeErrors(() => c.counts()),
    pending: () => rangeErrors(() => c.pending()),
    seal: () => rangeErrors(() => c.seal()),
    flush: () => rangeErrors(() => c.flush()),
    close: (timeoutMs) => rangeErrors(() => c.close(timeoutMs)),
    get watermark() {
      return rangeErrors(() => c.watermark)
    },
    get threads() {
      return rangeErrors(() => c.threads)
    },
    get cpu() {
      return rangeErrors(() => c.cpu)
    },
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function num(opts: IngestorOptions, k: keyof IngestorOptions, d: number): number {
  return numberOption(opts[k], k, d)
}

/**
 * Rings this thread owns, given back if their producer is not closed by hand: when the thread
 * exits (a worker's natural end or process.exit: its 'exit' event), or when the Producer object
 * is garbage-collected. Either way the ring's events are published first, so nothing accepted
 * is lost, and the consumer frees the ring once drained.
 */
const owned = new Set<RingWriter>()
let exitHook = false
const collected = new FinalizationRegistry<RingWriter>((writer) => release(writer))

function release(writer: RingWriter): void {
  writer.close()
  owned.delete(writer)
}

function own(producer: Producer, writer: RingWriter): void {
  owned.add(writer)
  collected.register(producer, writer, writer)
  if (!exitHook) {
    process.on('exit', () => {
      for (const w of owned) w.close()
    })
    exitHook = true
  }
}

/** A producer: one thread's ring. Get one with `ingestor.producer()` or `Ingestor.producer(handle)`. */
export class Producer {
  private readonly writer: RingWriter
  private readonly eventTime: boolean
  private readonly wait: boolean

  constructor(handle: IngestorHandle) {
    if (typeof handle !== 'object' || handle === null) throw new TypeError('Producer needs an ingestor handle ({pool, waitTimeoutMs})')
    const layout = readLayout(handle.pool)
    this.writer = RingWriter.claim(handle.pool)
    own(this, this.writer)
    this.eventTime = layout.eventTime
    this.wait = layout.policy === 'wait'
    this.waitTimeoutMs = handle.waitTimeoutMs
  }

  readonly waitTimeoutMs: number

  /** True once the ingestor is closed: every push is refused from then on. */
  get closed(): boolean {
    return this.writer.closed
  }

  /** A numeric id for `key` (push with it to skip the key lookup). */
  key(name: string): number {
    if (typeof name !== 'string') throw new TypeError(`key must be a string, got ${name === null ? 'null' : typeof name}`)
    return this.writer.keyId(name)
  }

  /**
   * Pushes one event. Returns false if it was refused (the ring is full under 'reject' or
   * 'wait', or the ingestor is closed). Bad input throws and pushes nothing.
   */
  push(key: string | number, value: number, opts?: PushOptions): boolean {
    const id = typeof key === 'number' ? key : this.key(key)
    if (!Number.isInteger(id) || id < 0 || id >= this.writer.keyCount) throw new RangeError(`unknown key id ${String(key)} (get ids from producer.key(name))`)
    if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${value === null ? 'null' : typeof value}`)
    if (!Number.isFinite(value)) throw new RangeError(`value must be finite, got ${value}`)
    let t = NaN
    if (this.eventTime) {
      t = opts?.timestamp as number
      if (typeof t !== 'number') throw new TypeError('an event-time ingestor needs {timestamp} (ms) with every push')
      if (!Number.isFinite(t)) throw new RangeError(`timestamp must be finite, got ${t}`)
    }
    const u = opts?.unique
    if (u !== undefined && typeof u !== 'string' && !(u instanceof Uint8Array)) throw new TypeError(`unique must be a string or a Uint8Array, got ${typeName(u)}`)
    return this.writer.push(id, value, t, u === undefined ? -1 : hll.pattern(u))
  }

  /**
   * Pushes a batch of values of one key (timestamps: one per value, for event time). Returns
   * how many were accepted: the first ones, up to the first refusal.
   */
  pushValues(key: string | number, values: ArrayLike<number>, timestamps?: ArrayLike<number>): number {
    const id = typeof key === 'number' ? key : this.key(key)
    if (!Number.isInteger(id) || id < 0 || id >= this.writer.keyCount) throw new RangeError(`unknown key id ${String(key)}`)
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') throw new TypeError('values must be an array or typed array of numbers')
    if (this.eventTime && (timestamps === undefined || timestamps.length !== values.length)) throw new TypeError('an event-time ingestor needs one timestamp per value')
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(numberArg(values[i], `values[${i}]`))) throw new RangeError(`values[${i}] must be a finite number, got ${values[i]}`)
      if (this.eventTime && !Number.isFinite(numberArg(timestamps![i], `timestamps[${i}]`))) throw new RangeError(`timestamps[${i}] must be a finite number, got ${timestamps![i]}`)
    }
    const w = this.writer
    for (let i = 0; i < values.length; i++) if (!w.push(id, values[i], this.eventTime ? timestamps![i] : NaN, -1)) return i
    return values.length
  }

  /** Pushes events; returns how many were accepted (the first ones, up to the first refusal). */
  pushBatch(events: readonly IngestEvent[]): number {
    if (!Array.isArray(events)) throw new TypeError('events must be an array of {key, value, timestamp?, unique?}')
    let n = 0
    for (const e of events) {
      if (typeof e !== 'object' || e === null) throw new TypeError('each event is an object {key, value, timestamp?, unique?}')
      if (!this.push(e.key, e.value, e)) break
      n++
    }
    return n
  }

  /**
   * Pushes events, waiting for room when the ring is full (up to `waitTimeoutMs`). Resolves
   * with how many were accepted.
   */
  async pushAsync(events: readonly IngestEvent[]): Promise<number> {
    if (!Array.isArray(events)) throw new TypeError('events must be an array of {key, value, timestamp?, unique?}')
    let done = 0
    const deadline = Date.now() + this.waitTimeoutMs
    while (done < events.length) {
      done += this.pushBatch(events.slice(done))
      if (done === events.length || this.writer.closed || !this.wait) break
      this.writer.publish()
      if (!(await this.drain(deadline - Date.now()))) break
    }
    return done
  }

  /** Publishes, then waits until the aggregation has taken every event of this ring (true) or the timeout (false). */
  async drain(timeoutMs = this.waitTimeoutMs): Promise<boolean> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number')
    this.writer.publish()
    const deadline = Date.now() + Math.max(0, timeoutMs)
    while (this.writer.inFlight > 0) {
      if (Date.now() >= deadline) return false
      await sleep(1)
    }
    return true
  }

  /** Makes the pushed events visible now (they are anyway by the end of the current task). */
  publish(): void {
    this.writer.publish()
  }

  /**
   * Publishes and gives the ring back. A producer left open is closed when its thread exits
   * or when it is garbage-collected.
   */
  close(): void {
    release(this.writer)
    collected.unregister(this.writer)
  }

  /** This producer's own totals. */
  get counts(): { accepted: number; rejected: number; dropped: number } {
    return { accepted: this.writer.accepted, rejected: this.writer.rejected, dropped: this.writer.dropped }
  }
}

export class Ingestor {
  readonly windowMs: number
  readonly eventTime: boolean
  readonly handle: IngestorHandle
  private readonly core: Core
  private readonly mine: Producer[] = []
  private readonly timer: ReturnType<typeof setInterval> | null
  private closed = false

  constructor(opts: IngestorOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object')
    this.windowMs = num(opts, 'windowMs', 60_000)
    const buckets = num(opts, 'buckets', 60)
    const accuracy = num(opts, 'relativeAccuracy', 0.01)
    this.eventTime = opts.eventTime ?? false
    if (typeof this.eventTime !== 'boolean') throw new TypeError('eventTime must be a boolean')
    const lateness = this.eventTime ? num(opts, 'allowedLatenessMs', 0) : this.windowMs
    checkOptions(this.windowMs, buckets, accuracy, lateness)
    const waitTimeoutMs = num(opts, 'waitTimeoutMs', 1000)
    if (!(waitTimeoutMs >= 0)) throw new RangeError(`waitTimeoutMs must be >= 0, got ${waitTimeoutMs}`)
    const threads = opts.threads === undefined ? -1 : num(opts, 'threads', 0)
    if (opts.threads !== undefined && !(Number.isInteger(threads) && threads >= 0 && threads <= 64)) throw new RangeError(`threads must be an integer from 0 to 64, got ${threads}`)
    const interval = num(opts, 'drainIntervalMs', 5)
    if (!(interval > 0)) throw new RangeError(`drainIntervalMs must be > 0, got ${interval}`)
    const pool = createPool({
      rings: num(opts, 'producers', 16),
      capacity: num(opts, 'capacity', 1 << 16),
      keyLogBytes: num(opts, 'keyLogBytes', 1 << 16),
      eventTime: this.eventTime,
      policy: opts.onFull ?? 'reject',
    })
    this.handle = { pool, waitTimeoutMs }
    if (native) {
      const n = native
      this.core = nativeCore(rangeErrors(() => new n.NativeIngestor(new Uint8Array(pool), this.windowMs, buckets, accuracy, lateness, threads)))
      this.timer = null
    } else {
      this.core = new JsIngestCore(pool, this.windowMs, buckets, accuracy, lateness)
      // No thread to drain: the owner's event loop does it (unref'd: it keeps nothing alive).
      this.timer = threads === 0 ? null : setInterval(() => this.core.flush(), interval)
      this.timer?.unref()
    }
  }

  /** A producer on another thread, from `ingestor.handle`. */
  static producer(handle: IngestorHandle): Producer {
    return new Producer(handle)
  }

  /** A producer on this thread (closed with the ingestor). */
  producer(): Producer {
    const p = new Producer(this.handle)
    this.mine.push(p)
    return p
  }

  /** Aggregation threads running (0 on the JS backend: the event loop drains). */
  get threads(): number {
    return this.core.threads
  }

  /** The CPU the process has, as the thread count was sized from it (native). */
  get cpu(): CpuBudget {
    const [quota, affinity, cpus] = this.core.cpu
    return { quota: Number.isNaN(quota) ? null : quota, affinity, cpus }
  }

  /** Aggregates everything published so far (this thread's producers publish first). */
  flush(): void {
    for (const p of this.mine) p.publish()
    this.core.flush()
  }

  /** The read time (after a flush): `now`, or Date.now(), or the watermark in event time. */
  private readTime(now: number | undefined): number {
    if (now !== undefined) {
      if (Number.isNaN(numberArg(now, 'now'))) throw new RangeError('now must be a number of ms, got NaN')
      return now
    }
    return this.eventTime ? this.core.watermark : Date.now()
  }

  /** The statistics of `key` over the window ending at `now` (default: now, or the watermark in event time). */
  stats(key: string, now?: number): WindowStats {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${key === null ? 'null' : typeof key}`)
    this.flush()
    const t = this.readTime(now)
    const [count, sum, min, max, mean, variance, rate, uniques] = this.core.stats(key, t)
    return { count, sum, min, max, mean, variance, rate, uniques }
  }

  quantiles(key: string, qs: readonly number[], now?: number): number[] {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${key === null ? 'null' : typeof key}`)
    checkQuantiles(qs)
    this.flush()
    const t = this.readTime(now)
    return this.core.quantiles(key, t, Float64Array.from(qs))
  }

  quantile(key: string, q: number, now?: number): number {
    return this.quantiles(key, [q], now)[0]
  }

  /** Keys seen so far. */
  get keys(): string[] {
    this.flush()
    return this.core.keys()
  }

  counts(): IngestCounts {
    const [accepted, aggregated, inFlight, dropped, rejected, late, invalid] = this.core.counts()
    return { accepted, aggregated, inFlight, dropped, rejected, late, invalid }
  }

  /** Waits until every published event is aggregated (true) or the timeout passes (false). */
  async drain(timeoutMs = this.handle.waitTimeoutMs): Promise<boolean> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number')
    for (const p of this.mine) p.publish()
    const deadline = Date.now() + Math.max(0, timeoutMs)
    while (this.counts().inFlight > 0) {
      if (Date.now() >= deadline) return false
      await sleep(1)
    }
    return true
  }

  /**
   * Stops taking events and aggregates everything accepted: producers refuse pushes from now
   * on, producers that hold unpublished events get up to `timeoutMs` to publish them (they do
   * at the end of their current task), then the rings are drained and the threads stopped.
   * Resolves with the number of producers still holding unpublished events at the deadline
   * (0 unless a thread was blocked that long).
   */
  async close(timeoutMs = 1000): Promise<number> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number')
    if (this.closed) return 0
    this.closed = true
    this.core.seal()
    for (const p of this.mine) p.close()
    const deadline = Date.now() + Math.max(0, timeoutMs)
    let left = this.core.pending()
    while (left > 0 && Date.now() < deadline) {
      await sleep(1)
      left = this.core.pending()
    }
    if (this.timer !== null) clearInterval(this.timer)
    this.core.close(0)
    // Counted at the wait's end: a producer refusing a push after the seal raises its pending
    // flag for an instant, which is not a held event.
    return left
  }
}
