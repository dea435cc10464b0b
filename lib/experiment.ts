/**
 * Experiment: a streaming A/B (or A/B/n) test. Each variant counts exposures and conversions
 * and summarizes a numeric outcome (Moments: count, mean, variance); at any time the experiment
 * answers with the tests of `lib/inference.ts` from that state, never from raw samples. The
 * state is mergeable: `serialize()` in each worker thread, process or machine, `merge()` the
 * bytes anywhere (counts add exactly; the moments merge by Pébay's formulas).
 *
 * The record path is a bound variant: `expose()`/`convert()` add to plain numbers and `observe()`
 * stages the value in a Float64Array that goes to Moments in batches of STAGE values (natively
 * when the binary is loaded); every read flushes first, so answers include every value.
 *
 * Format (little-endian), version 1:
 * ```
 * offset size
 * 0      4    magic "HSXP"
 * 4      1    version (1)
 * 5      3    zero
 * 8      4    u32 variant count V (at most MAX_VARIANTS)
 * then V times:
 *        2    u16 name length L (1..256 bytes of UTF-8)
 *        L    name
 *        8    f64 exposures   (a whole number, 0..2^53)
 *        8    f64 conversions (a whole number, 0..2^53)
 *        80   the outcome's Moments (magic HSMO; see lib/moments.ts)
 * ```
 * Bad bytes are a RangeError; nothing is merged from them.
 */
import { betaBinomialAB, chiSquareTest, twoProportionZTest, welchTTestFromSummaries, type AlternativeOptions, type BetaBinomialResult, type ChiSquareResult, type StatisticResult, type TTestResult } from './inference'
import { Moments } from './moments'

/** Values staged per variant before they go to Moments in one call. */
export const EXPERIMENT_STAGE = 512
/** The most variants an experiment holds. */
export const MAX_VARIANTS = 1024
const MAX_NAME_BYTES = 256
const MAGIC = [0x48, 0x53, 0x58, 0x50] // "HSXP"
const VERSION = 1
const MOMENTS_BYTES = 80
const MAX_COUNT = 2 ** 53

export interface VariantSummary {
  exposures: number
  conversions: number
  /** conversions / exposures; NaN with no exposures. */
  conversionRate: number
  /** How many outcome values were observed, with their mean and sample variance (NaN below 2). */
  count: number
  mean: number
  variance: number
}

/** A variant's record path: bind it once (`experiment.variant('B')`), then call it per event. */
export class ExperimentVariant {
  readonly name: string
  /** @internal */ exposures = 0
  /** @internal */ conversions = 0
  /** @internal */ readonly moments = new Moments()
  private readonly stage = new Float64Array(EXPERIMENT_STAGE)
  private staged = 0

  /** @internal */
  constructor(name: string) {
    this.name = name
  }

  /** Counts `count` exposures (default 1): users who saw this variant. */
  expose(count = 1): this {
    this.exposures = addCount(this.exposures, count, 'count')
    return this
  }

  /** Counts `count` conversions (default 1) among the exposed. */
  convert(count = 1): this {
    this.conversions = addCount(this.conversions, count, 'count')
    return this
  }

  /** Observes one numeric outcome (revenue, latency, ...). It must be finite. */
  observe(value: number): this {
    if (typeof value !== 'number' || value - value !== 0) {
      if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${value === null ? 'null' : typeof value}`)
      throw new RangeError(`value must be finite, got ${value}`)
    }
    this.stage[this.staged++] = value
    if (this.staged === EXPERIMENT_STAGE) this.flush()
    return this
  }

  /** @internal Moves the staged values into the moments. */
  flush(): void {
    if (this.staged === 0) return
    this.moments.addMany(this.stage.subarray(0, this.staged))
    this.staged = 0
  }

  /** @internal */
  summary(): VariantSummary {
    this.flush()
    const m = this.moments
    return {
      exposures: this.exposures,
      conversions: this.conversions,
      conversionRate: this.exposures > 0 ? this.conversions / this.exposures : NaN,
      count: m.count,
      mean: m.mean,
      variance: m.variance(),
    }
  }
}

function addCount(total: number, count: number, name: string): number {
  if (typeof count !== 'number') throw new TypeError(`${name} must be a number, got ${count === null ? 'null' : typeof count}`)
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${name} must be a whole number >= 0, got ${count}`)
  const next = total + count
  if (next > MAX_COUNT) throw new RangeError(`the count would pass 2^53 and stop being exact`)
  return next
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`variant must be a string, got ${name === null ? 'null' : typeof name}`)
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new RangeError(`variant name must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8, got ${bytes}`)
  return name
}

