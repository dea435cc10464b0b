/**
 * What Counter, Gauge, Histogram and Summary share: checking the configuration as Prometheus
 * does, registering in the process-wide store, resolving label values to bound children
 * (cached per thread, one Map level per label, so a lookup concatenates no strings), and the
 * per-thread staging rows that counter and gauge children write and `flush` hands to the
 * store in one call (histograms and summaries stage values instead: observed.ts).
 */
import { register as defaultRegistry, type Registry } from './registry'
import { OPENMETRICS_CONTENT_TYPE } from './exposition'
import { store, uniqueRegistryName, type MetricFamilyDef } from './store'
import { track, untrack } from './thread'

export type LabelValue = string | number
export type LabelValues<T extends string> = Partial<Record<T, LabelValue>>
/** How the cluster aggregator combines one series across processes (prom-client's names). */
export type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit'
const AGGREGATORS: readonly Aggregator[] = ['sum', 'first', 'min', 'max', 'average', 'omit']

/** Series per metric before new label sets go to the overflow series. */
export const DEFAULT_MAX_SERIES = 10_000

export interface MetricConfiguration<T extends string, M = unknown> {
  name: string
  help: string
  labelNames?: readonly T[]
  /** Registries to appear in (default: the default registry). The first one holds the state. */
  registers?: Registry[]
  /** Called before every read of the registry (may be async), e.g. to set a gauge. */
  collect?: (this: M) => void | Promise<void>
  /** Series allowed before new label sets are refused into one overflow series. Default 10 000. */
  maxSeries?: number
  /** How the cluster aggregator combines this metric across processes. Default 'sum'. */
  aggregator?: Aggregator
  /**
   * prom-client's exemplars: `inc({ value, labels, exemplarLabels })` and
   * `observe({ value, labels, exemplarLabels })` are accepted and recorded, and the exemplars are
   * dropped (hotstats does not store them). As prom-client, a TypeError on a Prometheus-format registry.
   */
  enableExemplars?: boolean
}

/** The options object of prom-client's exemplar calls. */
export interface ExemplarCall<T extends string> {
  value?: number
  labels?: LabelValues<T>
  exemplarLabels?: Record<string, LabelValue>
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export function checkMetricName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`metric name must be a string, got ${typeof name}`)
  if (!METRIC_NAME.test(name)) throw new RangeError(`invalid metric name ${JSON.stringify(name)}: must match ${METRIC_NAME.source}`)
}

/** Whether `name` is a label name a metric may declare (Prometheus' syntax, not starting with __). */
export function validateLabelName(name: string): boolean {
  return typeof name === 'string' && LABEL_NAME.test(name) && !name.startsWith('__')
}

export function checkLabelNames(names: unknown, reserved: readonly string[]): string[] {
  if (!Array.isArray(names)) throw new TypeError('labelNames must be an array of strings')
  const seen = new Set<string>()
  for (const n of names) {
    if (typeof n !== 'string') throw new TypeError(`label names must be strings, got ${typeof n}`)
    if (!LABEL_NAME.test(n)) throw new RangeError(`invalid label name ${JSON.stringify(n)}: must match ${LABEL_NAME.source}`)
    if (n.startsWith('__')) throw new RangeError(`label name ${JSON.stringify(n)} is reserved: names starting with __ are Prometheus's own`)
    if (reserved.includes(n)) throw new RangeError(`label name ${JSON.stringify(n)} is reserved for this metric type`)
    if (seen.has(n)) throw new RangeError(`label name ${JSON.stringify(n)} is given twice`)
    seen.add(n)
  }
  return [...names] as string[]
}

/**
 * The stored value of a label left out of a labels object (prom-client accepts a subset of the
 * label names: the series simply has fewer labels). The exposition and `get()` omit it; a label
 * value equal to it is refused.
 */
export const ABSENT = '\u0000'

/** A label value as stored: strings as they are, numbers and booleans as String() writes them. */
function labelValue(v: unknown, name: string): string {
  if (typeof v === 'string') {
    if (v === ABSENT) throw new RangeError(`label ${JSON.stringify(name)}: a lone NUL is not a label value`)
    return v
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v === undefined) return ABSENT
  throw new TypeError(`label ${JSON.stringify(name)} must be a string, a number or a boolean, got ${v === null ? 'null' : typeof v}`)
}

