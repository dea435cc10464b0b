/**
 * The server's state on disk (`--state-dir`): every series' cumulative state in the library's
 * versioned formats (QuantileSketch HSQS, Moments HSMO, HyperLogLog in Redis's format), so a
 * restart continues counters where they were (Prometheus sees no reset) and keeps sketches and
 * sets. Windows are not saved: they describe the last minutes, which a restart interrupts.
 *
 * File layout (state.hsv):
 *   bytes 0..3   "HSSV"
 *   bytes 4..7   format version, u32 little-endian (1)
 *   bytes 8..15  body length, u64 little-endian
 *   bytes 16..47 SHA-256 of the body
 *   bytes 48..   body: UTF-8 JSON { savedAt, series: [SeriesState...] }
 * Written to a temporary file, fsynced, renamed over the old one, then the folder is fsynced:
 * a crash leaves either the old file or the new one, never half of one. A file that fails any
 * check is an error naming the file (or, with --state-corrupt move-aside, renamed aside).
 */
import { createHash } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync } from 'node:fs'
import { join } from 'node:path'

import { HyperLogLog, QuantileSketch } from '../index'
import { SmallSketch } from './small-sketch'
import { STATSD_TYPES, type StatsdType } from './events'
import { KIND_OF, parseKey, type Series, type Store } from './store'

export const STATE_FILE = 'state.hsv'
const MAGIC = 'HSSV'
const VERSION = 1
const HEADER = 48

export interface SeriesState {
  key: string
  type: StatsdType
  count: number
  lastSeen: number
  sum?: number
  comp?: number
  value?: number | null
  sketch?: string
  /** Distributions: Welford's [count, mean, M2] of the values. */
  welford?: [number, number, number]
  hll?: string
}

export const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
export const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'))

/** One series' cumulative state, in the library's formats (also what a node publishes to Redis). */
export function seriesState(store: Store, s: Series): SeriesState {
  const st: SeriesState = { key: s.key, type: s.type, count: s.count, lastSeen: s.lastSeen }
  if (s.kind === 'counter') {
    st.sum = s.sum
    st.comp = s.comp
  } else if (s.kind === 'gauge') st.value = Number.isNaN(s.value) ? null : s.value
  else if (s.kind === 'dist') {
    st.sketch = b64(s.dist!.view().serialize())
    st.welford = [s.wn, s.wmean, s.wm2]
  } else st.hll = b64(store.sets.toHyperLogLog({ s: String(s.id) }).toRedis())
  return st
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

/** An optional number field: absent (undefined, or null as JSON writes NaN) or finite. */
function optionalNumber(st: SeriesState, field: 'sum' | 'comp' | 'value'): number | undefined {
  const v = st[field]
  if (v === undefined || v === null) return undefined
  if (!finite(v)) throw new RangeError(`${field} must be a finite number, got ${JSON.stringify(v)}`)
  return v
}

function base64Field(st: SeriesState, field: 'sketch' | 'hll'): Uint8Array {
  const v = st[field]
  if (typeof v !== 'string') throw new RangeError(`${field} must be a base64 string, got ${typeof v}`)
  return unb64(v)
}

/**
 * Checks a series state's plain fields (what `checkSeriesState` leaves out): a RangeError names
 * the first bad one. The sketch and HyperLogLog bytes are checked by their decoders.
 */
export function checkSeriesFields(st: SeriesState): void {
  if (!(Number.isSafeInteger(st.count) && st.count >= 0)) throw new RangeError(`count must be a whole number >= 0, got ${JSON.stringify(st.count)}`)
  if (!finite(st.lastSeen)) throw new RangeError(`lastSeen must be a finite number, got ${JSON.stringify(st.lastSeen)}`)
  // As the ingest parsers refuse them ('bad_tag'): an empty name or tag name has no exposition.
  const { name, tags } = parseKey(st.key)
  if (name === '' || tags.some(([k]) => k === '')) throw new RangeError(`key ${JSON.stringify(st.key)} has an empty name or tag name`)
  const kind = KIND_OF[st.type]
  if (kind === 'counter') {
    optionalNumber(st, 'sum')
    optionalNumber(st, 'comp')
  } else if (kind === 'gauge') optionalNumber(st, 'value')
  else if (kind === 'dist') {
    if (typeof st.sketch !== 'string') throw new RangeError(`sketch must be a base64 string, got ${typeof st.sketch}`)
  } else if (typeof st.hll !== 'string') throw new RangeError(`hll must be a base64 string, got ${typeof st.hll}`)
}

/** A series state from JSON (a node's state in Redis), or null if it is not one. */
export function parseSeriesState(json: string): SeriesState | null {
  let st: unknown
  try {
    st = JSON.parse(json)
  } catch {
    return null
  }
  if (!checkSeriesState(st)) return null
  try {
    checkSeriesFields(st)
  } catch {
    return null
  }
  return st
}

/**
 * Loads one series' state into the store (creating it); false when a limit or the mapping refuses
 * it. The state comes from a file or from Redis, so every field is checked (and the sketch or
 * HyperLogLog decoded) before the series is created: a RangeError leaves the store unchanged, and
 * what loads renders as valid exposition text (a gauge value is a number, never text).
 */
export function restoreSeries(store: Store, st: SeriesState, now: number): boolean {
  checkSeriesFields(st)
  const kind = KIND_OF[st.type]
  let apply: (s: Series) => void
  if (kind === 'counter') {
    const sum = optionalNumber(st, 'sum') ?? 0
    const comp = optionalNumber(st, 'comp') ?? 0
    apply = (s) => {
      s.sum = sum
      s.comp = comp
    }
  } else if (kind === 'gauge') {
    const value = optionalNumber(st, 'value') ?? NaN
    apply = (s) => (s.value = value)
  } else if (kind === 'dist') {
    const sk = QuantileSketch.deserialize(base64Field(st, 'sketch'))
    const w = st.welford
    if (w !== undefined && !(Array.isArray(w) && w.length === 3 && w.every(finite) && Number.isSafeInteger(w[0]) && w[0] >= 0 && w[2] >= 0)) {
      throw new RangeError('welford must be [count, mean, M2]: a whole count >= 0, finite mean, finite M2 >= 0')
    }
    apply = (s) => {
      s.dist = SmallSketch.from(sk, sk.relativeAccuracy)
      if (w !== undefined) [s.wn, s.wmean, s.wm2] = w
    }
  } else {
    const hll = HyperLogLog.fromRedis(base64Field(st, 'hll'))
    apply = (s) => store.sets.mergeHyperLogLog({ s: String(s.id) }, hll)
  }
  const s = store.create(st.key, st.type, now)
  if (s === null) return false
  s.count = st.count
  s.lastSeen = Math.min(now, st.lastSeen)
  apply(s)
  return true
}

export function checkSeriesState(s: unknown): s is SeriesState {
  const st = s as SeriesState
  return st !== null && typeof st === 'object' && typeof st.key === 'string' && STATSD_TYPES.includes(st.type) && typeof st.count === 'number'
}

export function encodeState(store: Store): Buffer {
  const series: SeriesState[] = []
  for (const s of store.series.values()) series.push(seriesState(store, s))
  const body = Buffer.from(JSON.stringify({ savedAt: Date.now(), series }), 'utf8')
  const header = Buffer.alloc(HEADER)
  header.write(MAGIC, 0, 'latin1')
  header.writeUInt32LE(VERSION, 4)
  header.writeBigUInt64LE(BigInt(body.length), 8)
  createHash('sha256').update(body).digest().copy(header, 16)
  return Buffer.concat([header, body])
}

/** Writes the state atomically (temp file, fsync, rename, fsync of the folder). */
export function writeStateFile(dir: string, bytes: Buffer): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, STATE_FILE)
  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  const dfd = openSync(dir, 'r')
  try {
    fsyncSync(dfd)
  } finally {
    closeSync(dfd)
  }
  return path
}

