// Panics never reach Node, and backend selection fails loudly and clearly at load, never
// with a crash. The panic tests load the native binding directly, so they also run when the
// environment forces the JS backend (they are skipped only if the binary cannot load).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'

import * as hs from '../index'
import { loadNative } from '../lib/backend/native'
import { createPool } from '../lib/ingest/ring'

const native = loadNative().binding
const nativeTest = native ? test : test.skip

nativeTest('a Rust panic becomes a JS Error and the process keeps working', (t) => {
  const n = native!
  const err = t.throws(() => n.__panicForTest('boom'))
  t.true(err instanceof Error)
  t.regex(err!.message, /boom|panic/i)
  // Still alive and computing, repeatedly.
  for (let i = 0; i < 3; i++) {
    t.throws(() => n.__panicForTest(`again ${i}`))
    t.is(n.sum(new Float64Array([1, 2, 3.5])), 6.5)
  }
})

nativeTest('a panic inside an AsyncTask compute rejects the promise; the pool keeps working', async (t) => {
  const n = native!
  await t.throwsAsync(n.__panicOnPoolForTest(), { message: /panic/ })
  const big = new Float64Array(200_000).fill(0.5)
  t.is((await n.sumAsync(big)).sum, 100_000)
})

nativeTest('the native bindings reject wrong argument types with TypeErrors, not crashes', (t) => {
  const n = native!
  t.throws(() => n.sum([1, 2] as unknown as Float64Array), { instanceOf: TypeError, message: /x must be a Float64Array/ })
  t.throws(() => n.max(new Float32Array(2) as unknown as Float64Array), { instanceOf: TypeError })
  t.throws(() => n.min(new Float64Array(2), 'x' as unknown as number), { instanceOf: TypeError, message: /backend/ })
  t.throws(() => n.sum(new Float64Array(2), 99), { message: /out of range/ })
  t.throws(() => n.summarize(new Float64Array(2), -1), { message: /ddof/ })
})

nativeTest('the binding refuses an ingest pool the ingestor could outlive: a view of a plain ArrayBuffer', (t) => {
  const n = native!
  const l = { rings: 1, capacity: 16, keyLogBytes: 64, eventTime: false, policy: 'reject' as const }
  const shared = createPool(l)
  const plain = new ArrayBuffer(shared.byteLength)
  new Uint8Array(plain).set(new Uint8Array(shared))
  // A transfer would detach it (and its new owner could free it) while the threads read it.
  t.throws(() => new n.NativeIngestor(new Uint8Array(plain), 1000, 10, 0.01, 1000, 0), { message: /SharedArrayBuffer/ })
  t.throws(() => new n.NativeIngestor(new Float64Array(shared) as unknown as Uint8Array, 1000, 10, 0.01, 1000, 0), {
    message: /Uint8Array/,
  })
  const ing = new n.NativeIngestor(new Uint8Array(shared), 1000, 10, 0.01, 1000, 0)
  t.is(ing.close(0), 0)
})

nativeTest('state merged with itself: unchanged HyperLogLog, doubled Moments (the binding reads the other state before it writes)', (t) => {
  const h = new hs.HyperLogLog()
  h.addMany(Array.from({ length: 500 }, (_, i) => `item-${i}`))
  const before = h.registersCopy()
  h.merge(h)
  t.deepEqual(h.registersCopy(), before)
  const m = new hs.Moments()
  m.addMany(new Float64Array(300).map((_, i) => i))
  const { count, sum } = m
  m.merge(m)
  t.is(m.count, 2 * count)
  t.is(m.sum, 2 * sum)
})

const probe = join(__dirname, 'helpers', 'print-backend.ts')

function childWith(env: Record<string, string | undefined>, arg?: string) {
  const full: NodeJS.ProcessEnv = { ...process.env }
  delete full.HOTSTATS_BACKEND
  delete full.HOTSTATS_NATIVE_PATH
  delete full.HOTSTATS_JS_FALLBACK_REPORTED
  for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v
  const r = spawnSync(process.execPath, ['--import', 'tsx', probe, ...(arg ? [arg] : [])], { env: full, encoding: 'utf8' })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  return {
    status: r.status,
    signal: r.signal,
    stderr: r.stderr,
    out: JSON.parse(line) as { ok: boolean; error?: string; info?: { backend: string; requested: string; reason: string | null }; sum?: number },
  }
}

test('HOTSTATS_BACKEND with an unknown name is a clear error at load', (t) => {
  const r = childWith({ HOTSTATS_BACKEND: 'sse9' })
  t.is(r.signal, null)
  t.false(r.out.ok)
  t.regex(r.out.error!, /HOTSTATS_BACKEND="sse9" is not one of auto, native, js, scalar, avx2, avx512, neon/)
})

test('asking for a backend this CPU cannot run is a clear error at load, not a crash', (t) => {
  const foreign = process.arch === 'arm64' ? 'avx2' : 'neon'
  const r = childWith({ HOTSTATS_BACKEND: foreign })
  t.is(r.signal, null)
  t.false(r.out.ok)
  t.regex(r.out.error!, new RegExp(`HOTSTATS_BACKEND=${foreign}`))
})

