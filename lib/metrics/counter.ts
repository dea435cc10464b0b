/**
 * Counter: a value that only goes up (prom-client's API). A bound child's `inc` is one
 * typed-array add into this thread's staging row.
 */
import { Metric, type ExemplarCall, type LabelValues, type MetricConfiguration } from './metric'

/**
 * What prom-client does with an increment that is not a finite number >= 0: NaN is added (the
 * counter becomes NaN), null counts as 1, a negative number is an Error (a RangeError here), an
 * infinity or a non-number a TypeError. Off the hot path: `inc` comes here only after its one test failed.
 */
function oddIncrement(value: unknown): number {
  if (value === null) return 1
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return value
    if (value < 0) return throwNegative(value)
  }
  throw new TypeError(`counter increment must be a finite number >= 0, got ${typeof value === 'number' ? value : typeof value}`)
}

function throwNegative(value: number): never {
  throw new RangeError(`counter increment must be >= 0 (it is not possible to decrease a counter), got ${value}`)
}

export class CounterChild {
  /** @internal */
  constructor(
    private readonly m: Counter,
    private readonly at: number,
  ) {}

  /** Adds `value` (default 1; finite, >= 0). */
  inc(value?: number): void {
    if (value === undefined) {
      this.m.stage[this.at] += 1
      return
    }
    if (typeof value !== 'number' || !(value >= 0 && value < Infinity)) {
      this.m.stage[this.at] += oddIncrement(value)
      return
    }
    this.m.stage[this.at] += value
  }
}

export class Counter<T extends string = string> extends Metric<T, CounterChild> {
  readonly type = 'counter' as const

  constructor(config: MetricConfiguration<T, Counter<T>>) {
    super(config, 'counter', {}, 1)
    if (config.enableExemplars === true) {
      // prom-client's call shape with exemplars: inc({ value, labels, exemplarLabels }).
      const inc = this.inc.bind(this)
      this.inc = ((o: ExemplarCall<T> = {}) => inc((o.labels ?? {}) as LabelValues<T>, o.value ?? 1)) as never
    }
  }

  protected makeChild(slot: number): CounterChild {
    return new CounterChild(this, slot)
  }

  /** `inc()`, `inc(value)`, `inc(labels)` or `inc(labels, value)`. */
  inc(labels?: LabelValues<T> | number, value?: number): void {
    if (labels !== null && typeof labels === 'object') this.childOf(labels).inc(value)
    else this.defaultChild().inc(labels)
  }

  flush(): void {
    // `!== 0` is true for NaN too: a NaN increment reaches the store, as prom-client adds it.
    this.flushRows((st, at) => st[at] !== 0)
  }
}
