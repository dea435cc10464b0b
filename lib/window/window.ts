/**
 * SlidingWindow: statistics per key over the last `windowMs`, kept in a ring of `buckets`
 * buckets per key (see crates/hotstats-core/src/window/mod.rs for the rules). count, sum, min
 * and max are exact over the live buckets (nothing is subtracted when a bucket expires), mean
 * and variance merge the buckets' moments, quantiles merge their QuantileSketches and uniques
 * their HyperLogLogs.
 *
 * Processing time (default) stamps each event with `clock()` (Date.now, or an injected clock
 * for tests). Event time (`eventTime: true`) takes each event's `timestamp`, accepts events up
 * to `allowedLatenessMs` behind the newest one seen, and counts the late ones it drops (`late`).
 *
 * With the native binary, events are staged in typed arrays and handed over in batches of
 * WINDOW_STAGE (and before every read), so a record costs no Node-API call.
 *
 * Keys are bounded: at most `maxKeys` at once (records for further new keys are refused and
 * counted), and a key whose window has emptied is forgotten (memory freed) by a sweep that runs
 * from `record` at most once per sweep interval, and from `keys`/`size`.
 */
import { native, rangeErrors } from '../backend/backend'
import { numberArg, numberOption, typeName } from '../backend/check'
import { HyperLogLog } from '../hll/hyperloglog'
import * as hll from '../hll/js'
import { relativeAccuracyOk } from '../quantile/quantile'
import { JsSlidingWindow, MAX_BUCKETS, MAX_KEYS } from './js'

/** Events staged before one native call. */
export const WINDOW_STAGE = 1024

export interface SlidingWindowOptions {
  /** The window's length in ms; default 60 000. */
  windowMs?: number
  /** Buckets in the ring; default 60 (1 s each for a minute). */
  buckets?: number
  /** Relative accuracy of the quantiles, in [1e-6, 1); default 0.01. */
  relativeAccuracy?: number
  /** Use each event's `timestamp` instead of the clock. */
  eventTime?: boolean
  /** Event time: how far behind the newest timestamp an event may arrive; default 0. */
  allowedLatenessMs?: number
  /** Milliseconds now; default Date.now. */
  clock?: () => number
  /**
   * Keys held at once; default 10 000 (at most 2^20). A record for a new key past it is refused
   * and counted (`refusedRecords`, `refusedKeys()`); keys that expire or are deleted make room.
   */
  maxKeys?: number
}

/** The default `maxKeys` (as UniqueCounter's maxKeys and the metrics' maxSeries). */
export const WINDOW_DEFAULT_MAX_KEYS = 10_000

/** The window options SlidingWindow and Ingestor share (RangeError naming the option otherwise). */
export function checkOptions(windowMs: number, buckets: number, relativeAccuracy: number, lateness: number): void {
  if (!(windowMs > 0 && Number.isFinite(windowMs))) throw new RangeError(`windowMs must be a finite number > 0, got ${windowMs}`)
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw new RangeError(`buckets must be an integer from 1 to ${MAX_BUCKETS}, got ${buckets}`)
  if (!relativeAccuracyOk(relativeAccuracy)) throw new RangeError(`relativeAccuracy must be in [1e-6, 1), got ${relativeAccuracy}`)
  if (!(lateness >= 0)) throw new RangeError(`allowedLatenessMs must be >= 0, got ${lateness}`)
}

