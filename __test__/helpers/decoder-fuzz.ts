// The decoder fuzzer (issue 19: "fuzz what ships"): a seeded mutator over the committed corpora
// (fuzz/corpus/<format>/) and over valid states built from random data, driving the public API
// of the backend in use, the decoder users' bytes reach. Every input must decode to a valid
// object (it re-serializes to the same bytes, its reads are as documented, merging it keeps
// what serializes deserializable) or throw a RangeError, and an object a merge was refused on
// is unchanged. With the native binary loaded, the JS port of the QuantileSketch decoder must
// agree with the native one on every input (which bytes are accepted, and what they hold).
//
// Run by scripts/fuzz-ts.ts (CI: 500k inputs per format per backend) and, briefly, by
// __test__/decoders.spec.ts.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import type * as Index from '../../index'
import type * as HllJs from '../../lib/hll/js'
import type * as QuantileJs from '../../lib/quantile/js'
import type { native as Native } from '../../lib/backend/backend'
import type * as ServerState from '../../server/state'
import type * as ServerStore from '../../server/store'
import type * as ServerMapping from '../../server/mapping'
import type * as ServerCounters from '../../server/counters'
import type * as ServerExposition from '../../server/exposition'

/**
 * The library under test: the sources (the ava spec, through tsx) or the compiled dist/ (the CI
 * run: what users load, and faster than tsx's transpiled module getters in hot loops).
 */
export interface Lib {
  index: typeof Index
  native: typeof Native
  hllJs: typeof HllJs
  quantileJs: typeof QuantileJs
  server: { state: typeof ServerState; store: typeof ServerStore; mapping: typeof ServerMapping; counters: typeof ServerCounters; exposition: typeof ServerExposition }
}

/** Loads the library from the sources (`'src'`) or from dist/ (`npm run build:ts` first). */
export function loadLib(from: 'src' | 'dist'): Lib {
  const base = from === 'src' ? join(ROOT) : join(ROOT, 'dist')
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    index: require(join(base, 'index')),
    native: require(join(base, 'lib', 'backend', 'backend')).native,
    hllJs: require(join(base, 'lib', 'hll', 'js')),
    quantileJs: require(join(base, 'lib', 'quantile', 'js')),
    server: {
      state: require(join(base, 'server', 'state')),
      store: require(join(base, 'server', 'store')),
      mapping: require(join(base, 'server', 'mapping')),
      counters: require(join(base, 'server', 'counters')),
      exposition: require(join(base, 'server', 'exposition')),
    },
  }
}

export const FORMATS = ['hll', 'moments', 'counters', 'quantile', 'experiment', 'server-state'] as const
export type Format = (typeof FORMATS)[number]

/** The committed corpus folder of each format (shared with the cargo-fuzz target of the same format, if any). */
const CORPUS: Record<Format, string> = { hll: 'hll_redis', moments: 'moments', counters: 'counters', quantile: 'quantile', experiment: 'experiment', 'server-state': 'server_state' }
const ROOT = join(__dirname, '..', '..')
const REGISTERS = 16384
const MAX_REGISTER = 51

