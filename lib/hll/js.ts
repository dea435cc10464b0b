/**
 * The JS backend of HyperLogLog: the same hash (MurmurHash64A, seed 0xadc83b19), register rule,
 * estimator and Redis formats as crates/hotstats-core/src/hll, so registers and counts are equal.
 * 64-bit arithmetic is done on 32-bit halves (no BigInt on the hot path).
 */

export const P = 14
export const REGISTERS = 1 << P
export const MAX_VALUE = 51
const HEADER = 16
const DENSE_SIZE = HEADER + (REGISTERS * 6) / 8

const M_HI = 0xc6a4a793
const M_LO = 0x5bd1e995
const SEED_LO = 0xadc83b19

let rHi = 0
let rLo = 0

/** (ah:al) * (bh:bl) mod 2^64 into rHi:rLo, with 16-bit limbs (products stay below 2^53). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16
  const a32 = ah & 0xffff
  const a16 = al >>> 16
  const a00 = al & 0xffff
  const b48 = bh >>> 16
  const b32 = bh & 0xffff
  const b16 = bl >>> 16
  const b00 = bl & 0xffff
  let c00 = a00 * b00
  let c16 = c00 >>> 16
  c00 &= 0xffff
  c16 += a16 * b00
  let c32 = c16 >>> 16
  c16 &= 0xffff
  c16 += a00 * b16
  c32 += c16 >>> 16
  c16 &= 0xffff
  c32 += a32 * b00
  let c48 = c32 >>> 16
  c32 &= 0xffff
  c32 += a16 * b16
  c48 += c32 >>> 16
  c32 &= 0xffff
  c32 += a00 * b32
  c48 += c32 >>> 16
  c32 &= 0xffff
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48
  c48 &= 0xffff
  rHi = ((c48 << 16) | c32) >>> 0
  rLo = ((c16 << 16) | c00) >>> 0
}

// Running hash of the MurmurHash64A in progress (module state: one hash at a time per thread).
let hHi = 0
let hLo = 0

function begin(len: number): void {
  // h = seed ^ (len * m)
  mul64(Math.floor(len / 2 ** 32) >>> 0, len >>> 0, M_HI, M_LO)
  hHi = rHi
  hLo = (rLo ^ SEED_LO) >>> 0
}

/** Mixes one 8-byte little-endian block (kHi:kLo) into the hash. */
function block(kHi: number, kLo: number): void {
  mul64(kHi, kLo, M_HI, M_LO)
  kHi = rHi
  kLo = (rLo ^ (rHi >>> 15)) >>> 0 // k ^= k >> 47
  mul64(kHi, kLo, M_HI, M_LO)
  mul64((hHi ^ rHi) >>> 0, (hLo ^ rLo) >>> 0, M_HI, M_LO)
  hHi = rHi
  hLo = rLo
}

/** XORs tail byte j (0..6) into the hash. */
function tailByte(j: number, byte: number): void {
  if (j >= 4) hHi = (hHi ^ (byte << (8 * (j - 4)))) >>> 0
  else hLo = (hLo ^ (byte << (8 * j))) >>> 0
}

/** The tail multiply (if any tail bytes) and the final avalanche; the hash ends in rHi:rLo. */
function finish(hadTail: boolean): void {
  if (hadTail) {
    mul64(hHi, hLo, M_HI, M_LO)
    hHi = rHi
    hLo = rLo
  }
  hLo = (hLo ^ (hHi >>> 15)) >>> 0
  mul64(hHi, hLo, M_HI, M_LO)
  rLo = (rLo ^ (rHi >>> 15)) >>> 0
}

/** MurmurHash64A with Redis's HLL seed over bytes, or over an ASCII string's char codes (which
 * are its UTF-8 bytes); the hash is left in rHi:rLo. */
function murmur(data: Uint8Array | string): void {
  const len = data.length
  const end = len - (len & 7)
  begin(len)
  if (typeof data === 'string') {
    for (let i = 0; i < end; i += 8) {
      block(
        (data.charCodeAt(i + 4) | (data.charCodeAt(i + 5) << 8) | (data.charCodeAt(i + 6) << 16) | (data.charCodeAt(i + 7) << 24)) >>> 0,
        (data.charCodeAt(i) | (data.charCodeAt(i + 1) << 8) | (data.charCodeAt(i + 2) << 16) | (data.charCodeAt(i + 3) << 24)) >>> 0,
      )
    }
    for (let j = (len & 7) - 1; j >= 0; j--) tailByte(j, data.charCodeAt(end + j))
  } else {
    for (let i = 0; i < end; i += 8) {
      block(
        (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24)) >>> 0,
        (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0,
      )
    }
    for (let j = (len & 7) - 1; j >= 0; j--) tailByte(j, data[end + j])
  }
  finish((len & 7) !== 0)
}

