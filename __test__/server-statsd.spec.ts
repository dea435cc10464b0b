// The StatsD/DogStatsD/Telegraf line parser (server/statsd.ts): every type and field with exact
// events, every error reason, bad lines next to good ones, real hot-shots output in its StatsD,
// DogStatsD, Datadog and Telegraf modes, and fast-check properties (no input throws; a line is
// its events or exactly one error; generated valid lines parse back to their parts).
import v8 from 'node:v8'
import vm from 'node:vm'

import test from 'ava'
import fc from 'fast-check'
import StatsD from 'hot-shots'

import {
  DEFAULT_PARSE_LIMITS,
  PARSE_ERROR_REASONS,
  type ParseErrorReason,
  type ParseLimits,
  STATSD_TYPES,
  type StatsdEvent,
  type StatsdType,
} from '../server/events'
import { NameMapper } from '../server/mapping'
import { ERROR_EXCERPT_CHARS, newEvent, parseNumber, parseStatsdLines } from '../server/statsd'
import { ev } from './helpers/statsd-events'

type Err = { reason: ParseErrorReason; line: string }

function parse(text: string, limits?: ParseLimits): { events: StatsdEvent[]; errors: Err[] } {
  const events: StatsdEvent[] = []
  const errors: Err[] = []
  parseStatsdLines(text, { event: (e) => events.push(e), error: (reason, line) => errors.push({ reason, line }) }, limits)
  return { events, errors }
}

function events(t: any, text: string, expected: StatsdEvent[], limits?: ParseLimits) {
  const r = parse(text, limits)
  t.deepEqual(r.errors, [], text)
  t.deepEqual(r.events, expected, text)
}

function refused(t: any, text: string, reason: ParseErrorReason, limits?: ParseLimits) {
  const r = parse(text, limits)
  t.deepEqual(r.events, [], text)
  t.deepEqual(
    r.errors.map((e) => e.reason),
    [reason],
    text,
  )
}

// --- types and fields ------------------------------------------------------------------------

test('every type', (t) => {
  events(t, 'a.b:1|c', [ev('a.b', 'c', 1)])
  events(t, 'a.b:-2.5|c', [ev('a.b', 'c', -2.5)])
  events(t, 'g:42|g', [ev('g', 'g', 42)])
  events(t, 'lat:320|ms', [ev('lat', 'ms', 320)])
  events(t, 'size:1e3|h', [ev('size', 'h', 1000)])
  events(t, 'dist:.5|d', [ev('dist', 'd', 0.5)])
  events(t, 'users:alice|s', [ev('users', 's', 'alice')])
})

test('gauges: a sign makes a delta, -3 included (StatsD spec); a plain number is absolute', (t) => {
  events(t, 'g:+3|g', [ev('g', 'g', 3, { delta: true })])
  events(t, 'g:-3|g', [ev('g', 'g', -3, { delta: true })])
  events(t, 'g:3|g', [ev('g', 'g', 3, { delta: false })])
  events(t, 'g:+0|g', [ev('g', 'g', 0, { delta: true })])
  const r = parse('g:-0|g')
  t.true(Object.is(r.events[0].value, -0))
  t.true(r.events[0].delta)
  // Signed values of other types are plain numbers, not deltas.
  events(t, 'c:-3|c', [ev('c', 'c', -3)])
  t.is(parse('c:+3|c').events[0].delta, undefined)
})

test('sets: the member is the text between the first ":" and the first "|", ":" included', (t) => {
  events(t, 'u:a:b|s', [ev('u', 's', 'a:b')])
  events(t, 'u:1.5|s', [ev('u', 's', '1.5')])
  events(t, 'u:not a number!|s', [ev('u', 's', 'not a number!')])
  events(t, 'u:😀|s|#k:v', [ev('u', 's', '😀', { tags: [['k', 'v']] })])
  const e = parse('u:x|s').events[0]
  t.true(Number.isNaN(e.value))
  t.is(e.delta, undefined)
})

test('sample rates: in (0, 1], reported as sent', (t) => {
  events(t, 'c:1|c|@0.1', [ev('c', 'c', 1, { sampleRate: 0.1 })])
  events(t, 'c:1|c|@1', [ev('c', 'c', 1)])
  events(t, 'c:1|c|@1e-7', [ev('c', 'c', 1, { sampleRate: 1e-7 })])
  events(t, 'g:1|g|@0.5', [ev('g', 'g', 1, { sampleRate: 0.5 })])
  events(t, 't:1|ms|@.25', [ev('t', 'ms', 1, { sampleRate: 0.25 })])
  for (const bad of ['@0', '@1.5', '@-0.5', '@', '@abc', '@NaN', '@Infinity', '@0x1', '@ 0.5']) {
    refused(t, `c:1|c|${bad}`, 'bad_sample_rate')
  }
})

