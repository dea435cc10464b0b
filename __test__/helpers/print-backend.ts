// Child-process probe for errors.spec.ts: loads hotstats under the environment it was given and
// prints what it chose, or the load error. With the argument `again`, it then loads hotstats in a
// worker thread too (to show that the fallback note is said once per process, not per thread).
import { Worker } from 'node:worker_threads'

try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hs = require('../../index') as typeof import('../../index')
  const x = new Float64Array(1000).map((_, i) => i)
  const out = { ok: true, info: hs.backendInfo(), sum: hs.sum(x) }
  if (process.argv[2] === 'again') {
    const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(require.resolve('../../index'))})`, { eval: true })
    w.on('error', (e) => console.log(JSON.stringify({ ok: false, error: `worker: ${e.message}` })))
    w.on('exit', (code) => code === 0 && console.log(JSON.stringify(out)))
  } else {
    console.log(JSON.stringify(out))
  }
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }))
  process.exitCode = 1
}
