// HTTP JSON and NDJSON events (server/http-events.ts): arrays, single objects, NDJSON with bad
// lines, every validation reason, one sink call per input event in order (so the route can number
// errors), and the same events a StatsD line would give.
import test from 'ava'
import fc from 'fast-check'

import { type ParseErrorReason, type StatsdEvent, type StatsdType } from '../server/events'
import { decodeJsonEvents, decodeNdjsonEvents } from '../server/http-events'
import { parseStatsdLines } from '../server/statsd'
import { ev } from './helpers/statsd-events'

type Out = { event: StatsdEvent } | { error: ParseErrorReason; line: string }

function run(decode: typeof decodeJsonEvents, body: string, limits?: { maxLineLength: number; maxTags: number }): Out[] {
  const out: Out[] = []
  decode(body, { event: (event) => out.push({ event }), error: (error, line) => out.push({ error, line }) }, limits)
  return out
}
const json = (body: unknown, limits?: { maxLineLength: number; maxTags: number }) => run(decodeJsonEvents, JSON.stringify(body), limits)
const reasons = (out: Out[]) => out.map((o) => ('error' in o ? o.error : 'ok'))

test('the documented example, as an array and as one object', (t) => {
  const example = { name: 'api.latency', type: 'ms', value: 12.5, tags: { route: '/a' }, sampleRate: 0.5, timestamp: 1700000000000 }
  const expected = ev('api.latency', 'ms', 12.5, { tags: [['route', '/a']], sampleRate: 0.5, timestampMs: 1700000000000 })
  t.deepEqual(json([example]), [{ event: expected }])
  t.deepEqual(json(example), [{ event: expected }])
  t.deepEqual(json({ ...example, tags: ['route:/a'] }), [{ event: expected }])
})

test('every type; sets take a string or a number member; gauges take delta', (t) => {
  t.deepEqual(
    json([
      { name: 'c', type: 'c', value: -2 },
      { name: 'g', type: 'g', value: -3 },
      { name: 'g', type: 'g', value: -3, delta: true },
      { name: 'g', type: 'g', value: 3, delta: false },
      { name: 't', type: 'ms', value: 0 },
      { name: 'h', type: 'h', value: 1e21 },
      { name: 'd', type: 'd', value: 0.5, delta: false },
      { name: 's', type: 's', value: 'alice' },
      { name: 's', type: 's', value: 42 },
      { name: 's', type: 's', value: 1.5 },
    ]),
    [
      { event: ev('c', 'c', -2) },
      // JSON can say what StatsD cannot: a negative absolute gauge.
      { event: ev('g', 'g', -3) },
      { event: ev('g', 'g', -3, { delta: true }) },
      { event: ev('g', 'g', 3) },
      { event: ev('t', 'ms', 0) },
      { event: ev('h', 'h', 1e21) },
      { event: ev('d', 'd', 0.5) },
      { event: ev('s', 's', 'alice') },
      { event: ev('s', 's', '42') },
      { event: ev('s', 's', '1.5') },
    ],
  )
})

test('tags: objects (numbers and booleans as strings, null bare) and arrays of "k:v" / bare', (t) => {
  t.deepEqual(json({ name: 'a', type: 'c', value: 1, tags: { env: 'prod', code: 200, ok: true, bare: null, url: 'http://h:80' } }), [
    {
      event: ev('a', 'c', 1, {
        tags: [
          ['env', 'prod'],
          ['code', '200'],
          ['ok', 'true'],
          ['bare', ''],
          ['url', 'http://h:80'],
        ],
      }),
    },
  ])
  t.deepEqual(json({ name: 'a', type: 'c', value: 1, tags: ['env:prod', 'bare', 'url:http://h:80', 'k:'] }), [
    {
      event: ev('a', 'c', 1, {
        tags: [
          ['env', 'prod'],
          ['bare', ''],
          ['url', 'http://h:80'],
          ['k', ''],
        ],
      }),
    },
  ])
  t.deepEqual(json({ name: 'a', type: 'c', value: 1, tags: [] }), [{ event: ev('a', 'c', 1) }])
  t.deepEqual(json({ name: 'a', type: 'c', value: 1, tags: null }), [{ event: ev('a', 'c', 1) }])
})