/**
 * The key of a left-out label in the children tree: a symbol, so that no string (a user's "\0"
 * included) reaches that branch on the hot path; the store, whose labels are strings, has ABSENT.
 */
const ABSENT_KEY: unique symbol = Symbol('absent label')

/** The tree key of a stored label value. */
function treeKey(v: string): string {
  return (v === ABSENT ? ABSENT_KEY : v) as string
}

/** Whether a raw label value needs remembering to be given back with its type by `get()`. */
function typed(raw: readonly unknown[]): boolean {
  for (const v of raw) if (typeof v !== 'string') return true
  return false
}

export interface MetricValue {
  value: number
  labels: Record<string, string | number | boolean>
  metricName?: string
}

export interface MetricObject {
  name: string
  help: string
  type: string
  aggregator: Aggregator
  values: MetricValue[]
}

/** Children by label value, one level per label: null-prototype objects (faster than Map here). */
type Node = Record<string, unknown>

function newNode(): Node {
  return Object.create(null) as Node
}

/**
 * The hot-path lookup of a labels object: reads each declared label by name (a named property
 * load, which V8 caches per call site, hence one generated function per metric) and walks the
 * tree. Returns undefined when the label set is not known yet, or a value is not a string or a
 * number; the slow path then checks everything. Label names match LABEL_NAME, so they are safe
 * identifiers. Extra keys in the object are seen on the slow path only (when the label set is
 * new): checking every call would double the cost of the lookup.
 */
function makeLookup(names: readonly string[]): (root: Node, labels: object) => unknown {
  let body = 'return function lookup(root, l) {\nlet n = root\n'
  // Strings take one test; numbers, booleans and left-out labels (ABSENT) are converted in the
  // branch strings never enter, so a partial labels object costs the string path nothing.
  names.forEach((name, i) => {
    body += `let v${i} = l.${name}\nif (typeof v${i} !== 'string') { if (typeof v${i} === 'number' || typeof v${i} === 'boolean') v${i} = '' + v${i}; else if (v${i} === undefined) v${i} = A; else return undefined }\nn = n[v${i}]\nif (n === undefined) return undefined\n`
  })
  body += 'return n\n}'
  return new Function('A', body)(ABSENT_KEY) as (root: Node, labels: object) => unknown
}

