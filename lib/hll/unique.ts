/**
 * UniqueCounter: distinct counts keyed by a label tuple (e.g. {region, os, channel}), one
 * HyperLogLog per key, Redis-exact like `HyperLogLog`. A key stays sparse (only its non-zero
 * registers, in a Map) until it has 256 of them, then turns into a dense 16 KiB HyperLogLog, so
 * many small keys fit in little memory. At most `maxKeys` keys (default 10k): items for further
 * new keys go into one overflow HyperLogLog, and `refusedAdds` / `refusedKeys()` say how many.
 *
 * Labels follow Counter's rules: every declared label, each a string or a number (or a boolean),
 * keyed by `String(value)` (so 5 and '5' are one key); `entries()` gives each label back with the
 * type it was first given. The label names type the labels objects, as Counter's do.
 */
import { numberOption, typeName } from '../backend/check'
import { HyperLogLog } from './hyperloglog'
import * as js from './js'
import type { LabelValue } from '../metrics/metric'

export interface UniqueCounterOptions<T extends string = string> {
  labelNames: readonly T[]
  /** Keys kept before new ones are refused into the overflow key. Default 10000. */
  maxKeys?: number
}

/** A UniqueCounter's labels: every label name, with a string or number value. */
export type UniqueLabels<T extends string = string> = Readonly<Record<T, LabelValue>>

/** Non-zero registers before a key turns dense (each sparse register costs ~30-50 bytes). */
export const SPARSE_MAX_REGISTERS = 256

class KeyState {
  sparse: Map<number, number> | null = new Map()
  dense: HyperLogLog | null = null
  /** The labels as first given, when a value was not a string (else entries() parses the key). */
  labels: Record<string, LabelValue> | null = null

  add(item: string | Uint8Array): void {
    if (this.dense) {
      this.dense.add(item)
      return
    }
    const p = js.pattern(item)
    const index = p >> 6
    const value = p & 63
    const sparse = this.sparse!
    if ((sparse.get(index) ?? 0) < value) {
      sparse.set(index, value)
      if (sparse.size > SPARSE_MAX_REGISTERS) this.densify()
    }
  }

  densify(): void {
    if (this.dense) return
    const regs = new Uint8Array(js.REGISTERS)
    for (const [i, v] of this.sparse!) regs[i] = v
    this.dense = HyperLogLog.fromRegisters(regs)
    this.sparse = null
  }

  count(): number {
    if (this.dense) return this.dense.count()
    const hist = new Float64Array(64)
    hist[0] = js.REGISTERS - this.sparse!.size
    for (const v of this.sparse!.values()) hist[v]++
    return js.estimateFromHistogram(hist)
  }

  toHyperLogLog(): HyperLogLog {
    if (this.dense) return HyperLogLog.fromRegisters(this.dense.registersCopy())
    const regs = new Uint8Array(js.REGISTERS)
    for (const [i, v] of this.sparse!) regs[i] = v
    return HyperLogLog.fromRegisters(regs)
  }

  /** A key holding these 16384 registers: sparse when few are set, as `add` would leave it. */
  static fromRegisters(regs: Uint8Array): KeyState {
    const k = new KeyState()
    for (let i = 0; i < regs.length; i++) if (regs[i] !== 0) k.sparse!.set(i, regs[i])
    if (k.sparse!.size > SPARSE_MAX_REGISTERS) {
      k.sparse = null
      k.dense = HyperLogLog.fromRegisters(regs)
    }
    return k
  }

  merge(other: KeyState): void {
    if (other.dense || this.dense) {
      this.densify()
      this.dense!.merge(other.toHyperLogLog())
      return
    }
    for (const [i, v] of other.sparse!) {
      if ((this.sparse!.get(i) ?? 0) < v) this.sparse!.set(i, v)
    }
    if (this.sparse!.size > SPARSE_MAX_REGISTERS) this.densify()
  }
}

function checkItem(item: unknown): asserts item is string | Uint8Array {
  if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
    throw new TypeError(`item must be a string or a Uint8Array, got ${item === null ? 'null' : typeof item}`)
  }
}

export class UniqueCounter<T extends string = string> {
  readonly labelNames: readonly T[]
  readonly maxKeys: number
  private readonly keys = new Map<string, KeyState>()
  private readonly overflowState = new KeyState()
  private readonly refusedKeySketch = new HyperLogLog()
  /** Adds whose key was refused (the key would have exceeded maxKeys); they went to the overflow key. */
  refusedAdds = 0