/** mulberry32: a small seeded PRNG (the run is reproducible from its seed). */
export class Prng {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  /** Uniform in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n
  }
  float(): number {
    return this.u32() / 2 ** 32
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]
  }
}

export interface Failure {
  format: Format
  iteration: number
  hex: string
  message: string
}

export interface FormatResult {
  format: Format
  inputs: number
  decoded: number
  refused: number
  ms: number
}

class Bad extends Error {}
function check(cond: boolean, why: string): asserts cond {
  if (!cond) throw new Bad(why)
}
const hex = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex')
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0

/** Decodes `bytes`; a RangeError is a refusal (false), any other error a failure. */
function refuses(f: () => void): boolean {
  try {
    f()
    return false
  } catch (e) {
    if (e instanceof Bad) throw e
    if (e instanceof RangeError) return true
    throw new Bad(`threw ${(e as Error)?.constructor?.name ?? typeof e} (not a RangeError): ${(e as Error)?.message ?? String(e)}`)
  }
}

/** `target.merge(x)` either succeeds or throws a RangeError leaving `target` as it was (compared by bytes). */
function mergeOrUnchanged<T extends { serialize(): Uint8Array }>(target: T, merge: () => void): boolean {
  const before = target.serialize()
  if (refuses(merge)) {
    check(same(target.serialize(), before), 'a refused merge changed the target')
    return false
  }
  return true
}

/** The fuzzer over one loaded library. */
export function createFuzzer(lib: Lib) {
  const { Experiment, GCounter, HyperLogLog, Moments, PNCounter, QuantileSketch } = lib.index
  type Experiment = Index.Experiment
  type HyperLogLog = Index.HyperLogLog
  type Moments = Index.Moments
  type GCounter = Index.GCounter
  type PNCounter = Index.PNCounter
  type QuantileSketch = Index.QuantileSketch
  const { native, hllJs } = lib
  const { JsQuantileSketch } = lib.quantileJs
  type JsQuantileSketch = QuantileJs.JsQuantileSketch

  // ---- valid states built from random data (structure-aware seeds) -----------------------------

  const EXTREMES = [0, -0, 1, -1, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 2 ** 53, 0.1]

  function randomValue(r: Prng): number {
    const k = r.int(10)
    if (k === 0) return r.pick(EXTREMES)
    if (k < 4) return (r.float() - 0.5) * 10 ** r.int(20)
    return Math.round(r.float() * 1000)
  }

  function randomString(r: Prng): string {
    const alphabet = ['a', 'b', 'z', '0', 'ü', '\u{1F600}', '\uFEFF', ' ', ':']
    let s = ''
    const n = 1 + r.int(6)
    for (let i = 0; i < n; i++) s += r.pick(alphabet)
    return s
  }

  /** A Redis sparse HLL string: random XZERO/ZERO/VAL runs covering every register. */
  function randomSparse(r: Prng): Uint8Array {
    const ops: number[] = []
    let left = REGISTERS
    while (left > 0) {
      const k = r.int(3)
      if (k === 0) {
        const run = Math.min(left, 1 + r.int(16384))
        ops.push(0x40 | ((run - 1) >> 8), (run - 1) & 0xff)
        left -= run
      } else if (k === 1) {
        const run = Math.min(left, 1 + r.int(64))
        ops.push((run - 1) & 0x3f)
        left -= run
      } else {
        const run = Math.min(left, 1 + r.int(4))
        ops.push(0x80 | (r.int(32) << 2) | (run - 1))
        left -= run
      }
    }
    const out = new Uint8Array(16 + ops.length)
    out.set([0x48, 0x59, 0x4c, 0x4c, 1])
    out.set(ops, 16)
    return out
  }

  const GENERATORS: Record<Format, (r: Prng) => Uint8Array> = {
    hll(r) {
      if (r.int(2) === 0) return randomSparse(r)
      const h = new HyperLogLog()
      const n = r.pick([0, 1, 5, 100, 3000])
      h.addMany(Array.from({ length: n }, (_, i) => `${i}:${r.u32()}`))
      return h.toRedis()
    },
    moments(r) {
      const m = new Moments()
      const n = r.pick([0, 1, 2, 3, 10, 100])
      for (let i = 0; i < n; i++) m.add(randomValue(r))
      if (r.int(4) === 0) m.merge(new Moments().addMany(Array.from({ length: 70 }, () => randomValue(r))))
      return m.serialize()
    },
    counters(r) {
      const pn = r.int(2) === 0
      const c = pn ? new PNCounter({ replica: randomString(r), incarnation: r.int(5) }) : new GCounter({ replica: randomString(r), incarnation: r.int(5) })
      for (let k = r.int(4); k > 0; k--) {
        const amount = r.int(3) === 0 ? r.pick([0, 2 ** 53 - 1, 2 ** 32]) : r.int(1000)
        // A huge amount may not fit on top of the earlier ones (a RangeError, nothing added).
        if (c instanceof PNCounter && r.int(2) === 0) refuses(() => c.dec(amount))
        else refuses(() => c.inc(amount))
        const other = pn ? new PNCounter({ replica: randomString(r), incarnation: r.int(3) }).inc(r.int(50)) : new GCounter({ replica: randomString(r), incarnation: r.int(3) }).inc(r.int(50))
        ;(c as GCounter).merge(other as GCounter)
      }
      return c.serialize()
    },
    experiment(r) {
      const e = new Experiment()
      for (let k = r.int(4); k > 0; k--) {
        const v = e.variant(r.pick(['A', 'B', 'control', '\uFEFFB', 'ü']))
        v.expose(r.int(1000))
        v.convert(r.int(10))
        for (let i = r.pick([0, 1, 3, 100]); i > 0; i--) v.observe(randomValue(r))
      }
      return e.serialize()
    },
    'server-state'(r) {
      const store = newStore()
      const now = Date.now()
      for (let k = r.int(6); k > 0; k--) {
        const type = r.pick(['c', 'g', 'ms', 'h', 'd', 's'] as const)
        const key = `${r.pick(['m', 'req.time', 'a_b', 'x:y'])}${r.int(4)}${r.int(3) === 0 ? `|${randomString(r)}:${randomString(r)}` : ''}`
        const st: ServerState.SeriesState = { key, type, count: r.int(100), lastSeen: now - r.int(1e6) }
        if (type === 'c') [st.sum, st.comp] = [randomValue(r), r.int(2) ? 0 : 1e-9]
        else if (type === 'g') st.value = r.int(4) === 0 ? null : randomValue(r)
        else if (type === 's') st.hll = Buffer.from(GENERATORS.hll(r)).toString('base64')
        else {
          st.sketch = Buffer.from(GENERATORS.quantile(r)).toString('base64')
          if (r.int(2)) st.welford = [r.int(50), randomValue(r), r.int(1000)]
        }
        refuses(() => serverState.restoreSeries(store, st, now)) // a random sketch may overflow; skip it
      }
      return new Uint8Array(serverState.encodeState(store))
    },
    quantile(r) {
      const relativeAccuracy = r.pick([0.01, 0.01, 0.05, 1e-6, 0.5])
      const sk = new QuantileSketch({ relativeAccuracy, maxBins: r.pick([1, 4, 64, 2048]) })
      const n = r.pick([0, 1, 3, 50, 600])
      for (let i = 0; i < n; i++) {
        const v = randomValue(r)
        if (r.int(8) === 0) refuses(() => sk.add(v, r.pick([0.5, 1e-300, 3, 1e300, 1e308]))) // may overflow the count: refused
        else sk.add(v)
      }
      return sk.serialize()
    },
  }

  // ---- the mutator ------------------------------------------------------------------------------

  const U32S = [0, 1, 2, 7, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 24, 2 ** 24 + 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
  const F64S = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, Number.MAX_VALUE, 5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e-6, 1e-7, 0.999999, 1e308]
  const NAN_BITS: Array<[number, number]> = [
    [0, 0x7ff80000],
    [0, 0xfff80000],
    [1, 0x7ff00000],
    [0xffffffff, 0xffffffff],
  ]
  const MAX_LEN = 1 << 16

  function mutate(r: Prng, input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    let b = input.slice()
    const steps = 1 + (r.int(4) === 0 ? r.int(4) : 0)
    for (let s = 0; s < steps; s++) {
      const n = b.length
      const at = r.int(Math.max(n, 1))
      const op = r.int(13)
      switch (op) {
        case 0: // flip a bit
          if (n) b[at] ^= 1 << r.int(8)
          break
        case 1: // an interesting byte
          if (n) b[at] = r.pick([0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xfe, 0xff])
          break
        case 2: // an interesting u32 at an 4-aligned (or any) offset
        case 3: {
          if (n < 4) break
          const o = r.int(2) ? (r.int(n >> 2) << 2) : r.int(n - 3)
          if (o + 4 > n) break
          const v = r.int(3) === 0 ? (r.u32() >>> r.int(32)) : r.pick(U32S)
          new DataView(b.buffer).setUint32(o, v, true)
          break
        }
        case 4: // an interesting f64 or NaN bit pattern at an 8-aligned offset
        case 5: {
          if (n < 8) break
          const o = r.int(n >> 3) << 3
          const dv = new DataView(b.buffer)
          if (r.int(4) === 0) {
            const [lo, hi] = r.pick(NAN_BITS)
            dv.setUint32(o, lo, true)
            dv.setUint32(o + 4, hi, true)
          } else dv.setFloat64(o, r.int(4) === 0 ? dv.getFloat64(o, true) * r.pick([-1, 2, 0.5, 1 + 1e-9]) : r.pick(F64S), true)
          break
        }
        case 6: // truncate
          b = b.slice(0, r.int(n + 1))
          break
        case 7: // append random bytes
        case 8: {
          // insert random bytes
          const k = 1 + r.int(r.int(2) ? 8 : 64)
          const ins = new Uint8Array(k).map(() => r.u32() & 0xff)
          const cut = op === 7 ? n : r.int(n + 1)
          const out = new Uint8Array(n + k)
          out.set(b.subarray(0, cut))
          out.set(ins, cut)
          out.set(b.subarray(cut), cut + k)
          b = out
          break
        }
        case 9: {
          // delete a range
          const k = 1 + r.int(Math.min(64, Math.max(n - at, 1)))
          const out = new Uint8Array(Math.max(0, n - k))
          out.set(b.subarray(0, at))
          out.set(b.subarray(at + k).subarray(0, out.length - at), at)
          b = out
          break
        }
        case 10: {
          // splice: a prefix of this input and a suffix of another
          const o = r.pick(pool)
          const from = r.int(o.length + 1)
          const out = new Uint8Array(at + (o.length - from))
          out.set(b.subarray(0, at))
          out.set(o.subarray(from), at)
          b = out
          break
        }
        case 11: // increment or decrement a byte (length fields, counts)
          if (n) b[at] = (b[at] + (r.int(2) ? 1 : 255)) & 0xff
          break
        default: {
          // random bytes (rarely), else copy a chunk within
          if (r.int(16) === 0) b = new Uint8Array(r.int(96)).map(() => r.u32() & 0xff)
          else if (n > 1) {
            const from = r.int(n)
            const k = 1 + r.int(Math.min(16, n - from))
            b.copyWithin(r.int(n), from, from + k)
          }
        }
      }
      if (b.length > MAX_LEN) b = b.slice(0, MAX_LEN)
    }
    return b
  }

  // ---- per-format oracles: true if the input decoded, false if refused (RangeError) ------------

  const REF_HLL = new HyperLogLog().addMany(['a', 'b', 'c', 'ü'])
  const REF_MOMENTS = new Moments().addMany([1, 2, 3.5, -7]).serialize()
  const REF_G = new GCounter({ replica: 'ref', incarnation: 1 }).inc(3).serialize()
  const REF_PN = new PNCounter({ replica: 'ref', incarnation: 1 }).inc(3).dec(1).serialize()
  const REF_QS = new QuantileSketch({ maxBins: 64 }).addMany([1, 2, 3, -4, 0, 1e9]).serialize()

  let hllDecoded = 0
  function checkHll(bytes: Uint8Array): boolean {
    let h!: HyperLogLog
    if (refuses(() => (h = HyperLogLog.fromRedis(bytes)))) return false
    const regs = h.registersCopy()
    for (let i = 0; i < REGISTERS; i++) if (regs[i] > MAX_REGISTER) check(false, `register ${i} is ${regs[i]}`)
    const c = h.count()
    check(Number.isSafeInteger(c) && c >= 0, `count ${c}`)
    if (native !== null) check(c === hllJs.estimate(regs), 'the native count differs from the JS estimator')
    // The round trip and the merge cost ~5 passes over 16384 registers: every 4th decoded input.
    if (++hllDecoded % 4 !== 0) return true
    const again = HyperLogLog.fromRedis(h.toRedis())
    check(same(again.registersCopy(), regs), 'toRedis() does not decode to the same registers')
    const into = HyperLogLog.fromRegisters(REF_HLL.registersCopy())
    into.merge(h)
    const merged = into.registersCopy()
    const ref = REF_HLL.registersCopy()
    for (let i = 0; i < REGISTERS; i++) if (merged[i] !== Math.max(ref[i], regs[i])) check(false, 'merge is not the register-wise max')
    return true
  }

  function checkMoments(bytes: Uint8Array): boolean {
    let m!: Moments
    if (refuses(() => (m = Moments.deserialize(bytes)))) return false
    check(same(m.serialize(), bytes), 're-serializes to other bytes')
    const n = m.count
    check(Number.isSafeInteger(n) || n === 2 ** 53, `count ${n}`)
    if (n === 0) check([m.min, m.max, m.mean].every(Number.isNaN) && m.sum === 0, 'an empty summary reads other than empty')
    else check(Number.isFinite(m.min) && Number.isFinite(m.max) && m.min <= m.max, `min ${m.min} max ${m.max}`)
    for (const f of [() => m.variance(), () => m.skewness(), () => m.kurtosis(), () => m.stddev(0)]) check(typeof f() === 'number', 'a read is not a number')
    const into = Moments.deserialize(REF_MOMENTS)
    if (mergeOrUnchanged(into, () => into.merge(m))) {
      check(into.count === 4 + n, 'merged count')
      // What a merge makes serializes and deserializes.
      check(!refuses(() => Moments.deserialize(into.serialize())), 'a merge result does not deserialize')
    }
    // Adding to a decoded summary keeps its min/max honest.
    if (n < 2 ** 53) {
      const a = Moments.deserialize(bytes).add(0.25)
      check(a.min <= 0.25 && a.max >= 0.25 && (n === 0 ? a.min === 0.25 && a.max === 0.25 : true), 'add after decode')
    }
    return true
  }

  function checkCounters(bytes: Uint8Array): boolean {
    let decoded = false
    for (const [Kind, ref] of [
      [GCounter, REF_G],
      [PNCounter, REF_PN],
    ] as const) {
      let c!: GCounter | PNCounter
      if (refuses(() => (c = Kind.deserialize(bytes)))) continue
      decoded = true
      check(same(c.serialize(), bytes), `${Kind.name} re-serializes to other bytes`)
      const v = c.value()
      check(Number.isFinite(v) && (Kind === PNCounter || v >= 0), `value ${v}`)
      const into = Kind.deserialize(ref)
      if (mergeOrUnchanged(into, () => (into as GCounter).merge(c as GCounter))) {
        check(!refuses(() => Kind.deserialize(into.serialize())), 'a merge result does not deserialize')
        const twice = Kind.deserialize(into.serialize())
        ;(twice as GCounter).merge(c as GCounter)
        check(same(twice.serialize(), into.serialize()), 'merge is not idempotent')
      }
    }
    return decoded
  }

  function checkQuantile(bytes: Uint8Array): boolean {
    let sk!: QuantileSketch
    const refused = refuses(() => (sk = QuantileSketch.deserialize(bytes)))
    if (native !== null) {
      // The twins agree: the JS port accepts exactly what the native decoder accepts, with the same state.
      let js!: JsQuantileSketch
      const jsRefused = refuses(() => (js = JsQuantileSketch.deserialize(bytes)))
      check(jsRefused === refused, `native ${refused ? 'refuses' : 'accepts'}, the JS port ${jsRefused ? 'refuses' : 'accepts'}`)
      if (!refused) check(same(js.serialize(), bytes), 'the JS port re-serializes to other bytes')
    }
    if (refused) return false
    check(same(sk.serialize(), bytes), 're-serializes to other bytes')
    const n = sk.count
    check(Number.isFinite(n) && n >= 0, `count ${n}`)
    if (n === 0) {
      check(Number.isNaN(sk.quantile(0.5)) && Number.isNaN(sk.rank(0)) && sk.sum === 0, 'an empty sketch reads other than empty')
    } else {
      const [min, max] = [sk.min, sk.max]
      check(Number.isFinite(min) && Number.isFinite(max) && min <= max, 'min/max')
      check(sk.quantile(0) === min && sk.quantile(1) === max, 'q=0/q=1 are not min/max')
      for (const q of [0.001, 0.25, 0.5, 0.99]) {
        const v = sk.quantile(q)
        check(v >= min && v <= max, `quantile(${q}) = ${v} outside [${min}, ${max}]`)
      }
      for (const v of [min, 0, max, -Infinity, Infinity]) {
        const rk = sk.rank(v)
        check(rk >= 0 && rk <= 1, `rank(${v}) = ${rk}`)
      }
    }
    const into = QuantileSketch.deserialize(REF_QS)
    if (mergeOrUnchanged(into, () => into.merge(sk))) {
      const out = into.serialize()
      check(!refuses(() => QuantileSketch.deserialize(out)), 'a merge result does not deserialize')
    }
    return true
  }

  const REF_XP = (() => {
    const e = new Experiment()
    e.variant('A').expose(10).convert(2).observe(1.5)
    e.variant('B').expose(3).observe(2)
    return e.serialize()
  })()

  /** Experiment bytes: decodes (same bytes again) or a RangeError; a merge of them succeeds or leaves the target unchanged. */
  function checkExperiment(bytes: Uint8Array): boolean {
    let e!: Experiment
    if (refuses(() => (e = Experiment.deserialize(bytes)))) {
      // merge(bytes) parses the same way: refused, nothing changed.
      const into = Experiment.deserialize(REF_XP)
      check(refuses(() => into.merge(bytes)), 'merge(bytes) accepts what deserialize refuses')
      check(same(into.serialize(), REF_XP), 'a refused merge(bytes) changed the experiment')
      return false
    }
    check(same(e.serialize(), bytes), 're-serializes to other bytes')
    const into = Experiment.deserialize(REF_XP)
    if (mergeOrUnchanged(into, () => into.merge(bytes))) check(!refuses(() => Experiment.deserialize(into.serialize())), 'a merge result does not deserialize')
    return true
  }

  // ---- the server's state file (server/state.ts): a checksummed JSON body of series states -----

  const serverState = lib.server.state
  const newStore = () =>
    new lib.server.store.Store({
      windows: [60],
      relativeAccuracy: 0.01,
      maxSeries: 100,
      maxSeriesPerMetric: 100,
      ttlMs: 0,
      mapper: lib.server.mapping.NameMapper.default(),
      counters: new lib.server.counters.SharedCounters(),
    })
  const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (NaN|[+-]Inf|-?[0-9][0-9.e+-]*)$/
  const seriesOf = (bytes: Uint8Array) => JSON.stringify((JSON.parse(Buffer.from(bytes.subarray(48)).toString('utf8')) as { series: unknown }).series)

  let statesLoaded = 0
  /** Loads or is refused with a StateFileError; what loads renders valid text and saves to a file that loads the same. */
  function checkServerState(bytes: Uint8Array): boolean {
    const store = newStore()
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    try {
      serverState.loadStateBytes(store, 'fuzz', buf)
    } catch (e) {
      if (e instanceof serverState.StateFileError) return false
      throw new Bad(`threw ${(e as Error)?.constructor?.name} (not a StateFileError): ${(e as Error)?.message}`)
    }
    const text = [...lib.server.exposition.renderText(store, 'prometheus')].join('')
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
      check(SAMPLE_LINE.test(line), `not an exposition sample line: ${JSON.stringify(line)}`)
    }
    // Saving and loading again costs as much as the rest: every 4th loaded input.
    if (++statesLoaded % 4 !== 0) return true
    const again = new Uint8Array(serverState.encodeState(store))
    const store2 = newStore()
    try {
      serverState.loadStateBytes(store2, 'again', Buffer.from(again))
    } catch (e) {
      throw new Bad(`the state saved after loading does not load: ${(e as Error).message}`)
    }
    check(seriesOf(serverState.encodeState(store2)) === seriesOf(again), 'loading the saved state again changes it')
    return true
  }

