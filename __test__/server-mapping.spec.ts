// statsd_exporter mapping files (server/mapping.ts): glob and regex mappings with captures,
// ordering (and glob_disable_ordering), drop, match_metric_type, defaults, the default escaping
// (statsd_exporter's EscapeMetricName cases), and errors that name the file. Many scenarios are
// statsd_exporter's own (pkg/mapper/mapper_test.go, README.md, config.example.yml; Apache-2.0).
import test from 'ava'

import { escapeMetricName, goRegexToJs, type MappedName, NameMapper, sanitizeLabelName } from '../server/mapping'

const m = (name: string, labels: Record<string, string> = {}, extra: Partial<MappedName> = {}): MappedName => ({
  name,
  labels,
  ...extra,
})

test('default escaping is statsd_exporter EscapeMetricName (its own test table)', (t) => {
  const scenarios: Record<string, string> = {
    clean: 'clean',
    '0starts_with_digit': '_0starts_with_digit',
    with_underscore: 'with_underscore',
    'with--doubledash': 'with_doubledash',
    'with---multiple-dashes': 'with_multiple_dashes',
    'with.dot': 'with_dot',
    'with😱emoji': 'with_emoji',
    'with.*.multiple': 'with___multiple',
    'test.web-server.foo.bar': 'test_web_server_foo_bar',
    '': '',
    // And a few more.
    'a:b': 'a_b',
    'ünï': '_n_',
    '9': '_9',
    'a b\tc': 'a_b_c',
    '\ud800x': '_x',
  }
  for (const [input, want] of Object.entries(scenarios)) t.is(escapeMetricName(input), want, input)
  const d = NameMapper.default()
  t.deepEqual(d.map('api.requests-total', 'c'), m('api_requests_total'))
  t.deepEqual(d.map('1xx.count', 'g'), m('_1xx_count'))
  t.deepEqual(d.map('users', 's'), m('users'))
  t.is(sanitizeLabelName('env-name'), 'env_name')
  t.is(sanitizeLabelName('09digits'), '_09digits')
  t.is(sanitizeLabelName('tag.with.dots'), 'tag_with_dots')
})

test('the README glob example', (t) => {
  const mapper = NameMapper.fromYaml(
    `
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
    job: "test_dispatcher"
- match: "*.signup.*.*"
  name: "signup_events_total"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "\${1}_server"
`,
    'readme.yml',
  )
  t.deepEqual(
    mapper.map('test.dispatcher.FooProcessor.send.success', 'c'),
    m('dispatcher_events_total', { processor: 'FooProcessor', action: 'send', outcome: 'success', job: 'test_dispatcher' }),
  )
  t.deepEqual(
    mapper.map('foo_product.signup.facebook.failure', 'c'),
    m('signup_events_total', { provider: 'facebook', outcome: 'failure', job: 'foo_product_server' }),
  )
  t.deepEqual(mapper.map('test.web-server.foo.bar', 'c'), m('test_web_server_foo_bar'))
})

