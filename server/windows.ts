/**
 * Sliding windows for every series at once, laid out by time, not by series: each tier is a
 * ring of time buckets, and each bucket holds a Map from series id to that series' state in the
 * bucket. A series that was idle for a whole tier costs nothing there, a bucket that falls out
 * of the ring is dropped whole (no per-series expiry work), and memory follows the
 * (series, bucket) pairs that saw events rather than series × buckets.
 *
 * Two tiers by default: 5 s buckets covering 5 minutes (the 1m and 5m windows, and the
 * dashboard's history), and 60 s buckets covering 15 minutes (the 15m window). A window is served
 * by the finest tier that spans it, over whole buckets plus the current partial one.
 *
 * Per (series, bucket): exact count, compensated sum, min, max, the last value (gauges), a
 * QuantileSketch for distributions (created on first value; its staging starts at 16 values)
 * and, for sets, the bucket's UniqueCounter (sparse registers until they fill) keyed by series.
 */
import { HyperLogLog, QuantileSketch, UniqueCounter } from '../index'
import { SmallSketch } from './small-sketch'

export interface Tier {
  bucketMs: number
  buckets: number
}

export class BucketState {
  count = 0
  sum = 0
  comp = 0 // Neumaier compensation of sum
  min = Infinity
  max = -Infinity
  last = NaN
  dist: SmallSketch | null = null

  /** One value; a counter's sample rate divides it into the sum (StatsD's value / rate). */
  add(v: number, rate: number): void {
    this.count++
    const x = rate === 1 ? v : v / rate
    const t = this.sum + x
    this.comp += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum
    this.sum = t
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    this.last = v
  }
}

export class Bucket {
  readonly series = new Map<number, BucketState>()
  uniques: UniqueCounter | null = null
  /** Series changed since the last publish (only when the windows track changes for Redis). */
  dirty: Set<number> | null = null
  constructor(
    readonly index: number,
    readonly bucketMs: number,
  ) {}
}

/** What a window read gives (before the store adds names and types). */
export interface WindowRead {
  count: number
  sum: number
  min: number
  max: number
  last: number
  /** Seconds the window covers (whole buckets, the partial current one, capped by uptime). */
  seconds: number
  sketch: QuantileSketch | null
  uniques: number | null
}

export const DEFAULT_TIERS: Tier[] = [
  { bucketMs: 5_000, buckets: 60 },
  { bucketMs: 60_000, buckets: 15 },
]

/** Tiers able to serve every requested window (seconds), finest first. */
export function tiersFor(windows: readonly number[]): Tier[] {
  const longest = Math.max(...windows) * 1000
  const tiers = DEFAULT_TIERS.map((t) => ({ ...t }))
  const last = tiers[tiers.length - 1]
  if (longest > last.bucketMs * last.buckets) tiers.push({ bucketMs: Math.ceil(longest / 15 / 1000) * 1000, buckets: 15 })
  return tiers
}

class TierRing {
  readonly ring: (Bucket | null)[]
  constructor(readonly tier: Tier) {
    this.ring = new Array(tier.buckets).fill(null)
  }

  span(): number {
    return this.tier.bucketMs * this.tier.buckets
  }

  /** The bucket for time t, created (replacing an expired one) if needed. */
  bucket(t: number): Bucket {
    const index = Math.floor(t / this.tier.bucketMs)
    const pos = index % this.tier.buckets
    let b = this.ring[pos]
    if (b === null || b.index !== index) {
      b = new Bucket(index, this.tier.bucketMs)
      this.ring[pos] = b
    }
    return b
  }

  /** Live buckets within the last `ms` before now (the current one included), oldest first. */
  live(now: number, ms: number): Bucket[] {
    const cur = Math.floor(now / this.tier.bucketMs)
    const n = Math.min(this.tier.buckets, Math.ceil(ms / this.tier.bucketMs))
    const out: Bucket[] = []
    for (let index = cur - n + 1; index <= cur; index++) {
      const b = this.ring[((index % this.tier.buckets) + this.tier.buckets) % this.tier.buckets]
      if (b !== null && b.index === index) out.push(b)
    }
    return out
  }
}

export class Windows {
  private readonly tiers: TierRing[]
  /** Events whose timestamp fell outside every tier (older than the longest one, or far ahead). */
  late = 0
  /** Buckets with changes since the last `takeTouched()`; null unless tracking (a Redis-backed node). */
  private touched: Set<Bucket> | null = null

