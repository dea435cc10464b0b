/**
 * HTTP JSON and NDJSON events (`POST /api/v1/events`, docs/server-api.md) into the same
 * StatsdEvent shape as StatsD lines, validated with the same rules and the same error reasons:
 *
 *   { "name": "api.latency", "type": "ms", "value": 12.5,
 *     "tags": {"route": "/a"} | ["route:/a", "bare"], "sampleRate": 0.5,
 *     "timestamp": 1700000000000, "delta": true }
 *
 * - name: a non-empty string ('empty_line_name'); type: c g ms h d s ('bad_type').
 * - value: a finite number ('bad_value'; absent or null: 'no_value'). Sets: the member, a
 *   non-empty string or a finite number (kept as its string, `7` → "7").
 * - tags: an object (values strings, numbers or booleans, as strings; null is a bare tag '') or an
 *   array of "k:v" / "bare" strings (split at the first ':'); an empty key or another value type
 *   is 'bad_tag'; more than maxTags is 'too_many_tags'.
 * - sampleRate in (0, 1], default 1 ('bad_sample_rate'); timestamp: integer ms >= 0
 *   ('bad_timestamp'); delta: a boolean, true only on gauges ('bad_field').
 * - Any other key is 'bad_field' (a typo such as `samplerate` would otherwise be ignored silently);
 *   an event that is not an object (or a line/body that is not JSON) is 'bad_json'.
 * - name + tags (+ member) longer than maxLineLength: 'line_too_long', the same bound a StatsD
 *   line has.
 *
 * Exactly one sink call per input event, in input order (JSON has no value packing), so the
 * route can number them for `errors: [{index, reason}]`. `line` is at most 200 characters of
 * the event's JSON. Never throws for any body.
 */
import {
  DEFAULT_PARSE_LIMITS,
  type EventSink,
  type ParseErrorReason,
  type ParseLimits,
  STATSD_TYPES,
  type StatsdType,
} from './events'
import { excerpt, newEvent } from './statsd'

const KEYS = new Set(['name', 'type', 'value', 'tags', 'sampleRate', 'timestamp', 'delta'])

function refuse(sink: EventSink, reason: ParseErrorReason, item: unknown): void {
  let text: string
  try {
    text = JSON.stringify(item) ?? String(item)
  } catch {
    // Too deeply nested to print (JSON.parse accepts nesting JSON.stringify cannot recurse into).
    text = Array.isArray(item) ? '[...]' : '{...}'
  }
  sink.error(reason, excerpt(text))
}

/** Reads one tag list; returns the reason to refuse, or null. */
function readTags(raw: unknown, tags: [string, string][], maxTags: number): ParseErrorReason | null {
  if (raw === undefined || raw === null) return null
  if (Array.isArray(raw)) {
    if (raw.length > maxTags) return 'too_many_tags'
    for (const t of raw) {
      if (typeof t !== 'string' || t === '') return 'bad_tag'
      const at = t.indexOf(':')
      if (at === 0) return 'bad_tag'
      tags.push(at < 0 ? [t, ''] : [t.slice(0, at), t.slice(at + 1)])
    }
    return null
  }
  if (typeof raw !== 'object') return 'bad_tag'
  const keys = Object.keys(raw)
  if (keys.length > maxTags) return 'too_many_tags'
  for (const k of keys) {
    if (k === '') return 'bad_tag'
    const v = (raw as Record<string, unknown>)[k]
    if (typeof v === 'string') tags.push([k, v])
    else if (typeof v === 'number' || typeof v === 'boolean') tags.push([k, String(v)])
    else if (v === null) tags.push([k, ''])
    else return 'bad_tag'
  }
  return null
}

/** Validates one decoded event and hands it (or its error) to the sink. */
function decodeEvent(item: unknown, sink: EventSink, limits: ParseLimits): void {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return refuse(sink, 'bad_json', item)
  const o = item as Record<string, unknown>
  for (const k in o) if (!KEYS.has(k)) return refuse(sink, 'bad_field', item)

  const name = o.name
  if (typeof name !== 'string' || name === '') return refuse(sink, 'empty_line_name', item)
  const type = o.type as StatsdType
  if (typeof type !== 'string' || !STATSD_TYPES.includes(type)) return refuse(sink, 'bad_type', item)

  const raw = o.value
  if (raw === undefined || raw === null) return refuse(sink, 'no_value', item)
  let value = NaN
  let member: string | undefined
  if (type === 's') {
    if (typeof raw === 'string' && raw !== '') member = raw
    else if (typeof raw === 'number' && Number.isFinite(raw)) member = String(raw)
    else return refuse(sink, 'bad_value', item)
  } else {
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return refuse(sink, 'bad_value', item)
    value = raw
  }

  const tags: [string, string][] = []
  const tagError = readTags(o.tags, tags, limits.maxTags ?? DEFAULT_PARSE_LIMITS.maxTags)
  if (tagError !== null) return refuse(sink, tagError, item)

  let sampleRate = 1
  if (o.sampleRate !== undefined && o.sampleRate !== null) {
    const r = o.sampleRate
    if (typeof r !== 'number' || !(r > 0 && r <= 1)) return refuse(sink, 'bad_sample_rate', item)
    sampleRate = r
  }

  let timestampMs: number | undefined
  if (o.timestamp !== undefined && o.timestamp !== null) {
    const t = o.timestamp
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return refuse(sink, 'bad_timestamp', item)
    timestampMs = t
  }

  let delta: boolean | undefined
  if (type === 'g') delta = false
  if (o.delta !== undefined && o.delta !== null) {
    if (typeof o.delta !== 'boolean' || (o.delta && type !== 'g')) return refuse(sink, 'bad_field', item)
    if (type === 'g') delta = o.delta
  }

  let size = name.length + (member === undefined ? 0 : member.length)
  for (const [k, v] of tags) size += k.length + v.length + 2
  if (size > (limits.maxLineLength ?? DEFAULT_PARSE_LIMITS.maxLineLength)) return refuse(sink, 'line_too_long', item)

  sink.event(newEvent(name, type, value, member, delta, sampleRate, tags, timestampMs))
}

/**
 * A JSON body: an array of events, or one event object. A body that is not JSON is one
 * 'bad_json' error; an empty array gives nothing.
 */
export function decodeJsonEvents(body: string, sink: EventSink, limits: ParseLimits = DEFAULT_PARSE_LIMITS): void {
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    sink.error('bad_json', excerpt(body))
    return
  }
  if (Array.isArray(doc)) for (const item of doc) decodeEvent(item, sink, limits)
  else decodeEvent(doc, sink, limits)
}

/**
 * An NDJSON body: one event object per line ('\n', '\r\n' tolerated, blank lines skipped). A line
 * that is not JSON, or not an object, is one 'bad_json' error and the rest continue.
 */
export function decodeNdjsonEvents(body: string, sink: EventSink, limits: ParseLimits = DEFAULT_PARSE_LIMITS): void {
  const n = body.length
  let start = 0
  while (start < n) {
    let end = body.indexOf('\n', start)
    if (end < 0) end = n
    const line = body.slice(start, end).trim()
    start = end + 1
    if (line === '') continue
    let item: unknown
    try {
      item = JSON.parse(line)
    } catch {
      sink.error('bad_json', excerpt(line))
      continue
    }
    decodeEvent(item, sink, limits)
  }
}
