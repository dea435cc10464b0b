// hotstats loads and computes in worker_threads (the native module is context-aware and its
// backend choice is process-wide), and a worker's exit leaves the main thread working.
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import test from 'ava'

import * as hs from '../index'

const entry = join(__dirname, '..', 'index.ts')

function runWorker(seed: number): Promise<{ backend: string; sum: number; expected: number }> {
  const code = `
    require('tsx/cjs') // TypeScript sources in the worker, as in the tests
    const { parentPort, workerData } = require('node:worker_threads')
    const hs = require(workerData.entry)
    const n = 100000 + workerData.seed
    const x = new Float64Array(n).map((_, i) => (i % 1000) * 0.25)
    let expected = 0
    for (let i = 0; i < n; i++) expected += (i % 1000) * 0.25 // exact: multiples of 1/4 below 2^53
    parentPort.postMessage({ backend: hs.backend(), sum: hs.sum(x), expected })
  `
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { entry, seed } })
    w.once('message', resolve)
    w.once('error', reject)
  })
}

test('workers load hotstats, use the same backend and compute exact sums; the main thread goes on', async (t) => {
  const results = await Promise.all([1, 2, 3, 4].map(runWorker))
  for (const r of results) {
    t.is(r.backend, hs.backend())
    t.is(r.sum, r.expected)
  }
  // Workers have exited; the main thread's binding still works.
  t.is(hs.sum(new Float64Array(1000).fill(0.5)), 500)
  t.is(await hs.sumAsync(new Float64Array(100000).fill(0.5)), 50000)
})
