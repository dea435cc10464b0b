/**
 * Prometheus text (0.0.4) and OpenMetrics (1.0.0) exposition of one family's snapshot.
 */
import type { MetricFamilyDef } from './store'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

export type ExpositionFormat = 'prometheus' | 'openmetrics'

/** A sample value as Prometheus writes it: NaN, +Inf, -Inf, else the shortest round-trip decimal. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return Number.isNaN(v) ? 'NaN' : String(v)
}

/** Label values escape backslash, double quote and line feed (both formats). */
export function escapeLabelValue(s: string): string {
  return /[\\"\n]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : s
}

/** HELP text escapes backslash and line feed (Prometheus), and double quote too (OpenMetrics). */
export function escapeHelp(s: string, format: ExpositionFormat): string {
  const out = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
  return format === 'openmetrics' ? out.replace(/"/g, '\\"') : out
}

/** The stored value of a label left out of a labels object (metric.ts ABSENT): not rendered. */
const ABSENT = '\u0000'

/** `a="x",b="y"`: the inside of a sample's braces, without them (extra labels may follow). Left-out labels are skipped. */
export function renderLabels(names: readonly string[], values: readonly string[]): string {
  let s = ''
  for (let i = 0; i < names.length; i++) {
    if (values[i] === ABSENT) continue
    s += `${s === '' ? '' : ','}${names[i]}="${escapeLabelValue(values[i])}"`
  }
  return s
}

/** A labels object rendered as prom-client does (keys in their order, values with String()). */
export function renderLabelObject(labels: Record<string, unknown>): string {
  let s = ''
  for (const k of Object.keys(labels)) {
    const v = labels[k]
    if (v === undefined) continue
    s += `${s === '' ? '' : ','}${k}="${escapeLabelValue(String(v))}"`
  }
  return s
}

/** What `registerMetric` accepts besides hotstats' own metrics: prom-client's custom metric shape. */
export interface CustomMetricObject {
  name: string
  help?: string
  type?: string
  values?: Array<{ value: number; labels?: Record<string, unknown>; metricName?: string }>
}

/**
 * A custom metric's `get()` result, rendered as prom-client's registry does: HELP and TYPE, then
 * each value under its `metricName` (default: the metric's name) with its labels, then `extra`
 * labels (the registry's default labels) not already set.
 */
export function formatCustom(m: CustomMetricObject, format: ExpositionFormat, extra: Record<string, string> = {}): string {
  const type = m.type ?? 'untyped'
  const fam = familyName(m.name, type, format)
  let out = `# HELP ${fam} ${escapeHelp(m.help ?? '', format)}\n# TYPE ${fam} ${type === 'untyped' && format === 'openmetrics' ? 'unknown' : type}\n`
  for (const v of m.values ?? []) {
    let name = v.metricName ?? m.name
    if (format === 'openmetrics' && type === 'counter' && !name.endsWith('_total')) name += '_total'
    const labels: Record<string, unknown> = { ...v.labels }
    for (const k of Object.keys(extra)) if (labels[k] === undefined) labels[k] = extra[k]
    out += `${name}${braces(renderLabelObject(labels))} ${formatValue(v.value)}\n`
  }
  return out
}

function braces(inner: string, extra?: string): string {
  if (extra === undefined) return inner === '' ? '' : `{${inner}}`
  return inner === '' ? `{${extra}}` : `{${inner},${extra}}`
}

/** The metric name a family is exposed under (OpenMetrics counters drop a `_total` suffix). */
export function familyName(name: string, kind: string, format: ExpositionFormat): string {
  return format === 'openmetrics' && kind === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name
}

/**
 * One family: HELP and TYPE (when `header`) and the samples of the series given (a registry
 * formats a large family in slices, yielding to the event loop between them). `rows` is the store's snapshot (see
 * crates/hotstats-core/src/metrics), `labels[i]` the rendered labels of series i.
 */
export function formatFamily(name: string, def: MetricFamilyDef, rows: Float64Array, labels: readonly string[], format: ExpositionFormat, header = true): string {
  const fam = familyName(name, def.kind, format)
  let out = header ? `# HELP ${fam} ${escapeHelp(def.help, format)}\n# TYPE ${fam} ${def.kind}\n` : ''
  const n = labels.length
  if (def.kind === 'counter' || def.kind === 'gauge') {
    const sample = def.kind === 'counter' && format === 'openmetrics' ? `${fam}_total` : name
    for (let i = 0; i < n; i++) out += `${sample}${braces(labels[i])} ${formatValue(rows[i])}\n`
  } else if (def.kind === 'histogram') {
    const nb = def.buckets.length
    const width = nb + 2
    const les = [...def.buckets.map(formatValue), '+Inf'].map((le) => `le="${le}"`)
    for (let i = 0; i < n; i++) {
      const at = i * width
      let cum = 0
      for (let b = 0; b <= nb; b++) {
        cum += rows[at + b]
        out += `${name}_bucket${braces(labels[i], les[b])} ${formatValue(cum)}\n`
      }
      out += `${name}_sum${braces(labels[i])} ${formatValue(rows[at + nb + 1])}\n`
      out += `${name}_count${braces(labels[i])} ${formatValue(cum)}\n`
    }
  } else {
    const qs = def.percentiles.map((q) => `quantile="${formatValue(q)}"`)
    const width = 2 + qs.length
    for (let i = 0; i < n; i++) {
      const at = i * width
      for (let k = 0; k < qs.length; k++) out += `${name}${braces(labels[i], qs[k])} ${formatValue(rows[at + 2 + k])}\n`
      out += `${name}_sum${braces(labels[i])} ${formatValue(rows[at + 1])}\n`
      out += `${name}_count${braces(labels[i])} ${formatValue(rows[at])}\n`
    }
  }
  return out
}
