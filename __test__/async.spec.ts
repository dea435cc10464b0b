// Async twins: same results as the sync kernels, the event loop keeps turning while they run,
// the documented contract when the caller writes to or detaches the array meanwhile, and memory
// safety when the array's buffer is transferred away and freed while a task is pending.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'

import * as hs from '../index'

const BIG = 4_000_000 // above ASYNC_INLINE_BELOW: goes to the libuv pool (native) or chunks (js)

function data(n: number): Float64Array {
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e3 + (i % 17)
  return x
}

test('async twins give the same bits as the sync kernels, small and large', async (t) => {
  for (const n of [0, 1, 100, hs.ASYNC_INLINE_BELOW + 17, BIG + 3]) {
    const x = data(n)
    const s = hs.summarize(x)
    t.true(Object.is(await hs.sumAsync(x), s.sum), `sum n=${n}`)
    t.true(Object.is(await hs.meanAsync(x), s.mean), `mean n=${n}`)
    t.true(Object.is(await hs.minAsync(x), s.min), `min n=${n}`)
    t.true(Object.is(await hs.maxAsync(x), s.max), `max n=${n}`)
    t.true(Object.is(await hs.varianceAsync(x), s.variance), `variance n=${n}`)
    t.true(Object.is(await hs.stddevAsync(x, { ddof: 0 }), hs.stddev(x, { ddof: 0 })), `stddev n=${n}`)
    t.deepEqual(await hs.summarizeAsync(x), s)
  }
  t.true(Object.is(await hs.sumAsync([1, 2, 3.5]), 6.5))
})

test('the event loop turns while a large async kernel runs', async (t) => {
  const x = data(BIG)
  let turned = false
  setImmediate(() => {
    turned = true
  })
  const p = hs.summarizeAsync(x)
  t.false(turned)
  await p
  // A synchronous computation wrapped in a promise would settle before any setImmediate.
  t.true(turned)
})

test('bad input rejects with a TypeError/RangeError (nothing runs)', async (t) => {
  await t.throwsAsync(hs.sumAsync('nope' as unknown as number[]), { instanceOf: TypeError, message: /^x must be/ })
  await t.throwsAsync(hs.summarizeAsync(new Float32Array(10) as unknown as Float64Array), { instanceOf: TypeError })
  await t.throwsAsync(hs.varianceAsync(data(BIG), { ddof: -2 }), { instanceOf: RangeError })
})

test('writes made while pending: each element is read once, old or new value (documented contract)', async (t) => {
  const x = new Float64Array(BIG).fill(1)
  const p = hs.sumAsync(x)
  x.fill(2) // the caller breaks the contract: writes before the promise settles
  const r = await p
  t.true(Number.isInteger(r), `sum ${r}`)
  t.true(r >= BIG && r <= 2 * BIG, `sum ${r} must be between n and 2n`)
  // A snapshot is one slice() away, and then writes cannot matter:
  const y = new Float64Array(BIG).fill(1)
  const q = hs.sumAsync(y.slice())
  y.fill(2)
  t.is(await q, BIG)
})

test('detaching the array while pending rejects instead of returning a wrong answer', async (t) => {
  const x = new Float64Array(BIG).fill(1)
  const p = hs.sumAsync(x)
  // Transfer the buffer away; keep the new owner alive while the kernel may still read it.
  const moved = structuredClone(x.buffer, { transfer: [x.buffer] })
  t.is(x.length, 0)
  await t.throwsAsync(p, { message: /detached/ })
  t.is(moved.byteLength, BIG * 8)
})

test('arrays on resizable buffers: a shrink while pending never gives a wrong answer', async (t) => {
  const AB = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void }
  let buf: ArrayBuffer & { resize(n: number): void }
  try {
    buf = new AB(BIG * 8, { maxByteLength: BIG * 16 })
  } catch {
    t.pass('resizable ArrayBuffer not supported by this Node')
    return
  }
  const x = new Float64Array(buf, 0, BIG).fill(1)
  const p = hs.sumAsync(x)
  buf.resize(8)
  // Either the whole array was read before the shrink, or the promise rejects: never a sum of
  // fewer elements, never a read past the end.
  const r = await p.then(
    (sum) => ({ sum }),
    (e: Error) => ({ error: e }),
  )
  if ('sum' in r) t.is(r.sum, BIG)
  else t.regex(r.error.message, /detached|shrunk/)
})

test('an array on a SharedArrayBuffer is read in place, with the same bits', async (t) => {
  const x = new Float64Array(new SharedArrayBuffer(BIG * 8))
  x.set(data(BIG))
  const s = hs.summarize(x)
  t.true(Object.is(await hs.sumAsync(x), s.sum))
  t.deepEqual(await hs.summarizeAsync(x), s)
})

const probe = join(__dirname, 'helpers', 'transfer-free.ts')

for (const via of ['binding', 'facade'] as const) {
  // No FIFOs on Windows: the probe blocks the libuv pool with one.
  const maybe = process.platform === 'win32' ? test.skip : test
  maybe(`a buffer transferred to a worker that frees it while the task is pending is never read (${via}, issue 19)`, (t) => {
    // The probe queues sumAsync behind a blocked pool, transfers the array's buffer to a worker,
    // ends the worker (freeing the memory), then lets the pool run the task. Before the fix the
    // task read the freed (unmapped) memory: a segfault. Now the binding reads a copy taken at
    // the call, and the facade copies first (a transfer during its copy rejects).
    const r = spawnSync(process.execPath, ['--import', 'tsx', probe, via], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    t.is(r.signal, null, `the probe died: ${r.signal} ${r.stderr}`)
    t.is(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { skipped?: string; detachedHere?: boolean; expected?: number; resolved?: number; rejected?: string }
    if (out.skipped) {
      t.log(`skipped: ${out.skipped}`)
      t.pass()
      return
    }
    t.true(out.detachedHere, 'the transfer detached the array here')
    if (via === 'binding') t.is(out.resolved, out.expected, 'the sum of the array as it was at the call')
    else if (out.rejected !== undefined) t.regex(out.rejected, /detached/)
    else t.is(out.resolved, out.expected)
  })
}
