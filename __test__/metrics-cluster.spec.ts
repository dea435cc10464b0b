// Node cluster: the primary merges its workers' metrics by type (counters add, gauges by the
// metric's rule, histograms bucket by bucket, summaries by merging sketches).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'

test('the cluster aggregator merges 3 workers by type, in both formats', (t) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'cluster-app.ts')], { encoding: 'utf8', timeout: 60_000 })
  const { text, om } = JSON.parse(out) as { text: string; om: string }
  const v = (sample: string) => Number(new RegExp(`^${sample.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1])
  t.is(v('jobs_total{queue="q"}'), 100 + 101 + 102)
  for (const k of [0, 1, 2]) t.is(v(`jobs_total{queue="only${k}"}`), 1)
  t.is(v('temp_max'), 2) // aggregator: max
  t.is(v('inflight'), 30) // default: sum
  // Latencies 0.5, 1.5, 2.5 and three 5s: le=1 holds 1, le=10 all 6.
  t.is(v('lat_seconds_bucket{le="1"}'), 1)
  t.is(v('lat_seconds_bucket{le="10"}'), 6)
  t.is(v('lat_seconds_bucket{le="+Inf"}'), 6)
  t.is(v('lat_seconds_sum'), 0.5 + 1.5 + 2.5 + 15)
  t.is(v('size_bytes_count'), 1200)
  t.is(v('size_bytes_sum'), 500500 + (100_000 + 5050) + (200_000 + 5050))
  t.is(v('size_bytes{quantile="0"}'), 1)
  t.is(v('size_bytes{quantile="1"}'), 2100)
  // The merged median: 1200 values, rank floor(0.5 · 1199) = 599 → 600, within 1%. Averaging
  // the workers' medians (500, 1050, 2050) would give 1200.
  const median = v('size_bytes{quantile="0.5"}')
  t.true(Math.abs(median - 600) <= 6, `median ${median}`)
  t.true(om.includes('# TYPE jobs counter\n') && om.includes('jobs_total{queue="q"} 303\n') && om.endsWith('# EOF\n'))
})
