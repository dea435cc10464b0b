/**
 * Summary: quantiles over all time or a sliding window, with a cumulative sum and count
 * (prom-client's API). Quantiles come from QuantileSketch (relative error `relativeAccuracy`,
 * default 1%), not from prom-client's t-digest. With `maxAgeSeconds` the window is a ring of
 * `ageBuckets` sketches: a value goes into the current one, a read merges the ring.
 *
 * `observe` stages (series, value) pairs for this thread; they reach the store when 1024 are
 * staged, on the flush timer and before every read.
 */
import { Metric, timer, type LabelValue, type LabelValues, type MetricConfiguration, type MetricValue } from './metric'
import { store } from './store'

/** prom-client's default percentiles. */
export const DEFAULT_PERCENTILES: readonly number[] = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]
const STAGED = 1024

export interface SummaryConfiguration<T extends string> extends MetricConfiguration<T, Summary<T>> {
  percentiles?: readonly number[]
  /** Window length; 0 or absent for all time. */
  maxAgeSeconds?: number
  /** Buckets in the window ring (default 5, prom-client's default). */
  ageBuckets?: number
  /** Relative accuracy of the quantiles, in (0, 1). Default 0.01. */
  relativeAccuracy?: number
}

export class SummaryChild {
  /** @internal */
  constructor(
    private readonly m: Summary,
    /** @internal */
    readonly slot: number,
  ) {}

  observe(value: number): void {
    if (!this.m.tryStage(this.slot, value)) this.observeSlow(value)
  }

  private observeSlow(value: number): void {
    if (!Number.isFinite(value)) {
      throw new RangeError(`observed value must be a finite number, got ${typeof value === 'number' ? value : typeof value}`)
    }
    const m = this.m
    if (m.staged === STAGED) m.flush()
    // Series are staged as runs: a new run only when the series changes.
    if (this.slot !== m.runSlot) m.startRun(this.slot)
    m.values[m.staged++] = value
  }

  startTimer(): () => number {
    return timer((s) => this.observe(s))
  }
}

export class Summary<T extends string = string> extends Metric<T, SummaryChild> {
  readonly type = 'summary' as const
  /** @internal */
  readonly values = new Float64Array(STAGED)
  /** @internal */
  staged = 0
  /** @internal The local slot of the run being staged (-1: none yet since the last flush). */
  runSlot = -1
  /** Staged runs: run r starts at value runStarts[r] and belongs to local slot runSlots[r]. */
  private runs = 0
  private readonly runStarts = new Uint32Array(STAGED)
  private readonly runSlots = new Uint32Array(STAGED)
  /** The series of each staged value, filled from the runs at flush. */
  private readonly sidsStaged = new Uint32Array(STAGED)

  constructor(config: SummaryConfiguration<T>) {
    const percentiles = config?.percentiles ?? DEFAULT_PERCENTILES
    if (!Array.isArray(percentiles) || percentiles.some((q) => typeof q !== 'number' || !(q >= 0 && q <= 1))) {
      throw new RangeError(`metric ${config?.name}: percentiles must be numbers in [0, 1]`)
    }
    const maxAge = config?.maxAgeSeconds ?? 0
    if (typeof maxAge !== 'number' || !(maxAge >= 0 && maxAge < Infinity)) throw new RangeError(`metric ${config?.name}: maxAgeSeconds must be a finite number >= 0`)
    const ageBuckets = config?.ageBuckets ?? 5
    if (!Number.isInteger(ageBuckets) || ageBuckets < 1 || ageBuckets > 10_000) throw new RangeError(`metric ${config?.name}: ageBuckets must be an integer in [1, 10000]`)
    const relativeAccuracy = config?.relativeAccuracy ?? 0.01
    if (typeof relativeAccuracy !== 'number' || !(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError(`metric ${config?.name}: relativeAccuracy must be in (0, 1)`)
    super(
      config,
      'summary',
      { percentiles: [...percentiles], maxAgeMs: maxAge * 1000, ageBuckets: maxAge > 0 ? ageBuckets : 1, relativeAccuracy },
      0,
      ['quantile'],
    )
  }

  protected makeChild(slot: number): SummaryChild {
    return new SummaryChild(this, slot)
  }

  /** `observe(value)` or `observe(labels, value)`. */
  observe(labels: LabelValues<T> | number, value?: number): void {
    if (typeof labels === 'number') {
      const c = this.unlabeled
      if (c === null || !this.tryStage(c.slot, labels)) this.defaultChild().observe(labels)
    }
    else if (labels !== null && typeof labels === 'object') this.childOf(labels).observe(value as number)
    else this.defaultChild().observe(labels)
  }

  startTimer(labels?: LabelValues<T>): (endLabels?: Record<string, LabelValue>) => number {
    return timer((s, end) => this.observe({ ...labels, ...end } as LabelValues<T>, s))
  }

  /**
   * @internal Stages `value` for local `slot` in the common case, in one test: room left, the
   * same series as the last value, a finite number. False (nothing staged) otherwise.
   */
  tryStage(slot: number, value: number): boolean {
    const n = this.staged
    if (n === STAGED || slot !== this.runSlot || !Number.isFinite(value)) return false
    this.values[n] = value
    this.staged = n + 1
    return true
  }

  /** @internal */
  startRun(slot: number): void {
    this.runStarts[this.runs] = this.staged
    this.runSlots[this.runs] = slot
    this.runs++
    this.runSlot = slot
  }

  flush(): void {
    const n = this.staged
    if (n === 0) return
    this.staged = 0
    for (let r = 0; r < this.runs; r++) this.sidsStaged.fill(this.slotSid[this.runSlots[r]], this.runStarts[r], r + 1 < this.runs ? this.runStarts[r + 1] : n)
    this.runs = 0
    this.runSlot = -1
    // Views of the staging arrays: the store reads them during this call and keeps nothing.
    const sids = this.sidsStaged.subarray(0, n)
    const values = this.values.subarray(0, n)
    const now = Date.now()
    const dead = store.observe(this.fid, sids, values, now)
    if (dead.length === 0) return
    const moved = this.resolveDead(dead)
    const again: number[] = []
    for (let i = 0; i < n; i++) if (moved.has(sids[i])) again.push(i)
    store.observe(this.fid, Uint32Array.from(again, (i) => moved.get(sids[i])!), Float64Array.from(again, (i) => values[i]), now)
  }

  protected valuesOf(row: Float64Array, labels: Record<string, string>, out: MetricValue[]): void {
    this.def.percentiles.forEach((q, k) => out.push({ value: row[2 + k], labels: { ...labels, quantile: q } }))
    out.push({ value: row[1], labels, metricName: `${this.name}_sum` })
    out.push({ value: row[0], labels, metricName: `${this.name}_count` })
  }
}
