/**
 * Summary: quantiles over all time or a sliding window, with a cumulative sum and count
 * (prom-client's API). Quantiles come from QuantileSketch (relative error `relativeAccuracy`,
 * default 1%), not from prom-client's t-digest. With `maxAgeSeconds` the window is a ring of
 * `ageBuckets` sketches: a value goes into the current one, a read merges the ring.
 *
 * Observed values are staged per thread (see observed.ts).
 */
import { relativeAccuracyOk } from '../quantile/quantile'
import type { MetricConfiguration, MetricValue } from './metric'
import { ObservedMetric, ObserverChild } from './observed'

/** prom-client's default percentiles. */
export const DEFAULT_PERCENTILES: readonly number[] = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]

export interface SummaryConfiguration<T extends string> extends MetricConfiguration<T, Summary<T>> {
  percentiles?: readonly number[]
  /** Window length; 0 or absent for all time. */
  maxAgeSeconds?: number
  /** Buckets in the window ring (default 5, prom-client's default). */
  ageBuckets?: number
  /** Relative accuracy of the quantiles, in [1e-6, 1). Default 0.01. */
  relativeAccuracy?: number
  /**
   * Drop a series (its quantiles, count and sum) from reads once its window holds no value, as
   * prom-client's option of that name; its next value starts it again from zero. Default false.
   */
  pruneAgedBuckets?: boolean
  /** The quantiles of an empty window: 0 (default, prom-client) or NaN (client_golang's convention). */
  emptyQuantile?: number
}

/** A bound child of a Summary: `observe(value)`, `startTimer()`. */
export class SummaryChild extends ObserverChild {}

export class Summary<T extends string = string> extends ObservedMetric<T, SummaryChild> {
  readonly type = 'summary' as const

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
    if (!relativeAccuracyOk(relativeAccuracy)) throw new RangeError(`metric ${config?.name}: relativeAccuracy must be in [1e-6, 1), got ${String(relativeAccuracy)}`)
    const prune = config?.pruneAgedBuckets ?? false
    if (typeof prune !== 'boolean') throw new TypeError(`metric ${config?.name}: pruneAgedBuckets must be a boolean`)
    const empty = config?.emptyQuantile ?? 0
    if (empty !== 0 && !Number.isNaN(empty)) throw new RangeError(`metric ${config?.name}: emptyQuantile must be 0 or NaN, got ${String(empty)}`)
    super(
      config,
      'summary',
      {
        percentiles: [...percentiles],
        maxAgeMs: maxAge * 1000,
        ageBuckets: maxAge > 0 ? ageBuckets : 1,
        relativeAccuracy,
        pruneAgedBuckets: prune,
        emptyQuantileNan: Number.isNaN(empty),
      },
      0,
      ['quantile'],
    )
  }

  protected makeChild(slot: number): SummaryChild {
    return new SummaryChild(this, slot)
  }

  protected valuesOf(row: Float64Array, labels: Record<string, string | number | boolean>, out: MetricValue[]): void {
    this.def.percentiles.forEach((q, k) => out.push({ value: row[2 + k], labels: { ...labels, quantile: q } }))
    out.push({ value: row[1], labels, metricName: `${this.name}_sum` })
    out.push({ value: row[0], labels, metricName: `${this.name}_count` })
  }
}