  constructor(
    readonly windows: readonly number[],
    private readonly relativeAccuracy: number,
    private readonly startedAt: number,
    tiers: Tier[] = tiersFor(windows),
  ) {
    this.tiers = tiers.map((t) => new TierRing(t))
  }

  /** Starts remembering which (bucket, series) pairs change, for `takeTouched`. */
  track(): void {
    this.touched ??= new Set()
  }

  /** The buckets changed since the last call, each with the ids of its changed series (then forgotten). */
  takeTouched(): { bucket: Bucket; ids: number[] }[] {
    if (this.touched === null) return []
    const out = [...this.touched].map((bucket) => {
      const ids = [...bucket.dirty!]
      bucket.dirty = null
      return { bucket, ids }
    })
    this.touched.clear()
    return out
  }

  /** Marks pairs changed again (a publish that failed). */
  retouch(list: { bucket: Bucket; ids: number[] }[]): void {
    if (this.touched === null) return
    for (const { bucket, ids } of list) {
      bucket.dirty ??= new Set()
      for (const id of ids) bucket.dirty.add(id)
      this.touched.add(bucket)
    }
  }

  /** Puts back one (bucket, series) state, e.g. read from Redis after a restart. */
  restore(bucketMs: number, index: number, id: number, st: BucketState, uniques: HyperLogLog | null): void {
    const tier = this.tiers.find((t) => t.tier.bucketMs === bucketMs)
    if (tier === undefined) return
    const b = tier.bucket(index * bucketMs)
    b.series.set(id, st)
    if (uniques !== null) (b.uniques ??= new UniqueCounter({ labelNames: ['s'], maxKeys: 1_000_000 })).mergeHyperLogLog({ s: String(id) }, uniques)
  }

  /** The span (ms) the longest tier covers. */
  longestSpan(): number {
    return this.tiers[this.tiers.length - 1].span()
  }

  /** Tier geometry: bucket width and count, finest first. */
  tierList(): Tier[] {
    return this.tiers.map((t) => t.tier)
  }

  /** The bucket indexes a window of `seconds` reads at `now`, and their width (for cluster reads). */
  windowBuckets(seconds: number, now: number): { bucketMs: number; indexes: number[] } {
    const tier = this.tierFor(seconds)
    const cur = Math.floor(now / tier.tier.bucketMs)
    const n = Math.min(tier.tier.buckets, Math.ceil((seconds * 1000) / tier.tier.bucketMs))
    return { bucketMs: tier.tier.bucketMs, indexes: Array.from({ length: n }, (_, i) => cur - n + 1 + i) }
  }

  /** The finest tier spanning `seconds`. */
  private tierFor(seconds: number): TierRing {
    for (const t of this.tiers) if (t.span() >= seconds * 1000) return t
    return this.tiers[this.tiers.length - 1]
  }

  /**
   * Records one value of series `id` at time t (ms). The sum gets value / rate (a counter's
   * sample rate; 1 otherwise). Distributions also go into the bucket's sketch; set members
   * into its UniqueCounter. Returns false (and counts it late) when t is outside every tier.
   */
  record(id: number, t: number, now: number, value: number, rate: number, dist: boolean, member: string | undefined): boolean {
    if (t > now + 60_000 || t <= now - this.tiers[this.tiers.length - 1].span()) {
      this.late++
      return false
    }
    if (t > now) t = now
    for (const tier of this.tiers) {
      if (t <= now - tier.span()) continue
      const b = tier.bucket(t)
      let s = b.series.get(id)
      if (s === undefined) {
        s = new BucketState()
        b.series.set(id, s)
      }
      if (this.touched !== null) {
        ;(b.dirty ??= new Set()).add(id)
        this.touched.add(b)
      }
      if (member !== undefined) {
        s.count++
        b.uniques ??= new UniqueCounter({ labelNames: ['s'], maxKeys: 1_000_000 })
        b.uniques.add({ s: String(id) }, member)
      } else {
        s.add(value, rate)
        if (dist) (s.dist ??= new SmallSketch(this.relativeAccuracy)).add(value)
      }
    }
    return true
  }