test('DogStatsD tags: k:v, bare, values with ":", "#k" (Datadog PHP client), empty ones skipped', (t) => {
  events(t, 'c:1|c|#env:prod,bare,url:http://h:80/x', [
    ev('c', 'c', 1, {
      tags: [
        ['env', 'prod'],
        ['bare', ''],
        ['url', 'http://h:80/x'],
      ],
    }),
  ])
  events(t, 'c:1|c|#tag1:bar,#tag2:baz', [
    ev('c', 'c', 1, {
      tags: [
        ['tag1', 'bar'],
        ['tag2', 'baz'],
      ],
    }),
  ])
  events(t, 'c:1|c|#a:b,,c:d,', [
    ev('c', 'c', 1, {
      tags: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    }),
  ])
  events(t, 'c:1|c|#', [ev('c', 'c', 1)])
  events(t, 'c:1|c|#k:', [ev('c', 'c', 1, { tags: [['k', '']] })])
  // Keys are not sanitized here (the mapper does it); order and duplicates are kept.
  events(t, 'c:1|c|#env-name:a,env-name:b,Ünï:😀', [
    ev('c', 'c', 1, {
      tags: [
        ['env-name', 'a'],
        ['env-name', 'b'],
        ['Ünï', '😀'],
      ],
    }),
  ])
  // Two tag fields accumulate.
  events(t, 'c:1|c|#a:1|@0.5|#b:2', [
    ev('c', 'c', 1, {
      sampleRate: 0.5,
      tags: [
        ['a', '1'],
        ['b', '2'],
      ],
    }),
  ])
  refused(t, 'c:1|c|#:v', 'bad_tag')
  refused(t, 'c:1|c|#a:b,:v', 'bad_tag')
  refused(t, 'c:1|c|##:v', 'bad_tag')
})

test('tags from the cache are the same as freshly parsed ones, and each event owns its tag array', (t) => {
  const line = 'c:1|c|#env:prod,svc:api'
  const a = parse(line).events[0]
  const b = parse(line).events[0]
  t.deepEqual(a.tags, b.tags)
  t.not(a.tags, b.tags)
  a.tags.push(['x', 'y'])
  t.deepEqual(parse(line).events[0].tags, [
    ['env', 'prod'],
    ['svc', 'api'],
  ])
})

test('Telegraf tags in the name: name,k=v,bare', (t) => {
  events(t, 'api.req,env=prod,bare,eq=a=b:1|c', [
    ev('api.req', 'c', 1, {
      tags: [
        ['env', 'prod'],
        ['bare', ''],
        ['eq', 'a=b'],
      ],
    }),
  ])
  events(t, 'g,host=h1:-2|g|@0.5', [ev('g', 'g', -2, { delta: true, sampleRate: 0.5, tags: [['host', 'h1']] })])
  events(t, 'u,env=prod:alice|s', [ev('u', 's', 'alice', { tags: [['env', 'prod']] })])
  // Both styles on one line: Telegraf first, as sent.
  events(t, 'c,a=1:1|c|#b:2', [
    ev('c', 'c', 1, {
      tags: [
        ['a', '1'],
        ['b', '2'],
      ],
    }),
  ])
  refused(t, 'c,=v:1|c', 'bad_tag')
  refused(t, ',a=b:1|c', 'empty_line_name')
})

test('Telegraf tag values with ":" (hot-shots allows them): the value is after the last ":"', (t) => {
  events(t, 'req,url=http://h:80:1|c', [ev('req', 'c', 1, { tags: [['url', 'http://h:80']] })])
  events(t, 'req,url=http://h:80,route=/users/:id:5|c|@0.25', [
    ev('req', 'c', 5, {
      sampleRate: 0.25,
      tags: [
        ['url', 'http://h:80'],
        ['route', '/users/:id'],
      ],
    }),
  ])
  // Values that all parse are packed values, as without tags.
  events(t, 'd,k=v:1:2|d', [ev('d', 'd', 1, { tags: [['k', 'v']] }), ev('d', 'd', 2, { tags: [['k', 'v']] })])
  // A set member may hold ':' too, so for sets the first ':' ends the name (as Telegraf reads it).
  events(t, 'u,k=v:a:b|s', [ev('u', 's', 'a:b', { tags: [['k', 'v']] })])
  refused(t, 'req,url=http://h:x|c', 'bad_value')
})

