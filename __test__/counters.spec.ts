// CRDT counters: merge laws (commutative, associative, idempotent) as fast-check properties over
// random histories with restarts, duplicated and reordered deliveries; no delivered increment is
// ever lost; merging delivered bytes in any order gives the same bytes; bad bytes are RangeErrors.
import test from 'ava'
import fc from 'fast-check'

import { GCounter, PNCounter } from '../index'

type Op = { kind: 'inc' | 'dec' | 'restart' | 'send'; r: number; s: number; amount: number }

const op = fc.record({
  kind: fc.constantFrom<'inc' | 'dec' | 'restart' | 'send'>('inc', 'inc', 'dec', 'restart', 'send', 'send'),
  r: fc.nat(3),
  s: fc.nat(3),
  amount: fc.nat(1000),
})

/** Runs a history over 4 replicas; returns every state ever sent (the "network") and the totals. */
function run(ops: Op[]) {
  const ids = ['api-1', 'api-2', 'wörker', 'db']
  let incarnation = 1
  const replicas = ids.map((replica) => new PNCounter({ replica, incarnation: incarnation++ }))
  const network: Uint8Array[] = []
  let incs = 0
  let decs = 0
  for (const o of ops) {
    const me = replicas[o.r]
    if (o.kind === 'inc') {
      me.inc(o.amount)
      incs += o.amount
    } else if (o.kind === 'dec') {
      me.dec(o.amount)
      decs += o.amount
    } else if (o.kind === 'restart') {
      // Whatever was not sent is lost with the process; the new incarnation starts from zero.
      network.push(me.serialize())
      replicas[o.r] = new PNCounter({ replica: ids[o.r], incarnation: incarnation++ })
    } else {
      const msg = me.serialize()
      network.push(msg)
      replicas[o.s].merge(PNCounter.deserialize(msg))
    }
  }
  for (const r of replicas) network.push(r.serialize())
  return { replicas, network, incs, decs }
}

const bytesOf = (c: PNCounter) => Buffer.from(c.serialize()).toString('hex')

test('merge laws over random histories with duplicated and reordered deliveries', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), fc.nat(), (ops, seed) => {
      const { network, incs, decs } = run(ops)
      const states = network.map((b) => PNCounter.deserialize(b))
      const [a, b, c] = [states[seed % states.length], states[(seed >> 3) % states.length], states[(seed >> 7) % states.length]]
      const m = (x: PNCounter, y: PNCounter) => PNCounter.deserialize(x.serialize()).merge(y)
      // commutative, associative, idempotent
      if (bytesOf(m(a, b)) !== bytesOf(m(b, a))) return false
      if (bytesOf(m(m(a, b), c)) !== bytesOf(m(a, m(b, c)))) return false
      if (bytesOf(m(a, a)) !== bytesOf(a)) return false
      // Every delivery order, with duplicates, converges to the same state, which holds every increment.
      const order1 = [...network, ...network.slice(0, 3)]
      const order2 = [...network].reverse()
      const all1 = order1.reduce((acc, x) => acc.merge(PNCounter.deserialize(x)), new PNCounter())
      const all2 = order2.reduce((acc, x) => acc.merge(PNCounter.deserialize(x)), new PNCounter())
      if (bytesOf(all1) !== bytesOf(all2)) return false
      return all1.value() === incs - decs
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test('a restarted replica never reuses a lower count: earlier counts survive the restart', (t) => {
  const before = new GCounter({ replica: 'api', incarnation: 1 }).inc(10)
  const hub = new GCounter({ replica: 'hub' }).merge(before)
  const after = new GCounter({ replica: 'api', incarnation: 2 }).inc(1) // restarted, state lost
  hub.merge(after)
  t.is(hub.value(), 11)
  t.is(hub.merge(before).merge(after).value(), 11, 'idempotent')
})

test('merging delivered bytes in either order gives the same bytes (one encoding per state)', (t) => {
  // (The native binding's merges of serialized counters, which nothing called, were deleted in
  // issue 19: the one implementation of the format is lib/counters/counters.ts.)
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { network } = run(ops)
      const forward = new PNCounter()
      const backward = new PNCounter()
      for (const b of network) forward.merge(PNCounter.deserialize(b))
      for (const b of [...network].reverse()) backward.merge(PNCounter.deserialize(b))
      return Buffer.from(forward.serialize()).equals(Buffer.from(backward.serialize()))
    }),
    { numRuns: 150 },
  )
  const g1 = new GCounter({ replica: 'a', incarnation: 5 }).inc(3).serialize()
  const g2 = new GCounter({ replica: 'b', incarnation: 1 }).inc(4).serialize()
  t.deepEqual(GCounter.deserialize(g2).merge(GCounter.deserialize(g1)).serialize(), GCounter.deserialize(g1).merge(GCounter.deserialize(g2)).serialize())
})

test('bad input: TypeError/RangeError, state unchanged; bad bytes are RangeErrors', (t) => {
  const c = new PNCounter({ replica: 'x', incarnation: 1 }).inc(5).dec(2)
  const before = c.serialize()
  t.throws(() => c.inc(-1), { instanceOf: RangeError })
  t.throws(() => c.inc(1.5), { instanceOf: RangeError })
  t.throws(() => c.dec('1' as unknown as number), { instanceOf: TypeError })
  t.throws(() => c.inc(2 ** 53), { instanceOf: RangeError })
  t.throws(() => new PNCounter({ replica: '' }), { instanceOf: TypeError })
  t.throws(() => PNCounter.deserialize(before).inc(1), { message: /no replica id/ })
  t.deepEqual(c.serialize(), before)
  for (let cut = 0; cut < before.length; cut++) {
    const b = before.slice(0, cut)
    t.throws(() => PNCounter.deserialize(b), { instanceOf: RangeError }, `cut at ${cut}`)
  }
  const extra = new Uint8Array([...before, 0])
  t.throws(() => PNCounter.deserialize(extra), { message: /trailing/ })
  t.throws(() => GCounter.deserialize(before), { message: /bad magic/ })
})
