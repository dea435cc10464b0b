/**
 * StatsD / DogStatsD / Telegraf line parser: the ingest hot path (UDP, TCP and HTTP text).
 *
 *   name[,tk=tv,...]:value[:value...]|type[|@rate][|#k:v,bare,...][|T<unix s>][|c:<id>][|e:<data>][|card:<c>]
 *
 * - Lines are separated by '\n'; surrounding spaces, tabs and '\r' are trimmed; empty lines skipped.
 * - Types: c (counter), g (gauge), ms (timer), h (histogram), d (distribution), s (set).
 *   DogStatsD events (`_e{...}`) and service checks (`_sc|...`) are refused as 'bad_type'.
 * - The '|' fields after the type may come in any order (DogStatsD). `c:` (container id), `e:`
 *   (external data) and `card:` (tag cardinality) are accepted and ignored: hot-shots sends them in
 *   Datadog mode. Anything else is 'bad_field'; so is an empty field or a repeated `@`/`T`.
 * - Value packing (DogStatsD 1.1): `name:1:2:3|d` is three events, for every type but sets (a set
 *   member may contain ':'). A bad value refuses the whole line: a line is either all its events
 *   or exactly one error, never part of it.
 * - Gauges: a leading '+' or '-' makes the value a signed delta (`-3|g` is a delta, per the StatsD
 *   spec); the event says so in `delta`.
 * - Tags: DogStatsD `|#k:v,bare` (split at the first ':' so values may hold ':', e.g. URLs; one
 *   leading '#' per tag is dropped, as statsd_exporter does for the Datadog PHP client's
 *   `|#a:b,#c:d`), and Telegraf tags in the name, `name,k=v,bare:1|c` (split at the first '=').
 *   Both may appear on one line (Telegraf ones first). Empty tags (`a:b,,c:d`, a trailing ',',
 *   a bare `|#`) are skipped; an empty key (`:v`, `=v`) is 'bad_tag'.
 * - Telegraf tag values may contain ':' (hot-shots allows it, e.g. `url=http://h:80`). When the
 *   text after the first ':' does not parse as values and the line has Telegraf tags, the value
 *   section is taken after the last ':' instead (`req,url=http://h:80:1|c`).
 *
 * Never throws for any input string (the sink's own exceptions do propagate).
 *
 * Events are built for the next step, not for keeping: their strings may be V8 slices of `text`
 * (which keep all of `text` alive), and tag pairs may be shared between events (replace a pair,
 * never change one). Whatever keeps a name or tag long-term should keep a copy (`detach`).
 */
import {
  DEFAULT_PARSE_LIMITS,
  type EventSink,
  type ParseErrorReason,
  type ParseLimits,
  type StatsdEvent,
  type StatsdType,
} from './events'

/** Most characters of a refused line handed to `sink.error` (a sample for the operator, not the data). */
export const ERROR_EXCERPT_CHARS = 200

/** `s[a, b)` cut to ERROR_EXCERPT_CHARS without splitting a surrogate pair. */
export function excerpt(s: string, a = 0, b = s.length): string {
  if (b - a > ERROR_EXCERPT_CHARS) {
    b = a + ERROR_EXCERPT_CHARS
    const last = s.charCodeAt(b - 1)
    if (last >= 0xd800 && last <= 0xdbff) b--
  }
  return a === 0 && b === s.length ? s : s.slice(a, b)
}

/**
 * A copy of `s` that does not keep a larger string alive. V8 makes a slice of 13 or more
 * characters a view into its parent, so a string cut from a 1 MB HTTP body and kept in a cache
 * would keep the whole body. Concatenating then slicing forces a fresh, flat copy.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1)
}

/**
 * Builds an event. Every event is created by this one literal so they all share one hidden class
 * (the aggregator's property reads stay monomorphic); absent optional fields are `undefined`.
 */
export function newEvent(
  name: string,
  type: StatsdType,
  value: number,
  member: string | undefined,
  delta: boolean | undefined,
  sampleRate: number,
  tags: [string, string][],
  timestampMs: number | undefined,
): StatsdEvent {
  return { name, type, value, member, delta, sampleRate, tags, timestampMs }
}

// Exact powers of ten: m / 10^k is then one correctly rounded division (Clinger's fast path).
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

