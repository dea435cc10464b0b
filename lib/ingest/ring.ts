/**
 * The ingestor's shared memory, as crates/hotstats-core/src/ingest/ring.rs lays it out (read
 * its module doc): a SharedArrayBuffer holding a pool of single-producer rings. `RingWriter`
 * is the producer's half of the protocol; both backends use it (the consumer is a native
 * thread, or lib/ingest/js.ts on the JS backend).
 *
 * A producer writes slots with plain stores and publishes them by storing `head` (a
 * sequentially consistent Atomics.store). It publishes every PUBLISH_EVERY events, on
 * `publish()`, and at the end of the current task (a microtask), so a burst costs one
 * atomic store per PUBLISH_EVERY events and nothing stays unpublished once the thread yields.
 */

export const MAGIC = 0x4853494e
export const VERSION = 1
export const POOL_HEADER = 256
export const RING_HEADER = 192
export const MAX_RINGS = 1024
export const MAX_CAPACITY = 1 << 24
export const MAX_KEY_LOG = 1 << 24
/** Events between two publishes in a burst. */
export const PUBLISH_EVERY = 256

// Pool header (byte offsets).
const P_MAGIC = 0
const P_VERSION = 4
const P_RINGS = 8
const P_CAPACITY = 12
const P_KEY_LOG = 16
const P_RING_BYTES = 20
const P_EVENT_TIME = 24
const P_POLICY = 28
export const P_CLOSED = 32

// Ring header (byte offsets from the ring's start).
export const HEAD = 0
export const REJECTED = 8
export const KEY_COUNT = 16
export const KEY_LOG_USED = 20
export const PENDING = 24
export const TAIL = 64
export const STATE = 128

export const FREE = 0
export const OWNED = 1
export const CLOSED = 2

export type FullPolicy = 'reject' | 'drop-oldest' | 'wait'
const POLICIES: readonly FullPolicy[] = ['reject', 'drop-oldest', 'wait']

export interface Layout {
  rings: number
  capacity: number
  keyLogBytes: number
  eventTime: boolean
  policy: FullPolicy
}

export function checkLayout(l: Layout): void {
  if (!Number.isInteger(l.rings) || l.rings < 1 || l.rings > MAX_RINGS) throw new RangeError(`producers must be an integer from 1 to ${MAX_RINGS}, got ${l.rings}`)
  const c = l.capacity
  if (!Number.isInteger(c) || c < 16 || c > MAX_CAPACITY || (c & (c - 1)) !== 0) throw new RangeError(`capacity must be a power of two from 16 to ${MAX_CAPACITY}, got ${c}`)
  const k = l.keyLogBytes
  if (!Number.isInteger(k) || k < 64 || k > MAX_KEY_LOG || k % 4 !== 0) throw new RangeError(`keyLogBytes must be a multiple of 4 from 64 to ${MAX_KEY_LOG}, got ${k}`)
  if (!POLICIES.includes(l.policy)) throw new RangeError(`onFull must be one of ${POLICIES.join(', ')}, got ${String(l.policy)}`)
}

export function ringBytes(l: Layout): number {
  return Math.ceil((RING_HEADER + 24 * l.capacity + l.keyLogBytes) / 64) * 64
}

/** A zeroed pool with its header written. */
export function createPool(l: Layout): SharedArrayBuffer {
  checkLayout(l)
  const sab = new SharedArrayBuffer(POOL_HEADER + l.rings * ringBytes(l))
  const h = new Uint32Array(sab, 0, POOL_HEADER / 4)
  h[P_MAGIC / 4] = MAGIC
  h[P_VERSION / 4] = VERSION
  h[P_RINGS / 4] = l.rings
  h[P_CAPACITY / 4] = l.capacity
  h[P_KEY_LOG / 4] = l.keyLogBytes
  h[P_RING_BYTES / 4] = ringBytes(l)
  h[P_EVENT_TIME / 4] = l.eventTime ? 1 : 0
  h[P_POLICY / 4] = POLICIES.indexOf(l.policy)
  return sab
}