test('every validation reason, one error per refused event, in order', (t) => {
  const cases: [unknown, ParseErrorReason][] = [
    [null, 'bad_json'],
    [3, 'bad_json'],
    ['a:1|c', 'bad_json'],
    [[{ name: 'a', type: 'c', value: 1 }], 'bad_json'], // a nested array is not an event
    [{ type: 'c', value: 1 }, 'empty_line_name'],
    [{ name: '', type: 'c', value: 1 }, 'empty_line_name'],
    [{ name: 7, type: 'c', value: 1 }, 'empty_line_name'],
    [{ name: 'a', value: 1 }, 'bad_type'],
    [{ name: 'a', type: 'x', value: 1 }, 'bad_type'],
    [{ name: 'a', type: 'C', value: 1 }, 'bad_type'],
    [{ name: 'a', type: 'c' }, 'no_value'],
    [{ name: 'a', type: 'c', value: null }, 'no_value'],
    [{ name: 'a', type: 'c', value: '1' }, 'bad_value'],
    [{ name: 'a', type: 'c', value: true }, 'bad_value'],
    [{ name: 'a', type: 'c', value: 1e400 }, 'no_value'], // JSON.stringify(Infinity) is null
    [{ name: 'a', type: 's', value: '' }, 'bad_value'],
    [{ name: 'a', type: 's', value: {} }, 'bad_value'],
    [{ name: 'a', type: 'c', value: 1, sampleRate: 0 }, 'bad_sample_rate'],
    [{ name: 'a', type: 'c', value: 1, sampleRate: 1.5 }, 'bad_sample_rate'],
    [{ name: 'a', type: 'c', value: 1, sampleRate: '0.5' }, 'bad_sample_rate'],
    [{ name: 'a', type: 'c', value: 1, tags: { '': 'v' } }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: { k: { nested: 1 } } }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: [':v'] }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: [''] }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: [7] }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: 'env:prod' }, 'bad_tag'],
    [{ name: 'a', type: 'c', value: 1, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'too_many_tags'],
    [{ name: 'a', type: 'c', value: 1, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) }, 'too_many_tags'],
    [{ name: 'x'.repeat(5000), type: 'c', value: 1 }, 'line_too_long'],
    [{ name: 'a', type: 'c', value: 1, tags: { k: 'v'.repeat(5000) } }, 'line_too_long'],
    [{ name: 'a', type: 'c', value: 1, timestamp: -1 }, 'bad_timestamp'],
    [{ name: 'a', type: 'c', value: 1, timestamp: 1.5 }, 'bad_timestamp'],
    [{ name: 'a', type: 'c', value: 1, timestamp: '2024-01-01' }, 'bad_timestamp'],
    [{ name: 'a', type: 'c', value: 1, timestamp: 2 ** 53 }, 'bad_timestamp'],
    [{ name: 'a', type: 'c', value: 1, delta: true }, 'bad_field'],
    [{ name: 'a', type: 'g', value: 1, delta: 'yes' }, 'bad_field'],
    [{ name: 'a', type: 'c', value: 1, samplerate: 0.5 }, 'bad_field'],
    [{ name: 'a', type: 'c', value: 1, host: 'x' }, 'bad_field'],
  ]
  const good = { name: 'ok', type: 'c', value: 1 }
  // Interleaved with good events: the sink sees one call per input, in input order.
  const body = cases.flatMap(([item]) => [item, good])
  const out = json(body)
  t.deepEqual(
    reasons(out),
    cases.flatMap(([, reason]) => [reason, 'ok']),
  )
  for (const o of out) if ('line' in o) t.true(o.line.length <= 200)
  // The excerpt is the event's JSON.
  t.deepEqual(json([{ name: 'a', type: 'x', value: 1 }]), [{ error: 'bad_type', line: '{"name":"a","type":"x","value":1}' }])
  // Custom limits.
  t.deepEqual(reasons(json({ name: 'a', type: 'c', value: 1, tags: ['a', 'b'] }, { maxLineLength: 100, maxTags: 1 })), ['too_many_tags'])
  t.deepEqual(reasons(json({ name: 'abcdef', type: 'c', value: 1 }, { maxLineLength: 5, maxTags: 1 })), ['line_too_long'])
})