/**
 * Parses `s[a, b)` as `[+-]?(digits[.digits?] | .digits)([eE][+-]?digits)?`; NaN when it is not
 * that or not finite ('', 'abc', 'NaN', 'Infinity', '0x10', ' 1', '1e400' are all NaN).
 * Up to 15 digits without an exponent are converted here (exactly as Number() would: the integer
 * is exact below 2^53 and 10^k is exact); anything else goes to Number(), which accepts exactly
 * this grammar once the characters are checked.
 */
export function parseNumber(s: string, a: number, b: number): number {
  let i = a
  if (i >= b) return NaN
  let c = s.charCodeAt(i)
  let neg = false
  if (c === 43 /* + */ || c === 45 /* - */) {
    neg = c === 45
    i++
  }
  let m = 0
  let digits = 0
  let frac = 0
  for (; i < b; i++) {
    c = s.charCodeAt(i)
    if (c < 48 || c > 57) break
    m = m * 10 + (c - 48)
    digits++
  }
  if (i < b && c === 46 /* . */) {
    for (i++; i < b; i++) {
      c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      m = m * 10 + (c - 48)
      digits++
      frac++
    }
  }
  if (digits === 0) return NaN
  if (i === b) {
    if (digits <= 15) {
      const v = frac === 0 ? m : m / POW10[frac]
      return neg ? -v : v
    }
  } else {
    if (c !== 101 /* e */ && c !== 69 /* E */) return NaN
    i++
    if (i < b) {
      c = s.charCodeAt(i)
      if (c === 43 || c === 45) i++
    }
    if (i === b) return NaN
    for (; i < b; i++) {
      c = s.charCodeAt(i)
      if (c < 48 || c > 57) return NaN
    }
  }
  const v = Number(s.slice(a, b))
  return Number.isFinite(v) ? v : NaN
}

/** The type in `s[a, b)`, or null. */
function typeAt(s: string, a: number, b: number): StatsdType | null {
  const n = b - a
  if (n === 1) {
    switch (s.charCodeAt(a)) {
      case 99:
        return 'c'
      case 103:
        return 'g'
      case 104:
        return 'h'
      case 100:
        return 'd'
      case 115:
        return 's'
    }
  } else if (n === 2 && s.charCodeAt(a) === 109 && s.charCodeAt(a + 1) === 115) {
    return 'ms'
  }
  return null
}

// Seconds above this overflow a safe integer once in ms.
const MAX_TIMESTAMP_S = Math.floor(Number.MAX_SAFE_INTEGER / 1000)

/** `s[a, b)` as non-negative integer seconds, returned in ms; -1 when bad. */
function parseTimestampMs(s: string, a: number, b: number): number {
  if (a >= b || b - a > 16) return -1
  let v = 0
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    v = v * 10 + (c - 48)
  }
  return v > MAX_TIMESTAMP_S ? -1 : v * 1000
}

/**
 * Appends the tags in `s[a, b)` (',' separated, key and value split at the first `sep`) to `tags`.
 * Returns the reason to refuse the line, or null.
 */
function parseTags(
  s: string,
  a: number,
  b: number,
  sep: number,
  stripHash: boolean,
  tags: [string, string][],
  maxTags: number,
): ParseErrorReason | null {
  let i = a
  while (i < b) {
    let e = i
    let at = -1
    for (; e < b; e++) {
      const c = s.charCodeAt(e)
      if (c === 44 /* , */) break
      if (c === sep && at < 0) at = e
    }
    let k = i
    if (stripHash && k < e && s.charCodeAt(k) === 35 /* # */) k++
    if (k < e) {
      if (at === k) return 'bad_tag'
      if (tags.length >= maxTags) return 'too_many_tags'
      tags.push(at < 0 ? [s.slice(k, e), ''] : [s.slice(k, at), s.slice(at + 1, e)])
    }
    i = e + 1
  }
  return null
}

/**
 * DogStatsD tag sections repeat line after line (a client sends the same tag set with every
 * metric), so parsed sections are cached by their text: a hit costs one slice and one Map lookup
 * instead of three allocations per tag. The cached [key, value] pairs are shared between events
 * (each event still gets its own outer array): consumers replace pairs, never change one. Cached
 * strings are detached copies, so the cache never keeps a packet alive.
 */
