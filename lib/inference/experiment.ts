/**
 * Experiment: a streaming A/B (or A/B/n) test. Each variant counts exposures and conversions
 * and summarizes a numeric outcome (Moments: count, mean, variance); at any time the experiment
 * answers with the tests of `lib/inference/inference.ts` from that state, never from raw samples. The
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
 *        80   the outcome's Moments (magic HSMO; see lib/moments/moments.ts)
 * ```
 * Bad bytes are a RangeError; nothing is merged from them.
 *
 * Variants declared up front (`new Experiment({ variants: ['A', 'B'] })`) are the whole set: a
 * typo such as `variant('b')` is an error, not a silent new arm. Without `variants`, a variant is
 * created on first use. A test the data cannot support yet says which variant lacks what
 * (`variant "A" has no exposures yet`).
 */
import { betaBinomialAB, chiSquareTest, twoProportionZTest, welchTTestFromSummaries, type AlternativeOptions, type BetaBinomialResult, type ChiSquareResult, type StatisticResult, type TTestResult } from './inference'
import { Moments } from '../moments/moments'

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

  /** @internal Values observed so far (in the moments or staged). */
  pendingCount(): number {
    return this.moments.count + this.staged
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
  /**
   * Every variant of the experiment (at least one): asking for another one is an error. Without
   * it, variants are created on first use.
   */
  variants?: readonly string[]
}

const quote = (name: string): string => JSON.stringify(name)

export class Experiment {
  private readonly byName = new Map<string, ExperimentVariant>()
  /** Whether the variants were declared up front (then they are the whole set). */
  readonly declared: boolean

  constructor(opts?: ExperimentOptions) {
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new TypeError('options must be an object ({ variants })')
    const variants = opts?.variants
    if (variants !== undefined) {
      if (!Array.isArray(variants)) throw new TypeError('variants must be an array of variant names')
      if (variants.length === 0) throw new RangeError('variants must name at least one variant (or leave it out to create variants on first use)')
      for (const v of variants) {
        checkName(v)
        if (this.byName.has(v)) throw new RangeError(`variant ${quote(v)} is listed twice in variants`)
        if (this.byName.size >= MAX_VARIANTS) throw new RangeError(`an experiment holds at most ${MAX_VARIANTS} variants`)
        this.byName.set(v, new ExperimentVariant(v))
      }
    }
    this.declared = variants !== undefined
  }

  private notOne(name: string): RangeError {
    const list = [...this.byName.keys()].map(quote).join(', ')
    return new RangeError(
      this.declared
        ? `variant ${quote(name)} is not one of this experiment's variants (${list}); declare every variant in new Experiment({ variants })`
        : `variant ${quote(name)} has not been used yet (variants: ${list || 'none'})`,
    )
  }

