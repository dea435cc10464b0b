// Child-process probe for window.spec.ts (run with --expose-gc): what SlidingWindow keys cost in
// resident memory, measured as rss deltas after full GCs in a fresh process. Prints JSON.
//   churn:   rounds of 5000 new keys with a unique each, the clock moving two windows between
//            rounds; rss after each round (flat when quiet keys are freed, linear when kept).
//   uniques: 2000 keys with one unique in each of 10 buckets; rss delta (a dense HyperLogLog per
//            bucket would be 2000 × 10 × 16 KiB = 320 MiB).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hs = require('../../index') as typeof import('../../index')

const gc = (globalThis as { gc?: () => void }).gc!
const rss = (): number => {
  gc()
  gc()
  return process.memoryUsage().rss
}
let now = 1_000_000
const w = new hs.SlidingWindow({ clock: () => now, maxKeys: 100_000 })
w.record('warm-up', 1, { unique: 'u' })
w.stats('warm-up')
const base = rss()
const out: Record<string, unknown> = { backend: hs.backend() }
if (process.argv[2] === 'churn') {
  const after: number[] = []
  for (let round = 0; round < 6; round++) {
    now += 2 * w.windowMs
    for (let k = 0; k < 5000; k++) w.record(`r${round}/k${k}`, k, { unique: `user${k}` })
    w.stats(`r${round}/k0`)
    after.push(rss() - base)
  }
  out.rssAfterRound = after
  out.keys = w.size
} else {
  for (let b = 0; b < 10; b++) {
    now += w.windowMs / w.buckets
    for (let k = 0; k < 2000; k++) w.record(`k${k}`, k, { unique: `user${k}/${b}` })
  }
  out.uniques = w.stats('k0').uniques
  out.rssDelta = rss() - base
}
console.log(JSON.stringify(out))