const TAG_CACHE = new Map<string, [string, string][]>()
const TAG_CACHE_MAX = 10_000
const TAG_CACHE_MAX_CHARS = 512
let tagError: ParseErrorReason = 'bad_tag'

/** The tags of the DogStatsD field `s[a, b)` (shared pairs: copy the array), or null (reason in tagError). */
function dogTags(s: string, a: number, b: number): [string, string][] | null {
  const key = s.slice(a, b)
  let parsed = TAG_CACHE.get(key)
  if (parsed !== undefined) return parsed
  parsed = []
  // No limit here, so the cached entry does not depend on maxTags; the caller applies it.
  const r = parseTags(s, a, b, 58 /* : */, true, parsed, Infinity)
  if (r !== null) {
    tagError = r
    return null
  }
  if (b - a <= TAG_CACHE_MAX_CHARS) {
    for (let i = 0; i < parsed.length; i++) parsed[i] = [detach(parsed[i][0]), detach(parsed[i][1])]
    if (TAG_CACHE.size >= TAG_CACHE_MAX) TAG_CACHE.clear()
    TAG_CACHE.set(detach(key), parsed)
  }
  return parsed
}

// Scratch for one line's packed values (the parser is synchronous, so one set is enough).
let VALUES: number[] = []
let SIGNED: boolean[] = []
let nValues = 0

/** Parses the ':'-separated values in `s[a, b)` into VALUES/SIGNED; false when one is bad. */
function parseValues(s: string, a: number, b: number): boolean {
  nValues = 0
  let i = a
  for (;;) {
    // Values are short: a plain scan beats indexOf, which would run on into the tags.
    let e = i
    while (e < b && s.charCodeAt(e) !== 58 /* : */) e++
    const v = parseNumber(s, i, e)
    if (v !== v) return false
    const c = s.charCodeAt(i)
    VALUES[nValues] = v
    SIGNED[nValues] = c === 43 || c === 45
    nValues++
    if (e === b) return true
    i = e + 1
  }
}

