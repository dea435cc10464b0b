/**
 * Gauge: a value that goes up and down (prom-client's API). Each thread stages, per series,
 * whether it set the value and to what, then the sum of its inc/dec since; the store applies
 * set-then-add. Across threads a set replaces the value and the others' inc/dec add to it,
 * in the order the threads flush.
 */
import { Metric, timer, type LabelValue, type LabelValues, type MetricConfiguration } from './metric'

/** A gauge takes any number, NaN and infinities included (as prom-client); anything else is a TypeError. */
function badValue(what: string, value: unknown): TypeError {
  return new TypeError(`gauge ${what} must be a number, got ${value === null ? 'null' : typeof value}`)
}

export class GaugeChild {
  /** @internal */
  constructor(
    private readonly m: Gauge,
    private readonly at: number,
  ) {}

  set(value: number): void {
    if (typeof value !== 'number') throw badValue('value', value)
    const st = this.m.stage
    st[this.at] = 1
    st[this.at + 1] = value
    st[this.at + 2] = 0
  }

  inc(value?: number): void {
    if (value === undefined) {
      this.m.stage[this.at + 2] += 1
      return
    }
    if (typeof value !== 'number') throw badValue('increment', value)
    this.m.stage[this.at + 2] += value
  }

  dec(value?: number): void {
    if (value === undefined) {
      this.m.stage[this.at + 2] -= 1
      return
    }
    if (typeof value !== 'number') throw badValue('decrement', value)
    this.m.stage[this.at + 2] -= value
  }

  /** Sets the value to the current Unix time in seconds. */
  setToCurrentTime(): void {
    this.set(Date.now() / 1000)
  }

  /** Returns a function that sets the gauge to the seconds elapsed since this call. */
  startTimer(): () => number {
    return timer((s) => this.set(s))
  }
}

export class Gauge<T extends string = string> extends Metric<T, GaugeChild> {
  readonly type = 'gauge' as const

  constructor(config: MetricConfiguration<T, Gauge<T>>) {
    super(config, 'gauge', {}, 3)
  }

  protected makeChild(slot: number): GaugeChild {
    return new GaugeChild(this, slot * 3)
  }

  private child(labels: LabelValues<T> | number | undefined): GaugeChild {
    return labels !== null && typeof labels === 'object' ? this.childOf(labels) : this.defaultChild()
  }

  /** `set(value)` or `set(labels, value)`. */
  set(labels: LabelValues<T> | number, value?: number): void {
    if (labels !== null && typeof labels === 'object') this.childOf(labels).set(value as number)
    else this.defaultChild().set(labels)
  }

  inc(labels?: LabelValues<T> | number, value?: number): void {
    if (labels !== null && typeof labels === 'object') this.childOf(labels).inc(value)
    else this.defaultChild().inc(labels)
  }

  dec(labels?: LabelValues<T> | number, value?: number): void {
    if (labels !== null && typeof labels === 'object') this.childOf(labels).dec(value)
    else this.defaultChild().dec(labels)
  }

  setToCurrentTime(labels?: LabelValues<T>): void {
    this.child(labels).setToCurrentTime()
  }

  /** Returns a function that sets the gauge to the seconds elapsed (labels may be added at the end). */
  startTimer(labels?: LabelValues<T>): (endLabels?: Record<string, LabelValue>) => number {
    return timer((s, end) => this.set({ ...labels, ...end } as LabelValues<T>, s))
  }

  flush(): void {
    // A NaN delta is dirty too (NaN !== 0): it reaches the store as prom-client would add it.
    this.flushRows((st, at) => st[at] !== 0 || st[at + 2] !== 0)
  }
}
