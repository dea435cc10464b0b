/**
 * What histograms and summaries share: observed values, staged per thread and handed to the
 * store in batches. A bound child's `observe` writes the value into its metric's staging buffer,
 * where consecutive values of one series form a run; the buffer goes to the store when 1024
 * values are staged, on the flush timer and before every read. The store then counts each value
 * in its histogram bucket or adds the run to the summary's sketch (in Rust on the native
 * backend), and adds each run's compensated sum.
 */
import { Metric, timer, type ExemplarCall, type LabelValue, type LabelValues, type MetricConfiguration } from './metric'
import { store } from './store'

const STAGED = 1024

/** The staging calls a child makes (implemented by ObservedMetric). */
interface Stager {
  tryStage(slot: number, value: number): boolean
  stageSlow(slot: number, value: number): void
}

/** A bound child of a histogram or summary. */
export class ObserverChild {
  /** @internal */
  constructor(
    private readonly m: Stager,
    /** @internal The metric's local slot of this series. */
    readonly slot: number,
  ) {}

  observe(value: number): void {
    if (!this.m.tryStage(this.slot, value)) this.m.stageSlow(this.slot, value)
  }

  /** Returns a function that observes the seconds elapsed since this call. */
  startTimer(): () => number {
    return timer((s) => this.observe(s))
  }
}

export abstract class ObservedMetric<T extends string, C extends ObserverChild> extends Metric<T, C> implements Stager {
  private readonly values = new Float64Array(STAGED)
  private staged = 0
  /** The local slot of the run being staged (-1: none since the last flush). */
  private runSlot = -1
  /** Staged runs: run r starts at value runStarts[r] and belongs to local slot runSlots[r]. */
  private runs = 0
  private readonly runStarts = new Uint32Array(STAGED)
  private readonly runSlots = new Uint32Array(STAGED)
  /** The series of each staged value, filled from the runs at flush. */
  private readonly sidsStaged = new Uint32Array(STAGED)

  /** @internal prom-client's exemplar call shape, observe({ value, labels, exemplarLabels }) (exemplars dropped). */
  protected acceptExemplarCalls(config: MetricConfiguration<T, never>): void {
    if (config.enableExemplars !== true) return
    const observe = this.observe.bind(this)
    this.observe = ((o: ExemplarCall<T> = {}) => observe((o.labels ?? {}) as LabelValues<T>, o.value as number)) as never
  }

  /** `observe(value)` or `observe(labels, value)`. */
  observe(labels: LabelValues<T> | number, value?: number): void {
    if (typeof labels === 'number') {
      const c = this.unlabeled
      if (c === null || !this.tryStage(c.slot, labels)) this.defaultChild().observe(labels)
    } else if (labels !== null && typeof labels === 'object') this.childOf(labels).observe(value as number)
    else this.defaultChild().observe(labels)
  }

  /** Returns a function that observes the seconds elapsed (labels may be added at the end). */
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

  /** @internal Every other case: checks the value, flushes a full buffer, starts a run. */
  stageSlow(slot: number, value: number): void {
    if (!Number.isFinite(value)) {
      // TypeError, as prom-client throws for a value that is not a finite number.
      throw new TypeError(`observed value must be a finite number, got ${typeof value === 'number' ? value : typeof value}`)
    }
    if (this.staged === STAGED) this.flush()
    if (slot !== this.runSlot) {
      this.runStarts[this.runs] = this.staged
      this.runSlots[this.runs] = slot
      this.runs++
      this.runSlot = slot
    }
    this.values[this.staged++] = value
  }

  flush(): void {
    const n = this.staged
    if (n === 0) return
    this.ensureHome()
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
}
