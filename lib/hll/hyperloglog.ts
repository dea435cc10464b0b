/**
 * HyperLogLog with Redis's parameters, hash and estimator: for the same elements the count
 * equals Redis's PFCOUNT exactly, `toRedis()` bytes can be SET into Redis (PFCOUNT and PFMERGE
 * work on them), and `fromRedis()` reads what GET returns after PFADD (sparse or dense).
 *
 * State is 16384 one-byte registers in a Uint8Array (off the V8 heap). `add` hashes in JS (no
 * Node-API call per element); `addMany` hashes natively when the binary is loaded. Both backends
 * compute the same registers.
 */
import { native, rangeErrors } from '../backend/backend'
import * as js from './js'

/** Batches at least this long go to the native hasher (a Node-API call costs ~100+ ns). */
export const HLL_NATIVE_BATCH = 64

const encoder = new TextEncoder()

/**
 * Strings as UTF-8, back to back, with their byte lengths: one buffer for one native call.
 * ASCII is copied char by char (cheaper than encoding each string); a string with any other
 * character is encoded with TextEncoder.encodeInto.
 */
function packUtf8(items: readonly string[]): { bytes: Uint8Array; lengths: Uint32Array } {
  const lengths = new Uint32Array(items.length)
  // One pass over the strings (each first touch of a string is a likely cache miss): the buffer
  // starts at a guess and doubles when a string might not fit (3 UTF-8 bytes per UTF-16 unit).
  let bytes = new Uint8Array(items.length * 16 + 64)
  let at = 0
  for (let k = 0; k < items.length; k++) {
    const s = items[k]
    if (typeof s !== 'string') {
      throw new TypeError(`items must be all strings or all Uint8Arrays; items[${k}] is ${s === null ? 'null' : typeof s}`)
    }
    const n = s.length
    if (at + 3 * n > bytes.length) {
      const grown = new Uint8Array(Math.max(2 * bytes.length, at + 3 * n))
      grown.set(bytes.subarray(0, at))
      bytes = grown
    }
    const start = at
    let ascii = true
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) {
        ascii = false
        break
      }
      bytes[at++] = c
    }
    if (!ascii) at = start + encoder.encodeInto(s, bytes.subarray(start)).written
    lengths[k] = at - start
  }
  return { bytes: bytes.subarray(0, at), lengths }
}

function checkItem(item: unknown, name: string): void {
  if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a string or a Uint8Array, got ${item === null ? 'null' : typeof item}`)
  }
}

export class HyperLogLog {
  /** Register i holds 1 + the longest run of zeros seen in the hashes that index it. */
  private readonly registers: Uint8Array

  constructor() {
    this.registers = new Uint8Array(js.REGISTERS)
  }

  /** Adds one element (a string is hashed as its UTF-8 bytes, as Redis does). */
  add(item: string | Uint8Array): this {
    checkItem(item, 'item')
    if (typeof item === 'string') js.addString(this.registers, item)
    else js.addBytes(this.registers, item)
    return this
  }

  /** Adds many elements: all strings or all Uint8Arrays. Validated first; nothing is added on error. */
  addMany(items: readonly string[] | readonly Uint8Array[]): this {
    if (!Array.isArray(items)) throw new TypeError(`items must be an array of strings or of Uint8Arrays, got ${typeof items}`)
    if (items.length === 0) return this
    const strings = typeof items[0] === 'string'
    if (strings && native && items.length >= HLL_NATIVE_BATCH) {
      // One pass: packing checks every item's type before anything is added.
      const { bytes, lengths } = packUtf8(items as string[])
      rangeErrors(() => native!.hllAddPacked(this.registers, bytes, lengths))
      return this
    }
    for (let i = 0; i < items.length; i++) {
      const it = items[i]
      if (strings ? typeof it !== 'string' : !(it instanceof Uint8Array)) {
        throw new TypeError(`items must be all strings or all Uint8Arrays; items[${i}] is ${it === null ? 'null' : typeof it}`)
      }
    }
    if (native && items.length >= HLL_NATIVE_BATCH) {
      if (strings) {
        const { bytes, lengths } = packUtf8(items as string[])
        rangeErrors(() => native!.hllAddPacked(this.registers, bytes, lengths))
      } else rangeErrors(() => native!.hllAddBytes(this.registers, items as Uint8Array[]))
    } else if (strings) {
      for (const s of items as string[]) js.addString(this.registers, s)
    } else {
      for (const b of items as Uint8Array[]) js.addBytes(this.registers, b)
    }
    return this
  }

  /** Estimated number of distinct elements added (Redis's PFCOUNT for the same elements). */
  count(): number {
    return native ? rangeErrors(() => native!.hllCount(this.registers)) : js.estimate(this.registers)
  }

  /** Union with another HyperLogLog (commutative, associative, idempotent). */
  merge(other: HyperLogLog): this {
    if (!(other instanceof HyperLogLog)) throw new TypeError('other must be a HyperLogLog')
    if (native) rangeErrors(() => native!.hllMerge(this.registers, other.registers))
    else js.merge(this.registers, other.registers)
    return this
  }

  clear(): this {
    this.registers.fill(0)
    return this
  }

  /** Redis's dense encoding (12304 bytes), cached cardinality marked stale: SET it, then PFCOUNT. */
  toRedis(): Uint8Array {
    return native ? new Uint8Array(rangeErrors(() => native!.hllToRedis(this.registers))) : js.toRedisDense(this.registers)
  }

  /**
   * From a Redis HLL string (dense or sparse, as GET returns it). Bad bytes, including a dense
   * register above 51 (no hash gives one), are a RangeError.
   */
  static fromRedis(bytes: Uint8Array): HyperLogLog {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (or Buffer)')
    const h = new HyperLogLog()
    h.registers.set(js.fromRedis(bytes))
    return h
  }

  /** hotstats' serialization of a HyperLogLog is Redis's dense encoding (magic HYLL, encoding byte). */
  serialize(): Uint8Array {
    return this.toRedis()
  }

  static deserialize(bytes: Uint8Array): HyperLogLog {
    return HyperLogLog.fromRedis(bytes)
  }

  /** From unpacked registers (16384 values of 0..51), copied. */
  static fromRegisters(registers: Uint8Array): HyperLogLog {
    if (!(registers instanceof Uint8Array) || registers.length !== js.REGISTERS) throw new TypeError(`registers must be a Uint8Array of ${js.REGISTERS}`)
    for (let i = 0; i < registers.length; i++) if (registers[i] > js.MAX_VALUE) throw new RangeError(`register ${i} is ${registers[i]}, above ${js.MAX_VALUE}`)
    const h = new HyperLogLog()
    h.registers.set(registers)
    return h
  }

  /** A copy of the registers (for tests and inspection). */
  registersCopy(): Uint8Array {
    return this.registers.slice()
  }
}
