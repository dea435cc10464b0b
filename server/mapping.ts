/**
 * StatsD name → Prometheus name and labels, with statsd_exporter's mapping files, so a
 * statsd_exporter user's `--statsd.mapping-config` file works unchanged:
 *
 *   defaults: { match_type: glob|regex, glob_disable_ordering: bool, ... }
 *   mappings:
 *   - match: "test.dispatcher.*.*.*"     # glob: '*' is one whole dot-separated component
 *     name: "dispatcher_events_total"    # may use $1 / ${1} captures
 *     labels: { processor: "$1", action: "$2" }
 *     match_metric_type: counter         # counter | gauge | observer (ms, h, d)
 *     action: drop                       # or map (the default)
 *     help: "..."
 *
 * Semantics follow statsd_exporter's pkg/mapper (mapper.go, fsm/, escape.go):
 * - Glob mappings are tried before regex mappings, whatever their order in the file.
 * - Globs: the first matching glob in file order wins; with `defaults.glob_disable_ordering`
 *   the most specific one wins instead (left to right, a literal component beats '*').
 *   A '*' matches any one component, including an empty one (`a..b`, a trailing '.').
 * - Regexes (RE2 syntax, translated to JS; unanchored, like Go's FindStringSubmatchIndex): the
 *   first match in file order wins. `$0` is the whole match.
 * - Templates: in globs `$n`/`${n}` (n from 1; a reference past the captures, or like `$1_x` that
 *   reads as a longer name, becomes ''); in regexes Go's Regexp.Expand rules (`$$`, named groups).
 * - A mapped name is escaped like an unmapped one (statsd_exporter escapes both): every character
 *   outside [a-zA-Z0-9_] becomes '_' ('--' becomes one '_'), and a leading digit gets a '_' prefix.
 * - Sets (`s`) have no statsd_exporter type: they match only mappings without match_metric_type.
 * - Accepted for compatibility and reported, not applied here: `scale`, `honor_labels` (in the
 *   result); `observer_type`, `ttl`, `summary_options`, `histogram_options` and the older
 *   `timer_type`, `buckets`, `quantiles` are accepted and ignored. Unknown keys are refused, as
 *   statsd_exporter's strict YAML decoding does.
 */
import * as yaml from 'js-yaml'

import type { StatsdType } from './events'
import { detach } from './statsd'

export interface MappedName {
  /** The Prometheus metric name (before any `_total` suffix the exposition adds). */
  name: string
  /** Labels set by the mapping (captures substituted); the event's own tags are not included. */
  labels: Record<string, string>
  /** The mapping's `help`. */
  help?: string
  /** `honor_labels: true`: the event's tags win over these labels (they are defaults). */
  honorLabels?: boolean
  /** `scale`: multiply every value by this. */
  scale?: number
}

// statsd_exporter's escapeMetricName, for metric names and label names alike.
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95
}

/**
 * statsd_exporter's EscapeMetricName: every character outside [a-zA-Z0-9_] becomes '_' (one '_'
 * per code point, so an emoji is one '_'), a '-' right after a '-' is dropped (`a--b` → `a_b`,
 * so the default matches what a mapping with `--` would give), and a leading digit gets a '_'
 * prefix. '' stays ''. Note ':' is escaped too, as statsd_exporter does.
 */
export function escapeMetricName(s: string): string {
  const n = s.length
  let i = 0
  while (i < n && isNameChar(s.charCodeAt(i))) i++
  const c0 = s.charCodeAt(0)
  const digit = c0 >= 48 && c0 <= 57
  if (i === n) return digit ? '_' + s : s
  let out = digit ? '_' + s.slice(0, i) : s.slice(0, i)
  let prev = -1
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (isNameChar(c)) {
      out += s[i]
    } else {
      if (c === 45 /* - */ && prev === 45) continue
      // A surrogate pair is one code point, one '_'.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1)
        if (d >= 0xdc00 && d <= 0xdfff) i++
      }
      out += '_'
    }
    prev = c
  }
  return out
}

/** A tag key as a Prometheus label name, with the same rules as metric names (`env-name` → `env_name`). */
export function sanitizeLabelName(k: string): string {
  return escapeMetricName(k)
}

// --- configuration checks, from statsd_exporter's mapper.go ---------------------------------

