/**
 * The public float64 kernels: sum, mean, min, max, variance, stddev, summarize and their async
 * twins. Input is a Float64Array (any view) or a number[] (converted once). Every backend gives
 * the same bits (see crates/hotstats-core/src/kernels/lanes.rs), so routing short inputs to the
 * JS kernels changes speed, never results.
 */
import { chosen, native, type BackendInfo, type BackendName } from '../backend/backend'
import * as js from './js'
import type { Native } from '../backend/native'

/** What `summarize` and `summarizeAsync` answer. */
export interface Summary {
  count: number
  sum: number
  mean: number
  min: number
  max: number
  variance: number
  stddev: number
}
export type Numbers = Float64Array | readonly number[]

export interface VarianceOptions {
  /** Delta degrees of freedom: 1 (default) for the sample variance, 0 for the population's. */
  ddof?: number
}

/**
 * Inputs shorter than this go to the JS kernels even when a native backend is loaded. A Node-API
 * call with a Float64Array costs ~130 ns before any work; up to 16 elements the JS kernels only
 * run the fixed reduction tree (~110 ns), from 17 on they also run the lane loops and lose.
 * Measured by the crossover sweep of `npm run bench` (benchmark/kernels.ts, results in
 * benchmark/results/kernels.md): native first wins at 24 elements, JS at 16.
 */
export const NATIVE_CROSSOVER = 17

/**
 * Async twins compute inputs shorter than this on the calling thread and return a settled
 * promise: a trip through the libuv pool (~20-50 µs) costs more than the work.
 */
export const ASYNC_INLINE_BELOW = 1 << 16

/** Elements per event-loop turn when the JS backend runs an async twin (~2-4 ms of work). */
export const JS_ASYNC_CHUNK = 1 << 20

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array with a non-number element'
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`
}

// A module-level default: a default written as an arrow function is a new closure on every call
// that does not pass one (every kernel call), unless the JIT removes it.
const newFloat64Array = (n: number): Float64Array => new Float64Array(n)

/**
 * Float64Array as is; number[] converted once (into `alloc(length)`); anything else a TypeError
 * naming the argument.
 */
export function toFloat64Array(x: unknown, name = 'x', alloc: (n: number) => Float64Array = newFloat64Array): Float64Array {
  if (x instanceof Float64Array) return x
  if (Array.isArray(x)) {
    const out = alloc(x.length)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]
      if (typeof v !== 'number') {
        throw new TypeError(`${name} must be a Float64Array or an array of numbers; ${name}[${i}] is ${v === null ? 'null' : typeof v}`)
      }
      out[i] = v
    }
    return out
  }
  throw new TypeError(`${name} must be a Float64Array or an array of numbers, got ${describe(x)}`)
}

function readDdof(options: VarianceOptions | undefined): number {
  if (options === undefined) return 1
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object like { ddof: 1 }, got ${options === null ? 'null' : typeof options}`)
  }
  const ddof = options.ddof ?? 1
  if (typeof ddof !== 'number') throw new TypeError(`options.ddof must be a number, got ${typeof ddof}`)
  if (!Number.isFinite(ddof) || ddof < 0) throw new RangeError(`options.ddof must be a finite number >= 0, got ${ddof}`)
  return ddof
}

/** The kernels of one backend, with no crossover routing (what tests and benchmarks compare). */
export interface BackendKernels {
  readonly name: BackendName
  sum(x: Float64Array): number
  min(x: Float64Array): number
  max(x: Float64Array): number
  variance(x: Float64Array, ddof: number): number
  summarize(x: Float64Array, ddof: number): Summary
}

const jsKernels: BackendKernels = {
  name: 'js',
  sum: js.sum,
  min: (x) => js.minMax(x).min,
  max: (x) => js.minMax(x).max,
  variance: (x, ddof) => js.variance(x, ddof),
  summarize: js.summarize,
}

function nativeKernels(n: Native, name: BackendName, id?: number): BackendKernels {
  if (id === undefined) {
    // The selected backend: no id argument, so the raw exports skip reading it.
    return {
      name,
      sum: (x) => n.sum(x),
      min: (x) => n.min(x),
      max: (x) => n.max(x),
      variance: (x, ddof) => n.variance(x, ddof),
      summarize: (x, ddof) => n.summarize(x, ddof),
    }
  }
  return {
    name,
    sum: (x) => n.sum(x, id),
    min: (x) => n.min(x, id),
    max: (x) => n.max(x, id),
    variance: (x, ddof) => n.variance(x, ddof, id),
    summarize: (x, ddof) => n.summarize(x, ddof, id),
  }
}

/**
 * The kernels of a named backend, bypassing the crossover: for differential tests and
 * benchmarks. Throws if that backend cannot run here (for native ones: binary or CPU).
 */
