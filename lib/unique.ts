/**
 * UniqueCounter: distinct counts keyed by a label tuple (e.g. {region, os, channel}), one
 * HyperLogLog per key, Redis-exact like `HyperLogLog`. A key stays sparse (only its non-zero
 * registers, in a Map) until it has 256 of them, then turns into a dense 16 KiB HyperLogLog, so
 * many small keys fit in little memory. At most `maxKeys` keys (default 10k): items for further
 * new keys go into one overflow HyperLogLog, and `refusedAdds` / `refusedKeys()` say how many.
 */
import { HyperLogLog } from './hyperloglog'
import * as js from './js/hll'

export interface UniqueCounterOptions {
  labelNames: readonly string[]
  /** Keys kept before new ones are refused into the overflow key. Default 10000. */
  maxKeys?: number
}

/** Non-zero registers before a key turns dense (each sparse register costs ~30-50 bytes). */
export const SPARSE_MAX_REGISTERS = 256

type Labels = Readonly<Record<string, string>>

class KeyState {
  sparse: Map<number, number> | null = new Map()
  dense: HyperLogLog | null = null

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

export class UniqueCounter {
  readonly labelNames: readonly string[]
  readonly maxKeys: number
  private readonly keys = new Map<string, KeyState>()
  private readonly overflowState = new KeyState()
  private readonly refusedKeySketch = new HyperLogLog()
  /** Adds whose key was refused (the key would have exceeded maxKeys); they went to the overflow key. */
  refusedAdds = 0

  constructor(options: UniqueCounterOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with labelNames')
    const { labelNames, maxKeys = 10_000 } = options
    if (!Array.isArray(labelNames) || labelNames.some((n) => typeof n !== 'string' || n.length === 0)) {
      throw new TypeError('options.labelNames must be an array of non-empty strings')
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError('options.labelNames must not repeat a name')
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`options.maxKeys must be an integer >= 1, got ${maxKeys}`)
    this.labelNames = [...labelNames]
    this.maxKeys = maxKeys
  }

  private keyOf(labels: Labels): string {
    if (labels === null || typeof labels !== 'object') throw new TypeError('labels must be an object of label values')
    const names = Object.keys(labels)
    if (names.length !== this.labelNames.length || !this.labelNames.every((n) => typeof labels[n] === 'string')) {
      throw new TypeError(`labels must have exactly the string labels ${this.labelNames.join(', ')}; got ${names.join(', ') || 'none'}`)
    }
    return JSON.stringify(this.labelNames.map((n) => labels[n]))
  }

  /** Records `item` (a string, hashed as UTF-8 like Redis, or bytes) under the label tuple. */
  add(labels: Labels, item: string | Uint8Array): this {
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
      state = new KeyState()
      this.keys.set(key, state)
    }
    state.add(item)
    return this
  }

  /** Estimated distinct items under the label tuple (0 for a key never seen). */
  count(labels: Labels): number {
    const state = this.keys.get(this.keyOf(labels))
    return state ? state.count() : 0
  }

  /** Number of keys kept. */
  get size(): number {
    return this.keys.size
  }

  /** Every kept key with its estimate. */
  entries(): Array<{ labels: Record<string, string>; count: number }> {
    return [...this.keys].map(([k, s]) => {
      const values = JSON.parse(k) as string[]
      return { labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])), count: s.count() }
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
  toHyperLogLog(labels: Labels): HyperLogLog {
    const state = this.keys.get(this.keyOf(labels))
    return state ? state.toHyperLogLog() : new HyperLogLog()
  }

  /** Forgets one key and its items; true if it was kept. */
  delete(labels: Labels): boolean {
    return this.keys.delete(this.keyOf(labels))
  }

  /**
   * Adds a HyperLogLog's items to one key (register-wise max), e.g. to load a key back from the
   * bytes of `toHyperLogLog(labels).toRedis()`. maxKeys applies as in `add`.
   */
  mergeHyperLogLog(labels: Labels, hll: HyperLogLog): this {
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
      mine = new KeyState()
      this.keys.set(key, mine)
    }
    mine.merge(other)
    return this
  }

  /** Key-wise union with another counter of the same label names (maxKeys still applies). */
  merge(other: UniqueCounter): this {
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