// A glob: components that are '*' or a name; the first cannot start with a digit.
const GLOB_RE = /^(\*|[a-zA-Z_][a-zA-Z0-9_-]*)(\.\*|\.[a-zA-Z0-9_][a-zA-Z0-9_-]*)*$/
// A mapped name before substitution: name characters and $n / ${n} references.
const NAME_RE = /^([a-zA-Z_]|\$\{?\d+\}?)([a-zA-Z0-9_]|\$\{?\d+\}?)*$/
// A label name. statsd_exporter's `^[a-zA-Z_][a-zA-Z0-9_]+$` refuses one-letter names by
// accident (the '+'); Prometheus allows them, and so do we.
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const VALID_METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const MAPPING_KEYS = new Set([
  'match',
  'name',
  'labels',
  'honor_labels',
  'observer_type',
  'timer_type',
  'match_type',
  'help',
  'action',
  'match_metric_type',
  'ttl',
  'summary_options',
  'histogram_options',
  'scale',
  'buckets',
  'quantiles',
])
const DEFAULTS_KEYS = new Set([
  'observer_type',
  'timer_type',
  'match_type',
  'glob_disable_ordering',
  'ttl',
  'summary_options',
  'histogram_options',
  'buckets',
  'quantiles',
])

type MetricKind = 'counter' | 'gauge' | 'observer'

function kindOf(type: StatsdType): MetricKind | undefined {
  switch (type) {
    case 'c':
      return 'counter'
    case 'g':
      return 'gauge'
    case 'ms':
    case 'h':
    case 'd':
      return 'observer'
    default:
      return undefined // sets: statsd_exporter has no such type
  }
}

/** A compiled template: literal strings and capture references, alternating. */
type Template = (string | { group: number | string })[]

interface Rule {
  match: string
  glob?: string[]
  regex?: RegExp
  kind?: MetricKind
  drop: boolean
  name: Template
  labels: [string, Template][]
  help?: string
  honorLabels?: boolean
  scale?: number
}

/**
 * statsd_exporter's glob formatter (fsm/formatter.go): `\$\{?([a-zA-Z0-9_$]+)\}?` is a reference;
 * it is capture n when the name is an integer in 1..captures, '' otherwise.
 */
function compileGlobTemplate(t: string, captures: number): Template {
  const out: Template = []
  const re = /\$\{?([a-zA-Z0-9_$]+)\}?/g
  let last = 0
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    out.push(t.slice(last, m.index))
    if (/^\d+$/.test(m[1])) {
      const n = Number(m[1])
      if (n >= 1 && n <= captures) out.push({ group: n })
    }
    last = m.index + m[0].length
  }
  out.push(t.slice(last))
  return out.filter((p) => p !== '')
}

/**
 * Go's Regexp.Expand template: `$$` is '$'; `$name` takes the longest [a-zA-Z0-9_]+ (so `$1x` is
 * the group named "1x", i.e. ''); `${name}`; an all-digit name is a group number; a '$' not
 * followed by a valid reference is kept as a literal '$'.
 */
function compileRegexTemplate(t: string): Template {
  const out: Template = []
  let lit = ''
  let i = 0
  while (i < t.length) {
    const c = t[i]
    if (c !== '$') {
      lit += c
      i++
      continue
    }
    if (t[i + 1] === '$') {
      lit += '$'
      i += 2
      continue
    }
    let name = ''
    let end = i + 1
    if (t[end] === '{') {
      const close = t.indexOf('}', end + 1)
      name = close < 0 ? '' : t.slice(end + 1, close)
      if (!/^[a-zA-Z0-9_]+$/.test(name)) name = ''
      end = close + 1
    } else {
      while (end < t.length && /[a-zA-Z0-9_]/.test(t[end])) end++
      name = t.slice(i + 1, end)
    }
    if (name === '') {
      lit += '$'
      i++
      continue
    }
    if (lit !== '') out.push(lit)
    lit = ''
    out.push({ group: /^\d+$/.test(name) ? Number(name) : name })
    i = end
  }
  if (lit !== '') out.push(lit)
  return out
}

function expand(t: Template, groups: (string | undefined)[], named?: Record<string, string | undefined>): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0]
  let s = ''
  for (const p of t) {
    if (typeof p === 'string') s += p
    else if (typeof p.group === 'number') s += groups[p.group] ?? ''
    else s += named?.[p.group] ?? ''
  }
  return s
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
}

/**
 * A Go (RE2) pattern as a JS RegExp. Translated: `(?P<name>`, leading flag groups `(?i)` `(?s)`
 * `(?m)`, `\A`, `\z`, `\Q...\E` and POSIX classes `[[:alpha:]]`. What JS would read differently
 * without saying so (`(?U)`, `\C`, flag groups elsewhere) throws.
 */
