// A read of the registry needs no timer: `await register.metrics()` resolves under fake timers
// that replace setTimeout, setImmediate, setInterval, process.nextTick, queueMicrotask, Date,
// hrtime and performance (what jest.useFakeTimers() fakes, through the same library), as
// prom-client's does. Both backends: the JS backend lets other threads' messages in with a
// MessagePort turn, which fake timers leave alone.
import FakeTimers from '@sinonjs/fake-timers'
import test from 'ava'
import * as pc from 'prom-client'

import * as hs from '../index'

// Captured before any clock is installed: the deadline below must be a real timer.
const realSetTimeout = setTimeout
const realClearTimeout = clearTimeout

/** `p`, or a rejection after `ms` of real time (a read that waits for a faked timer never ends). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = realSetTimeout(() => reject(new Error(`${what} did not resolve within ${ms} ms under fake timers`)), ms)
    p.then(
      (v) => {
        realClearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        realClearTimeout(timer)
        reject(e)
      },
    )
  })
}

/** jest's modern fake timers: @sinonjs/fake-timers with everything faked (jest's default). */
function installJestLike(extra: Partial<FakeTimers.FakeTimerInstallOpts> = {}): FakeTimers.InstalledClock {
  return FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    ...extra,
  })
}

let n = 0

test.serial('metrics(), openMetrics(), getMetricsAsJSON() and get() resolve under jest-like fake timers, with default metrics', async (t) => {
  const r = new hs.Registry({ name: `fake-timers-${process.pid}-${n++}` })
  const stop = hs.collectDefaultMetrics({ register: r })
  const clock = installJestLike()
  try {
    // The clock is in place: Date is frozen and an immediate waits for a tick.
    t.is(Date.now(), 1_700_000_000_000)
    const before = clock.countTimers()
    clearImmediate(setImmediate(() => {}))
    setImmediate(() => {})
    t.is(clock.countTimers(), before + 1)
    const c = new hs.Counter({ name: 'jobs_total', help: 'h', labelNames: ['q'], registers: [r] })
    const s = new hs.Summary({ name: 'lat', help: 'h', percentiles: [0.5], maxAgeSeconds: 60, registers: [r] })
    const h = new hs.Histogram({ name: 'size', help: 'h', buckets: [1, 10], registers: [r] })
    const g = new hs.Gauge({
      name: 'collected',
      help: 'h',
      registers: [r],
      async collect() {
        await Promise.resolve()
        this.set(42)
      },
    })
    c.inc({ q: 'a' }, 3)
    for (let i = 0; i < 2000; i++) s.observe(i) // past the staging buffer
    h.observe(5)
    const text = await within(r.metrics(), 10_000, 'metrics()')
    t.true(text.includes('jobs_total{q="a"} 3\n'))
    t.true(text.includes('lat_count 2000\n'))
    t.true(text.includes('collected 42\n'))
    t.true(text.includes('nodejs_eventloop_lag_seconds'))
    t.true((await within(r.openMetrics(), 10_000, 'openMetrics()')).endsWith('# EOF\n'))
    t.true((await within(r.getMetricsAsJSON(), 10_000, 'getMetricsAsJSON()')).length > 5)
    t.is((await within(h.get(), 10_000, 'get()')).values.find((v) => v.metricName === 'size_count')?.value, 1)
    t.is((await within(g.get(), 10_000, 'get() with collect')).values[0].value, 42)
    // The faked clock drives the summary's window: 61 s later the values have aged out.
    clock.tick(61_000)
    t.true((await within(r.metrics(), 10_000, 'metrics() after tick')).includes('lat{quantile="0.5"} 0\n'))
  } finally {
    clock.uninstall()
    stop()
  }
})

test.serial('a registry large enough to be formatted in slices still resolves under fake timers (real performance.now)', async (t) => {
  const r = new hs.Registry({ name: `fake-timers-${process.pid}-${n++}` })
  const c = new hs.Counter({ name: 'many_total', help: 'h', labelNames: ['k'], maxSeries: 50_000, registers: [r] })
  for (let i = 0; i < 30_000; i++) c.inc({ k: `key-${i}` })
  // performance left real, so the formatter sees time pass and lets the loop turn between slices.
  const clock = installJestLike({ toFake: ['Date', 'hrtime', 'nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
  try {
    const text = await within(r.metrics(), 20_000, 'metrics() of 30k series')
    t.is(text.split('\n').filter((l) => l.startsWith('many_total{')).length, 30_000)
  } finally {
    clock.uninstall()
  }
})

test.serial('prom-client resolves under the same fake timers (the behaviour matched)', async (t) => {
  const p = new pc.Registry()
  pc.collectDefaultMetrics({ register: p })
  const clock = installJestLike()
  try {
    new pc.Counter({ name: 'x_total', help: 'h', registers: [p] }).inc()
    t.true((await within(p.metrics(), 10_000, "prom-client's metrics()")).includes('x_total 1'))
  } finally {
    clock.uninstall()
  }
})
