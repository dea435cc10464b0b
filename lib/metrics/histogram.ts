/**
 * Histogram: counts of observations per bucket, their sum and count (prom-client's API).
 * Observed values are staged per thread (see observed.ts); the store finds each one's bucket.
 */
import { relativeAccuracyOk } from '../quantile/quantile'
import type { LabelValues, MetricConfiguration, MetricValue } from './metric'
import { ObservedMetric, ObserverChild } from './observed'

/** prom-client's default buckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** `count` buckets: start, start + width, ... */
export function linearBuckets(start: number, width: number, count: number): number[] {
  if (!Number.isFinite(start) || !(width > 0 && width < Infinity)) throw new RangeError('linearBuckets: start must be finite and width a finite number > 0')
  if (!Number.isInteger(count) || count < 1) throw new RangeError('linearBuckets: count must be an integer >= 1')
  return Array.from({ length: count }, (_, i) => start + i * width)
}

/** `count` buckets: start, start·factor, start·factor², ... */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0 && start < Infinity) || !(factor > 1 && factor < Infinity)) throw new RangeError('exponentialBuckets: start must be > 0 and factor > 1')
  if (!Number.isInteger(count) || count < 1) throw new RangeError('exponentialBuckets: count must be an integer >= 1')
  return Array.from({ length: count }, (_, i) => start * factor ** i)
}

export interface HistogramConfiguration<T extends string> extends MetricConfiguration<T, Histogram<T>> {
  /** Upper bounds, finite and strictly increasing (+Inf is added). Default DEFAULT_BUCKETS. */
  buckets?: readonly number[]
  /**
   * Also keep an all-time sketch per series (1% relative accuracy, `relativeAccuracy`), exported as
   * a Prometheus native histogram (schema 8) beside the classic buckets when the registry is
   * scraped in protobuf (`registry.protobuf()`, or a handler asked for it). Default false.
   */
  nativeHistogram?: boolean
  /** Relative accuracy of the native histogram's sketch, in [1e-6, 1). Default 0.01. */
  relativeAccuracy?: number
}

/** A bound child of a Histogram: `observe(value)`, `startTimer()`. */
export class HistogramChild extends ObserverChild {}

export class Histogram<T extends string = string> extends ObservedMetric<T, HistogramChild> {
  readonly type = 'histogram' as const

  constructor(config: HistogramConfiguration<T>) {
    const buckets = config?.buckets ?? DEFAULT_BUCKETS
    if (!Array.isArray(buckets) || buckets.some((b) => typeof b !== 'number')) throw new TypeError(`metric ${config?.name}: buckets must be an array of numbers`)
    // A trailing +Inf is accepted (prom-client users write it) and dropped: it is always there.
    const bounds = buckets[buckets.length - 1] === Infinity ? buckets.slice(0, -1) : [...buckets]
    if (bounds.some((b) => !Number.isFinite(b))) throw new RangeError(`metric ${config?.name}: buckets must be finite numbers`)
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i - 1] < bounds[i])) throw new RangeError(`metric ${config?.name}: buckets must be strictly increasing, got ${bounds[i - 1]} then ${bounds[i]}`)
    }
    const nativeHistogram = config?.nativeHistogram ?? false
    if (typeof nativeHistogram !== 'boolean') throw new TypeError(`metric ${config?.name}: nativeHistogram must be a boolean`)
    const relativeAccuracy = config?.relativeAccuracy ?? 0.01
    if (!relativeAccuracyOk(relativeAccuracy)) throw new RangeError(`metric ${config?.name}: relativeAccuracy must be in [1e-6, 1), got ${String(relativeAccuracy)}`)
    super(config, 'histogram', { buckets: bounds, nativeHistogram, relativeAccuracy }, 0, ['le'])
    this.acceptExemplarCalls(config as never)
  }

  protected makeChild(slot: number): HistogramChild {
    return new HistogramChild(this, slot)
  }

  /** Creates the series for these labels with zero counts (prom-client's `zero`). */
  zero(labels: LabelValues<T>): void {
    this.reviveChild(this.childOf(labels))
  }

  protected valuesOf(row: Float64Array, labels: Record<string, string | number | boolean>, out: MetricValue[]): void {
    let cum = 0
    const nb = this.def.buckets.length
    for (let b = 0; b <= nb; b++) {
      cum += row[b]
      out.push({ value: cum, labels: { ...labels, le: b < nb ? this.def.buckets[b] : '+Inf' }, metricName: `${this.name}_bucket` })
    }
    out.push({ value: row[nb + 1], labels, metricName: `${this.name}_sum` })
    out.push({ value: cum, labels, metricName: `${this.name}_count` })
  }
}