/** The layout of a pool made by createPool (a TypeError/RangeError for anything else). */
export function readLayout(sab: unknown): Layout {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < POOL_HEADER) throw new TypeError('an ingestor handle holds its pool (a SharedArrayBuffer)')
  const h = new Uint32Array(sab, 0, POOL_HEADER / 4)
  if (h[P_MAGIC / 4] !== MAGIC || h[P_VERSION / 4] !== VERSION) throw new RangeError('not an ingest pool (magic or version)')
  const l: Layout = {
    rings: h[P_RINGS / 4],
    capacity: h[P_CAPACITY / 4],
    keyLogBytes: h[P_KEY_LOG / 4],
    eventTime: h[P_EVENT_TIME / 4] !== 0,
    policy: POLICIES[h[P_POLICY / 4]],
  }
  checkLayout(l)
  if (h[P_RING_BYTES / 4] !== ringBytes(l) || sab.byteLength < POOL_HEADER + l.rings * ringBytes(l)) throw new RangeError("the ingest pool's sizes do not add up")
  return l
}

/** Typed views of one ring. */
export class RingView {
  readonly base: number
  readonly big: BigInt64Array
  readonly i32: Int32Array
  readonly values: Float64Array
  readonly times: Float64Array
  readonly keys: Uint32Array
  readonly patterns: Int32Array
  readonly keyLog: Uint8Array

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: Layout,
    readonly index: number,
  ) {
    const c = layout.capacity
    this.base = POOL_HEADER + index * ringBytes(layout)
    this.big = new BigInt64Array(sab, this.base, RING_HEADER / 8)
    this.i32 = new Int32Array(sab, this.base, RING_HEADER / 4)
    const data = this.base + RING_HEADER
    this.values = new Float64Array(sab, data, c)
    this.times = new Float64Array(sab, data + 8 * c, c)
    this.keys = new Uint32Array(sab, data + 16 * c, c)
    this.patterns = new Int32Array(sab, data + 20 * c, c)
    this.keyLog = new Uint8Array(sab, data + 24 * c, layout.keyLogBytes)
  }

  load(field: number): number {
    return Number(BigInt.asUintN(64, Atomics.load(this.big, field / 8)))
  }

  store(field: number, v: number): void {
    Atomics.store(this.big, field / 8, BigInt(v))
  }

  flag(field: number): number {
    return Atomics.load(this.i32, field / 4)
  }

  setFlag(field: number, v: number): void {
    Atomics.store(this.i32, field / 4, v)
  }
}

const encoder = new TextEncoder()

/** The producer's half: one thread, one ring. */
export class RingWriter {
  readonly ring: RingView
  private readonly mask: number
  private readonly capacity: number
  private readonly dropOldest: boolean
  private readonly closedFlag: Int32Array
  private readonly ids = new Map<string, number>()
  private head: number
  private published: number
  private tail: number
  private scheduled = false
  private released = false
  /** Events this writer refused (ring full or ingestor closed), and dropped (drop-oldest). */
  rejected = 0
  dropped = 0
  accepted = 0

  private constructor(ring: RingView) {
    this.ring = ring
    this.capacity = ring.layout.capacity
    this.mask = this.capacity - 1
    this.dropOldest = ring.layout.policy === 'drop-oldest'
    this.closedFlag = new Int32Array(ring.sab, 0, POOL_HEADER / 4)
    this.head = ring.load(HEAD)
    this.published = this.head
    this.tail = ring.load(TAIL)
  }

  /** Claims a free ring of the pool; a RangeError if every ring is taken. */
  static claim(sab: SharedArrayBuffer): RingWriter {
    const layout = readLayout(sab)
    for (let r = 0; r < layout.rings; r++) {
      const view = new RingView(sab, layout, r)
      if (Atomics.compareExchange(view.i32, STATE / 4, FREE, OWNED) === FREE) return new RingWriter(view)
    }
    throw new RangeError(`every one of the ingestor's ${layout.rings} producer rings is taken (raise \`producers\`, or close producers you no longer use)`)
  }

