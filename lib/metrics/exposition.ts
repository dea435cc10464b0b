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

/** `a="x",b="y"`: the inside of a sample's braces, without them (extra labels may follow). */
export function renderLabels(names: readonly string[], values: readonly string[]): string {
  let s = ''
  for (let i = 0; i < names.length; i++) s += `${i === 0 ? '' : ','}${names[i]}="${escapeLabelValue(values[i])}"`
  return s
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