test('statsd_exporter "several mapping definitions": 12 captures, empty components, globs before regexes', (t) => {
  const mapper = NameMapper.fromYaml(`---
mappings:
- match: test.dispatcher.*.*.*
  name: "dispatch_events"
  labels:
    processor: "$1"
    action: "$2"
    result: "$3"
    job: "test_dispatcher"
- match: test.my-dispatch-host01.name.dispatcher.*.*.*
  name: "host_dispatch_events"
  labels:
    processor: "$1"
    action: "$2"
    result: "$3"
    job: "test_dispatcher"
- match: request_time.*.*.*.*.*.*.*.*.*.*.*.*
  name: "tyk_http_request"
  labels:
    method_and_path: "\${1}"
    response_code: "\${2}"
    apikey: "\${3}"
    apiversion: "\${4}"
    apiname: "\${5}"
    apiid: "\${6}"
    ipv4_t1: "\${7}"
    ipv4_t2: "\${8}"
    ipv4_t3: "\${9}"
    ipv4_t4: "\${10}"
    orgid: "\${11}"
    oauthid: "\${12}"
- match: "*.*"
  name: "catchall"
  labels:
    first: "$1"
    second: "$2"
    third: "$3"
    job: "$1-$2-$3"
- match: (.*)\\.(.*)-(.*)\\.(.*)
  match_type: regex
  name: "proxy_requests_total"
  labels:
    job: "$1"
    protocol: "$2"
    endpoint: "$3"
    result: "$4"
`)
  t.deepEqual(
    mapper.map('test.my-dispatch-host01.name.dispatcher.FooProcessor.send.succeeded', 'c'),
    m('host_dispatch_events', { processor: 'FooProcessor', action: 'send', result: 'succeeded', job: 'test_dispatcher' }),
  )
  t.deepEqual(
    mapper.map(
      'request_time.get/threads/1/posts.200.00000000.nonversioned.discussions.a11bbcdf0ac64ec243658dc64b7100fb.172.20.0.1.12ba97b7eaa1a50001000001.',
      'ms',
    ),
    m('tyk_http_request', {
      method_and_path: 'get/threads/1/posts',
      response_code: '200',
      apikey: '00000000',
      apiversion: 'nonversioned',
      apiname: 'discussions',
      apiid: 'a11bbcdf0ac64ec243658dc64b7100fb',
      ipv4_t1: '172',
      ipv4_t2: '20',
      ipv4_t3: '0',
      ipv4_t4: '1',
      orgid: '12ba97b7eaa1a50001000001',
      oauthid: '',
    }),
  )
  t.deepEqual(mapper.map('foo.bar', 'c'), m('catchall', { first: 'foo', second: 'bar', third: '', job: 'foo-bar-' }))
  t.deepEqual(mapper.map('foo.bar.baz', 'c'), m('foo_bar_baz'))
  t.deepEqual(
    mapper.map('proxy-1.http-goober.success', 'c'),
    m('proxy_requests_total', { job: 'proxy-1', protocol: 'http', endpoint: 'goober', result: 'success' }),
  )
  // A regex listed first still loses to a glob.
  const regexFirst = NameMapper.fromYaml(`
mappings:
- match: '.*'
  match_type: regex
  name: by_regex
- match: 'a.*'
  name: by_glob
`)
  t.is(regexFirst.map('a.b', 'c')?.name, 'by_glob')
  t.is(regexFirst.map('x.b', 'c')?.name, 'by_regex')
})

test('glob ordering: the first in file order wins; glob_disable_ordering: the most specific', (t) => {
  const ordered = NameMapper.fromYaml(`
defaults:
  glob_disable_ordering: false
mappings:
- match: order.*.*
  name: "testa"
  labels:
    label: "\${1}_foo"
- match: order.*.bbb
  name: "testb"
  labels:
    label: "\${1}_foo"
`)
  t.deepEqual(ordered.map('order.good.bbb', 'c'), m('testa', { label: 'good_foo' }))

  const unordered = NameMapper.fromYaml(`
defaults:
  glob_disable_ordering: true
mappings:
- match: noorder.*.*
  name: "testa"
  labels:
    label: "\${1}_foo"
- match: noorder.*.bbb
  name: "testb"
  labels:
    label: "\${1}_foo"
- match: noorder.ccc.bbb
  name: "testc"
  labels:
    label: "ccc_foo"
`)
  t.deepEqual(unordered.map('noorder.good.bbb', 'c'), m('testb', { label: 'good_foo' }))
  t.deepEqual(unordered.map('noorder.ccc.bbb', 'c'), m('testc', { label: 'ccc_foo' }))
  t.deepEqual(unordered.map('noorder.ccc.x', 'c'), m('testa', { label: 'ccc_foo' }))

  // "Config with backtracking": a literal branch that fails falls back to '*'.
  const backtrack = NameMapper.fromYaml(`
defaults:
  glob_disable_ordering: true
mappings:
- match: backtrack.*.bbb
  name: "testb"
  labels:
    label: "\${1}_foo"
- match: backtrack.justatest.aaa
  name: "testa"
  labels:
    label: "\${1}_foo"
`)
  t.deepEqual(backtrack.map('backtrack.good.bbb', 'c'), m('testb', { label: 'good_foo' }))
  t.deepEqual(backtrack.map('backtrack.justatest.bbb', 'c'), m('testb', { label: 'justatest_foo' }))
  t.deepEqual(backtrack.map('backtrack.justatest.aaa', 'c'), m('testa', { label: '_foo' }))

  // "the non-matched rule has star(s)": captures of a rule that failed do not leak.
  const stars = NameMapper.fromYaml(`
mappings:
- match: '*.dummy.*'
  name: metric_one
  labels:
    system: $1
    attribute: $2
- match: 'full.name.*'
  name: metric_two
  labels:
    system: static
    attribute: $1
`)
  t.deepEqual(stars.map('whatever.dummy.test', 'c'), m('metric_one', { system: 'whatever', attribute: 'test' }))
  t.deepEqual(stars.map('full.name.anothertest', 'c'), m('metric_two', { system: 'static', attribute: 'anothertest' }))
})

