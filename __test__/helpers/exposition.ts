// Parses Prometheus text or OpenMetrics exposition into samples keyed by name and sorted labels,
// so two expositions (hotstats' and prom-client's) compare by content, not by line order, label
// order or the spelling of NaN (prom-client writes `Nan`).

function unescape(s: string): string {
  return s.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
}

export function parseValue(s: string): number {
  if (/^nan$/i.test(s)) return NaN
  if (s === '+Inf' || s === 'Inf') return Infinity
  if (s === '-Inf') return -Infinity
  const v = Number(s)
  if (Number.isNaN(v)) throw new Error(`not a sample value: ${s}`)
  return v
}

/** Every sample as `name{a="x",b="y"}` (labels sorted) → value. Comments and # EOF are skipped. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    const labels: string[] = []
    for (const p of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.push(`${p[1]}=${JSON.stringify(unescape(p[2]))}`)
    labels.sort()
    const key = `${m[1]}{${labels.join(',')}}`
    if (out.has(key)) throw new Error(`duplicate sample ${key}`)
    out.set(key, parseValue(m[3]))
  }
  return out
}

/** Samples as a sorted array of [key, value] (for t.deepEqual; NaN equals NaN there). */
export function sampleList(text: string): [string, number][] {
  return [...samples(text)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** The HELP and TYPE lines, in order. */
export function headers(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('# HELP') || l.startsWith('# TYPE'))
}
