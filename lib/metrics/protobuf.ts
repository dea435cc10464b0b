/**
 * A minimal protobuf writer: the few wire types hotstats emits (varint, zigzag varint, 64-bit
 * double, length-delimited). hotstats has no runtime dependencies; the tests decode what this
 * writes with protobufjs, an independent implementation.
 */
const utf8 = new TextEncoder()
const f64 = new DataView(new ArrayBuffer(8))

export class ProtoWriter {
  private readonly bytes: number[] = []

  /** A non-negative integer up to 2^53. */
  varint(v: number): this {
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    this.bytes.push(v)
    return this
  }

  private tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire)
  }

  /** uint32/uint64/enum field (safe integers >= 0). */
  uint(field: number, v: number): this {
    return this.tag(field, 0).varint(v)
  }

  /** sint32/sint64 field (zigzag; safe integers). */
  sint(field: number, v: number): this {
    return this.tag(field, 0).varint(zigzag(v))
  }

  double(field: number, v: number): this {
    this.tag(field, 1)
    f64.setFloat64(0, v, true)
    for (let i = 0; i < 8; i++) this.bytes.push(f64.getUint8(i))
    return this
  }

  string(field: number, s: string): this {
    return this.raw(field, utf8.encode(s))
  }

  /** An embedded message. */
  message(field: number, m: ProtoWriter): this {
    return this.raw(field, m.bytes)
  }

  /** A packed repeated sint64 field (nothing when empty). */
  packedSint(field: number, vs: readonly number[]): this {
    if (vs.length === 0) return this
    const inner = new ProtoWriter()
    for (const v of vs) inner.varint(zigzag(v))
    return this.message(field, inner)
  }

  private raw(field: number, b: ArrayLike<number>): this {
    this.tag(field, 2).varint(b.length)
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i])
    return this
  }

  /** The bytes, prefixed with their length (the "delimited" stream framing) if asked. */
  finish(delimited = false): Uint8Array {
    if (!delimited) return Uint8Array.from(this.bytes)
    return Uint8Array.from([...new ProtoWriter().varint(this.bytes.length).bytes, ...this.bytes])
  }
}

function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1
}