test('templates: $n and ${n}; $1_foo reads as a longer name (empty), as statsd_exporter does', (t) => {
  const mapper = NameMapper.fromYaml(`
mappings:
- match: test.*
  name: "name"
  labels:
    bad: "$1_foo"
    good: "\${1}_foo"
    zero: "$0"
    past: "$2"
- match: test1.*.*
  name: "$1"
- match: test2.*.*
  name: "\${1}_$2"
- match: test3\\.(\\w+)\\.(\\w+)
  match_type: regex
  name: "\${2}_$1"
  labels:
    whole: "$0"
    dollar: "$$1 $"
    named_miss: "$nope"
- match: foo--bar.*
  name: "foo_bar_\${1}"
- match: '*'
  name: single_segment
  labels:
    label: "\${1}"
`)
  t.deepEqual(mapper.map('test.a', 'c'), m('name', { bad: '', good: 'a_foo', zero: '', past: '' }))
  t.deepEqual(mapper.map('test1.total_requests.count', 'c'), m('total_requests'))
  t.deepEqual(mapper.map('test2.total_requests.count', 'c'), m('total_requests_count'))
  t.deepEqual(
    mapper.map('test3.total_requests.count', 'c'),
    m('count_total_requests', { whole: 'test3.total_requests.count', dollar: '$1 $', named_miss: '' }),
  )
  t.deepEqual(mapper.map('foo--bar.count', 'c'), m('foo_bar_count'))
  t.deepEqual(mapper.map('test', 'c'), m('single_segment', { label: 'test' }))
})

test('regex: named groups (?P<x>) in labels (names take only $n, as statsd_exporter checks), $0, unanchored like Go', (t) => {
  const mapper = NameMapper.fromYaml(`
mappings:
- match: "^svc\\\\.(?P<service>[^.]+)\\\\.(?P<op>[^.]+)$"
  match_type: regex
  name: "svc_\${2}"
  labels:
    service: "$service"
    op: "\${op}"
- match: ".+"
  match_type: regex
  name: "$0"
  labels:
    statsd_metric_name: "$0"
`)
  t.deepEqual(mapper.map('svc.api.calls', 'c'), m('svc_calls', { service: 'api', op: 'calls' }))
  // README "Special match groups": the name is still escaped, the label keeps the raw name.
  t.deepEqual(mapper.map('my.statsd_counter', 'c'), m('my_statsd_counter', { statsd_metric_name: 'my.statsd_counter' }))
  const unanchored = NameMapper.fromYaml(`
mappings:
- match: "foo"
  match_type: regex
  name: has_foo
`)
  t.is(unanchored.map('xfoox', 'c')?.name, 'has_foo')
})

test('Go regex syntax translated or refused', (t) => {
  t.true(goRegexToJs('(?i)^abc$').test('ABC'))
  t.true(goRegexToJs('\\Aa.c\\z').test('abc'))
  t.false(goRegexToJs('a\\z').test('a\n'))
  t.true(goRegexToJs('^[[:alpha:]]+[[:digit:]]$').test('abc1'))
  t.false(goRegexToJs('^[[:alpha:]]+$').test('ab1'))
  t.true(goRegexToJs('^\\Qa.b\\E$').test('a.b'))
  t.false(goRegexToJs('^\\Qa.b\\E$').test('axb'))
  t.true(goRegexToJs('^[]a]+$').test(']a]'))
  t.is(goRegexToJs('(?P<x>a)').exec('a')?.groups?.x, 'a')
  t.throws(() => goRegexToJs('(?U)a+'))
  t.throws(() => goRegexToJs('a(?i)b'))
  t.throws(() => goRegexToJs('*\\.foo'))
})

test('action: drop, including statsd_exporter catch-all drops (regexes run after globs)', (t) => {
  const all = NameMapper.fromYaml(`mappings:
- match: .
  match_type: regex
  name: "drop"
  action: drop`)
  t.is(all.map('test.a', 'c'), null)
  t.is(all.map('abc', 'ms'), null)
  const catchAll = NameMapper.fromYaml(`mappings:
- match: web.*
  name: "web"
  labels:
    site: "$1"
- match: .
  match_type: regex
  name: "drop"
  action: drop`)
  t.is(catchAll.map('test.a', 'c'), null)
  t.deepEqual(catchAll.map('web.localhost', 'c'), m('web', { site: 'localhost' }))
  const glob = NameMapper.fromYaml(`mappings:
- match: noisy.*
  name: x
  action: drop
- match: noisy.*
  name: y
`)
  t.is(glob.map('noisy.thing', 'g'), null)
  t.deepEqual(glob.map('quiet.thing', 'g'), m('quiet_thing'))
})