  /** Series `id` over the last `seconds` (null when it had no event there). */
  read(id: number, seconds: number, now: number, wantSketch: boolean): WindowRead | null {
    const tier = this.tierFor(seconds)
    const buckets = tier.live(now, seconds * 1000)
    const out: WindowRead = { count: 0, sum: 0, min: Infinity, max: -Infinity, last: NaN, seconds: 0, sketch: null, uniques: null }
    let comp = 0
    let hll: HyperLogLog | null = null
    let any = false
    for (const b of buckets) {
      const s = b.series.get(id)
      if (s === undefined) continue
      any = true
      out.count += s.count
      const t = out.sum + s.sum
      comp += Math.abs(out.sum) >= Math.abs(s.sum) ? out.sum - t + s.sum : s.sum - t + out.sum
      out.sum = t
      comp += s.comp
      if (s.min < out.min) out.min = s.min
      if (s.max > out.max) out.max = s.max
      if (!Number.isNaN(s.last)) out.last = s.last
      if (wantSketch && s.dist !== null) s.dist.mergeInto((out.sketch ??= new QuantileSketch({ relativeAccuracy: this.relativeAccuracy })))
      if (b.uniques !== null && b.uniques.count({ s: String(id) }) > 0) (hll ??= new HyperLogLog()).merge(b.uniques.toHyperLogLog({ s: String(id) }))
    }
    if (!any) return null
    out.sum += comp
    if (hll !== null) out.uniques = hll.count()
    out.seconds = this.coveredSeconds(tier, seconds, now)
    return out
  }

  /** The seconds a window really covers: whole buckets before the current one, the current partial one, capped by uptime. */
  coveredSeconds(tier: TierRing, seconds: number, now: number): number {
    const bucketMs = tier.tier.bucketMs
    const n = Math.min(tier.tier.buckets, Math.ceil((seconds * 1000) / bucketMs))
    const partial = now - Math.floor(now / bucketMs) * bucketMs
    const ms = Math.min((n - 1) * bucketMs + partial, now - this.startedAt)
    return Math.max(ms, 1) / 1000
  }

  /** Seconds covered by a window read (for rates of series with no event in the window). */
  windowSeconds(seconds: number, now: number): number {
    return this.coveredSeconds(this.tierFor(seconds), seconds, now)
  }

  /** Event counts per series over the last `seconds` (for the top-k by rate). */
  counts(seconds: number, now: number): Map<number, { count: number; sum: number }> {
    const out = new Map<number, { count: number; sum: number }>()
    const tier = this.tierFor(seconds)
    for (const b of tier.live(now, seconds * 1000)) {
      for (const [id, s] of b.series) {
        const o = out.get(id)
        if (o === undefined) out.set(id, { count: s.count, sum: s.sum })
        else {
          o.count += s.count
          o.sum += s.sum
        }
      }
    }
    return out
  }

  /** The finest tier's buckets for series `id` over the last `seconds`, oldest first (null where empty). */
  history(id: number, seconds: number, now: number): { step: number; t: number[]; states: (BucketState | null)[]; uniques: (number | null)[] } {
    const tier = this.tiers[0]
    const bucketMs = tier.tier.bucketMs
    const cur = Math.floor(now / bucketMs)
    const n = Math.min(tier.tier.buckets, Math.ceil((seconds * 1000) / bucketMs))
    const t: number[] = []
    const states: (BucketState | null)[] = []
    const uniques: (number | null)[] = []
    for (let index = cur - n + 1; index <= cur; index++) {
      const b = tier.ring[((index % tier.tier.buckets) + tier.tier.buckets) % tier.tier.buckets]
      const s = b !== null && b.index === index ? (b.series.get(id) ?? null) : null
      t.push((index * bucketMs) / 1000)
      states.push(s)
      uniques.push(s !== null && b!.uniques !== null ? b!.uniques.count({ s: String(id) }) : null)
    }
    return { step: bucketMs / 1000, t, states, uniques }
  }

  /** Forgets series `id` in every bucket (it expired or was deleted). */
  forget(id: number): void {
    for (const tier of this.tiers) for (const b of tier.ring) b?.series.delete(id)
  }

  /** (series, bucket) pairs held: the windows' share of memory. */
  pairs(): number {
    let n = 0
    for (const tier of this.tiers) for (const b of tier.ring) if (b !== null) n += b.series.size
    return n
  }
}
