// Async twins: same results as the sync kernels, the event loop keeps turning while they run,
// and the documented contract when the caller writes to or detaches the array meanwhile.
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

test('arrays on resizable buffers are copied for the pool (they could shrink under it)', async (t) => {
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
  t.is(await p, BIG)
})