export function goRegexToJs(pattern: string): RegExp {
  let flags = ''
  let p = pattern
  const lead = /^\(\?([imsU]+)\)/.exec(p)
  if (lead !== null) {
    for (const f of lead[1]) {
      if (f === 'U') throw new Error('the ungreedy flag (?U) is not supported')
      if (!flags.includes(f)) flags += f
    }
    p = p.slice(lead[0].length)
  }
  let out = ''
  let inClass = false
  for (let i = 0; i < p.length; i++) {
    const c = p[i]
    if (c === '\\') {
      const d = p[i + 1]
      if (d === undefined) throw new Error('trailing backslash')
      if (!inClass && d === 'A') out += '^'
      else if (!inClass && d === 'z') out += '$(?![\\s\\S])'
      else if (d === 'C') throw new Error('\\C is not supported')
      else if (d === 'Q') {
        const end = p.indexOf('\\E', i + 2)
        const lit = p.slice(i + 2, end < 0 ? p.length : end)
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
        i = end < 0 ? p.length : end + 1
        continue
      } else out += c + d
      i++
      continue
    }
    if (inClass) {
      if (c === '[' && p[i + 1] === ':') {
        const end = p.indexOf(':]', i + 2)
        const neg = p[i + 2] === '^'
        const cls = end < 0 ? undefined : POSIX_CLASSES[p.slice(i + (neg ? 3 : 2), end)]
        if (cls !== undefined && !neg) {
          out += cls
          i = end + 1
          continue
        }
        if (cls !== undefined) throw new Error('negated POSIX classes [[:^x:]] are not supported')
      }
      if (c === ']') inClass = false
      out += c
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      // A ']' right after '[' or '[^' is a literal in RE2, as in JS only when escaped.
      if (p[i + 1] === '^') {
        out += '^'
        i++
      }
      if (p[i + 1] === ']') {
        out += '\\]'
        i++
      }
      continue
    }
    if (c === '(' && p[i + 1] === '?') {
      if (p[i + 2] === 'P' && p[i + 3] === '<') {
        out += '(?<'
        i += 3
        continue
      }
      if (p[i + 2] !== ':' && p[i + 2] !== '<' && p[i + 2] !== '=' && p[i + 2] !== '!') {
        throw new Error('flag groups other than a leading (?i), (?m), (?s) are not supported')
      }
    }
    out += c
  }
  return new RegExp(out, flags)
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v)
}

/** The mapper: immutable once built; map() results are cached and frozen (treat them as read-only). */
export class NameMapper {
  /** Some mapping says `action: drop` (without one, map() never returns null: callers may skip it). */
  get canDrop(): boolean {
    return this.globs.some((r) => r.drop) || this.regexes.some((r) => r.drop)
  }
  private readonly globs: Rule[]
  private readonly regexes: Rule[]
  private readonly unordered: boolean
  private readonly byLength = new Map<number, Rule[]>()
  // One cache per type: keying by name alone avoids building a `type|name` string per call.
  private readonly caches: Record<StatsdType, Map<string, MappedName | null>> = {
    c: new Map(),
    g: new Map(),
    ms: new Map(),
    h: new Map(),
    d: new Map(),
    s: new Map(),
  }
  private cached = 0
  private readonly cacheMax: number

  private constructor(globs: Rule[], regexes: Rule[], unordered: boolean, cacheMax = 100_000) {
    this.globs = globs
    this.regexes = regexes
    this.unordered = unordered
    this.cacheMax = cacheMax
    for (const r of globs) {
      const n = r.glob!.length
      let list = this.byLength.get(n)
      if (list === undefined) this.byLength.set(n, (list = []))
      list.push(r)
    }
  }

  /** No mappings: every name is escaped (`api.req-count` → `api_req_count`), no labels. */
  static default(): NameMapper {
    return new NameMapper([], [], false)
  }