export class StateFileError extends Error {}

/** Checks and parses a state file's bytes; throws a StateFileError naming `path` on any defect. */
export function decodeState(path: string, bytes: Buffer): SeriesState[] {
  const fail = (why: string): never => {
    throw new StateFileError(`state file ${path} is unusable: ${why}`)
  }
  if (bytes.length < HEADER) fail(`${bytes.length} bytes, shorter than the ${HEADER}-byte header (truncated)`)
  if (bytes.toString('latin1', 0, 4) !== MAGIC) fail('it does not start with "HSSV" (not a hotstats state file)')
  const version = bytes.readUInt32LE(4)
  if (version !== VERSION) fail(`format version ${version}; this server reads version ${VERSION}`)
  const len = bytes.readBigUInt64LE(8)
  if (len !== BigInt(bytes.length - HEADER)) fail(`the header says ${len} body bytes, the file has ${bytes.length - HEADER} (truncated or appended to)`)
  const body = bytes.subarray(HEADER)
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(16, 48))) fail('checksum mismatch (corrupted)')
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (e) {
    fail(`body is not JSON: ${(e as Error).message}`)
  }
  const series = (parsed as { series?: unknown }).series
  if (!Array.isArray(series)) fail('no series list')
  for (const [i, s] of (series as SeriesState[]).entries()) {
    if (!checkSeriesState(s)) fail(`series ${i} is malformed`)
  }
  return series as SeriesState[]
}

/** Loads a state file into an empty store; returns how many series were loaded (0 if no file). */
export function loadState(store: Store, dir: string): { path: string; series: number } {
  const path = join(dir, STATE_FILE)
  if (!existsSync(path)) return { path, series: 0 }
  return { path, series: loadStateBytes(store, path, readFileSync(path)) }
}

/** Loads a state file's bytes (named `path` in errors) into an empty store; returns how many series loaded. Any defect is a StateFileError. */
export function loadStateBytes(store: Store, path: string, bytes: Buffer): number {
  const states = decodeState(path, bytes)
  const now = Date.now()
  let n = 0
  for (const [i, st] of states.entries()) {
    try {
      if (restoreSeries(store, st, now)) n++
    } catch (e) {
      throw new StateFileError(`state file ${path} is unusable: series ${i} (${st.key}): ${(e as Error).message}`)
    }
  }
  return n
}

/** Renames an unusable state file aside (`state.hsv.corrupt-<time>`) and returns the new path. */
export function moveAside(dir: string): string {
  const path = join(dir, STATE_FILE)
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
  renameSync(path, aside)
  return aside
}