  constructor(options: UniqueCounterOptions<T>) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with labelNames')
    const { labelNames } = options
    const maxKeys = numberOption(options.maxKeys, 'options.maxKeys', 10_000)
    if (!Array.isArray(labelNames) || labelNames.some((n) => typeof n !== 'string' || n.length === 0)) {
      throw new TypeError('options.labelNames must be an array of non-empty strings')
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError('options.labelNames must not repeat a name')
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`options.maxKeys must be an integer >= 1, got ${maxKeys}`)
    this.labelNames = [...labelNames]
    this.maxKeys = maxKeys
  }

  /**
   * The key of a labels object: the JSON of its values as strings, in labelNames order. Every
   * label must be given (RangeError otherwise, as an unknown one), each a string, a number or a
   * boolean (TypeError otherwise).
   */
  private keyOf(labels: UniqueLabels<T>): string {
    if (labels === null || typeof labels !== 'object') throw new TypeError(`labels must be an object of label values, got ${typeName(labels)}`)
    const names = this.labelNames
    const values: string[] = new Array(names.length)
    for (let i = 0; i < names.length; i++) {
      const v: unknown = labels[names[i]]
      if (typeof v === 'string') values[i] = v
      else if (typeof v === 'number' || typeof v === 'boolean') values[i] = String(v)
      else if (v === undefined) throw new RangeError(`labels must give every label (${names.join(', ')}); ${JSON.stringify(names[i])} is missing`)
      else throw new TypeError(`label ${JSON.stringify(names[i])} must be a string, a number or a boolean, got ${typeName(v)}`)
    }
    const given = Object.keys(labels)
    if (given.length !== names.length) {
      const unknown = given.find((n) => !(names as readonly string[]).includes(n))
      throw new RangeError(`unknown label ${JSON.stringify(unknown)} (label names: ${names.join(', ')})`)
    }
    return JSON.stringify(values)
  }

  /** The state of a new key, remembering the labels' types when one is not a string. */
  private newKey(labels: UniqueLabels<T>): KeyState {
    const s = new KeyState()
    if (this.labelNames.some((n) => typeof labels[n] !== 'string')) s.labels = Object.fromEntries(this.labelNames.map((n) => [n, labels[n]]))
    return s
  }

  /** Records `item` (a string, hashed as UTF-8 like Redis, or bytes) under the label tuple. */
  add(labels: UniqueLabels<T>, item: string | Uint8Array): this {
    const key = this.keyOf(labels)
    checkItem(item)
    let state = this.keys.get(key)
    if (!state) {
      if (this.keys.size >= this.maxKeys) {
        this.refusedAdds++
        this.refusedKeySketch.add(key)
        this.overflowState.add(item)
        return this
      }
      state = this.newKey(labels)
      this.keys.set(key, state)
    }
    state.add(item)
    return this
  }

  /** Estimated distinct items under the label tuple (0 for a key never seen). */
  count(labels: UniqueLabels<T>): number {
    const state = this.keys.get(this.keyOf(labels))
    return state ? state.count() : 0
  }

  /** Number of keys kept. */
  get size(): number {
    return this.keys.size
  }

  /** Every kept key with its estimate; labels with the types they were first given. */
  entries(): Array<{ labels: Record<T, LabelValue>; count: number }> {
    return [...this.keys].map(([k, s]) => {
      if (s.labels !== null) return { labels: { ...s.labels } as Record<T, LabelValue>, count: s.count() }
      const values = JSON.parse(k) as string[]
      return { labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])) as Record<T, LabelValue>, count: s.count() }
    })
  }

  /** Estimated distinct items that went to the overflow key. */
  overflowCount(): number {
    return this.overflowState.count()
  }

  /** Estimated number of distinct keys refused because of maxKeys. */
  refusedKeys(): number {
    return this.refusedKeySketch.count()
  }

  /** The HyperLogLog of one key (a copy; empty for a key never seen). */
  toHyperLogLog(labels: UniqueLabels<T>): HyperLogLog {
    const state = this.keys.get(this.keyOf(labels))
    return state ? state.toHyperLogLog() : new HyperLogLog()
  }

  /** Forgets one key and its items; true if it was kept. */
  delete(labels: UniqueLabels<T>): boolean {
    return this.keys.delete(this.keyOf(labels))
  }

  /**
   * Adds a HyperLogLog's items to one key (register-wise max), e.g. to load a key back from the
   * bytes of `toHyperLogLog(labels).toRedis()`. maxKeys applies as in `add`.
   */
  mergeHyperLogLog(labels: UniqueLabels<T>, hll: HyperLogLog): this {
    const key = this.keyOf(labels)
    if (!(hll instanceof HyperLogLog)) throw new TypeError('hll must be a HyperLogLog')
    const other = KeyState.fromRegisters(hll.registersCopy())
    let mine = this.keys.get(key)
    if (!mine) {
      if (this.keys.size >= this.maxKeys) {
        this.refusedKeySketch.add(key)
        this.overflowState.merge(other)
        return this
      }
      mine = this.newKey(labels)
      this.keys.set(key, mine)
    }
    mine.merge(other)
    return this
  }

  /** Key-wise union with another counter of the same label names (maxKeys still applies). */
  merge(other: UniqueCounter<T>): this {
    if (!(other instanceof UniqueCounter)) throw new TypeError('other must be a UniqueCounter')
    if (other.labelNames.join('\u0000') !== this.labelNames.join('\u0000')) throw new TypeError('cannot merge UniqueCounters with different labelNames')
    for (const [key, s] of other.keys) {
      let mine = this.keys.get(key)
      if (!mine) {
        if (this.keys.size >= this.maxKeys) {
          this.refusedKeySketch.add(key)
          this.overflowState.merge(s)
          continue
        }
        mine = new KeyState()
        mine.labels = s.labels && { ...s.labels }
        this.keys.set(key, mine)
      }
      mine.merge(s)
    }
    this.overflowState.merge(other.overflowState)
    this.refusedKeySketch.merge(other.refusedKeySketch)
    this.refusedAdds += other.refusedAdds
    return this
  }
}
