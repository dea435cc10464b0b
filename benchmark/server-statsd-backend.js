/**
 * A counting backend for etsy statsd (npm `statsd`), used by benchmark/server.ts: at every flush
 * it adds up what statsd actually took in since the last flush (the values of the counters, which
 * statsd resets each flush, and the number of timer values), keeps the running total, and prints
 * one line `HOTSTATS_BENCH_FLUSH {"lines":…,"flushes":…,"keys":…}` on stdout. Nothing runs on
 * statsd's per-packet path, so counting costs statsd nothing while it receives.
 *
 * statsd's own bookkeeping counters (`statsd.*`) are left out: they count packets and lines
 * received, bad ones included, not lines aggregated. Plain CommonJS: statsd `require`s it.
 */
'use strict'

let lines = 0
let flushes = 0
let received = 0

exports.init = function init(_startupTime, config, events) {
  const prefix = (config.prefixStats === undefined ? 'statsd' : config.prefixStats) + '.'
  events.on('flush', (_timestamp, metrics) => {
    let n = 0
    let keys = 0
    for (const key in metrics.counters) {
      if (key.startsWith(prefix)) continue
      keys++
      n += metrics.counters[key]
    }
    for (const key in metrics.timer_counters) {
      keys++
      n += metrics.timer_counters[key]
    }
    lines += n
    flushes++
    // statsd's own count of lines received (bad ones included), a cross-check of `lines`.
    received += metrics.counters[prefix + 'metrics_received'] || 0
    process.stdout.write(`HOTSTATS_BENCH_FLUSH ${JSON.stringify({ lines, flushes, keys, received, badLines: metrics.counters[prefix + 'bad_lines_seen'] || 0 })}\n`)
  })
  return true
}