export function backendKernels(name: BackendName): BackendKernels {
  if (name === 'js') return jsKernels
  const n = native ?? null
  if (!n) throw new Error(`hotstats: backend ${name} needs the native binary: ${chosen.reason ?? 'not loaded'}`)
  const entry = n.nativeBackends().find((b) => b.name === name)
  if (!entry) throw new Error(`hotstats: unknown backend ${name}`)
  if (!entry.supported) throw new Error(`hotstats: backend ${name} cannot run here: ${entry.reason}`)
  return nativeKernels(n, name, entry.id)
}

/** Native backends this machine runs (names), empty on the JS backend. */
export function availableBackends(): BackendName[] {
  const out: BackendName[] = ['js']
  if (native) for (const b of native.nativeBackends()) if (b.supported) out.push(b.name as BackendName)
  return out
}

const big: BackendKernels = native ? nativeKernels(native, chosen.backend) : jsKernels

/** What backend is in use and why, with the crossover length. */
export function backendInfo(): BackendInfo {
  return {
    backend: chosen.backend,
    requested: chosen.requested,
    native: native !== null,
    nativeFrom: chosen.nativeFrom,
    reason: chosen.reason,
    platform: chosen.platform,
    crossover: native ? NATIVE_CROSSOVER : 0,
  }
}

/**
 * Compensated sum (cascaded TwoSum in 16 lanes): within 2 ulps of the exactly rounded sum unless
 * the input's condition number exceeds ~1e30/n. Empty: 0. NaN anywhere: NaN. +Inf and -Inf: NaN.
 * A sum that overflows the double range: ±Infinity.
 */
export function sum(x: Numbers): number {
  const a = toFloat64Array(x)
  return a.length < NATIVE_CROSSOVER ? js.sum(a) : big.sum(a)
}

/** sum / count. Empty: NaN. */
export function mean(x: Numbers): number {
  const a = toFloat64Array(x)
  if (a.length === 0) return NaN
  return (a.length < NATIVE_CROSSOVER ? js.sum(a) : big.sum(a)) / a.length
}

/** Smallest element, as Math.min: NaN if any element is NaN, -0 < +0. Empty: NaN. */
export function min(x: Numbers): number {
  const a = toFloat64Array(x)
  return a.length < NATIVE_CROSSOVER ? js.minMax(a).min : big.min(a)
}

/** Largest element, as Math.max: NaN if any element is NaN, +0 > -0. Empty: NaN. */
export function max(x: Numbers): number {
  const a = toFloat64Array(x)
  return a.length < NATIVE_CROSSOVER ? js.minMax(a).max : big.max(a)
}

/**
 * Variance (corrected two-pass with compensated sums), ddof 1 by default. NaN when
 * count - ddof <= 0, when any element is NaN or ±Infinity, or when the sum overflows.
 */
export function variance(x: Numbers, options?: VarianceOptions): number {
  const a = toFloat64Array(x)
  const ddof = readDdof(options)
  return a.length < NATIVE_CROSSOVER ? js.variance(a, ddof) : big.variance(a, ddof)
}

/** sqrt(variance(x, options)). */
export function stddev(x: Numbers, options?: VarianceOptions): number {
  return Math.sqrt(variance(x, options))
}

/** { count, sum, mean, min, max, variance, stddev } in one call (ddof 1 by default). */
export function summarize(x: Numbers, options?: VarianceOptions): Summary {
  const a = toFloat64Array(x)
  const ddof = readDdof(options)
  return a.length < NATIVE_CROSSOVER ? js.summarize(a, ddof) : big.summarize(a, ddof)
}

// ---- async twins --------------------------------------------------------------------------

type Op = 'sum' | 'minMax' | 'variance' | 'summary'

/** A Float64Array of n zeros on a SharedArrayBuffer. */
function sharedFloat64Array(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8))
}

function onSharedMemory(a: Float64Array): boolean {
  // Not `instanceof`: a SharedArrayBuffer from another realm (vm context) counts too.
  return Object.prototype.toString.call(a.buffer) === '[object SharedArrayBuffer]'
}

function detachedError(): TypeError {
  return new TypeError('hotstats: the array was detached (transferred) or shrunk while an async kernel was reading it; the result is void')
}

/**
 * What the libuv pool may read: memory nobody can free while the task is pending.
 *
 * A plain ArrayBuffer can be detached (transferred to a worker) while a task is pending, and its
 * new owner may free the memory, so the pool never reads one in place: the native binding
 * copies it, and here it is copied first into a SharedArrayBuffer, JS_ASYNC_CHUNK elements per
 * event-loop turn, so a large array never blocks the loop for long (the binding then reads the
 * copy in place). An array on a SharedArrayBuffer cannot be detached and is read in place (no
 * copy: the way to hand 100M elements to the pool for free). Detaching or shrinking the array
 * during the copy rejects.
 */