export interface ExperimentOptions {
  /** Variants to create up front (more are created on first use). */
  variants?: readonly string[]
}

export class Experiment {
  private readonly byName = new Map<string, ExperimentVariant>()

  constructor(opts?: ExperimentOptions) {
    for (const v of opts?.variants ?? []) this.variant(v)
  }

  /** The variant's record path, created on first use. */
  variant(name: string): ExperimentVariant {
    let v = this.byName.get(name)
    if (v === undefined) {
      checkName(name)
      if (this.byName.size >= MAX_VARIANTS) throw new RangeError(`an experiment holds at most ${MAX_VARIANTS} variants`)
      v = new ExperimentVariant(name)
      this.byName.set(name, v)
    }
    return v
  }

  /** Variant names, in creation order. */
  get variants(): string[] {
    return [...this.byName.keys()]
  }

  /** Each variant's counts and outcome summary. */
  summary(): Record<string, VariantSummary> {
    const out: Record<string, VariantSummary> = {}
    for (const [name, v] of this.byName) out[name] = v.summary()
    return out
  }

  private existing(name: string): ExperimentVariant {
    const v = this.byName.get(checkName(name))
    if (v === undefined) throw new RangeError(`no variant named ${JSON.stringify(name)}`)
    return v
  }

  private pair(a: string, b: string): [VariantSummary, VariantSummary] {
    return [this.existing(a).summary(), this.existing(b).summary()]
  }

  /** The two-proportion z-test of the conversion rates (statsmodels' pooled z). */
  compareConversions(a: string, b: string, opts?: AlternativeOptions): StatisticResult {
    const [x, y] = this.pair(a, b)
    return twoProportionZTest({ successesA: x.conversions, trialsA: x.exposures, successesB: y.conversions, trialsB: y.exposures }, opts)
  }

  /** P(B's rate beats A's), credible intervals and expected losses under a Beta prior (default Beta(1, 1)). */
  bayesian(a: string, b: string, opts?: { prior?: { alpha: number; beta: number } }): BetaBinomialResult {
    const [x, y] = this.pair(a, b)
    return betaBinomialAB({ successesA: x.conversions, trialsA: x.exposures, successesB: y.conversions, trialsB: y.exposures, prior: opts?.prior })
  }

  /** Welch's t-test of the outcome means, from the streaming summaries. */
  compareMeans(a: string, b: string, opts?: AlternativeOptions): TTestResult {
    const [x, y] = this.pair(a, b)
    return welchTTestFromSummaries({ count: x.count, mean: x.mean, variance: x.variance }, { count: y.count, mean: y.mean, variance: y.variance }, opts)
  }

  /** Chi-square test of independence of conversion and variant over all variants (a 2×k table). */
  chiSquare(opts?: { correction?: boolean }): ChiSquareResult {
    const s = [...this.byName.values()].map((v) => v.summary())
    for (const [i, v] of s.entries()) if (v.conversions > v.exposures) throw new RangeError(`variant ${JSON.stringify(this.variants[i])} has more conversions than exposures`)
    return chiSquareTest([s.map((v) => v.conversions), s.map((v) => v.exposures - v.conversions)], opts)
  }

