// UniqueCounter: per-key counts equal HyperLogLog's (and so Redis's) for the same items, sparse
// keys stay small, maxKeys refuses new keys into an overflow key and counts them, merge, bad input.
import test from 'ava'

import { HyperLogLog, UniqueCounter } from '../index'

const L = (region: string, os: string) => ({ region, os })

test('per-key counts equal a HyperLogLog of the same items, sparse and dense', (t) => {
  const u = new UniqueCounter({ labelNames: ['region', 'os'] })
  for (const n of [0, 1, 10, 255, 300, 5000, 100_000]) {
    const items = Array.from({ length: n }, (_, i) => (i % 13 === 0 ? `ü-${n}-${i}` : `u-${n}-${i}`))
    for (const it of items) u.add(L(`r${n}`, 'linux'), it)
    const h = new HyperLogLog().addMany(items)
    t.is(u.count(L(`r${n}`, 'linux')), h.count(), `n=${n}`)
    t.deepEqual(u.toHyperLogLog(L(`r${n}`, 'linux')).registersCopy(), h.registersCopy())
  }
  t.is(u.count(L('nowhere', 'linux')), 0)
})

test('many small keys stay small (sparse registers, not 16 KiB each)', (t) => {
  const u = new UniqueCounter({ labelNames: ['region', 'os'], maxKeys: 200_000 })
  globalThis.gc?.()
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const keys = 50_000
  for (let k = 0; k < keys; k++) for (let i = 0; i < 3; i++) u.add(L(`r${k}`, 'ios'), `user-${k}-${i}`)
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const perKey = (after - before) / keys
  t.log(`~${perKey.toFixed(0)} bytes per key with 3 items (dense would be 16384)`)
  t.true(perKey < 2000)
  t.is(u.size, keys)
  t.is(u.count(L('r777', 'ios')), 3)
})

test('maxKeys: new keys are refused into the overflow key and counted; known keys still count', (t) => {
  const u = new UniqueCounter({ labelNames: ['region', 'os'], maxKeys: 3 })
  for (let k = 0; k < 10; k++) for (let i = 0; i < 5; i++) u.add(L(`r${k}`, 'mac'), `k${k}-i${i}`)
  t.is(u.size, 3)
  t.is(u.refusedAdds, 35)
  t.is(u.refusedKeys(), 7)
  t.is(u.overflowCount(), 35)
  u.add(L('r0', 'mac'), 'new-item')
  t.is(u.count(L('r0', 'mac')), 6)
  t.deepEqual(u.entries().map((e) => e.labels.region).sort(), ['r0', 'r1', 'r2'])
})

test('merge: key-wise union', (t) => {
  const a = new UniqueCounter({ labelNames: ['region', 'os'] })
  const b = new UniqueCounter({ labelNames: ['region', 'os'] })
  for (let i = 0; i < 1000; i++) a.add(L('eu', 'ios'), `x${i}`)
  for (let i = 500; i < 2000; i++) b.add(L('eu', 'ios'), `x${i}`)
  b.add(L('us', 'ios'), 'only-b')
  a.merge(b)
  t.is(a.count(L('eu', 'ios')), new HyperLogLog().addMany(Array.from({ length: 2000 }, (_, i) => `x${i}`)).count())
  t.is(a.count(L('us', 'ios')), 1)
  t.throws(() => a.merge(new UniqueCounter({ labelNames: ['os'] })), { instanceOf: TypeError })
})

test('bad input: TypeError/RangeError, nothing recorded', (t) => {
  t.throws(() => new UniqueCounter({ labelNames: ['a', 'a'] }), { instanceOf: TypeError })
  t.throws(() => new UniqueCounter({ labelNames: ['a'], maxKeys: 0 }), { instanceOf: RangeError })
  const u = new UniqueCounter({ labelNames: ['region', 'os'] })
  t.throws(() => u.add({ region: 'eu' } as never, 'x'), { instanceOf: TypeError, message: /exactly the string labels region, os/ })
  t.throws(() => u.add({ region: 'eu', os: 5 } as never, 'x'), { instanceOf: TypeError })
  t.throws(() => u.add({ region: 'eu', os: 'ios', extra: 'x' } as never, 'x'), { instanceOf: TypeError })
  t.throws(() => u.add(L('eu', 'ios'), 42 as never), { instanceOf: TypeError })
  t.is(u.size, 0)
})