/** MurmurHash64A(data, 0xadc83b19) as a BigInt (for tests and debugging). */
export function murmur64a(data: Uint8Array): bigint {
  murmur(data)
  return (BigInt(rHi) << 32n) | BigInt(rLo)
}

const ctz32 = (x: number) => 31 - Math.clz32(x & -x)

/** The register an element goes to and the value it proposes (Redis's hllPatLen), packed as
 * index * 64 + value. */
export function pattern(data: Uint8Array | string): number {
  murmur(typeof data === 'string' && !isAscii(data) ? encoder.encode(data) : data)
  const index = rLo & (REGISTERS - 1)
  const low = rLo >>> P
  const count = low !== 0 ? ctz32(low) + 1 : rHi !== 0 ? 18 + ctz32(rHi) + 1 : MAX_VALUE
  return index * 64 + count
}

/** Adds one element (bytes, or an ASCII string's bytes) to the registers; true if one changed. */
function addHashed(registers: Uint8Array, data: Uint8Array | string): boolean {
  murmur(data)
  const index = rLo & (REGISTERS - 1)
  // Run of zeros in hash bits 14..63, plus one; the sentinel at bit 64 caps it at 51.
  const low = rLo >>> P // 18 bits
  const count = low !== 0 ? ctz32(low) + 1 : rHi !== 0 ? 18 + ctz32(rHi) + 1 : MAX_VALUE
  if (count > registers[index]) {
    registers[index] = count
    return true
  }
  return false
}

export function addBytes(registers: Uint8Array, data: Uint8Array): boolean {
  return addHashed(registers, data)
}

const encoder = new TextEncoder()

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** A string is hashed as its UTF-8 bytes; ASCII strings without encoding them first. */
export function addString(registers: Uint8Array, s: string): boolean {
  return addHashed(registers, isAscii(s) ? s : encoder.encode(s))
}

export function merge(into: Uint8Array, other: Uint8Array): void {
  for (let i = 0; i < REGISTERS; i++) if (other[i] > into[i]) into[i] = other[i]
}