test('timestamps: |T<unix seconds> in ms', (t) => {
  events(t, 'c:1|c|T1700000000', [ev('c', 'c', 1, { timestampMs: 1_700_000_000_000 })])
  events(t, 'c:1|c|T0', [ev('c', 'c', 1, { timestampMs: 0 })])
  events(t, 'c:1|c|T9007199254740', [ev('c', 'c', 1, { timestampMs: 9_007_199_254_740_000 })])
  for (const bad of ['T', 'T-1', 'T1.5', 'T1e9', 'Tabc', 'T+5', 'T9007199254741', 'T99999999999999999999']) {
    refused(t, `c:1|c|${bad}`, 'bad_timestamp')
  }
})

test('container id, external data and cardinality fields are accepted and ignored', (t) => {
  events(t, 'c:1|c|c:abc123', [ev('c', 'c', 1)])
  events(t, 'c:1|c|c:', [ev('c', 'c', 1)])
  events(t, 'c:1|c|e:it-false,cn-app,pu-1234', [ev('c', 'c', 1)])
  events(t, 'c:1|c|card:low', [ev('c', 'c', 1)])
  events(t, 'c:1|c|#a:b|c:ci-123|e:x|card:high', [ev('c', 'c', 1, { tags: [['a', 'b']] })])
})

test('the fields after the type in any order give the same event', (t) => {
  const fields = ['@0.5', '#env:prod,bare', 'T1700000000', 'c:abc', 'card:low']
  const expected = [
    ev('lat', 'ms', 12.5, {
      sampleRate: 0.5,
      timestampMs: 1_700_000_000_000,
      tags: [
        ['env', 'prod'],
        ['bare', ''],
      ],
    }),
  ]
  const perms = (xs: string[]): string[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
  const all = perms(fields)
  t.is(all.length, 120)
  for (const p of all) events(t, `lat:12.5|ms|${p.join('|')}`, expected)
})

test('unknown, empty and repeated fields are bad_field', (t) => {
  for (const bad of ['c:1|c|x', 'c:1|c|', 'c:1|c||@0.5', 'c:1|c|c', 'c:1|c|cx:1', 'c:1|c|e', 'c:1|c|card', 'c:1|c|@0.5|@0.5', 'c:1|c|T1|T2', 'c:1|c|m:msg']) {
    refused(t, bad, 'bad_field')
  }
})

test('value packing: one event per value, for every type but sets', (t) => {
  events(t, 't:1:2:3|ms|@0.5|#a:b', [1, 2, 3].map((v) => ev('t', 'ms', v, { sampleRate: 0.5, tags: [['a', 'b']] })))
  events(t, 'h:1.5:2e3|h', [ev('h', 'h', 1.5), ev('h', 'h', 2000)])
  events(t, 'd:0:-1|d', [ev('d', 'd', 0), ev('d', 'd', -1)])
  events(t, 'c:1:2|c', [ev('c', 'c', 1), ev('c', 'c', 2)])
  events(t, 'g:+1:5:-2|g', [ev('g', 'g', 1, { delta: true }), ev('g', 'g', 5), ev('g', 'g', -2, { delta: true })])
  // Every packed event has its own tags array.
  const r = parse('t:1:2|ms|#a:b').events
  t.not(r[0].tags, r[1].tags)
  // One bad value refuses the whole line: a line is never half accepted.
  refused(t, 't:1:x:3|ms', 'bad_value')
  refused(t, 't:1::3|ms', 'bad_value')
  refused(t, 't:1:|ms', 'bad_value')
})

test('packed values survive a sink that changes tags or parses another text meanwhile', (t) => {
  const got: StatsdEvent[] = []
  const seen: string[] = []
  parseStatsdLines('t:1:2:3|ms|#a:b', {
    event: (e) => {
      got.push(e)
      seen.push(JSON.stringify(e.tags))
      e.tags[0] = ['changed', 'by-sink']
      parseStatsdLines('x:9:8:7:6:5|d', { event: () => {}, error: () => {} })
    },
    error: () => t.fail(),
  })
  t.deepEqual(
    got.map((e) => e.value),
    [1, 2, 3],
  )
  // Each event's array was pristine when it was handed over, and is its own.
  t.deepEqual(seen, ['[["a","b"]]', '[["a","b"]]', '[["a","b"]]'])
  t.deepEqual(
    got.map((e) => e.tags),
    [1, 2, 3].map(() => [['changed', 'by-sink']]),
  )
  t.deepEqual(parse('t:1|ms|#a:b').events[0].tags, [['a', 'b']])
})

test('numbers: finite decimal numbers only', (t) => {
  const good: [string, number][] = [
    ['1.5', 1.5],
    ['-2', -2],
    ['1e3', 1000],
    ['.5', 0.5],
    ['5.', 5],
    ['+1', 1],
    ['1E-3', 0.001],
    ['1e+21', 1e21],
    ['0.1', 0.1],
    ['007', 7],
    ['123456789012345', 123456789012345],
    ['1234567890123456789', 1234567890123456789],
    ['0.30000000000000004', 0.30000000000000004],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['5e-324', 5e-324],
    ['1e-400', 0],
  ]
  for (const [s, v] of good) {
    t.is(parseNumber(s, 0, s.length), v, s)
    events(t, `c:${s}|c`, [ev('c', 'c', v)])
  }
  const bad = ['abc', 'NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '0x10', '0b1', '1_000', '1.2.3', 'e5', '1e', '1e+', '--1', '+', '-', '.', '+.', '1 ', '½', '１']
  for (const s of bad) {
    t.true(Number.isNaN(parseNumber(s, 0, s.length)), s)
    refused(t, `c:${s}|c`, 'bad_value')
  }
  refused(t, 'c: 1|c', 'bad_value')
  // parseNumber reads a window of a longer string.
  t.is(parseNumber('xx12.5yy', 2, 6), 12.5)
})

test('the fast path converts exactly like Number() for short decimals', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.nat(15), fc.boolean(), (m, k, neg) => {
      let s = String(m).padStart(k + 1, '0')
      s = s.slice(0, s.length - k) + (k > 0 ? '.' + s.slice(s.length - k) : '')
      if (neg) s = '-' + s
      return Object.is(parseNumber(s, 0, s.length), Number(s))
    }),
    { numRuns: 20_000 },
  )
  t.pass()
})

