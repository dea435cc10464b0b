/**
 * CRDT counters that merge across threads, processes and machines: `GCounter` (grow-only) and
 * `PNCounter` (increments and decrements). Each replica counts under (replica id, incarnation);
 * a restarted process gets a new incarnation, so it never reuses a key with a lower count and
 * its earlier counts survive wherever they were merged. Merge is the per-key maximum:
 * commutative, associative and idempotent.
 *
 * Serialized GCounter (version 1, little endian); this is the only implementation of the format
 * (the state is a JS Map; issue 19 deleted a Rust twin and its binding that nothing called), and
 * its decoder is fuzzed by scripts/fuzz-ts.ts:
 *
 *   +-----+-----+-----+-----+---------+-------+-------------------+---------- entries ----------+
 *   | 'H' | 'S' | 'G' | 'C' | version | 0 0 0 | entry count: u32  | per entry:                  |
 *   +-----+-----+-----+-----+---------+-------+-------------------+  id length: u16, id (UTF-8), |
 *                                                                   incarnation: u64, count: u64
 *
 * Entries are written sorted by (id bytes, incarnation), with no duplicate key; decoding requires
 * exactly that (so one state has one encoding) and refuses truncation, trailing bytes, bad UTF-8,
 * and counts and incarnations above 2^53 - 1 (exact in a JavaScript number), with a RangeError.
 * A PNCounter is 'HSPN', version, 3 zero bytes, then the P and N GCounters' bodies (from `entry
 * count` on), P first.
 */
const MAX_COUNT = 2 ** 53 - 1
const encoder = new TextEncoder()
// ignoreBOM: a replica id may start with U+FEFF; the default decoder would drop it, and two ids
// differing only by it would collide in the entry map.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export interface ReplicaOptions {
  /** This replica's id (1..65535 UTF-8 bytes), e.g. `${hostname}:${pid}`. */
  replica: string
  /** Defaults to a fresh value per construction (start time in µs plus randomness). */
  incarnation?: number
}