  /** Keys this writer has named. */
  get keyCount(): number {
    return this.ids.size
  }

  get closed(): boolean {
    return Atomics.load(this.closedFlag, P_CLOSED / 4) !== 0
  }

  /** This ring's id for `name`, appended to its key log on first use. */
  keyId(name: string): number {
    let id = this.ids.get(name)
    if (id !== undefined) return id
    const bytes = encoder.encode(name)
    const used = this.ring.flag(KEY_LOG_USED)
    const need = 4 + Math.ceil(bytes.length / 4) * 4
    if (used + need > this.ring.layout.keyLogBytes) throw new RangeError(`this producer's key log is full (${this.ids.size} keys; raise keyLogBytes)`)
    new DataView(this.ring.sab, this.ring.keyLog.byteOffset + used, 4).setUint32(0, bytes.length, true)
    this.ring.keyLog.set(bytes, used + 4)
    this.ring.setFlag(KEY_LOG_USED, used + need)
    id = this.ring.flag(KEY_COUNT)
    this.ring.setFlag(KEY_COUNT, id + 1)
    this.ids.set(name, id)
    return id
  }

  /** Writes one event (checked by the caller); false if refused. */
  push(key: number, value: number, time: number, pattern: number): boolean {
    if (this.head === this.published && !this.begin()) return false
    if (this.head - this.tail >= this.capacity) {
      this.tail = this.ring.load(TAIL)
      if (this.head - this.tail >= this.capacity && !this.makeRoom()) return false
    }
    const i = this.head & this.mask
    this.ring.values[i] = value
    this.ring.times[i] = time
    this.ring.keys[i] = key
    this.ring.patterns[i] = pattern
    this.head++
    this.accepted++
    if (this.head - this.published >= PUBLISH_EVERY) this.publish()
    return true
  }

  /** The first unpublished event: announce it (pending), then look at the closed flag. */
  private begin(): boolean {
    if (this.released) throw new Error('this producer is closed')
    this.ring.setFlag(PENDING, 1)
    if (this.closed) {
      this.ring.setFlag(PENDING, 0)
      this.refuse()
      return false
    }
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => {
        this.scheduled = false
        if (!this.released) this.publish()
      })
    }
    return true
  }

  private refuse(): void {
    this.rejected++
    this.ring.store(REJECTED, this.ring.load(REJECTED) + 1)
  }

  /** The ring is full: drop the oldest (drop-oldest) or refuse. */
  private makeRoom(): boolean {
    if (!this.dropOldest) {
      if (this.head === this.published) this.ring.setFlag(PENDING, 0)
      this.refuse()
      return false
    }
    this.publish()
    this.ring.setFlag(PENDING, 1)
    for (;;) {
      const t = this.ring.load(TAIL)
      if (this.head - t < this.capacity) {
        this.tail = t
        return true
      }
      if (Atomics.compareExchange(this.ring.big, TAIL / 8, BigInt(t), BigInt(t + 1)) === BigInt(t)) {
        this.tail = t + 1
        this.dropped++
        return true
      }
    }
  }

  /** Makes every event written so far visible to the consumer. */
  publish(): void {
    if (this.head !== this.published) {
      this.ring.store(HEAD, this.head)
      this.published = this.head
    }
    this.ring.setFlag(PENDING, 0)
  }

  /** Events of this ring not consumed yet (published or not). */
  get inFlight(): number {
    return this.head - this.ring.load(TAIL)
  }

  /** Publishes and hands the ring back; the consumer frees it once drained. */
  close(): void {
    if (this.released) return
    this.publish()
    this.released = true
    this.ring.setFlag(STATE, CLOSED)
  }
}