function sigma(x: number): number {
  if (x === 1) return Infinity
  let y = 1
  let z = x
  for (;;) {
    x *= x
    const zPrime = z
    z += x * y
    y += y
    if (zPrime === z) return z
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0
  let y = 1
  let z = 1 - x
  for (;;) {
    x = Math.sqrt(x)
    const zPrime = z
    y *= 0.5
    const d = 1 - x
    z -= d * d * y
    if (zPrime === z) return z / 3
  }
}

const ALPHA_INF = 0.7213475204444817

/** Redis's estimate (Ertl's estimator, rounded half away from zero). */
export function estimate(registers: Uint8Array): number {
  const hist = new Float64Array(64)
  for (let i = 0; i < REGISTERS; i++) hist[registers[i] & 63]++
  return estimateFromHistogram(hist)
}

/** The estimate from a register histogram (hist[v] = number of registers equal to v). */
export function estimateFromHistogram(hist: Float64Array): number {
  const m = REGISTERS
  const q = 64 - P
  let z = m * tau((m - hist[q + 1]) / m)
  for (let j = q; j >= 1; j--) {
    z += hist[j]
    z *= 0.5
  }
  z += m * sigma(hist[0] / m)
  // Positive: Math.round (half up) equals C's llroundl (half away from zero).
  return Math.round((ALPHA_INF * m * m) / z)
}

/** Redis's dense string, cached cardinality marked stale. */
export function toRedisDense(registers: Uint8Array): Uint8Array {
  const out = new Uint8Array(DENSE_SIZE)
  out.set([0x48, 0x59, 0x4c, 0x4c]) // HYLL
  out[15] = 0x80
  for (let i = 0; i < REGISTERS; i++) {
    const v = registers[i] & 63
    if (v === 0) continue
    const byte = HEADER + ((i * 6) >> 3)
    const fb = (i * 6) & 7
    out[byte] |= (v << fb) & 0xff
    if (fb > 2) out[byte + 1] |= v >> (8 - fb)
  }
  return out
}

/** Registers from a Redis HLL string (dense or sparse); throws a RangeError for bad bytes. */
export function fromRedis(bytes: Uint8Array): Uint8Array {
  const bad = (why: string) => new RangeError(`not a Redis HyperLogLog: ${why}`)
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes is shorter than the 16-byte HYLL header`)
  if (bytes[0] !== 0x48 || bytes[1] !== 0x59 || bytes[2] !== 0x4c || bytes[3] !== 0x4c) throw bad('missing the HYLL magic')
  const regs = new Uint8Array(REGISTERS)
  if (bytes[4] === 0) {
    if (bytes.length !== DENSE_SIZE) throw bad(`dense HLL must be ${DENSE_SIZE} bytes, got ${bytes.length}`)
    // Four 6-bit registers per 3 bytes, least significant bits first.
    for (let i = 0, p = HEADER; i < REGISTERS; i += 4, p += 3) {
      const b0 = bytes[p]
      const b1 = bytes[p + 1]
      const b2 = bytes[p + 2]
      const r0 = b0 & 63
      const r1 = ((b0 >> 6) | (b1 << 2)) & 63
      const r2 = ((b1 >> 4) | (b2 << 4)) & 63
      const r3 = b2 >> 2
      regs[i] = r0
      regs[i + 1] = r1
      regs[i + 2] = r2
      regs[i + 3] = r3
      // 6 bits hold up to 63; only 0..51 can come from a hash.
      if (r0 > MAX_VALUE || r1 > MAX_VALUE || r2 > MAX_VALUE || r3 > MAX_VALUE) {
        const k = [r0, r1, r2, r3].findIndex((v) => v > MAX_VALUE)
        throw bad(`dense register ${i + k} is ${regs[i + k]}, above the largest possible value ${MAX_VALUE}`)
      }
    }
    return regs
  }
  if (bytes[4] !== 1) throw bad(`unknown encoding ${bytes[4]} (0 dense, 1 sparse)`)
  let idx = 0
  let p = HEADER
  while (p < bytes.length) {
    const op = bytes[p]
    let run: number
    let value = 0
    let width = 1
    if ((op & 0xc0) === 0) {
      run = (op & 0x3f) + 1
    } else if ((op & 0xc0) === 0x40) {
      if (p + 1 >= bytes.length) throw bad(`sparse opcode at byte ${p} runs past the end`)
      run = (((op & 0x3f) << 8) | bytes[p + 1]) + 1
      width = 2
    } else {
      run = (op & 3) + 1
      value = ((op >> 2) & 0x1f) + 1
    }
    if (idx + run > REGISTERS) throw bad(`sparse opcode at byte ${p} runs past the end`)
    if (value !== 0) regs.fill(value, idx, idx + run)
    idx += run
    p += width
  }
  if (idx !== REGISTERS) throw bad(`sparse runs cover ${idx} registers, not ${REGISTERS}`)
  return regs
}

/** Non-zero registers a `SparseRegisters` lists before turning dense (as the core's `SPARSE_MAX`). */
export const SPARSE_MAX = 256

/**
 * Registers that cost little while few are set (the JS twin of the core's
 * `hll::sparse::Registers`): the packed patterns (index * 64 + value) of the non-zero registers,
 * sorted, in a small-integer array, until SPARSE_MAX are set; then the 16 KiB dense array.
 */
export class SparseRegisters {
  /** null when empty (an empty array literal would still reserve room for 17 elements). */
  private list: number[] | null = null
  private dense: Uint8Array | null = null

  /** Raises the register of packed `pattern` (valid: checked by the caller) to its value. */
  set(pattern: number): void {
    const i = pattern >>> 6
    if (this.dense !== null) {
      if (this.dense[i] < (pattern & 63)) this.dense[i] = pattern & 63
      return
    }
    const list = this.list
    if (list === null) {
      this.list = [pattern]
      return
    }
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (list[mid] >>> 6 < i) lo = mid + 1
      else hi = mid
    }
    if (lo < list.length && list[lo] >>> 6 === i) {
      if ((list[lo] & 63) < (pattern & 63)) list[lo] = pattern
    } else if (list.length < SPARSE_MAX) {
      list.splice(lo, 0, pattern)
    } else {
      const d = this.toDense()
      d[i] = pattern & 63
      this.dense = d
      this.list = null
    }
  }

  get empty(): boolean {
    return this.dense === null && this.list === null
  }

  /** No register set; a dense array is dropped. */
  clear(): void {
    this.dense = null
    this.list = null
  }

  /** Register-wise max into `into` (16384 registers). */
  mergeInto(into: Uint8Array): void {
    if (this.dense !== null) {
      merge(into, this.dense)
      return
    }
    for (const p of this.list ?? []) {
      const i = p >>> 6
      if (into[i] < (p & 63)) into[i] = p & 63
    }
  }

  toDense(): Uint8Array {
    const out = new Uint8Array(REGISTERS)
    this.mergeInto(out)
    return out
  }
}
