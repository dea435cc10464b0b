// UniqueCounter: per-key counts equal HyperLogLog's (and so Redis's) for the same items, sparse
// keys stay small, maxKeys refuses new keys into an overflow key and counts them, merge, bad input.
import test from 'ava'

import { Counter, HyperLogLog, UniqueCounter } from '../index'

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
  // As Counter's labels: a missing or unknown label is a RangeError, a value of another type a TypeError.
  t.throws(() => u.add({ region: 'eu' } as never, 'x'), { instanceOf: RangeError, message: /every label \(region, os\); "os" is missing/ })
  t.throws(() => u.add({ region: 'eu', os: null } as never, 'x'), { instanceOf: TypeError, message: /label "os" must be a string, a number or a boolean, got null/ })
  t.throws(() => u.add({ region: 'eu', os: {} } as never, 'x'), { instanceOf: TypeError })
  t.throws(() => u.add({ region: 'eu', os: 'ios', extra: 'x' } as never, 'x'), { instanceOf: RangeError, message: /unknown label "extra"/ })
  t.throws(() => u.add(null as never, 'x'), { instanceOf: TypeError })
  t.throws(() => new UniqueCounter({ labelNames: ['a'], maxKeys: '10' as never }), { instanceOf: TypeError })
  t.throws(() => u.add(L('eu', 'ios'), 42 as never), { instanceOf: TypeError })
  t.is(u.size, 0)
})

test('label values may be strings or numbers, as in Counter: 200 and "200" are one key, given back as first given', async (t) => {
  const u = new UniqueCounter({ labelNames: ['route', 'status'] })
  u.add({ route: '/a', status: 200 }, 'x')
  u.add({ route: '/a', status: '200' }, 'y')
  u.add({ route: '/b', status: 'ok' }, 'x')
  t.is(u.size, 2)
  t.is(u.count({ route: '/a', status: 200 }), 2)
  t.is(u.count({ route: '/a', status: '200' }), 2)
  t.deepEqual(u.entries(), [
    { labels: { route: '/a', status: 200 }, count: 2 },
    { labels: { route: '/b', status: 'ok' }, count: 1 },
  ])
  // Counter keys its series the same way.
  const c = new Counter({ name: 'unique_parity_total', help: 'h', labelNames: ['route', 'status'], registers: [] })
  c.inc({ route: '/a', status: 200 })
  c.inc({ route: '/a', status: '200' })
  t.deepEqual((await c.get()).values, [{ value: 2, labels: { route: '/a', status: 200 } }])
  // Every method takes them: toHyperLogLog, mergeHyperLogLog, merge, delete.
  const h = u.toHyperLogLog({ route: '/a', status: 200 })
  t.is(h.count(), 2)
  const v = new UniqueCounter({ labelNames: ['route', 'status'] })
  v.mergeHyperLogLog({ route: '/c', status: 404 }, h)
  v.merge(u)
  t.deepEqual(
    v.entries().map((e) => e.labels),
    [
      { route: '/c', status: 404 },
      { route: '/a', status: 200 },
      { route: '/b', status: 'ok' },
    ],
  )
  t.true(v.delete({ route: '/a', status: '200' }))
  t.is(v.count({ route: '/a', status: 200 }), 0)
})