// --- errors ----------------------------------------------------------------------------------

test('every error reason', (t) => {
  refused(t, ':1|c', 'empty_line_name')
  refused(t, ':|c', 'empty_line_name')
  refused(t, 'foo', 'no_value')
  refused(t, 'foo:', 'no_value')
  refused(t, 'foo:|c', 'no_value')
  refused(t, 'foo:|s', 'no_value')
  refused(t, 'foo:abc|c', 'bad_value')
  refused(t, 'foo:1', 'bad_type')
  refused(t, 'foo:1|', 'bad_type')
  refused(t, 'foo:1|x', 'bad_type')
  refused(t, 'foo:1|C', 'bad_type')
  refused(t, 'foo:1|msx', 'bad_type')
  refused(t, 'foo:1|m', 'bad_type')
  refused(t, 'foo:1|c|@2', 'bad_sample_rate')
  refused(t, 'foo:1|c|#:x', 'bad_tag')
  refused(t, 'foo:1|c|Tx', 'bad_timestamp')
  refused(t, 'foo:1|c|zzz', 'bad_field')
  refused(t, 'foo:1|c|#' + Array.from({ length: 33 }, (_, i) => `t${i}:v`).join(','), 'too_many_tags')
  refused(t, 'foo:1|c|#' + 'x'.repeat(5000), 'line_too_long')
  // bad_json belongs to the HTTP decoders.
  const seen = new Set<ParseErrorReason>()
  for (const line of [':1|c', 'foo', 'foo:abc|c', 'foo:1', 'foo:1|c|@2', 'foo:1|c|#:x', 'foo:1|c|Tx', 'foo:1|c|zzz']) {
    for (const e of parse(line).errors) seen.add(e.reason)
  }
  t.is(seen.size, 8)
})

