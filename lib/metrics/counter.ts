/**
 * Counter: a value that only goes up (prom-client's API). A bound child's `inc` is one
 * typed-array add into this thread's staging row.
 */
import { Metric, type LabelValues, type MetricConfiguration } from './metric'

function badIncrement(value: unknown): RangeError {
  return new RangeError(`counter increment must be a finite number >= 0, got ${typeof value === 'number' ? value : typeof value}`)
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
    if (typeof value !== 'number' || !(value >= 0 && value < Infinity)) throw badIncrement(value)
    this.m.stage[this.at] += value
  }
}

export class Counter<T extends string = string> extends Metric<T, CounterChild> {
  readonly type = 'counter' as const

  constructor(config: MetricConfiguration<T, Counter<T>>) {
    super(config, 'counter', {}, 1)
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
    this.flushRows((st, at) => st[at] !== 0)
  }
}
