// Child-process probe for errors.spec.ts: loads hotstats under the environment it was given and
// prints what it chose, or the load error.
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hs = require('../../index') as typeof import('../../index')
  const x = new Float64Array(1000).map((_, i) => i)
  console.log(JSON.stringify({ ok: true, info: hs.backendInfo(), sum: hs.sum(x) }))
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }))
  process.exitCode = 1
}
