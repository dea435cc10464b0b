/**
 * The JS port of `hotstats_core::ingest::Ingestor` (crates/hotstats-core/src/ingest/): the same
 * drain (copy, then compare-and-swap the tail), admission in arrival order, grouping by key
 * and runs into a JsSlidingWindow. There is no thread: it drains when asked (`flush`, reads),
 * and lib/ingest/ingest.ts calls `flush` on a timer on the owner's event loop.
 */
import { CLOSED, FREE, HEAD, KEY_COUNT, KEY_LOG_USED, type Layout, PENDING, P_CLOSED, POOL_HEADER, readLayout, REJECTED, RingView, STATE, TAIL } from './ring'
import { JsSlidingWindow, patternOk, summarize } from '../window/js'
import { JsQuantileSketch } from '../quantile/js'

const BATCH = 4096
const decoder = new TextDecoder()

interface RingState {
  view: RingView
  keys: number[]
  keyLogAt: number
  aggregated: number
}

export class JsIngestCore {
  readonly layout: Layout
  private readonly window: JsSlidingWindow
  private readonly rings: RingState[]
  private readonly closedFlag: Int32Array
  private invalid = 0
  private readonly values = new Float64Array(BATCH)
  private readonly times = new Float64Array(BATCH)
  private readonly keyIds = new Uint32Array(BATCH)
  private readonly patterns = new Int32Array(BATCH)
  private readonly ids = new Int32Array(BATCH)
  readonly threads: number = 0

  constructor(sab: SharedArrayBuffer, windowMs: number, buckets: number, relativeAccuracy: number, lateness: number) {
    this.layout = readLayout(sab)
    this.window = new JsSlidingWindow(windowMs, buckets, relativeAccuracy, lateness)
    this.rings = Array.from({ length: this.layout.rings }, (_, r) => ({ view: new RingView(sab, this.layout, r), keys: [], keyLogAt: 0, aggregated: 0 }))
    this.closedFlag = new Int32Array(sab, 0, POOL_HEADER / 4)
  }

  get watermark(): number {
    return this.window.watermark
  }

  /** Aggregates every published event now; returns how many. */
  flush(): number {
    let moved = 0
    for (const st of this.rings) {
      const v = st.view
      const state = v.flag(STATE)
      if (state === FREE) continue
      for (;;) {
        const n = this.take(v)
        if (n === 0) break
        st.aggregated += n
        moved += n
        this.apply(st, n)
      }
      if (state === CLOSED && v.load(TAIL) === v.load(HEAD)) {
        st.keys = []
        st.keyLogAt = 0
        v.setFlag(KEY_COUNT, 0)
        v.setFlag(KEY_LOG_USED, 0)
        v.setFlag(STATE, FREE)
      }
    }
    return moved
  }

  private take(v: RingView): number {
    const capacity = this.layout.capacity
    const mask = capacity - 1
    for (;;) {
      const t = v.load(TAIL)
      const h = v.load(HEAD)
      const avail = h - t
      if (avail <= 0 || avail > capacity) return 0
      const n = Math.min(avail, BATCH)
      for (let k = 0; k < n; k++) {
        const i = (t + k) & mask
        this.values[k] = v.values[i]
        this.times[k] = v.times[i]
        this.keyIds[k] = v.keys[i]
        this.patterns[k] = v.patterns[i]
      }
      if (Atomics.compareExchange(v.big, TAIL / 8, BigInt(t), BigInt(t + n)) === BigInt(t)) return n
    }
  }

  private windowKey(st: RingState, k: number): number {
    if (k >= st.keys.length) {
      const published = st.view.flag(KEY_COUNT)
      const log = st.view.keyLog
      const dv = new DataView(log.buffer, log.byteOffset, log.byteLength)
      while (st.keys.length < published && st.keyLogAt + 4 <= log.length) {
        const n = dv.getUint32(st.keyLogAt, true)
        if (n > log.length - st.keyLogAt - 4) break
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        const name = decoder.decode(log.slice(st.keyLogAt + 4, st.keyLogAt + 4 + n))
        try {
          st.keys.push(this.window.keyId(name))
        } catch {
          break
        }
        st.keyLogAt += 4 + Math.ceil(n / 4) * 4
      }
    }
    return k < st.keys.length ? st.keys[k] : -1
  }

