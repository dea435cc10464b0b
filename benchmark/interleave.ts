/**
 * Interleaved repeated timing: on a shared, noisy machine a one-shot run of A then B can put A in
 * a quiet second and B in a busy one. Here every round times every contender once, in an order
 * that rotates each round, and the result per contender is the median over the rounds with the
 * min-max spread; a ratio between two contenders is the median of the per-round ratios (both
 * timed in the same round, seconds apart), so a busy round moves both. Used by
 * `npm run bench:kernels-interleaved` and `npm run bench:sketches-interleaved`.
 */

export interface Timing {
  name: string
  /** ns per unit (per call, or per value when `perCall` was given), one per round */
  rounds: number[]
  median: number
  min: number
  max: number
}

export type Contender = [name: string, body: () => void]

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * The clock: wall time by default (what a caller waits). `BENCH_CLOCK=cpu` uses this process's
 * CPU time instead (user + system, µs resolution: samples are tens of ms), which leaves out the
 * time the scheduler gave to other processes: for direction on a busy machine, not for the
 * published tables.
 */
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu'

/** Which clock the timings use, for the tables' header. */
export const CLOCK_NOTE = CPU_CLOCK
  ? 'on-CPU time (BENCH_CLOCK=cpu: leaves out time other processes had the CPU; for direction on a busy machine)'
  : 'wall-clock time'

function nowNs(): number {
  if (CPU_CLOCK) {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1e3
  }
  return Number(process.hrtime.bigint())
}

/** Calls `body` `iterations` times; returns ns per call. */
function timeFor(body: () => void, iterations: number): number {
  const t0 = nowNs()
  for (let i = 0; i < iterations; i++) body()
  return (nowNs() - t0) / iterations
}

/**
 * Times every contender in `rounds` rounds (default 7, at least 5), `sampleMs` of calls per
 * contender per round after a warm-up. `perCall` divides the times (e.g. values per call).
 */
export function interleaved(contenders: Contender[], opts: { rounds?: number; sampleMs?: number; perCall?: number } = {}): Timing[] {
  const rounds = Math.max(5, opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 7))
  const sampleMs = opts.sampleMs ?? Number(process.env.BENCH_SAMPLE_MS ?? 60)
  const perCall = opts.perCall ?? 1
  // Warm up (JIT tiers, caches) and calibrate the iteration count per contender.
  const iters = contenders.map(([, body]) => {
    let n = 1
    for (;;) {
      const ns = timeFor(body, n) * n
      if (ns > sampleMs * 1e6 * 0.25 || n > 1 << 28) return Math.max(1, Math.round((n * sampleMs * 1e6) / Math.max(ns, 1)))
      n *= 4
    }
  })
  const times: number[][] = contenders.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < contenders.length; j++) {
      const i = (j + r) % contenders.length
      times[i].push(timeFor(contenders[i][1], iters[i]) / perCall)
    }
  }
  return contenders.map(([name], i) => ({ name, rounds: times[i], median: median(times[i]), min: Math.min(...times[i]), max: Math.max(...times[i]) }))
}

/** Median over rounds of `a`'s time / `b`'s time (how many times faster b is than a), with the range. */
export function ratio(a: Timing, b: Timing): { median: number; min: number; max: number } {
  const rs = a.rounds.map((t, i) => t / b.rounds[i])
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) }
}

export function fmtNs(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`
  return `${(ns / 1e6).toFixed(2)} ms`
}

/** "median (min–max)" of a timing. */
export function fmtSpread(t: Timing): string {
  return `${fmtNs(t.median)} (${fmtNs(t.min)}–${fmtNs(t.max)})`
}