test('a body that is not JSON is one bad_json; an empty array is nothing', (t) => {
  for (const body of ['', '{', '[1,', 'a:1|c', 'NaN', '{"name": "a",}']) {
    const out = run(decodeJsonEvents, body)
    t.deepEqual(reasons(out), ['bad_json'], body)
  }
  t.deepEqual(run(decodeJsonEvents, '[]'), [])
  t.deepEqual(run(decodeJsonEvents, '  [ ]  '), [])
  t.deepEqual(reasons(run(decodeJsonEvents, '{}')), ['empty_line_name'])
  // Deep nesting does not escape as an exception.
  t.notThrows(() => run(decodeJsonEvents, '['.repeat(100_000) + ']'.repeat(100_000)))
})

test('NDJSON: one event per line; a bad line is one bad_json and the rest continue', (t) => {
  const body = [
    '{"name":"a","type":"c","value":1}',
    '',
    'not json',
    '{"name":"b","type":"g","value":2,"delta":true}\r',
    '   ',
    '[{"name":"c","type":"c","value":1}]',
    '{"name":"c","type":"x","value":1}',
    '{"name":"d","type":"s","value":"m"}',
  ].join('\n')
  const out = run(decodeNdjsonEvents, body)
  t.deepEqual(out, [
    { event: ev('a', 'c', 1) },
    { error: 'bad_json', line: 'not json' },
    { event: ev('b', 'g', 2, { delta: true }) },
    { error: 'bad_json', line: '[{"name":"c","type":"c","value":1}]' },
    { error: 'bad_type', line: '{"name":"c","type":"x","value":1}' },
    { event: ev('d', 's', 'm') },
  ])
  t.deepEqual(run(decodeNdjsonEvents, ''), [])
  t.deepEqual(run(decodeNdjsonEvents, '\n\r\n'), [])
  const long = run(decodeNdjsonEvents, 'x'.repeat(10_000))
  t.deepEqual(reasons(long), ['bad_json'])
  t.true((long[0] as { line: string }).line.length <= 200)
})

test('a JSON event gives the same event as the StatsD line that says the same', (t) => {
  const pairs: [unknown, string][] = [
    [{ name: 'api.req', type: 'c', value: 5, sampleRate: 0.25, tags: ['route:/users/:id', 'bare'] }, 'api.req:5|c|@0.25|#route:/users/:id,bare'],
    [{ name: 'q', type: 'g', value: -2, delta: true }, 'q:-2|g'],
    [{ name: 'q', type: 'g', value: 4 }, 'q:4|g'],
    [{ name: 'u', type: 's', value: 'user:1', timestamp: 1700000000000 }, 'u:user:1|s|T1700000000'],
  ]
  for (const [item, line] of pairs) {
    const fromLine: StatsdEvent[] = []
    parseStatsdLines(line, { event: (e) => fromLine.push(e), error: () => t.fail(line) })
    t.deepEqual(json(item), [{ event: fromLine[0] }], line)
  }
})

test('fuzz: any JSON value or text never throws and gives one sink call per input event', (t) => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), (items) => {
      return json(items).length === items.length
    }),
    { numRuns: 3_000 },
  )
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      const a = run(decodeJsonEvents, s)
      const b = run(decodeNdjsonEvents, s)
      const lines = s.split('\n').filter((l) => l.trim() !== '').length
      return a.length >= 0 && b.length === lines
    }),
    { numRuns: 5_000 },
  )
  t.pass()
})
