/**
 * /metrics for the store: Prometheus text 0.0.4, OpenMetrics 1.0, and the delimited protobuf
 * format (distributions as native histograms, through the library's encoders). The text writers
 * are generators that yield every few hundred series, so the aggregator can render 100k series
 * in slices and keep applying events in between (a scrape never stalls ingest for long).
 */
import { encodeNativeHistogramFamily, encodeScalarFamily } from '../index'
import type { NativeHistogramSeries, ScalarSeries } from '../index'
import { QUANTILES, type Series, type Store } from './store'

export type Format = 'prometheus' | 'openmetrics' | 'protobuf'

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function withLabel(labelText: string, name: string, value: string): string {
  return labelText === '' ? `{${name}="${value}"}` : `${labelText.slice(0, -1)},${name}="${value}"}`
}

const SLICE = 512

/** Text exposition of every series, in chunks of up to SLICE series. */
export function* renderText(store: Store, format: 'prometheus' | 'openmetrics'): Generator<string> {
  const om = format === 'openmetrics'
  let out = ''
  let n = 0
  for (const [name, f] of store.familyEntries()) {
    const help = escapeHelp(f.help)
    if (f.kind === 'counter') {
      const fam = om ? name : `${name}_total`
      out += `# HELP ${fam} ${help}\n# TYPE ${fam} counter\n`
      for (const s of f.series.values()) {
        out += (s.text ??= `${name}_total${s.labelText} ${formatNumber(s.total())}\n`)
        if (++n % SLICE === 0) {
          yield out
          out = ''
        }
      }
    } else if (f.kind === 'gauge' || f.kind === 'set') {
      out += `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`
      for (const s of f.series.values()) {
        out += (s.text ??= `${name}${s.labelText} ${formatNumber(f.kind === 'set' ? store.uniques(s) : s.value)}\n`)
        if (++n % SLICE === 0) {
          yield out
          out = ''
        }
      }
    } else {
      out += `# HELP ${name} ${help}\n# TYPE ${name} summary\n`
      for (const s of f.series.values()) {
        out += (s.text ??= summaryLines(name, s))
        if (++n % SLICE === 0) {
          yield out
          out = ''
        }
      }
    }
  }
  yield out
}

function summaryLines(name: string, s: Series): string {
  const sk = s.dist!.view()
  let out = ''
  if (sk.count > 0) {
    const qs = sk.quantiles([...QUANTILES])
    for (let i = 0; i < QUANTILES.length; i++) out += `${name}${withLabel(s.labelText, 'quantile', String(QUANTILES[i]))} ${formatNumber(qs[i])}\n`
  }
  out += `${name}_sum${s.labelText} ${formatNumber(sk.sum)}\n${name}_count${s.labelText} ${formatNumber(sk.count)}\n`
  return out
}

/** Protobuf exposition: counters and gauges as such, distributions as native histograms. */
export function* renderProtobuf(store: Store, schema: number): Generator<Uint8Array> {
  for (const [name, f] of store.familyEntries()) {
    if (f.kind === 'dist') {
      const series: NativeHistogramSeries[] = []
      for (const s of f.series.values()) series.push({ labels: s.labels, histogram: s.dist!.view().toPrometheusNativeHistogram({ schema }) })
      yield encodeNativeHistogramFamily(name, f.help, series)
    } else {
      const series: ScalarSeries[] = []
      for (const s of f.series.values()) {
        series.push({ labels: s.labels, value: f.kind === 'counter' ? s.total() : f.kind === 'set' ? store.uniques(s) : s.value })
      }
      yield encodeScalarFamily(f.kind === 'counter' ? `${name}_total` : name, f.help, f.kind === 'counter' ? 'counter' : 'gauge', series)
    }
  }
}