/** One trimmed, non-empty line of at most maxLineLength characters. */
function parseLine(line: string, sink: EventSink, maxTags: number): void {
  const len = line.length
  // DogStatsD events (`_e{5,4}:title|text`) and service checks (`_sc|name|0`) are not metrics:
  // an unsupported datagram type, rather than whatever their fields would look like as a metric.
  if (line.charCodeAt(0) === 95 /* _ */ && (line.startsWith('_e{') || line.startsWith('_sc|'))) {
    return sink.error('bad_type', excerpt(line))
  }
  const colon = line.indexOf(':')
  if (colon === 0) return sink.error('empty_line_name', excerpt(line))
  if (colon < 0) return sink.error('no_value', excerpt(line))
  const pipe = line.indexOf('|', colon + 1)
  if (pipe < 0) return sink.error(colon + 1 === len ? 'no_value' : 'bad_type', excerpt(line))
  if (pipe === colon + 1) return sink.error('no_value', excerpt(line))
  let typeEnd = line.indexOf('|', pipe + 1)
  if (typeEnd < 0) typeEnd = len
  const type = typeAt(line, pipe + 1, typeEnd)
  if (type === null) return sink.error('bad_type', excerpt(line))

  // Telegraf tags: a ',' in the name part (the first ',' ends the name).
  let comma = line.lastIndexOf(',', colon)
  if (comma >= 0) comma = line.indexOf(',')
  if (comma === 0) return sink.error('empty_line_name', excerpt(line))
  let tagEnd = colon

  let member: string | undefined
  if (type === 's') {
    member = line.slice(colon + 1, pipe)
  } else if (!parseValues(line, colon + 1, pipe)) {
    // A Telegraf tag value with ':' in it (`url=http://h:80`): retry after the last ':'.
    const last = comma >= 0 ? line.lastIndexOf(':', pipe) : -1
    if (last <= colon || !parseValues(line, last + 1, pipe)) return sink.error('bad_value', excerpt(line))
    tagEnd = last
  }

  // Created on first use: a DogStatsD tag field alone gets a copy of its cached array.
  let tags: [string, string][] | null = null
  if (comma >= 0) {
    tags = []
    const r = parseTags(line, comma + 1, tagEnd, 61 /* = */, false, tags, maxTags)
    if (r !== null) return sink.error(r, excerpt(line))
  }

  let sampleRate = 1
  let seenRate = false
  let timestampMs: number | undefined
  let pos = typeEnd
  while (pos < len) {
    // line[pos] is '|'
    const fs = pos + 1
    let fe = line.indexOf('|', fs)
    if (fe < 0) fe = len
    if (fe === fs) return sink.error('bad_field', excerpt(line))
    const c = line.charCodeAt(fs)
    if (c === 64 /* @ */) {
      if (seenRate) return sink.error('bad_field', excerpt(line))
      const r = parseNumber(line, fs + 1, fe)
      if (!(r > 0 && r <= 1)) return sink.error('bad_sample_rate', excerpt(line))
      sampleRate = r
      seenRate = true
    } else if (c === 35 /* # */) {
      const parsed = dogTags(line, fs + 1, fe)
      if (parsed === null) return sink.error(tagError, excerpt(line))
      if (tags === null) tags = parsed.slice()
      else for (let i = 0; i < parsed.length; i++) tags.push(parsed[i])
      if (tags.length > maxTags) return sink.error('too_many_tags', excerpt(line))
    } else if (c === 84 /* T */) {
      if (timestampMs !== undefined) return sink.error('bad_field', excerpt(line))
      const t = parseTimestampMs(line, fs + 1, fe)
      if (t < 0) return sink.error('bad_timestamp', excerpt(line))
      timestampMs = t
    } else {
      // `c:<container id>`, `e:<external data>`, `card:<cardinality>`: accepted, not used.
      const ignored = ((c === 99 || c === 101) && fe > fs + 1 && line.charCodeAt(fs + 1) === 58) || line.startsWith('card:', fs)
      if (!ignored) return sink.error('bad_field', excerpt(line))
    }
    pos = fe
  }

  const name = comma >= 0 ? line.slice(0, comma) : line.slice(0, colon)
  if (tags === null) tags = []
  if (member !== undefined) {
    sink.event(newEvent(name, type, NaN, member, undefined, sampleRate, tags, timestampMs))
    return
  }
  const isGauge = type === 'g'
  if (nValues === 1) {
    sink.event(newEvent(name, type, VALUES[0], undefined, isGauge ? SIGNED[0] : undefined, sampleRate, tags, timestampMs))
    return
  }
  // Packed values: copied out of the scratch first, in case the sink parses another text.
  const values = VALUES.slice(0, nValues)
  const signed = SIGNED.slice(0, nValues)
  if (nValues > 1024) {
    // Do not keep a huge scratch alive after one long packed line.
    VALUES = []
    SIGNED = []
  }
  for (let k = 0; k < values.length; k++) {
    // Each packed event gets its own tag array (copies first, the original last, so every copy
    // is of the pristine list even if the sink replaces pairs in the array it got).
    const own = k === values.length - 1 ? tags : tags.slice()
    sink.event(newEvent(name, type, values[k], undefined, isGauge ? signed[k] : undefined, sampleRate, own, timestampMs))
  }
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13
}

/**
 * Parses StatsD/DogStatsD/Telegraf lines (see the module comment): every event goes to
 * `sink.event`, every refused line to `sink.error` once (with at most ERROR_EXCERPT_CHARS of it).
 * A bad line never affects the others. Never throws for any string.
 */
export function parseStatsdLines(text: string, sink: EventSink, limits: ParseLimits = DEFAULT_PARSE_LIMITS): void {
  const maxLen = limits.maxLineLength ?? DEFAULT_PARSE_LIMITS.maxLineLength
  const maxTags = limits.maxTags ?? DEFAULT_PARSE_LIMITS.maxTags
  const n = text.length
  let start = 0
  while (start < n) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = n
    let a = start
    let b = end
    while (a < b && isBlank(text.charCodeAt(a))) a++
    while (b > a && isBlank(text.charCodeAt(b - 1))) b--
    if (a < b) {
      if (b - a > maxLen) sink.error('line_too_long', excerpt(text, a, b))
      // A line of its own (a cheap sliced string) bounds every indexOf to the line.
      else parseLine(text.slice(a, b), sink, maxTags)
    }
    start = end + 1
  }
}