  private apply(st: RingState, n: number): void {
    const w = this.window
    const eventTime = this.layout.eventTime
    const now = Date.now()
    if (!eventTime && !w.admit(now, 0)) {
      w.admit(now, n)
      return
    }
    const ids = this.ids
    const counts = new Map<number, number>()
    for (let i = 0; i < n; i++) {
      const t = eventTime ? this.times[i] : now
      const id = this.windowKey(st, this.keyIds[i])
      if (id < 0 || !Number.isFinite(this.values[i]) || !Number.isFinite(t) || !patternOk(this.patterns[i])) {
        this.invalid++
        ids[i] = -1
      } else if (eventTime && !w.admit(t, 1)) {
        ids[i] = -1
      } else {
        ids[i] = id
        counts.set(id, (counts.get(id) ?? 0) + 1)
      }
    }
    // Stable grouping by window key id, in ascending id order as the core's counting sort.
    const order = new Uint32Array([...counts.values()].reduce((a, b) => a + b, 0))
    const next = new Map<number, number>()
    let at = 0
    for (const id of [...counts.keys()].sort((a, b) => a - b)) {
      next.set(id, at)
      at += counts.get(id) as number
    }
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id < 0) continue
      const p = next.get(id) as number
      order[p] = i
      next.set(id, p + 1)
    }
    let i = 0
    while (i < order.length) {
      const id = ids[order[i]]
      const t = eventTime ? this.times[order[i]] : now
      const epoch = w.epochOf(t)
      const from = i
      while (i < order.length && ids[order[i]] === id && (!eventTime || w.epochOf(this.times[order[i]]) === epoch)) i++
      const values = new Float64Array(i - from)
      const patterns = new Int32Array(i - from)
      let any = false
      for (let k = from; k < i; k++) {
        values[k - from] = this.values[order[k]]
        patterns[k - from] = this.patterns[order[k]]
        if (patterns[k - from] >= 0) any = true
      }
      w.recordAdmittedRun(id, t, values, any ? patterns : null)
    }
  }

  stats(key: string, now: number): number[] {
    this.flush()
    return summarize(this.window.windowMs, this.window.liveOf(key, now))
  }

  quantiles(key: string, now: number, qs: Float64Array): number[] {
    this.flush()
    const s = new JsQuantileSketch(this.window.relativeAccuracy, 2048)
    for (const b of this.window.liveOf(key, now)) s.merge(b.sketch)
    return Array.from(qs, (q) => s.quantile(q))
  }

  keys(): string[] {
    this.flush()
    return this.window.keyNames()
  }

  /** [accepted, aggregated, inFlight, dropped, rejected, late, invalid], as the binding's. */
  counts(): number[] {
    const c = [0, 0, 0, 0, 0, this.window.lateCount, this.invalid]
    for (const st of this.rings) {
      const tail = st.view.load(TAIL)
      const head = st.view.load(HEAD)
      c[0] += head
      c[1] += st.aggregated
      c[2] += Math.max(0, head - tail)
      c[3] += Math.max(0, tail - st.aggregated)
      c[4] += st.view.load(REJECTED)
    }
    return c
  }

  pending(): number {
    return this.rings.filter((st) => st.view.flag(PENDING) !== 0).length
  }

  seal(): void {
    Atomics.store(this.closedFlag, P_CLOSED / 4, 1)
  }

  close(): number {
    this.seal()
    this.flush()
    return this.pending()
  }

  get cpu(): number[] {
    return [NaN, 1, 1]
  }
}