test('match_metric_type: counter, gauge, observer (ms, h, d); sets only match untyped mappings', (t) => {
  const mapper = NameMapper.fromYaml(`---
mappings:
- match: test.foo.*
  name: "test_foo_sum"
  match_metric_type: counter
- match: test.foo.*
  name: "test_foo_current"
  match_metric_type: gauge
- match: test.foo.*
  name: "test_foo_seconds"
  match_metric_type: observer
- match: test.foo.*
  name: "test_foo_any"
- match: "test\\\\.bar\\\\.(.*)"
  match_type: regex
  match_metric_type: gauge
  name: "bar_gauge"
`)
  t.is(mapper.map('test.foo.x', 'c')?.name, 'test_foo_sum')
  t.is(mapper.map('test.foo.x', 'g')?.name, 'test_foo_current')
  for (const type of ['ms', 'h', 'd'] as const) t.is(mapper.map('test.foo.x', type)?.name, 'test_foo_seconds')
  t.is(mapper.map('test.foo.x', 's')?.name, 'test_foo_any')
  t.is(mapper.map('test.bar.y', 'g')?.name, 'bar_gauge')
  t.is(mapper.map('test.bar.y', 'c')?.name, 'test_bar_y')
})

test('defaults.match_type: regex applies to mappings without their own', (t) => {
  const mapper = NameMapper.fromYaml(`
defaults:
  match_type: regex
mappings:
- match: "^a\\\\.(\\\\w+)$"
  name: "a_$1"
- match: "b.*"
  match_type: glob
  name: "b_\${1}"
`)
  t.is(mapper.map('a.x', 'c')?.name, 'a_x')
  t.is(mapper.map('b.y', 'c')?.name, 'b_y')
})

test("statsd_exporter's config.example.yml loads and maps; help, honor_labels and scale are reported", (t) => {
  const mapper = NameMapper.fromYaml(
    `
defaults:
  observer_type: histogram
  histogram_options:
    native_histogram_bucket_factor: 1.1
    native_histogram_max_buckets: 160
    buckets: [.005, .01, .025, .05, .1, .25, .5, 1, 2.5 ]
  summary_options:
    quantiles:
      - quantile: 0.99
        error: 0.001
      - quantile: 0.5
        error: 0.005
    max_age: 5m
    age_buckets: 2
    buf_cap: 1000
  match_type: glob
  glob_disable_ordering: true
  ttl: 0
mappings:
  - match: "test.timing.*.*.*"
    name: "my_timer"
    help: "Latency of the application"
    labels:
      provider: "$2"
      outcome: "$3"
      job: "\${1}_server"
  - match: "consistent_app.timing.*.*.*"
    name: "my_consistent_timer"
    help: "Latency of an application with a consistent latency pattern"
    histogram_options:
      native_histogram_bucket_factor: 1.005
      buckets: [0.01, 0.011, 0.012, 0.013, 0.014, 0.015, 0.016, 0.017, 0.018, 0.019, 0.02]
    labels:
      provider: "$2"
      outcome: "$3"
      job: "\${1}_server"
  - match: "other.distribution.*.*.*"
    observer_type: summary
    name: "other_distribution"
    labels:
      provider: "$2"
      outcome: "$3"
      job: "\${1}_server_other"
  - match: foo.latency_ms
    name: foo_latency_seconds
    scale: 0.001
    honor_labels: true
    ttl: 1m20s
`,
    'config.example.yml',
  )
  t.deepEqual(
    mapper.map('test.timing.api.aws.success', 'ms'),
    m('my_timer', { provider: 'aws', outcome: 'success', job: 'api_server' }, { help: 'Latency of the application' }),
  )
  t.deepEqual(
    mapper.map('other.distribution.web.gcp.fail', 'd'),
    m('other_distribution', { provider: 'gcp', outcome: 'fail', job: 'web_server_other' }),
  )
  t.deepEqual(mapper.map('foo.latency_ms', 'ms'), m('foo_latency_seconds', {}, { honorLabels: true, scale: 0.001 }))
})