test('limits: maxTags counts both tag styles; maxLineLength is the trimmed line', (t) => {
  const limits = { maxLineLength: 40, maxTags: 3 }
  events(t, 'c,a=1:1|c|#b:2,c:3', [
    ev('c', 'c', 1, {
      tags: [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    }),
  ], limits)
  refused(t, 'c,a=1:1|c|#b:2,c:3,d:4', 'too_many_tags', limits)
  refused(t, 'c,a=1,b=2,c=3,d=4:1|c', 'too_many_tags', limits)
  refused(t, 'c:1|c|#b:2|#c:3,d:4,e:5', 'too_many_tags', limits)
  const exact = 'n'.repeat(36) + ':1|c'
  t.is(exact.length, 40)
  events(t, `  ${exact}\r`, [ev('n'.repeat(36), 'c', 1)], limits)
  refused(t, 'n' + exact, 'line_too_long', limits)
  // The defaults are 4096 characters and 32 tags.
  t.deepEqual(DEFAULT_PARSE_LIMITS, { maxLineLength: 4096, maxTags: 32 })
  refused(t, 'c:1|c|#' + 'x'.repeat(4096), 'line_too_long')
  t.is(parse('c:1|c|#' + Array.from({ length: 32 }, (_, i) => `t${i}`).join(',')).events[0].tags.length, 32)
})

test('the refused line handed to the sink is at most 200 characters, never half a surrogate pair', (t) => {
  const long = 'c:1|c|#' + 'x'.repeat(10_000)
  const e = parse(long).errors[0]
  t.is(e.reason, 'line_too_long')
  t.is(e.line, long.slice(0, ERROR_EXCERPT_CHARS))
  const emoji = 'u:x' + '😀'.repeat(3000) + '|zz'
  const e2 = parse(emoji).errors[0]
  t.true(e2.line.length <= ERROR_EXCERPT_CHARS)
  t.notThrows(() => encodeURIComponent(e2.line)) // throws on a lone surrogate
  t.deepEqual(parse('foo:1|x').errors, [{ reason: 'bad_type', line: 'foo:1|x' }])
})

test('lines: \\n and \\r\\n, blank lines skipped, a bad line leaves the others intact', (t) => {
  const text = ['a:1|c', '', 'bad line', '  ', 'b:2|g\r', 'c:x|c', '\r', 'd:3|ms|#k:v', ':1|c', 'e:1:2|d'].join('\n')
  const r = parse(text)
  t.deepEqual(r.events, [
    ev('a', 'c', 1),
    ev('b', 'g', 2),
    ev('d', 'ms', 3, { tags: [['k', 'v']] }),
    ev('e', 'd', 1),
    ev('e', 'd', 2),
  ])
  t.deepEqual(r.errors, [
    { reason: 'no_value', line: 'bad line' },
    { reason: 'bad_value', line: 'c:x|c' },
    { reason: 'empty_line_name', line: ':1|c' },
  ])
  t.deepEqual(parse(''), { events: [], errors: [] })
  t.deepEqual(parse('\n\n\r\n'), { events: [], errors: [] })
  t.deepEqual(parse('a:1|c\n').events, [ev('a', 'c', 1)])
  t.deepEqual(parse('a:1|c\r\nb:1|c\r\n').events, [ev('a', 'c', 1), ev('b', 'c', 1)])
})

test('without limits the defaults apply; a partial limits object falls back per field', (t) => {
  refused(t, 'c:1|c|#' + 'x'.repeat(5000), 'line_too_long', { maxTags: 2 } as ParseLimits)
  refused(t, 'c:1|c|#a,b,c', 'too_many_tags', { maxTags: 2 } as ParseLimits)
})

// --- real hot-shots output -------------------------------------------------------------------

/** Runs `send` on a mock hot-shots client with sampling always "in"; returns the lines it sent. */
function hotShots(options: ConstructorParameters<typeof StatsD>[0], send: (c: InstanceType<typeof StatsD>) => void): string[] {
  const client = new StatsD({ mock: true, ...options })
  const random = Math.random
  Math.random = () => 0
  try {
    send(client)
  } finally {
    Math.random = random
  }
  const lines = [...(client.mockBuffer ?? [])]
  client.close()
  return lines
}

type Sent = { call: (c: InstanceType<typeof StatsD>) => void; expect: StatsdEvent }

/** What each call sends; `tags` are the client's global tags followed by the call's own. */
function calls(globalTags: [string, string][], prefix = '', withTimestamp = true): Sent[] {
  const g = globalTags
  const n = (s: string) => prefix + s
  return [
    { call: (c) => c.increment('api.requests'), expect: ev(n('api.requests'), 'c', 1, { tags: g }) },
    {
      call: (c) => c.increment('api.requests', 5, 0.25, { route: '/users/:id' }),
      expect: ev(n('api.requests'), 'c', 5, { sampleRate: 0.25, tags: [...g, ['route', '/users/:id']] }),
    },
    { call: (c) => c.decrement('api.requests', 2, ['x:y']), expect: ev(n('api.requests'), 'c', -2, { tags: [...g, ['x', 'y']] }) },
    { call: (c) => c.increment('api.requests', 0), expect: ev(n('api.requests'), 'c', 0, { tags: g }) },
    { call: (c) => c.gauge('mem.used', 1234.5), expect: ev(n('mem.used'), 'g', 1234.5, { tags: g }) },
    // hot-shots sends a negative gauge as `-3|g`, which every StatsD server reads as a delta.
    { call: (c) => c.gauge('temp', -3), expect: ev(n('temp'), 'g', -3, { delta: true, tags: g }) },
    { call: (c) => c.gaugeDelta('queue', -2), expect: ev(n('queue'), 'g', -2, { delta: true, tags: g }) },
    { call: (c) => c.gaugeDelta('queue', 4), expect: ev(n('queue'), 'g', 4, { delta: true, tags: g }) },
    { call: (c) => c.gaugeDelta('queue', 0), expect: ev(n('queue'), 'g', 0, { delta: true, tags: g }) },
    { call: (c) => c.timing('lat', 12.25, 0.5), expect: ev(n('lat'), 'ms', 12.25, { sampleRate: 0.5, tags: g }) },
    { call: (c) => c.timing('lat', 0.000123), expect: ev(n('lat'), 'ms', 0.000123, { tags: g }) },
    { call: (c) => c.histogram('size', 1e21), expect: ev(n('size'), 'h', 1e21, { tags: g }) },
    { call: (c) => c.histogram('size', 7, ['bare']), expect: ev(n('size'), 'h', 7, { tags: [...g, ['bare', '']] }) },
    {
      call: (c) => c.distribution('dist', 0.000001, { tags: ['a:1'], timestamp: 1_700_000_000 }),
      expect: ev(n('dist'), 'd', 0.000001, { tags: [...g, ['a', '1']], timestampMs: withTimestamp ? 1_700_000_000_000 : undefined }),
    },
    { call: (c) => c.distribution('dist', -4.5, 0.1), expect: ev(n('dist'), 'd', -4.5, { sampleRate: 0.1, tags: g }) },
    { call: (c) => c.set('users', 'alice'), expect: ev(n('users'), 's', 'alice', { tags: g }) },
    { call: (c) => c.unique('users', 42), expect: ev(n('users'), 's', '42', { tags: g }) },
    {
      call: (c) => c.gauge('ts', 1, { timestamp: new Date(1_700_000_000_400) }),
      expect: ev(n('ts'), 'g', 1, { tags: g, timestampMs: withTimestamp ? 1_700_000_000_000 : undefined }),
    },
  ]
}

function checkHotShots(t: any, options: ConstructorParameters<typeof StatsD>[0], sent: Sent[], expectedLine?: RegExp) {
  const lines = hotShots(options, (c) => sent.forEach((s) => s.call(c)))
  t.is(lines.length, sent.length)
  if (expectedLine) for (const l of lines) t.regex(l, expectedLine)
  // Line by line, and as one packet.
  lines.forEach((l, i) => events(t, l, [sent[i].expect]))
  events(
    t,
    lines.join('\n'),
    sent.map((s) => s.expect),
  )
}

test('hot-shots, plain StatsD: every type, sample rates, per-call tags', (t) => {
  checkHotShots(t, {}, calls([]))
  // A set member with ':' in it.
  checkHotShots(t, {}, [{ call: (c) => c.set('users', 'user:1'), expect: ev('users', 's', 'user:1') }])
})

test('hot-shots, DogStatsD tags: global tags (sanitized by the client), prefix, overrides', (t) => {
  const global: [string, string][] = [
    ['env', 'prod'],
    ['a_b', 'c_d_e_f_g'],
  ]
  checkHotShots(t, { prefix: 'svc.', globalTags: { env: 'prod', 'a:b': 'c|d,e@f#g' } }, calls(global, 'svc.'), /\|#env:prod,a_b:c_d_e_f_g/)
  // A per-call tag overrides the global one with the same key.
  checkHotShots(t, { globalTags: ['env:prod', 'bare'] }, [
    {
      call: (c) => c.increment('x', 1, { env: 'dev', url: 'http://h:80/p?q' }),
      expect: ev('x', 'c', 1, {
        tags: [
          ['bare', ''],
          ['env', 'dev'],
          ['url', 'http://h:80/p?q'],
        ],
      }),
    },
  ])
})

test('hot-shots, Datadog mode: container id and cardinality fields', (t) => {
  const global: [string, string][] = [
    ['env', 'prod'],
    ['bare', ''],
  ]
  checkHotShots(t, { datadog: true, containerID: 'abc123', cardinality: 'low', globalTags: ['env:prod', 'bare'] }, calls(global), /\|c:abc123\|card:low$/)
})

test('hot-shots, Telegraf: tags in the name, including values with ":"', (t) => {
  const global: [string, string][] = [
    ['env', 'prod'],
    ['host', 'h1'],
  ]
  checkHotShots(t, { telegraf: true, globalTags: { env: 'prod', host: 'h1' } }, calls(global, '', false), /^[a-z.]+,env=prod,host=h1[,:]/)
  // A URL tag: fine for every type but sets (see the next test).
  const withUrl: [string, string][] = [
    ['env', 'prod'],
    ['url', 'http://h:80'],
  ]
  checkHotShots(
    t,
    { telegraf: true, globalTags: { env: 'prod', url: 'http://h:80' } },
    calls(withUrl, '', false).filter((s) => s.expect.type !== 's'),
  )
  // No tags at all: plain StatsD lines.
  checkHotShots(t, { telegraf: true }, calls([], '', false))
})

test('hot-shots DogStatsD events and service checks are not metrics: bad_type', (t) => {
  const lines = hotShots({ globalTags: ['env:prod'] }, (c) => {
    c.event('deploy: v1', 'text|with:stuff', { alert_type: 'info' }, ['k:v'])
    c.check('svc.up', c.CHECKS.OK, { message: 'all: good' }, ['k:v'])
  })
  t.deepEqual(lines, ['_e{10,15}:deploy: v1|text|with:stuff|t:info|#env:prod,k:v', '_sc|svc.up|0|#env:prod,k:v|m:all: good'])
  for (const line of lines) refused(t, line, 'bad_type')
  // A metric whose name merely starts with '_' is fine.
  events(t, '_e:1|c', [ev('_e', 'c', 1)])
})

test('Telegraf set lines whose tag values hold ":" are ambiguous: the first ":" ends the name, as in Telegraf', (t) => {
  const lines = hotShots({ telegraf: true, globalTags: { url: 'http://h:80' } }, (c) => c.set('users', 'alice'))
  t.deepEqual(lines, ['users,url=http://h:80:alice|s'])
  events(t, lines[0], [ev('users', 's', '//h:80:alice', { tags: [['url', 'http']] })])
})

// --- properties ------------------------------------------------------------------------------

const isBlank = (s: string) => /^[ \t\r]*$/.test(s)

/** Every line alone is its events or exactly one error; the whole text is the lines in order. */
function checkText(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): boolean {
  const whole = parse(text, limits)
  const events: StatsdEvent[] = []
  let errors = 0
  for (const line of text.split('\n')) {
    const r = parse(line, limits)
    if (isBlank(line)) {
      if (r.events.length !== 0 || r.errors.length !== 0) return false
      continue
    }
    if (!((r.events.length >= 1 && r.errors.length === 0) || (r.events.length === 0 && r.errors.length === 1))) return false
    events.push(...r.events)
    errors += r.errors.length
  }
  if (whole.errors.length !== errors || whole.events.length !== events.length) return false
  for (const e of whole.errors) {
    if (!PARSE_ERROR_REASONS.includes(e.reason) || e.reason === 'bad_json' || e.line.length > ERROR_EXCERPT_CHARS) return false
  }
  for (const e of whole.events) {
    if (e.name === '' || !STATSD_TYPES.includes(e.type)) return false
    if (!(e.sampleRate > 0 && e.sampleRate <= 1)) return false
    if (e.tags.length > limits.maxTags || e.tags.some(([k]) => k === '')) return false
    if (e.timestampMs !== undefined && !(Number.isSafeInteger(e.timestampMs) && e.timestampMs >= 0)) return false
    if (e.type === 's' ? !(Number.isNaN(e.value) && e.member) : !Number.isFinite(e.value)) return false
    if ((e.type === 'g') !== (typeof e.delta === 'boolean')) return false
  }
  return true
}

const soup = fc
  .array(
    fc.constantFrom(
      ':', '|', '#', '@', ',', '=', '\n', '\r', ' ', '\t', 'c', 'g', 'ms', 'h', 'd', 's', 'T', 'T1700000000', 'c:', 'e:', 'card:',
      '1', '-', '+', '.', 'e', 'a', 'name', '0.5', '1e400', 'NaN', '😀', '\ud800', 'é', '\u0000',
    ),
    { maxLength: 60 },
  )
  .map((xs) => xs.join(''))

test('fuzz: |:#@,= soup never throws and every line is its events or one error', (t) => {
  fc.assert(fc.property(soup, (s) => checkText(s)), { numRuns: 20_000 })
  fc.assert(fc.property(soup, (s) => checkText(s, { maxLineLength: 12, maxTags: 1 })), { numRuns: 5_000 })
  t.pass()
})

test('fuzz: arbitrary strings (full Unicode, lone surrogates, long lines) never throw', (t) => {
  const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => checkText(s)), { numRuns: 20_000 })
  fc.assert(fc.property(fc.string({ unit: anyUnit, maxLength: 200 }), (s) => checkText(s)), { numRuns: 10_000 })
  fc.assert(
    fc.property(fc.string({ minLength: 3000, maxLength: 6000 }), soup, (s, tail) => checkText(s + tail) && checkText(`n:1|c|#${s}`)),
    { numRuns: 300 },
  )
  t.pass()
})