  /** Reseals a state file around a new JSON body (length and SHA-256), as encodeState does. */
  function seal(body: string): Uint8Array {
    const b = Buffer.from(body, 'utf8')
    const header = Buffer.alloc(48)
    header.write('HSSV', 0, 'latin1')
    header.writeUInt32LE(1, 4)
    header.writeBigUInt64LE(BigInt(b.length), 8)
    createHash('sha256').update(b).digest().copy(header, 16)
    return new Uint8Array(Buffer.concat([header, b]))
  }

  const JSON_VALUES: unknown[] = [0, -1, 1.5, 2 ** 53, 2 ** 53 + 2, 1e308, -0, '', 'abc', '1\nevil 5', '\u2028', null, true, [], {}, [1, 2, 3], [1, 2, -3], 'SFlMTA==']
  const FIELDS = ['key', 'type', 'count', 'lastSeen', 'sum', 'comp', 'value', 'sketch', 'welford', 'hll', 'extra']

  /** Structure-aware: edits fields of the JSON body (values, base64 payloads mutated as bytes, deletions), then reseals; sometimes raw bytes. */
  function mutateServerState(r: Prng, input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    if (r.int(8) === 0) return mutate(r, input, pool) // header and checksum checks
    let doc: { savedAt?: unknown; series?: unknown[] }
    try {
      doc = JSON.parse(Buffer.from(input.subarray(48)).toString('utf8'))
    } catch {
      return mutate(r, input, pool)
    }
    const series = Array.isArray(doc.series) ? doc.series : (doc.series = [])
    for (let k = 1 + r.int(3); k > 0; k--) {
      const i = r.int(series.length)
      const st = series[i] as Record<string, unknown> | undefined
      const op = r.int(10)
      if (st === undefined || typeof st !== 'object' || st === null || op === 9) {
        if (r.int(2) && series.length) series.push(JSON.parse(JSON.stringify(series[r.int(series.length)])))
        else series[i] = structuredClone(r.pick(JSON_VALUES))
        continue
      }
      const field = r.pick(FIELDS)
      if (op < 3 && (typeof st.sketch === 'string' || typeof st.hll === 'string')) {
        const f = typeof st.sketch === 'string' ? 'sketch' : 'hll'
        const bytes = new Uint8Array(Buffer.from(st[f] as string, 'base64'))
        st[f] = Buffer.from(mutate(r, bytes, [bytes])).toString('base64')
      } else if (op < 5) delete st[field]
      else if (op < 7) st[field] = structuredClone(r.pick(JSON_VALUES))
      else if (op === 7) st.type = r.pick(['c', 'g', 'ms', 'h', 'd', 's', 'x'])
      else st[field] = typeof st[field] === 'number' ? (st[field] as number) * r.pick([-1, 0.5, 2, 1e300]) : structuredClone(r.pick(JSON_VALUES))
    }
    let body = JSON.stringify(doc)
    // Numbers JSON.stringify cannot write (1e999 parses as Infinity).
    if (r.int(8) === 0) body = body.replace(/:(-?)[0-9][0-9.e+]*/, (_m, sign: string) => `:${sign}1e999`)
    return seal(body)
  }