test('an empty file or an empty mappings list maps like the default', (t) => {
  for (const text of ['', '# nothing\n', '---\n', 'mappings: []\n', 'mappings:\n']) {
    t.deepEqual(NameMapper.fromYaml(text).map('a.b-c', 'c'), m('a_b_c'), JSON.stringify(text))
  }
})

test('bad files throw an Error naming the file and the problem', (t) => {
  const bad: [string, RegExp][] = [
    ['mappings: [', /invalid YAML/],
    ['mappings:\n- match: *.test.*\n  name: x', /invalid YAML/], // an unquoted '*' is a YAML alias
    ['mappings:\n- match: "*\\\\.foo"\n  match_type: regex\n  name: foo', /invalid regex/],
    ['mappings:\n- match: bad!!metric-line.*.*\n  name: foo', /invalid glob/],
    ['mappings:\n- match: a.b*\n  name: foo', /invalid glob/],
    ['mappings:\n- match: 0a.b\n  name: foo', /invalid glob/],
    ['mappings:\n- match: test.*.*\n  name: "0foo"', /not a valid name/],
    ['mappings:\n- match: test.*.*\n  name: "a-b"', /not a valid name/],
    ['mappings:\n- match: test.*.*\n  labels:\n    this: "$1"', /does not set a metric name/],
    ['mappings:\n- match: test.*\n  name: x\n  labels:\n    bad-label: "1"', /invalid label name/],
    ['mappings:\n- match: test.*\n  name: x\n  match_metric_type: wrong', /invalid match_metric_type/],
    ['mappings:\n- match: test.*\n  name: x\n  match_type: fuzzy', /invalid match_type/],
    ['mappings:\n- match: test.*\n  name: x\n  action: keep', /invalid action/],
    ['mappings:\n- match: test.*\n  name: x\n  observer_type: bad', /invalid observer_type/],
    ['mappings:\n- match: test.*\n  name: x\n  nmae: typo', /unknown key "nmae"/],
    ['mappings:\n- name: x', /`match` must be/],
    ['mapings: []', /unknown key "mapings"/],
    ['defaults:\n  match_type: other\nmappings: []', /defaults: invalid match_type/],
    ['defaults:\n  glob_disable_ordering: maybe', /glob_disable_ordering/],
    ['mappings: 3', /must be a list/],
    ['- a\n- b', /expected a mapping/],
    ['a: 1\n---\nb: 2', /one YAML document/],
    ['mappings:\n- match: a\n  name: x\n  scale: big', /scale/],
  ]
  for (const [text, problem] of bad) {
    const err = t.throws(() => NameMapper.fromYaml(text, '/etc/hotstats/mapping.yml'), undefined, text)
    t.regex(err!.message, /^\/etc\/hotstats\/mapping\.yml: /, text)
    t.regex(err!.message, problem, text)
  }
  t.regex(t.throws(() => NameMapper.fromYaml('mappings: ['))!.message, /^mapping file: invalid YAML/)
})

test('a mapped name that is not a valid Prometheus name is escaped; an empty one falls back to the default', (t) => {
  const mapper = NameMapper.fromYaml(`
mappings:
- match: "x.*"
  name: "x_\${1}"
- match: "e.*"
  name: "\${1}"
  labels:
    from: e
`)
  t.is(mapper.map('x.a-b', 'c')?.name, 'x_a_b')
  t.is(mapper.map('x.😀', 'c')?.name, 'x__')
  t.deepEqual(mapper.map('e.', 'c'), m('e_'))
  t.deepEqual(mapper.map('e.0k', 'c'), m('_0k', { from: 'e' }))
})

test('results are cached, frozen, and the cache is bounded', (t) => {
  const mapper = NameMapper.fromYaml(`
mappings:
- match: "a.*"
  name: "a"
  labels:
    x: "$1"
`)
  const r1 = mapper.map('a.b', 'c')!
  t.is(mapper.map('a.b', 'c'), r1)
  t.true(Object.isFrozen(r1) && Object.isFrozen(r1.labels))
  // Per type: the same name under another type is its own entry.
  t.not(mapper.map('a.b', 'g'), r1)
  for (let i = 0; i < 100_010; i++) mapper.map(`a.n${i}`, 'c')
  const again = mapper.map('a.b', 'c')!
  t.deepEqual(again, r1)
  t.not(again, r1) // emptied once full, so this one was computed again
})