  /** The variant's record path. Declared variants: one of them, else a RangeError; otherwise created on first use. */
  variant(name: string): ExperimentVariant {
    let v = this.byName.get(name)
    if (v === undefined) {
      checkName(name)
      if (this.declared) throw this.notOne(name)
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
    if (v === undefined) throw this.notOne(name)
    return v
  }

  /** The named summaries of the variants, checked for what every conversion test needs. */
  private conversionsOf(names: string[], needExposures: boolean): VariantSummary[] {
    const out = names.map((n) => this.existing(n).summary())
    out.forEach((s, i) => {
      if (needExposures && s.exposures === 0) throw new RangeError(`variant ${quote(names[i])} has no exposures yet (expose() counts them)`)
      if (s.conversions > s.exposures) throw new RangeError(`variant ${quote(names[i])} has more conversions (${s.conversions}) than exposures (${s.exposures})`)
    })
    return out
  }

  /** Throws when no variant of `names` converted, or every exposure did: the tests need both outcomes. */
  private needBothOutcomes(names: string[], s: VariantSummary[]): void {
    const conversions = s.reduce((a, v) => a + v.conversions, 0)
    const exposures = s.reduce((a, v) => a + v.exposures, 0)
    const which = names.length === 2 ? `variants ${quote(names[0])} and ${quote(names[1])}` : 'any variant'
    if (conversions === 0) throw new RangeError(`no conversions yet in ${which}: the test needs at least one (convert() counts them)`)
    if (conversions === exposures) throw new RangeError(`every exposure converted in ${which}: the test needs at least one exposure without a conversion`)
  }

  /** The two-proportion z-test of the conversion rates (statsmodels' pooled z). */
  compareConversions(a: string, b: string, opts?: AlternativeOptions): StatisticResult {
    const [x, y] = this.conversionsOf([a, b], true)
    this.needBothOutcomes([a, b], [x, y])
    return twoProportionZTest({ successesA: x.conversions, trialsA: x.exposures, successesB: y.conversions, trialsB: y.exposures }, opts)
  }

  /**
   * P(B's rate beats A's), credible intervals and expected losses under a Beta prior (default
   * Beta(1, 1)). A variant without exposures yet has the prior as its posterior.
   */
  bayesian(a: string, b: string, opts?: { prior?: { alpha: number; beta: number } }): BetaBinomialResult {
    const [x, y] = this.conversionsOf([a, b], false)
    return betaBinomialAB({ successesA: x.conversions, trialsA: x.exposures, successesB: y.conversions, trialsB: y.exposures, prior: opts?.prior })
  }

  /** Welch's t-test of the outcome means, from the streaming summaries. */
  compareMeans(a: string, b: string, opts?: AlternativeOptions): TTestResult {
    const [x, y] = [a, b].map((n) => this.existing(n).summary())
    for (const [n, s] of [[a, x], [b, y]] as const) {
      if (s.count < 2) throw new RangeError(`variant ${quote(n)} has ${s.count === 0 ? 'no observed values' : 'only 1 observed value'} yet: comparing means needs at least 2 per variant (observe(value) adds them)`)
    }
    if (x.variance === 0 && y.variance === 0) throw new RangeError(`variants ${quote(a)} and ${quote(b)} both have zero variance (all their values are equal): the t statistic is undefined`)
    return welchTTestFromSummaries({ count: x.count, mean: x.mean, variance: x.variance }, { count: y.count, mean: y.mean, variance: y.variance }, opts)
  }

  /** Chi-square test of independence of conversion and variant over all variants (a 2×k table). */
  chiSquare(opts?: { correction?: boolean }): ChiSquareResult {
    const names = this.variants
    if (names.length < 2) throw new RangeError(`chiSquare needs at least 2 variants, this experiment has ${names.length}`)
    const s = this.conversionsOf(names, true)
    this.needBothOutcomes(names, s)
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

  /** An experiment from `serialize()` bytes, declared with the variants they hold (if any). */
  static deserialize(bytes: Uint8Array): Experiment {
    const records = parse(bytes)
    const e = new Experiment(records.length > 0 ? { variants: records.map((r) => r.name) } : undefined)
    e.mergeRecords(records)
    return e
  }

  /**
   * Folds another experiment (or its bytes) into this one: counts add, moments merge. Bytes are
   * fully parsed and checked before anything changes; a declared experiment refuses a variant
   * it does not have.
   */
  merge(other: Experiment | Uint8Array): this {
    // Merging an experiment into itself doubles it: read a copy first.
    return this.mergeRecords(other === this ? parse(this.serialize()) : other instanceof Experiment ? other.records() : parse(other))
  }

  private mergeRecords(records: ParsedVariant[]): this {
    const unknown = records.find((r) => !this.byName.has(r.name))
    if (this.declared && unknown !== undefined) throw this.notOne(unknown.name)
    const newNames = records.filter((r) => !this.byName.has(r.name)).length
    if (this.byName.size + newNames > MAX_VARIANTS) throw new RangeError(`an experiment holds at most ${MAX_VARIANTS} variants`)
    for (const r of records) {
      const v = this.byName.get(r.name)
      if (v !== undefined && (v.exposures + r.exposures > MAX_COUNT || v.conversions + r.conversions > MAX_COUNT)) throw new RangeError('a merged count would pass 2^53 and stop being exact')
      // The moments' merge refuses past 2^53 values too: checked here, before any variant changes.
      if (v !== undefined && r.moments.count > MAX_COUNT - v.pendingCount()) throw new RangeError('a merged count would pass 2^53 and stop being exact')
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
  // ignoreBOM: a name may start with U+FEFF; the default decoder drops it (another name on the way back).
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
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
      // -0 too: counts start at +0 and only grow, so -0 would be a second encoding of 0.
      if (!(Number.isInteger(c) && c >= 0 && c <= MAX_COUNT) || Object.is(c, -0)) fail(`variant ${i}'s ${what} is ${Object.is(c, -0) ? '-0' : c}`)
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