  /**
   * Reads a statsd_exporter mapping file. Throws an Error naming `source` and the problem for
   * bad YAML, an unknown key, a bad glob, regex, name, label name or option value.
   */
  static fromYaml(text: string, source = 'mapping file'): NameMapper {
    const fail = (msg: string): never => {
      throw new Error(`${source}: ${msg}`)
    }
    let docs: unknown[]
    try {
      docs = yaml.loadAll(text, { filename: source })
    } catch (e) {
      return fail(`invalid YAML: ${(e as Error).message}`)
    }
    if (docs.length > 1) fail('expected one YAML document, found ' + docs.length)
    const doc = docs[0] ?? {}
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('expected a mapping with `mappings:`')
    const top = doc as Record<string, unknown>
    for (const k of Object.keys(top)) if (k !== 'defaults' && k !== 'mappings') fail(`unknown key "${k}"`)

    const defaults = (top.defaults ?? {}) as Record<string, unknown>
    if (typeof defaults !== 'object' || Array.isArray(defaults)) fail('`defaults` must be a mapping')
    for (const k of Object.keys(defaults)) if (!DEFAULTS_KEYS.has(k)) fail(`defaults: unknown key "${k}"`)
    const defaultMatchType = defaults.match_type ?? 'glob'
    if (defaultMatchType !== 'glob' && defaultMatchType !== 'regex' && defaultMatchType !== '') {
      fail(`defaults: invalid match_type ${describe(defaultMatchType)} (glob or regex)`)
    }
    const unordered = defaults.glob_disable_ordering ?? false
    if (typeof unordered !== 'boolean') fail('defaults: glob_disable_ordering must be true or false')
    if (defaults.observer_type !== undefined) checkObserverType(defaults.observer_type, 'defaults', fail)

    const list = top.mappings ?? []
    if (!Array.isArray(list)) return fail('`mappings` must be a list')
    const globs: Rule[] = []
    const regexes: Rule[] = []
    list.forEach((raw: unknown, i: number) => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`mappings[${i}]: expected a mapping`)
      const m = raw as Record<string, unknown>
      const where = `mappings[${i}]` + (typeof m.match === 'string' ? ` (match ${describe(m.match)})` : '')
      for (const k of Object.keys(m)) if (!MAPPING_KEYS.has(k)) fail(`${where}: unknown key "${k}"`)
      if (typeof m.match !== 'string' || m.match === '') fail(`${where}: \`match\` must be a non-empty string`)
      const match = m.match as string
      if (m.name === undefined || m.name === null || m.name === '') fail(`${where}: the mapping does not set a metric name`)
      if (typeof m.name !== 'string') fail(`${where}: \`name\` must be a string`)
      const name = m.name as string
      if (!NAME_RE.test(name)) fail(`${where}: metric name ${describe(name)} is not a valid name (${NAME_RE.source})`)
      const matchType = m.match_type ?? (defaultMatchType === '' ? 'glob' : defaultMatchType)
      if (matchType !== 'glob' && matchType !== 'regex' && matchType !== '') {
        fail(`${where}: invalid match_type ${describe(matchType)} (glob or regex)`)
      }
      const action = m.action ?? 'map'
      if (action !== 'map' && action !== 'drop' && action !== '') fail(`${where}: invalid action ${describe(action)} (map or drop)`)
      const kind = m.match_metric_type
      if (kind !== undefined && kind !== 'counter' && kind !== 'gauge' && kind !== 'observer') {
        fail(`${where}: invalid match_metric_type ${describe(kind)} (counter, gauge or observer)`)
      }
      if (m.observer_type !== undefined) checkObserverType(m.observer_type, where, fail)
      if (m.help !== undefined && typeof m.help !== 'string') fail(`${where}: \`help\` must be a string`)
      if (m.honor_labels !== undefined && typeof m.honor_labels !== 'boolean') fail(`${where}: \`honor_labels\` must be true or false`)
      if (m.scale !== undefined && (typeof m.scale !== 'number' || !Number.isFinite(m.scale))) {
        fail(`${where}: \`scale\` must be a finite number`)
      }
      const labelsRaw = m.labels ?? {}
      if (typeof labelsRaw !== 'object' || Array.isArray(labelsRaw)) fail(`${where}: \`labels\` must be a mapping`)
      const labelPairs: [string, string][] = []
      for (const [k, v] of Object.entries(labelsRaw as Record<string, unknown>)) {
        if (!LABEL_RE.test(k)) fail(`${where}: invalid label name ${describe(k)}`)
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          fail(`${where}: label ${k} must be a string`)
        }
        labelPairs.push([k, String(v)])
      }