export abstract class Metric<T extends string = string, C = unknown> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly T[]
  readonly aggregator: Aggregator
  abstract readonly type: 'counter' | 'gauge' | 'histogram' | 'summary'
  /** @internal The family in the store (changes if the family is cleared while this object lives). */
  fid: number
  /** @internal */
  def: MetricFamilyDef
  /** @internal Staged rows, `width` values per local slot (children write here). */
  stage: Float64Array
  /** @internal */
  readonly width: number
  readonly collect?: () => void | Promise<void>
  protected slots = 0
  /** @internal The series id of each local slot. */
  slotSid = new Uint32Array(8)
  protected slotLabels: string[][] = []
  /** The label values of a slot as first given, when some were not strings (for `get()`). */
  private slotRaw: (readonly unknown[] | undefined)[] = []
  protected sidSlot = new Map<number, number>()
  private slotChild: C[] = []
  private root: Node = newNode()
  private readonly lookup: (root: Node, labels: object) => unknown
  /** The child of an unlabeled metric (null when it has label names). */
  protected unlabeled: C | null = null
  /** Set when a registry of this thread dropped the family: the next use moves it to a private one. */
  private orphaned = false

  /** Validates everything, then registers: on error nothing is registered anywhere. */
  protected constructor(config: MetricConfiguration<T, never>, kind: MetricFamilyDef['kind'], extra: Partial<MetricFamilyDef>, width: number, reservedLabels: readonly string[] = []) {
    if (config === null || typeof config !== 'object') throw new TypeError('metric configuration must be an object')
    checkMetricName(config.name)
    if (typeof config.help !== 'string') throw new TypeError(`metric ${config.name}: help must be a string`)
    const labelNames = checkLabelNames(config.labelNames ?? [], reservedLabels)
    const maxSeries = config.maxSeries ?? DEFAULT_MAX_SERIES
    if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > 2 ** 31) throw new RangeError(`metric ${config.name}: maxSeries must be an integer in [1, 2^31], got ${maxSeries}`)
    const aggregator = config.aggregator ?? 'sum'
    if (!AGGREGATORS.includes(aggregator)) throw new RangeError(`metric ${config.name}: aggregator must be one of ${AGGREGATORS.join(', ')}`)
    if (config.collect !== undefined && typeof config.collect !== 'function') throw new TypeError(`metric ${config.name}: collect must be a function`)
    const registries = config.registers ?? [defaultRegistry]
    if (!Array.isArray(registries)) throw new TypeError(`metric ${config.name}: registers must be an array of Registry`)
    if (config.enableExemplars === true && registries.some((r) => r.contentType !== OPENMETRICS_CONTENT_TYPE)) {
      throw new TypeError(`metric ${config.name}: Exemplars are supported only on OpenMetrics registries`)
    }
    for (const r of registries) r.checkCanRegister(config.name)
    const home = registries.length > 0 ? registries[0].storeName : uniqueRegistryName()
    const def: MetricFamilyDef = {
      key: `${home}\0${config.name}`,
      kind,
      help: config.help,
      labelNames,
      buckets: [],
      percentiles: [],
      maxAgeMs: 0,
      ageBuckets: 1,
      relativeAccuracy: 0.01,
      maxSeries,
      aggregator,
      pruneAgedBuckets: false,
      emptyQuantileNan: false,
      nativeHistogram: false,
      ...extra,
    }
    try {
      this.fid = store.define(def)
    } catch (e) {
      throw new Error(`metric ${config.name}: ${e instanceof Error ? e.message : String(e)}`)
    }
    this.def = def
    this.name = config.name
    this.help = config.help
    this.labelNames = labelNames as unknown as T[]
    this.aggregator = aggregator
    this.collect = config.collect as (() => void | Promise<void>) | undefined
    this.width = width
    this.lookup = makeLookup(labelNames)
    this.stage = new Float64Array(8 * width)
    for (const r of registries) r.registerMetric(this as unknown as Metric)
    track(this)
    if (labelNames.length === 0) this.unlabeled = this.newChild([], [])
  }

  /** @internal Makes the bound child for a local slot. */
  protected abstract makeChild(slot: number): C

  /** @internal Staged rows to the store. */
  abstract flush(): void

  /**
   * The child of the series without labels. A labeled metric used without labels records into
   * the series whose labels are all left out, as prom-client does (`inc()` on a labeled counter).
   */
  protected defaultChild(): C {
    if (this.unlabeled === null) return this.childFromObject({})
    return this.unlabeled
  }

  /** A bound child: `labels('GET', 200)` in labelNames order, or `labels({method: 'GET', status: 200})` (labels may be left out). */
  labels(...values: LabelValue[]): C
  labels(values: LabelValues<T>): C
  labels(...args: unknown[]): C {
    if (args.length === 1 && args[0] !== null && typeof args[0] === 'object') return this.childOf(args[0] as LabelValues<T>)
    const names = this.labelNames
    if (args.length !== names.length) throw new RangeError(`metric ${this.name}: expected ${names.length} label values (${names.join(', ')}), got ${args.length}`)
    let node: unknown = this.root
    for (let i = 0; i < names.length; i++) {
      let v = args[i]
      if (typeof v !== 'string') {
        if (typeof v !== 'number') return this.newChild(args.map((a, j) => labelValue(a, names[j])), args)
        v = String(v)
      }
      const next = (node as Node)[v as string]
      if (next === undefined) return this.newChild(args.map((a, j) => labelValue(a, names[j])), args)
      node = next
    }
    return (names.length === 0 ? this.defaultChild() : node) as C
  }

  /** @internal The child for a labels object (the hot path of `inc(labels)`/`observe(labels, v)`). */
  childOf(labels: LabelValues<T>): C {
    const hit = this.lookup(this.root, labels)
    if (hit === undefined || this.labelNames.length === 0) return this.childFromObject(labels)
    return hit as C
  }

  private checkKeys(labels: object): void {
    for (const k of Object.keys(labels)) {
      if (!(this.labelNames as readonly string[]).includes(k)) throw new RangeError(`metric ${this.name}: unknown label ${JSON.stringify(k)} (label names: ${this.labelNames.join(', ')})`)
    }
  }

  private childFromObject(labels: LabelValues<T>): C {
    this.checkKeys(labels)
    const raw = this.labelNames.map((n) => labels[n])
    const values = this.labelNames.map((n, i) => labelValue(raw[i], n))
    return values.length === 0 && this.unlabeled !== null ? this.unlabeled : this.newChild(values, raw)
  }

  /** Resolves label values (strings, checked) to a child, creating the series if new. */
  private newChild(values: string[], raw: readonly unknown[]): C {
    let node = this.root
    for (let i = 0; i < values.length - 1; i++) {
      const k = treeKey(values[i])
      node = (node[k] as Node | undefined) ?? (node[k] = newNode())
    }
    const lastKey = values.length === 0 ? '' : treeKey(values[values.length - 1])
    const last = values.length === 0 ? undefined : node[lastKey]
    if (last !== undefined) return last as C
    this.ensureHome()
    const sid = store.series(this.fid, values)
    const known = this.sidSlot.get(sid)
    // A sid this thread already has under other labels is the overflow series: share its
    // child and do not cache the refused label set (memory stays bounded).
    if (known !== undefined && this.slotLabels[known].join('\0') !== values.join('\0')) return this.slotChild[known]
    const slot = this.slots++
    if (slot >= this.slotSid.length) {
      const s = new Uint32Array(this.slotSid.length * 2)
      s.set(this.slotSid)
      this.slotSid = s
    }
    if ((slot + 1) * this.width > this.stage.length) {
      const s = new Float64Array(this.stage.length * 2)
      s.set(this.stage)
      this.stage = s
    }
    this.slotSid[slot] = sid
    this.slotLabels[slot] = values
    this.slotRaw[slot] = typed(raw) ? [...raw] : undefined
    this.sidSlot.set(sid, slot)
    const child = this.makeChild(slot)
    this.slotChild[slot] = child
    if (values.length > 0) node[lastKey] = child
    return child
  }

  /**
   * Staged rows whose series were removed (here or in another thread) go to the series their
   * labels name now; returns the new sid per dead sid.
   */
  protected resolveDead(dead: readonly number[]): Map<number, number> {
    const moved = new Map<number, number>()
    for (const sid of new Set(dead)) {
      const slot = this.sidSlot.get(sid)
      if (slot === undefined) continue
      moved.set(sid, this.revive(slot))
    }
    return moved
  }

  /** The slot's series, created again if it was removed, reset or pruned; returns its sid. */
  private revive(slot: number): number {
    const old = this.slotSid[slot]
    const fresh = store.series(this.fid, this.slotLabels[slot])
    if (fresh === old) return old
    if (this.sidSlot.get(old) === slot) this.sidSlot.delete(old)
    if (!this.sidSlot.has(fresh)) this.sidSlot.set(fresh, slot)
    this.slotSid[slot] = fresh
    return fresh
  }

  /** @internal Makes sure the series of this child's slot exists (Histogram `zero`). */
  protected reviveChild(child: C): void {
    const slot = this.slotChild.indexOf(child)
    if (slot >= 0) this.revive(slot)
  }

  /**
   * @internal Called before any use of the store: if the family is gone (a registry of this
   * thread dropped it with clear() or removeSingleMetric(), or another thread cleared it), this
   * object moves to a family of its own and keeps working, from zero, as a prom-client metric
   * object keeps working once no registry holds it.
   */
  ensureHome(): void {
    if (!this.orphaned && store.has(this.fid)) return
    this.orphaned = false
    const def = { ...this.def, key: `${uniqueRegistryName()}\0${this.name}` }
    this.fid = store.define(def)
    this.def = def
    for (let s = 0; s < this.slots; s++) {
      const sid = store.series(this.fid, this.slotLabels[s])
      this.slotSid[s] = sid
    }
    this.sidSlot = new Map()
    for (let s = 0; s < this.slots; s++) if (!this.sidSlot.has(this.slotSid[s])) this.sidSlot.set(this.slotSid[s], s)
    track(this)
  }

  /** @internal A registry of this thread dropped this metric's family (see ensureHome). */
  orphan(): void {
    untrack(this)
    this.orphaned = true
  }

  /** Stages of counter and gauge rows: nonzero rows to the store, then zeroed. */
  protected flushRows(isDirty: (stage: Float64Array, at: number) => boolean): void {
    const w = this.width
    const st = this.stage
    let k = 0
    for (let s = 0; s < this.slots; s++) if (isDirty(st, s * w)) k++
    if (k === 0) return
    this.ensureHome()
    const sids = new Uint32Array(k)
    const rows = new Float64Array(k * w)
    k = 0
    for (let s = 0; s < this.slots; s++) {
      const at = s * w
      if (!isDirty(st, at)) continue
      sids[k] = this.slotSid[s]
      rows.set(st.subarray(at, at + w), k * w)
      st.fill(0, at, at + w)
      k++
    }
    const dead = store.apply(this.fid, sids, rows)
    if (dead.length === 0) return
    const moved = this.resolveDead(dead)
    const again: number[] = []
    for (let r = 0; r < sids.length; r++) if (moved.has(sids[r])) again.push(r)
    store.apply(this.fid, Uint32Array.from(again, (r) => moved.get(sids[r])!), Float64Array.from(again.flatMap((r) => Array.from(rows.subarray(r * w, r * w + w)))))
  }

  /**
   * Removes the series with these label values (in this process: every thread): `remove('GET', 200)`
   * in labelNames order, or `remove({method: 'GET'})` (a left-out label names the series created without it).
   */
  remove(...args: unknown[]): void {
    const labels = args.length === 1 && args[0] !== null && typeof args[0] === 'object' ? (args[0] as LabelValues<T>) : null
    if (labels) this.checkKeys(labels)
    if (!labels && args.length !== this.labelNames.length) throw new RangeError(`metric ${this.name}: expected ${this.labelNames.length} label values, got ${args.length}`)
    const values = this.labelNames.map((n, i) => labelValue(labels ? labels[n] : args[i], n))
    this.flush()
    this.ensureHome()
    store.remove(this.fid, values)
    // The cached child stays: its slot's sid is now dead, so a write through it (or through a
    // child the caller kept) creates the series again at flush, as a new labels() call would.
  }

  /**
   * Removes every series (an unlabeled metric goes back to zero). Children already handed out
   * keep their label sets: a write through one creates its series again.
   */
  reset(): void {
    this.flush()
    this.ensureHome()
    store.reset(this.fid)
    if (this.labelNames.length === 0) this.revive(0)
  }

  /** New label sets refused because the metric was at its series limit. */
  refusedSeries(): number {
    this.flush()
    this.ensureHome()
    return store.refused(this.fid)
  }

  /** @internal Stops tracking this object (its registry forgot it). */
  detach(): void {
    untrack(this)
  }

  /** The current values, in prom-client's shape (label values as first given: numbers stay numbers). */
  async get(): Promise<MetricObject> {
    if (this.collect) await this.collect()
    return this.read()
  }

  /** @internal `get()` without running `collect` (the registry ran it already). */
  async read(): Promise<MetricObject> {
    this.flush()
    await store.settle()
    this.ensureHome()
    const { sids, rows } = store.snapshot(this.fid, Date.now())
    const labels = store.labels(this.fid, sids)
    const values: MetricValue[] = []
    const rowWidth = sids.length === 0 ? 0 : rows.length / sids.length
    for (let i = 0; i < sids.length; i++) {
      const slot = this.sidSlot.get(sids[i])
      const stored = labels[i]!
      // The values as given, unless this slot's series is another one (the overflow series).
      const mine = slot !== undefined && this.slotLabels[slot].every((v, j) => v === stored[j])
      const raw = mine ? this.slotRaw[slot] : undefined
      const l: Record<string, string | number | boolean> = {}
      this.labelNames.forEach((n, j) => {
        if (stored[j] !== ABSENT) l[n] = raw ? (raw[j] as string | number | boolean) : stored[j]
      })
      this.valuesOf(rows.subarray(i * rowWidth, (i + 1) * rowWidth), l, values)
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** @internal One snapshot row as prom-client values. */
  protected valuesOf(row: Float64Array, labels: Record<string, string | number | boolean>, out: MetricValue[]): void {
    out.push({ value: row[0], labels })
  }
}

/** `startTimer` for every type: the returned function records the seconds elapsed. */
export function timer(record: (seconds: number, labels?: Record<string, LabelValue>) => void): (labels?: Record<string, LabelValue>) => number {
  const start = process.hrtime.bigint()
  return (labels) => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    record(seconds, labels)
    return seconds
  }
}