async function forPool(a: Float64Array): Promise<Float64Array> {
  if (onSharedMemory(a)) return a
  const n = a.length
  const copy = sharedFloat64Array(n)
  for (let from = 0; from < n; from += JS_ASYNC_CHUNK) {
    if (from > 0) await turn()
    if (a.length !== n) throw detachedError()
    copy.set(a.subarray(from, Math.min(n, from + JS_ASYNC_CHUNK)), from)
  }
  return copy
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The JS backend's async path: the same lanes, filled chunk by chunk across event-loop turns. */
async function jsChunked(a: Float64Array, op: Op, ddof: number): Promise<Summary> {
  const n = a.length
  const out: Summary = { count: n, sum: NaN, mean: NaN, min: NaN, max: NaN, variance: NaN, stddev: NaN }
  const needSum = op !== 'minMax'
  if (needSum) {
    // The same two-pass decision as the sync kernels: certified fast pass, else cascaded pass.
    const fast = js.newFastLanes()
    for (let from = 0; from < n; from += JS_ASYNC_CHUNK) {
      js.accumulateFast(a, from, Math.min(n, from + JS_ASYNC_CHUNK), fast)
      await turn()
    }
    let total = n <= js.LANES ? js.sum(a) : js.finishFast(fast, n)
    if (total === null) {
      const lanes = js.newLanes()
      for (let from = 0; from < n; from += JS_ASYNC_CHUNK) {
        js.accumulate(a, from, Math.min(n, from + JS_ASYNC_CHUNK), lanes)
        await turn()
      }
      total = js.reduce(lanes)
    }
    out.sum = total
    out.mean = n === 0 ? NaN : out.sum / n
  }
  if (op === 'minMax' || op === 'summary') {
    if (n > 0) {
      const ex = js.newExtremes()
      for (let from = 0; from < n; from += JS_ASYNC_CHUNK) {
        js.accumulateExtremes(a, from, Math.min(n, from + JS_ASYNC_CHUNK), ex)
        await turn()
      }
      out.min = ex.min
      out.max = ex.max
    }
  }
  if (op === 'variance' || op === 'summary') {
    if (!js.varianceIsNaN(n, ddof, out.mean)) {
      const d = js.newLanes()
      const q = js.newLanes()
      for (let from = 0; from < n; from += JS_ASYNC_CHUNK) {
        js.accumulateDeviations(a, from, Math.min(n, from + JS_ASYNC_CHUNK), out.mean, d, q)
        await turn()
      }
      out.variance = js.finishVariance(n, ddof, d, q)
    }
    out.stddev = Math.sqrt(out.variance)
  }
  if (op === 'variance') {
    out.sum = NaN
    out.mean = NaN
  }
  return out
}

async function runAsync(x: Numbers, op: Op, ddof: number): Promise<Summary> {
  // A number[] is converted straight into shared memory (private to this call: no copy later).
  const a = toFloat64Array(x, 'x', native ? sharedFloat64Array : undefined)
  const n = a.length
  if (n < ASYNC_INLINE_BELOW) {
    const s = summarize(a, { ddof })
    return s
  }
  if (!native) {
    // The JS backend reads in place, on this thread, between turns: memory-safe; a detach
    // meanwhile shows as a changed length.
    const result = await jsChunked(a, op, ddof)
    if (a.length !== n) throw detachedError()
    return result
  }
  const input = await forPool(a)
  try {
    return await (op === 'sum'
      ? native.sumAsync(input)
      : op === 'minMax'
        ? native.minMaxAsync(input)
        : op === 'variance'
          ? native.varianceAsync(input, ddof)
          : native.summarizeAsync(input, ddof))
  } catch (e) {
    // The facade checked the arguments: what the binding still refuses is out of domain.
    if (e instanceof RangeError || e instanceof TypeError) throw e
    throw new RangeError((e as Error).message)
  }
}

/** sum on the libuv pool (native) or across event-loop turns (JS backend). */
export async function sumAsync(x: Numbers): Promise<number> {
  return (await runAsync(x, 'sum', 1)).sum
}

export async function meanAsync(x: Numbers): Promise<number> {
  const s = await runAsync(x, 'sum', 1)
  return s.count === 0 ? NaN : s.sum / s.count
}

export async function minAsync(x: Numbers): Promise<number> {
  return (await runAsync(x, 'minMax', 1)).min
}

export async function maxAsync(x: Numbers): Promise<number> {
  return (await runAsync(x, 'minMax', 1)).max
}

export async function varianceAsync(x: Numbers, options?: VarianceOptions): Promise<number> {
  return (await runAsync(x, 'variance', readDdof(options))).variance
}

export async function stddevAsync(x: Numbers, options?: VarianceOptions): Promise<number> {
  return Math.sqrt((await runAsync(x, 'variance', readDdof(options))).variance)
}

export async function summarizeAsync(x: Numbers, options?: VarianceOptions): Promise<Summary> {
  return runAsync(x, 'summary', readDdof(options))
}