interface Entry {
  id: string
  idBytes: Uint8Array
  incarnation: number
  count: number
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

function compareEntries(a: Entry, b: Entry): number {
  return compareBytes(a.idBytes, b.idBytes) || a.incarnation - b.incarnation
}

function freshIncarnation(): number {
  return Date.now() * 1000 + Math.floor(Math.random() * 1000)
}

function checkAmount(amount: number): void {
  if (typeof amount !== 'number') throw new TypeError(`amount must be a number, got ${typeof amount}`)
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount must be a non-negative safe integer, got ${amount}`)
}

/** Entries of one grow-only counter, keyed by `${incarnation}/${id}`. */
class Entries {
  readonly map = new Map<string, Entry>()

  get(id: string, incarnation: number): Entry | undefined {
    return this.map.get(`${incarnation}/${id}`)
  }

  add(id: string, incarnation: number, amount: number): void {
    const key = `${incarnation}/${id}`
    const e = this.map.get(key)
    const next = (e?.count ?? 0) + amount
    if (next > MAX_COUNT) throw new RangeError('count would exceed 2^53 - 1')
    if (e) e.count = next
    else this.map.set(key, { id, idBytes: encoder.encode(id), incarnation, count: next })
  }

  value(): number {
    let s = 0
    for (const e of this.map.values()) s += e.count
    return s
  }

  merge(other: Entries): void {
    for (const [k, e] of other.map) {
      const mine = this.map.get(k)
      if (!mine) this.map.set(k, { ...e })
      else if (e.count > mine.count) mine.count = e.count
    }
  }

  byteLength(): number {
    let n = 4
    for (const e of this.map.values()) n += 2 + e.idBytes.length + 16
    return n
  }

  write(dv: DataView, out: Uint8Array, at: number): number {
    const sorted = [...this.map.values()].sort(compareEntries)
    dv.setUint32(at, sorted.length, true)
    at += 4
    for (const e of sorted) {
      dv.setUint16(at, e.idBytes.length, true)
      out.set(e.idBytes, at + 2)
      at += 2 + e.idBytes.length
      dv.setBigUint64(at, BigInt(e.incarnation), true)
      dv.setBigUint64(at + 8, BigInt(e.count), true)
      at += 16
    }
    return at
  }

  static read(bytes: Uint8Array, dv: DataView, at: number): { entries: Entries; at: number } {
    const bad = (why: string) => new RangeError(`not a serialized counter: ${why}`)
    const need = (n: number) => {
      if (at + n > bytes.length) throw bad(`truncated at byte ${at}`)
    }
    need(4)
    const n = dv.getUint32(at, true)
    at += 4
    const entries = new Entries()
    let last: Entry | null = null
    for (let i = 0; i < n; i++) {
      const start = at
      need(2)
      const len = dv.getUint16(at, true)
      at += 2
      need(len)
      const idBytes = bytes.slice(at, at + len)
      let id: string
      try {
        id = decoder.decode(idBytes)
      } catch {
        throw bad(`replica id at byte ${at} is not UTF-8`)
      }
      at += len
      need(16)
      const inc = dv.getBigUint64(at, true)
      const count = dv.getBigUint64(at + 8, true)
      at += 16
      if (count > BigInt(MAX_COUNT)) throw bad(`count ${count} is above 2^53 - 1`)
      if (inc > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`incarnation ${inc} is above 2^53 - 1`)
      const e: Entry = { id, idBytes, incarnation: Number(inc), count: Number(count) }
      if (last && compareEntries(last, e) >= 0) throw bad(`entry at byte ${start} is out of order or duplicated`)
      last = e
      entries.map.set(`${e.incarnation}/${id}`, e)
    }
    return { entries, at }
  }
}

function header(magic: string, bodyLength: number): { out: Uint8Array; dv: DataView } {
  const out = new Uint8Array(8 + bodyLength)
  out.set(encoder.encode(magic))
  out[4] = 1
  return { out, dv: new DataView(out.buffer) }
}

function checkHeader(bytes: Uint8Array, magic: string): DataView {
  const bad = (why: string) => new RangeError(`not a serialized counter: ${why}`)
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (or Buffer)')
  if (bytes.length < 8) throw bad(`truncated at byte ${bytes.length}`)
  // Compared byte by byte: decoding arbitrary bytes as UTF-8 throws a TypeError.
  for (let i = 0; i < 4; i++) if (bytes[i] !== magic.charCodeAt(i)) throw bad('bad magic')
  if (bytes[4] !== 1) throw bad(`unsupported version ${bytes[4]}`)
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw bad('reserved bytes must be zero')
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function identity(options: ReplicaOptions | undefined): { replica: string; incarnation: number } | null {
  if (options === undefined) return null
  const { replica, incarnation = freshIncarnation() } = options
  if (typeof replica !== 'string' || replica.length === 0 || encoder.encode(replica).length > 65535) {
    throw new TypeError('options.replica must be a non-empty string of at most 65535 UTF-8 bytes')
  }
  if (!Number.isSafeInteger(incarnation) || incarnation < 0) throw new RangeError(`options.incarnation must be a non-negative safe integer, got ${incarnation}`)
  return { replica, incarnation }
}

function noIdentity(): never {
  throw new Error('this counter has no replica id (it was deserialized); merge it into a counter that has one')
}

export class GCounter {
  private readonly self: { replica: string; incarnation: number } | null
  private readonly entries = new Entries()

  /** A counter for this replica; without options (deserialized states) it can only be read and merged. */
  constructor(options?: ReplicaOptions) {
    this.self = identity(options)
  }

  get replica(): string | null {
    return this.self?.replica ?? null
  }
  get incarnation(): number | null {
    return this.self?.incarnation ?? null
  }

  inc(amount = 1): this {
    checkAmount(amount)
    if (!this.self) noIdentity()
    this.entries.add(this.self.replica, this.self.incarnation, amount)
    return this
  }

  /** The sum over every (replica, incarnation). */
  value(): number {
    return this.entries.value()
  }

  merge(other: GCounter): this {
    if (!(other instanceof GCounter)) throw new TypeError('other must be a GCounter')
    this.entries.merge(other.entries)
    return this
  }

  serialize(): Uint8Array {
    const { out, dv } = header('HSGC', this.entries.byteLength())
    this.entries.write(dv, out, 8)
    return out
  }

  static deserialize(bytes: Uint8Array, options?: ReplicaOptions): GCounter {
    const dv = checkHeader(bytes, 'HSGC')
    const { entries, at } = Entries.read(bytes, dv, 8)
    if (at !== bytes.length) throw new RangeError(`not a serialized counter: trailing bytes from byte ${at}`)
    const g = new GCounter(options)
    g.entries.merge(entries)
    return g
  }
}

export class PNCounter {
  private readonly self: { replica: string; incarnation: number } | null
  private readonly p = new Entries()
  private readonly n = new Entries()

  constructor(options?: ReplicaOptions) {
    this.self = identity(options)
  }

  inc(amount = 1): this {
    checkAmount(amount)
    if (!this.self) noIdentity()
    this.p.add(this.self.replica, this.self.incarnation, amount)
    return this
  }

  dec(amount = 1): this {
    checkAmount(amount)
    if (!this.self) noIdentity()
    this.n.add(this.self.replica, this.self.incarnation, amount)
    return this
  }

  value(): number {
    return this.p.value() - this.n.value()
  }

  merge(other: PNCounter): this {
    if (!(other instanceof PNCounter)) throw new TypeError('other must be a PNCounter')
    this.p.merge(other.p)
    this.n.merge(other.n)
    return this
  }

  serialize(): Uint8Array {
    const { out, dv } = header('HSPN', this.p.byteLength() + this.n.byteLength())
    const at = this.p.write(dv, out, 8)
    this.n.write(dv, out, at)
    return out
  }

  static deserialize(bytes: Uint8Array, options?: ReplicaOptions): PNCounter {
    const dv = checkHeader(bytes, 'HSPN')
    const p = Entries.read(bytes, dv, 8)
    const n = Entries.read(bytes, dv, p.at)
    if (n.at !== bytes.length) throw new RangeError(`not a serialized counter: trailing bytes from byte ${n.at}`)
    const c = new PNCounter(options)
    c.p.merge(p.entries)
    c.n.merge(n.entries)
    return c
  }
}
