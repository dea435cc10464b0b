// Child-process probe for async.spec.ts (issue 19): an async kernel is pending (queued behind a
// blocked libuv pool) while its array's buffer is transferred to a worker, and the worker ends,
// which frees the memory. The task then runs. Reading the freed memory in place would crash
// (64 MiB is served by mmap, so the free unmaps it) or return garbage; a safe kernel returns the
// sum of what the array held when the call was made, or rejects. Prints one JSON line.
//
// Run with UV_THREADPOOL_SIZE=1: an open() of a FIFO with no writer holds the only pool thread
// until this script opens the FIFO for writing, after the worker has ended.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, mkdtempSync, open, openSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import * as hs from '../../index'
import { loadNative } from '../../lib/backend/native'

const N = 1 << 23 // 64 MiB of doubles

async function main(): Promise<void> {
  const via = process.argv[2] // 'binding' (the native export itself) or 'facade' (hs.sumAsync)
  const native = loadNative().binding
  if (via === 'binding' && !native) {
    console.log(JSON.stringify({ skipped: 'the native binary did not load' }))
    return
  }
  const worker = new Worker(
    "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (b) => parentPort.postMessage(b.byteLength))",
    { eval: true },
  )
  await once(worker, 'online')
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-transfer-'))
  const fifo = join(dir, 'block')
  execFileSync('mkfifo', [fifo])
  const blocker = new Promise<number>((resolve, reject) => open(fifo, 'r', (e, fd) => (e ? reject(e) : resolve(fd))))

  const x = new Float64Array(N).fill(0.5)
  const pending: Promise<number> = via === 'binding' ? native!.sumAsync(x).then((s) => s.sum) : hs.sumAsync(x)
  const settled = pending.then(
    (sum) => ({ resolved: sum }),
    (e: Error) => ({ rejected: e.message }),
  )
  // Transfer the buffer to the worker, wait until it has it, then end the worker: its copy of
  // the ArrayBuffer, the only owner of the memory now, is freed with it.
  worker.postMessage(x.buffer, [x.buffer])
  const [received] = await once(worker, 'message')
  await worker.terminate()
  // Let the pool go: the pending task runs only now.
  closeSync(openSync(fifo, 'w'))
  closeSync(await blocker)
  rmSync(dir, { recursive: true, force: true })
  const result = await settled
  console.log(JSON.stringify({ detachedHere: x.length === 0, received, expected: N * 0.5, ...result }))
}

main().catch((e) => {
  console.log(JSON.stringify({ error: (e as Error).stack }))
  process.exitCode = 1
})
