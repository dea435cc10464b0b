/**
 * The JS backend of Moments: the same shifted Welford/Terriberry update and Pébay merge as
 * crates/hotstats-core/src/moments.rs, operation for operation, on a 9-field state:
 * [count, sum, min, max, shift, mean, m2, m3, m4] (mean and m2..m4 are of x - shift).
 */

export const FIELDS = 9
export const COUNT = 0
export const SUM = 1
export const MIN = 2
export const MAX = 3
export const SHIFT = 4
export const MEAN = 5
export const M2 = 6
export const M3 = 7
export const M4 = 8

export function newState(): Float64Array {
  const s = new Float64Array(FIELDS)
  s[MIN] = Infinity
  s[MAX] = -Infinity
  return s
}

export function add(s: Float64Array, x: number): void {
  if (s[COUNT] === 0) s[SHIFT] = Number.isFinite(x) ? x : 0
  const n1 = s[COUNT]
  const n = n1 + 1
  s[COUNT] = n
  const delta = x - s[SHIFT] - s[MEAN]
  const deltaN = delta / n
  const deltaN2 = deltaN * deltaN
  const term1 = delta * deltaN * n1
  s[MEAN] += deltaN
  s[M4] += term1 * deltaN2 * (n * n - 3 * n + 3) + 6 * deltaN2 * s[M2] - 4 * deltaN * s[M3]
  s[M3] += term1 * deltaN * (n - 2) - 3 * deltaN * s[M2]
  s[M2] += term1
  s[SUM] += x
  s[MIN] = Math.min(s[MIN], x)
  s[MAX] = Math.max(s[MAX], x)
}

export function addMany(s: Float64Array, xs: Float64Array): void {
  for (let i = 0; i < xs.length; i++) add(s, xs[i])
}

export function merge(a: Float64Array, b: Float64Array): void {
  if (b[COUNT] === 0) return
  if (a[COUNT] === 0) {
    a.set(b)
    return
  }
  const na = a[COUNT]
  const nb = b[COUNT]
  const n = na + nb
  const delta = b[SHIFT] - a[SHIFT] + (b[MEAN] - a[MEAN])
  const d2 = delta * delta
  const d3 = d2 * delta
  const d4 = d2 * d2
  const m2 = a[M2] + b[M2] + (d2 * na * nb) / n
  const m3 = a[M3] + b[M3] + (d3 * na * nb * (na - nb)) / (n * n) + (3 * delta * (na * b[M2] - nb * a[M2])) / n
  const m4 =
    a[M4] +
    b[M4] +
    (d4 * na * nb * (na * na - na * nb + nb * nb)) / (n * n * n) +
    (6 * d2 * (na * na * b[M2] + nb * nb * a[M2])) / (n * n) +
    (4 * delta * (na * b[M3] - nb * a[M3])) / n
  a[MEAN] += (delta * nb) / n
  a[M2] = m2
  a[M3] = m3
  a[M4] = m4
  a[COUNT] = n
  a[SUM] += b[SUM]
  a[MIN] = Math.min(a[MIN], b[MIN])
  a[MAX] = Math.max(a[MAX], b[MAX])
}

/*
 * Serialized format (version 1, 80 bytes, little endian); this decoder is the only one (issue 19:
 * one decoder per format, the fuzzed one: scripts/fuzz-ts.ts):
 *
 *   +-----+-----+-----+-----+---------+-------+------------+-----+-----+-----+-------+------+----+----+----+
 *   | 'H' | 'S' | 'M' | 'O' | version | 0 0 0 | count: u64 | sum | min | max | shift | mean | M2 | M3 | M4 |
 *   +-----+-----+-----+-----+---------+-------+------------+-----+-----+-----+-------+------+----+----+----+
 *   bytes 0-3 magic, 4 version (1), 5-7 zero, 8-15 count (u64, at most 2^53), then eight f64;
 *   `mean` is the mean of the shifted values.
 *
 * What decodes is a state `add` and `merge` can reach: an empty summary is exactly the empty state
 * (sum and moments +0, min +Infinity, max -Infinity); a non-empty one has finite min <= shift <= max
 * (shift is the first value) and M2 not negative. sum and the moments may be ±Infinity or NaN
 * (finite values can overflow them); NaN is written as the one canonical quiet NaN
 * (0x7ff8000000000000) and any other NaN bit pattern is refused, so one state has one encoding.
 */
const MAGIC = [0x48, 0x53, 0x4d, 0x4f] // HSMO
export const SERIALIZED_LEN = 80
/** Largest count a summary holds (counts stay exact as doubles). */
export const MAX_COUNT = 2 ** 53
const CANONICAL_NAN_HI = 0x7ff80000

export function serialize(s: Float64Array): Uint8Array {
  const out = new Uint8Array(SERIALIZED_LEN)
  out.set(MAGIC)
  out[4] = 1
  const dv = new DataView(out.buffer)
  dv.setBigUint64(8, BigInt(s[COUNT]), true)
  for (let i = 1; i < FIELDS; i++) {
    const at = 16 + 8 * (i - 1)
    if (Number.isNaN(s[i])) dv.setUint32(at + 4, CANONICAL_NAN_HI, true)
    else dv.setFloat64(at, s[i], true)
  }
  return out
}

export function deserialize(bytes: Uint8Array): Float64Array {
  const bad = (why: string) => new RangeError(`not serialized Moments: ${why}`)
  if (bytes.length !== SERIALIZED_LEN) throw bad(`serialized Moments are ${SERIALIZED_LEN} bytes, got ${bytes.length}`)
  if (MAGIC.some((m, i) => bytes[i] !== m)) throw bad('missing the HSMO magic')
  if (bytes[4] !== 1) throw bad(`unsupported Moments format version ${bytes[4]}`)
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw bad('reserved bytes 5-7 must be zero')
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = dv.getBigUint64(8, true)
  if (count > BigInt(MAX_COUNT)) throw bad(`count ${count} is above 2^53`)
  const s = new Float64Array(FIELDS)
  s[COUNT] = Number(count)
  for (let i = 1; i < FIELDS; i++) {
    const at = 16 + 8 * (i - 1)
    s[i] = dv.getFloat64(at, true)
    if (Number.isNaN(s[i]) && !(dv.getUint32(at, true) === 0 && dv.getUint32(at + 4, true) === CANONICAL_NAN_HI)) {
      throw bad(`field ${i} is a NaN other than the canonical one`)
    }
  }
  if (s[COUNT] === 0) {
    const empty = newState()
    if (!empty.every((v, i) => Object.is(v, s[i]))) throw bad('an empty summary must have sum and moments 0, min +Infinity and max -Infinity')
  } else {
    if (!(Number.isFinite(s[MIN]) && Number.isFinite(s[MAX]) && Number.isFinite(s[SHIFT]) && s[MIN] <= s[SHIFT] && s[SHIFT] <= s[MAX])) {
      throw bad(`min ${s[MIN]}, first value ${s[SHIFT]} and max ${s[MAX]} must be finite and ordered`)
    }
    if (s[M2] < 0) throw bad(`M2 ${s[M2]} is negative`)
  }
  return s
}