// Parts of valid lines: characters that cannot end a name, a tag or a field.
const nameChar = fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '_', '-', '/', '#', '@', '=', 'é', '😀')
const tagChar = fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '_', '-', '/', '@', '=', 'é', '😀')
const str = (unit: fc.Arbitrary<string>, minLength = 1) => fc.string({ unit, minLength, maxLength: 12 })
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.tuple(fc.nat(1e6), fc.nat(6)).map(([v, k]) => (v / 1e3).toFixed(k)),
  fc.nat(1e6).map((v) => '+' + v),
)

test('generated valid lines parse back to their parts (DogStatsD and Telegraf)', (t) => {
  const line = fc.record({
    name: str(nameChar),
    type: fc.constantFrom<StatsdType>(...STATSD_TYPES),
    values: fc.array(numberText, { minLength: 1, maxLength: 4 }),
    member: str(fc.constantFrom('a', 'Z', '0', ':', '.', '#', '@', ',', '=', ' ', 'é', '😀')).filter((m) => m.trim() === m),
    rate: fc.option(fc.double({ min: 1e-9, max: 1, noNaN: true }).filter((r) => r > 0)),
    tags: fc.array(fc.tuple(str(tagChar), fc.oneof(str(tagChar, 0), str(fc.constantFrom('a', ':', '0'), 0))), { maxLength: 5 }),
    telegraf: fc.boolean(),
    ts: fc.option(fc.nat(4_000_000_000)),
    container: fc.option(str(fc.constantFrom('a', '0', '-'))),
    order: fc.nat(),
  })
  fc.assert(
    fc.property(line, (p) => {
      const isSet = p.type === 's'
      const values = isSet ? [p.member] : p.values
      // Telegraf tag values cannot hold ':' here (see the ambiguity test above).
      const tags = p.telegraf ? p.tags.map(([k, v]) => [k.replace(/=/g, '_'), v.replace(/:/g, '_')] as [string, string]) : p.tags
      const fields: string[] = []
      if (p.rate !== null) fields.push('@' + String(p.rate))
      if (!p.telegraf && tags.length > 0) fields.push('#' + tags.map(([k, v]) => (v === '' ? k : `${k}:${v}`)).join(','))
      if (p.ts !== null) fields.push('T' + p.ts)
      if (p.container !== null) fields.push('c:' + p.container)
      // A rotation of the fields: any order is allowed.
      const r = fields.length === 0 ? 0 : p.order % fields.length
      const ordered = [...fields.slice(r), ...fields.slice(0, r)]
      const head = p.telegraf && tags.length > 0 ? p.name + ',' + tags.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(',') : p.name
      const text = `${head}:${values.join(':')}|${p.type}${ordered.map((f) => '|' + f).join('')}`
      const expected = values.map((v) =>
        newEvent(
          p.name,
          p.type,
          isSet ? NaN : Number(v),
          isSet ? v : undefined,
          p.type === 'g' ? v[0] === '-' || v[0] === '+' : undefined,
          p.rate ?? 1,
          tags,
          p.ts === null ? undefined : p.ts * 1000,
        ),
      )
      const got = parse(text)
      if (got.errors.length !== 0) throw new Error(`${text}: ${got.errors[0].reason}`)
      t.deepEqual(got.events, expected, text)
      return true
    }),
    { numRuns: 5_000 },
  )
})

test('the tag and mapping caches keep copies, never the packet a string was cut from', (t) => {
  // V8 slices of 13+ characters are views into their parent string: a cached slice of a 1 MB
  // body would keep the whole body alive.
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const mapper = NameMapper.fromYaml('mappings:\n- match: "svc.*.*"\n  name: "svc_${2}"\n  labels:\n    service: "$1"\n')
  const plain = NameMapper.default()
  const sink = {
    event: (e: StatsdEvent) => {
      mapper.map(e.name, e.type)
      plain.map(e.name, e.type)
    },
    error: () => t.fail(),
  }
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 50; i++) {
    const body = [
      `svc.a-long-service-name-${i}.request_count_${i}:1|c|#env:production,url:http://host-${i}.example.com:8080/x`,
      `plain_metric_name_number_${i}:1|c`,
      'x'.repeat(1 << 20), // 1 MB more of the same body
    ].join('\n')
    parseStatsdLines(body, { event: sink.event, error: () => {} })
  }
  gc()
  gc()
  const retainedMb = (process.memoryUsage().heapUsed - before) / 1e6
  t.true(retainedMb < 20, `retained ${retainedMb.toFixed(1)} MB`)
})