/** Quantile levels for a read: an array of numbers in [0, 1] (TypeError/RangeError otherwise). */
export function checkQuantiles(qs: unknown): asserts qs is readonly number[] {
  if (!Array.isArray(qs)) throw new TypeError('qs must be an array of numbers in [0, 1]')
  for (const q of qs) {
    if (typeof q !== 'number') throw new TypeError(`quantiles must be numbers in [0, 1], got ${q === null ? 'null' : typeof q}`)
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantiles must be in [0, 1], got ${q}`)
  }
}

export interface WindowStats {
  count: number
  sum: number
  /** NaN when empty (as mean). */
  min: number
  max: number
  mean: number
  /** Sample variance; NaN below 2 values. */
  variance: number
  /** Events per second over the window. */
  rate: number
  /** Distinct `unique` elements (HyperLogLog estimate). */
  uniques: number
}

export interface RecordOptions {
  /** Event time (ms); required with `eventTime: true`, ignored otherwise. */
  timestamp?: number
  /** An element to count distinct (a user id, ...): a string (hashed as UTF-8) or bytes. */
  unique?: string | Uint8Array
}

type Engine = Pick<JsSlidingWindow, 'keyId' | 'stats' | 'removeId'> & {
  quantiles(id: number, now: number, qs: Float64Array): number[]
  expire(now: number): ArrayLike<number>
  readonly late: number
  readonly watermark: number
}

class JsEngine implements Engine {
  constructor(readonly w: JsSlidingWindow) {}
  keyId(k: string): number {
    return this.w.keyId(k)
  }
  stats(id: number, now: number): number[] {
    return this.w.stats(id, now)
  }
  removeId(id: number): boolean {
    return this.w.removeId(id)
  }
  expire(now: number): number[] {
    return this.w.expire(now)
  }
  quantiles(id: number, now: number, qs: Float64Array): number[] {
    const s = this.w.sketch(id, now)
    return Array.from(qs, (q) => s.quantile(q))
  }
  get late(): number {
    return this.w.lateCount
  }
  get watermark(): number {
    return this.w.watermark
  }
}

const EMPTY: WindowStats = { count: 0, sum: 0, min: NaN, max: NaN, mean: NaN, variance: NaN, rate: 0, uniques: 0 }

export class SlidingWindow {
  readonly windowMs: number
  readonly buckets: number
  readonly eventTime: boolean
  readonly maxKeys: number
  /** Records refused because their key was new and `maxKeys` keys were held (nothing of them is kept). */
  refusedRecords = 0
  private readonly refusedKeySketch = new HyperLogLog()
  private readonly clock: () => number
  private readonly engine: Engine
  private readonly port: JsSlidingWindow | null
  private readonly nativeWindow: InstanceType<NonNullable<typeof native>['NativeSlidingWindow']> | null
  private readonly ids = new Map<string, number>()
  /** Key by engine id, to forget the keys the engine expires. */
  private readonly names: (string | undefined)[] = []
  /** Time between sweeps for expired keys: a bucket's width, at least 1/16 of the window. */
  private readonly sweepEveryMs: number
  private nextSweep = -Infinity
  /** Event time: the newest timestamp recorded (the engine's watermark once flushed). */
  private newestTime = -Infinity
  private readonly stageIds = new Uint32Array(WINDOW_STAGE)
  private readonly stageValues = new Float64Array(WINDOW_STAGE)
  private readonly stageTimes = new Float64Array(WINDOW_STAGE)
  private readonly stagePatterns = new Int32Array(WINDOW_STAGE)
  private staged = 0

  constructor(opts: SlidingWindowOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object')
    const num = (k: keyof SlidingWindowOptions, d: number): number => numberOption(opts[k], k, d)
    this.windowMs = num('windowMs', 60_000)
    this.buckets = num('buckets', 60)
    const accuracy = num('relativeAccuracy', 0.01)
    this.eventTime = opts.eventTime ?? false
    if (typeof this.eventTime !== 'boolean') throw new TypeError('eventTime must be a boolean')
    // Processing time tolerates a clock stepping back within the window.
    const lateness = this.eventTime ? num('allowedLatenessMs', 0) : this.windowMs
    this.clock = opts.clock ?? Date.now
    if (typeof this.clock !== 'function') throw new TypeError('clock must be a function returning milliseconds')
    this.maxKeys = num('maxKeys', WINDOW_DEFAULT_MAX_KEYS)
    checkOptions(this.windowMs, this.buckets, accuracy, lateness)
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1 || this.maxKeys > MAX_KEYS) throw new RangeError(`maxKeys must be an integer from 1 to ${MAX_KEYS}, got ${this.maxKeys}`)
    this.sweepEveryMs = Math.max(this.windowMs / this.buckets, this.windowMs / 16)
    if (native) {
      const n = native
      this.nativeWindow = rangeErrors(() => new n.NativeSlidingWindow(this.windowMs, this.buckets, accuracy, lateness))
      this.port = null
      const w = this.nativeWindow
      // What the binding still refuses after the facade's checks (e.g. the key limit) is a
      // RangeError, as on the JS backend.
      this.engine = {
        keyId: (k) => rangeErrors(() => w.keyId(k)),
        stats: (id, now) => rangeErrors(() => w.stats(id, now)),
        removeId: (id) => rangeErrors(() => w.remove(id)),
        expire: (now) => rangeErrors(() => w.expire(now)),
        quantiles: (id, now, qs) => rangeErrors(() => w.quantiles(id, now, qs)),
        get late() {
          return rangeErrors(() => w.late)
        },
        get watermark() {
          return rangeErrors(() => w.watermark)
        },
      }
    } else {
      this.nativeWindow = null
      this.port = new JsSlidingWindow(this.windowMs, this.buckets, accuracy, lateness)
      this.engine = new JsEngine(this.port)
    }
  }

  /**
   * Records one value for `key`. Bad input throws and records nothing. A new key past `maxKeys`
   * is refused: nothing is recorded and `refusedRecords` counts it.
   */
  record(key: string, value: number, opts?: RecordOptions): void {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeName(key)}`)
    if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${typeName(value)}`)
    if (!Number.isFinite(value)) throw new RangeError(`value must be finite, got ${value}`)
    let t: number
    if (this.eventTime) {
      t = opts?.timestamp as number
      if (typeof t !== 'number') throw new TypeError('an event-time window needs {timestamp} (ms) with every record')
      if (!Number.isFinite(t)) throw new RangeError(`timestamp must be finite, got ${t}`)
    } else {
      t = this.clock()
      if (typeof t !== 'number') throw new TypeError(`clock() must return milliseconds (a number), got ${typeName(t)}`)
      if (!Number.isFinite(t)) throw new RangeError(`clock() must return finite milliseconds, got ${t}`)
    }
    const u = opts?.unique
    if (u !== undefined && typeof u !== 'string' && !(u instanceof Uint8Array)) throw new TypeError(`unique must be a string or a Uint8Array, got ${typeName(u)}`)
    const pattern = u === undefined ? -1 : hll.pattern(u)
    const now = !this.eventTime ? t : t > this.newestTime ? (this.newestTime = t) : this.newestTime
    if (now >= this.nextSweep) this.sweep(now)
    let id = this.ids.get(key)
    if (id === undefined) {
      if (this.ids.size >= this.maxKeys) {
        this.refusedRecords++
        this.refusedKeySketch.add(key)
        return
      }
      id = this.engine.keyId(key)
      this.ids.set(key, id)
      this.names[id] = key
    }
    if (this.port !== null) {
      this.port.record(id, value, t, pattern)
      return
    }
    const i = this.staged
    this.stageIds[i] = id
    this.stageValues[i] = value
    this.stageTimes[i] = t
    this.stagePatterns[i] = pattern
    this.staged = i + 1
    if (this.staged === WINDOW_STAGE) this.flush()
  }

  /** Forgets the keys with nothing left in the window at `now` (their memory is freed). */
  private sweep(now: number): void {
    this.nextSweep = now + this.sweepEveryMs
    this.flush()
    const gone = this.engine.expire(now)
    for (let i = 0; i < gone.length; i++) {
      const key = this.names[gone[i]]
      if (key !== undefined) {
        this.ids.delete(key)
        this.names[gone[i]] = undefined
      }
    }
  }

  /** Hands the staged events to the native window (reads do this themselves). */
  flush(): void {
    if (this.staged === 0 || this.nativeWindow === null) return
    const n = this.staged
    this.staged = 0
    const w = this.nativeWindow
    rangeErrors(() => w.recordMany(this.stageIds, this.stageValues, this.stageTimes, this.stagePatterns, n))
  }

  /** The read time (after a flush): `now`, or the clock (processing time), or the newest timestamp (event time). */
  private readTime(now: number | undefined): number {
    if (now !== undefined) {
      if (Number.isNaN(numberArg(now, 'now'))) throw new RangeError('now must be a number of ms, got NaN')
      return now
    }
    return this.eventTime ? this.engine.watermark : this.clock()
  }

  /** The statistics of `key` over the window ending at `now` (default: see readTime). */
  stats(key: string, now?: number): WindowStats {
    this.flush()
    const t = this.readTime(now)
    const id = this.ids.get(key)
    if (id === undefined) return { ...EMPTY }
    const [count, sum, min, max, mean, variance, rate, uniques] = this.engine.stats(id, t)
    return { count, sum, min, max, mean, variance, rate, uniques }
  }

  /** Quantiles (each q in [0, 1]) of `key` over the window; NaN when it is empty. */
  quantiles(key: string, qs: readonly number[], now?: number): number[] {
    checkQuantiles(qs)
    this.flush()
    const t = this.readTime(now)
    const id = this.ids.get(key)
    if (id === undefined) return qs.map(() => NaN)
    return this.engine.quantiles(id, t, Float64Array.from(qs))
  }

  quantile(key: string, q: number, now?: number): number {
    return this.quantiles(key, [q], now)[0]
  }

  /** Events dropped for arriving too late. */
  get late(): number {
    this.flush()
    return this.engine.late
  }

  /**
   * Forgets `key` and frees its memory now (a later record starts it afresh); true if it was
   * held.
   */
  delete(key: string): boolean {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeName(key)}`)
    const id = this.ids.get(key)
    if (id === undefined) return false
    this.flush()
    this.engine.removeId(id)
    this.ids.delete(key)
    this.names[id] = undefined
    return true
  }

  /** Keys with something in the window now (the clock, or the newest timestamp), in first-seen order. */
  get keys(): string[] {
    this.sweepNow()
    return [...this.ids.keys()]
  }

  /** How many keys `keys` lists. */
  get size(): number {
    this.sweepNow()
    return this.ids.size
  }

  private sweepNow(): void {
    const now = this.eventTime ? this.newestTime : this.clock()
    if (typeof now === 'number' && Number.isFinite(now)) this.sweep(now)
  }

  /** Estimated distinct keys refused because `maxKeys` keys were held (a HyperLogLog: bounded memory). */
  refusedKeys(): number {
    return this.refusedKeySketch.count()
  }
}