  const ORACLES: Record<Format, (b: Uint8Array) => boolean> = { hll: checkHll, moments: checkMoments, counters: checkCounters, quantile: checkQuantile, experiment: checkExperiment, 'server-state': checkServerState }
  const MUTATORS: Partial<Record<Format, typeof mutate>> = { 'server-state': mutateServerState }

  /** The committed corpus of a format plus `generated` valid states built from random data. */
  function seeds(format: Format, r: Prng, generated = 64): Uint8Array[] {
    const dir = join(ROOT, 'fuzz', 'corpus', CORPUS[format])
    const files = existsSync(dir) ? readdirSync(dir).map((f) => new Uint8Array(readFileSync(join(dir, f)))) : []
    for (let i = 0; i < generated; i++) files.push(GENERATORS[format](r))
    return files
  }

  /**
   * Feeds `inputs` inputs to one format's decoder: every seed as it is, then mutants (a fresh
   * valid state joins the pool every 1000 inputs). Stops at `maxFailures` failures.
   */
  function fuzzFormat(format: Format, seed: number, inputs: number, failures: Failure[], maxFailures = 5): FormatResult {
    const r = new Prng(seed ^ (FORMATS.indexOf(format) * 0x9e3779b9))
    const pool = seeds(format, r)
    const fixedSeeds = pool.length
    const oracle = ORACLES[format]
    const t0 = performance.now()
    let decoded = 0
    let refused = 0
    let i = 0
    const stopAt = failures.length + maxFailures
    for (; i < inputs && failures.length < stopAt; i++) {
      if (i % 1000 === 999) pool[fixedSeeds - 1 - r.int(32)] = GENERATORS[format](r)
      const input = i < pool.length ? pool[i] : (MUTATORS[format] ?? mutate)(r, r.pick(pool), pool)
      try {
        if (oracle(input)) decoded++
        else refused++
      } catch (e) {
        failures.push({ format, iteration: i, hex: hex(input), message: e instanceof Bad ? e.message : `oracle crashed: ${(e as Error)?.stack ?? String(e)}` })
      }
    }
    return { format, inputs: i, decoded, refused, ms: performance.now() - t0 }
  }

  return { fuzzFormat, seeds, generate: (format: Format, r: Prng) => GENERATORS[format](r) }
}