  /** The state as bytes (see the format at the top of this file). */
  serialize(): Uint8Array {
    const enc = new TextEncoder()
    const parts: Uint8Array[] = []
    let size = 12
    for (const v of this.byName.values()) {
      v.flush()
      const name = enc.encode(v.name)
      const moments = v.moments.serialize()
      const rec = new Uint8Array(2 + name.length + 16 + moments.length)
      const dv = new DataView(rec.buffer)
      dv.setUint16(0, name.length, true)
      rec.set(name, 2)
      dv.setFloat64(2 + name.length, v.exposures, true)
      dv.setFloat64(10 + name.length, v.conversions, true)
      rec.set(moments, 18 + name.length)
      parts.push(rec)
      size += rec.length
    }
    const out = new Uint8Array(size)
    out.set(MAGIC, 0)
    out[4] = VERSION
    new DataView(out.buffer).setUint32(8, this.byName.size, true)
    let at = 12
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  /** An experiment from `serialize()` bytes. */
  static deserialize(bytes: Uint8Array): Experiment {
    const e = new Experiment()
    e.merge(bytes)
    return e
  }

  /**
   * Folds another experiment (or its bytes) into this one: counts add, moments merge. Bytes are
   * fully parsed and checked before anything changes.
   */
  merge(other: Experiment | Uint8Array): this {
    // Merging an experiment into itself doubles it: read a copy first.
    const records = other === this ? parse(this.serialize()) : other instanceof Experiment ? other.records() : parse(other)
    const newNames = records.filter((r) => !this.byName.has(r.name)).length
    if (this.byName.size + newNames > MAX_VARIANTS) throw new RangeError(`an experiment holds at most ${MAX_VARIANTS} variants`)
    for (const r of records) {
      const v = this.byName.get(r.name)
      if (v !== undefined && (v.exposures + r.exposures > MAX_COUNT || v.conversions + r.conversions > MAX_COUNT)) throw new RangeError('a merged count would pass 2^53 and stop being exact')
    }
    for (const r of records) {
      const v = this.variant(r.name)
      v.exposures += r.exposures
      v.conversions += r.conversions
      v.flush()
      v.moments.merge(r.moments)
    }
    return this
  }

  private records(): ParsedVariant[] {
    return [...this.byName.values()].map((v) => {
      v.flush()
      return { name: v.name, exposures: v.exposures, conversions: v.conversions, moments: v.moments }
    })
  }
}

interface ParsedVariant {
  name: string
  exposures: number
  conversions: number
  moments: Moments
}

function parse(bytes: Uint8Array): ParsedVariant[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('other must be an Experiment or a Uint8Array (or Buffer)')
  const fail = (why: string): never => {
    throw new RangeError(`not an Experiment's bytes: ${why}`)
  }
  if (bytes.length < 12) fail(`${bytes.length} bytes is shorter than the header`)
  if (MAGIC.some((b, i) => bytes[i] !== b)) fail('bad magic')
  if (bytes[4] !== VERSION) fail(`unknown version ${bytes[4]}`)
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) fail('reserved bytes are not zero')
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = dv.getUint32(8, true)
  if (count > MAX_VARIANTS) fail(`${count} variants, at most ${MAX_VARIANTS}`)
  const dec = new TextDecoder('utf-8', { fatal: true })
  const out: ParsedVariant[] = []
  const seen = new Set<string>()
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) fail(`truncated at variant ${i}`)
    const len = dv.getUint16(at, true)
    if (len === 0 || len > MAX_NAME_BYTES) fail(`variant ${i} has a name of ${len} bytes`)
    if (at + 2 + len + 16 + MOMENTS_BYTES > bytes.length) fail(`truncated at variant ${i}`)
    let name = ''
    try {
      name = dec.decode(bytes.subarray(at + 2, at + 2 + len))
    } catch {
      fail(`variant ${i}'s name is not UTF-8`)
    }
    if (seen.has(name)) fail(`variant ${JSON.stringify(name)} appears twice`)
    seen.add(name)
    const exposures = dv.getFloat64(at + 2 + len, true)
    const conversions = dv.getFloat64(at + 10 + len, true)
    for (const [what, c] of [['exposures', exposures], ['conversions', conversions]] as const) {
      if (!(Number.isInteger(c) && c >= 0 && c <= MAX_COUNT)) fail(`variant ${i}'s ${what} is ${c}`)
    }
    let moments: Moments | null = null
    try {
      moments = Moments.deserialize(bytes.subarray(at + 18 + len, at + 18 + len + MOMENTS_BYTES))
    } catch (e) {
      fail(`variant ${i}'s moments: ${(e as Error).message}`)
    }
    out.push({ name, exposures, conversions, moments: moments as Moments })
    at += 18 + len + MOMENTS_BYTES
  }
  if (at !== bytes.length) fail(`${bytes.length - at} bytes after the last variant`)
  return out
}