      const rule: Rule = {
        match,
        kind: kind as MetricKind | undefined,
        drop: action === 'drop',
        name: [],
        labels: [],
        help: m.help as string | undefined,
        honorLabels: m.honor_labels === true ? true : undefined,
        scale: m.scale as number | undefined,
      }
      if (matchType === 'regex') {
        try {
          rule.regex = goRegexToJs(match)
        } catch (e) {
          fail(`${where}: invalid regex: ${(e as Error).message}`)
        }
        rule.name = compileRegexTemplate(name)
        rule.labels = labelPairs.map(([k, v]) => [k, compileRegexTemplate(v)])
        regexes.push(rule)
      } else {
        if (!GLOB_RE.test(match)) fail(`${where}: invalid glob (components are '*' or [a-zA-Z0-9_-] names, the first not starting with a digit)`)
        rule.glob = match.split('.')
        const captures = rule.glob.filter((c) => c === '*').length
        rule.name = compileGlobTemplate(name, captures)
        rule.labels = labelPairs.map(([k, v]) => [k, compileGlobTemplate(v, captures)])
        globs.push(rule)
      }
    })
    return new NameMapper(globs, regexes, unordered as boolean)
  }

  /**
   * The Prometheus name and labels for a StatsD name and type; null when a mapping says
   * `action: drop`. Without a matching mapping: the escaped name, no labels. Results are cached
   * (up to 100 000 names; the cache is emptied when full) and frozen.
   */
  map(name: string, type: StatsdType): MappedName | null {
    const cache = this.caches[type]
    const hit = cache.get(name)
    if (hit !== undefined) return hit
    const result = this.lookup(name, type)
    if (this.cached >= this.cacheMax) {
      for (const t in this.caches) this.caches[t as StatsdType].clear()
      this.cached = 0
    }
    // The name is often a slice of a whole packet or HTTP body: keep a copy, not the body.
    cache.set(detach(name), result)
    this.cached++
    return result
  }

  private lookup(statsdName: string, type: StatsdType): MappedName | null {
    const kind = kindOf(type)
    const typeOk = (r: Rule) => r.kind === undefined || r.kind === kind
    let rule: Rule | undefined
    let groups: (string | undefined)[] = []
    let named: Record<string, string | undefined> | undefined

    if (this.globs.length > 0) {
      const parts = statsdName.split('.')
      const candidates = this.byLength.get(parts.length)
      if (candidates !== undefined) {
        for (const r of candidates) {
          if (!typeOk(r) || !globMatches(r.glob!, parts)) continue
          // Ordered: the first in file order. Unordered: a literal beats '*' at the first
          // component where two matching globs differ (statsd_exporter's FSM, literal first).
          if (rule === undefined || (this.unordered && moreSpecific(r.glob!, rule.glob!))) rule = r
          if (!this.unordered) break
        }
        if (rule !== undefined) {
          groups = [statsdName]
          rule.glob!.forEach((c, i) => {
            if (c === '*') groups.push(parts[i])
          })
        }
      }
    }
    if (rule === undefined) {
      for (const r of this.regexes) {
        if (!typeOk(r)) continue
        const m = r.regex!.exec(statsdName)
        if (m === null) continue
        rule = r
        groups = m
        named = m.groups
        break
      }
    }
    if (rule === undefined) return unmapped(statsdName)
    if (rule.drop) return null

    const mappedName = expand(rule.name, groups, named)
    // statsd_exporter escapes mapped names too; an empty one (an empty capture) is unusable,
    // so the event is named as if no mapping had matched.
    if (mappedName === '') return unmapped(statsdName)
    const labels: Record<string, string> = {}
    // Captures are slices of the name: detach what the cache keeps.
    for (const [k, t] of rule.labels) labels[k] = detach(expand(t, groups, named))
    const out: MappedName = {
      name: detach(VALID_METRIC_NAME.test(mappedName) ? mappedName : escapeMetricName(mappedName)),
      labels: Object.freeze(labels) as Record<string, string>,
    }
    if (rule.help !== undefined) out.help = rule.help
    if (rule.honorLabels) out.honorLabels = true
    if (rule.scale !== undefined) out.scale = rule.scale
    return Object.freeze(out)
  }
}

function unmapped(statsdName: string): MappedName {
  return Object.freeze({ name: detach(escapeMetricName(statsdName)), labels: Object.freeze({}) as Record<string, string> })
}

function globMatches(glob: string[], parts: string[]): boolean {
  for (let i = 0; i < glob.length; i++) if (glob[i] !== '*' && glob[i] !== parts[i]) return false
  return true
}

/** Both globs match the same name: is `a` chosen over `b` by literal-first search? */
function moreSpecific(a: string[], b: string[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue
    return b[i] === '*'
  }
  return false // the same pattern: the first in file order stays
}

function checkObserverType(v: unknown, where: string, fail: (msg: string) => never): void {
  if (v !== 'summary' && v !== 'histogram' && v !== '') fail(`${where}: invalid observer_type ${describe(v)} (summary or histogram)`)
}