test('when the native binary cannot load, auto falls back to the JS backend and says why', (t) => {
  const r = childWith({ HOTSTATS_NATIVE_PATH: join(__dirname, 'no-such-binary.node') })
  t.is(r.status, 0)
  t.true(r.out.ok)
  t.is(r.out.info!.backend, 'js')
  t.regex(r.out.info!.reason!, /native binary did not load: .*no-such-binary\.node: not found/)
  t.is(r.out.sum, 499500)
})

test('a corrupt native binary also falls back (auto) or fails clearly (forced)', (t) => {
  const bogus = join(__dirname, 'helpers', 'oracle.ts') // not a shared object
  const r = childWith({ HOTSTATS_NATIVE_PATH: bogus })
  t.true(r.out.ok)
  t.is(r.out.info!.backend, 'js')
  const forced = childWith({ HOTSTATS_NATIVE_PATH: join(__dirname, 'missing.node'), HOTSTATS_BACKEND: 'scalar' })
  t.false(forced.out.ok)
  t.regex(forced.out.error!, /HOTSTATS_BACKEND=scalar needs the native binary, which did not load/)
})

test('HOTSTATS_BACKEND=scalar and =js are honoured', (t) => {
  if (native) {
    const r = childWith({ HOTSTATS_BACKEND: 'scalar' })
    t.is(r.out.info!.backend, 'scalar')
    t.is(r.out.sum, 499500)
  }
  const j = childWith({ HOTSTATS_BACKEND: 'js' })
  t.is(j.out.info!.backend, 'js')
  t.is(j.out.sum, 499500)
})

// What the binding still refuses after the facade's checks surfaces as a RangeError, never as a
// plain Error (issue 19). The public API no longer reaches these refusals (the decoders and
// fromRegisters check first), so the state is corrupted by hand to make the binding refuse.
const facadeOnNative = hs.backend() === 'js' ? test.skip : test
facadeOnNative('binding errors reach users as RangeErrors, never plain Errors', (t) => {
  const h = new hs.HyperLogLog().addMany(['a', 'b'])
  ;(h as unknown as { registers: Uint8Array }).registers[3] = 60
  t.throws(() => h.count(), { instanceOf: RangeError, message: /above 51/ })
  const m = new hs.Moments().addMany([1, 2, 3])
  ;(m as unknown as { state: Float64Array }).state[0] = 1.5 // a count that is not a whole number
  // (serialize() is JS on every backend since issue 19's one-decoder-per-format: no binding call.)
  t.throws(() => new hs.Moments().merge(m), { instanceOf: RangeError, message: /whole number/ })
  t.throws(() => m.addMany(new Float64Array(100)), { instanceOf: RangeError, message: /whole number/ })
})

test('a JS fallback is said once on stderr, with the reason and the two ways to choose (issue 18)', (t) => {
  const missing = join(__dirname, 'no-such-binary.node')
  // Loaded in the main thread and again in a worker thread: one note.
  const r = childWith({ HOTSTATS_NATIVE_PATH: missing }, 'again')
  t.is(r.status, 0, r.stderr)
  t.is(r.out.info!.backend, 'js')
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('hotstats:'))
  t.is(notes.length, 1, r.stderr)
  t.regex(notes[0], /^hotstats: the native binary did not load \(.*no-such-binary\.node: not found\); using the pure-JS backend/)
  t.regex(notes[0], /Set HOTSTATS_BACKEND=js to use it without this message, or HOTSTATS_BACKEND=native to fail instead\.$/)
  // Chosen on purpose: quiet. A working binary: quiet.
  const quiet = childWith({ HOTSTATS_NATIVE_PATH: missing, HOTSTATS_BACKEND: 'js' }, 'again')
  t.is(quiet.out.info!.backend, 'js')
  t.false(/hotstats:/.test(quiet.stderr), quiet.stderr)
  if (native) t.false(/hotstats:/.test(childWith({}).stderr))
})

test('HOTSTATS_BACKEND=native: the fastest native backend, or a clear error at load instead of the JS fallback', (t) => {
  const failed = childWith({ HOTSTATS_NATIVE_PATH: join(__dirname, 'no-such-binary.node'), HOTSTATS_BACKEND: 'native' })
  t.is(failed.signal, null)
  t.not(failed.status, 0)
  t.false(failed.out.ok)
  t.regex(failed.out.error!, /^hotstats: HOTSTATS_BACKEND=native needs the native binary, which did not load: .*no-such-binary\.node: not found/)
  t.false(/using the pure-JS backend/.test(failed.stderr))
  if (native) {
    const ok = childWith({ HOTSTATS_BACKEND: 'native' })
    t.true(ok.out.ok)
    t.is(ok.out.info!.requested, 'native')
    t.is(ok.out.info!.backend, childWith({}).out.info!.backend, 'the same backend auto picks')
    t.not(ok.out.info!.backend, 'js')
    t.is(ok.out.sum, 499500)
  }
})
