// CRDT counters: merge laws (commutative, associative, idempotent) as fast-check properties over
// random histories with restarts, duplicated and reordered deliveries; no delivered increment is
// ever lost; the JS and native merges produce the same bytes; bad bytes are RangeErrors.
import test from 'ava'
import fc from 'fast-check'

import { GCounter, PNCounter } from '../index'
import { native } from '../lib/backend/backend'

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

test('JS and native merges of serialized states produce the same bytes', (t) => {
  if (!native) {
    t.pass('native binary not loaded: the JS merge is checked by the properties above')
    return
  }
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { network } = run(ops)
      let js = new PNCounter()
      let nat: Uint8Array = new PNCounter().serialize()
      for (const b of network) {
        js = js.merge(PNCounter.deserialize(b))
        nat = new Uint8Array(native!.pncounterMerge(nat, b))
      }
      return Buffer.from(nat).equals(Buffer.from(js.serialize()))
    }),
    { numRuns: 150 },
  )
  const g1 = new GCounter({ replica: 'a', incarnation: 5 }).inc(3).serialize()
  const g2 = new GCounter({ replica: 'b', incarnation: 1 }).inc(4).serialize()
  t.deepEqual(new Uint8Array(native.gcounterMerge(g1, g2)), GCounter.deserialize(g1).merge(GCounter.deserialize(g2)).serialize())
})

test('bad input: TypeError/RangeError, state unchanged; bad bytes rejected by JS and native alike', (t) => {
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
    if (native) t.throws(() => native!.pncounterMerge(b, before), { message: /not a serialized counter/ })
  }
  const extra = new Uint8Array([...before, 0])
  t.throws(() => PNCounter.deserialize(extra), { message: /trailing/ })
  t.throws(() => GCounter.deserialize(before), { message: /bad magic/ })
})
