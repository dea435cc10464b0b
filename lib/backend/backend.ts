/**
 * Chooses the kernel backend once per thread, from HOTSTATS_BACKEND (auto|native|js|scalar|avx2|
 * avx512|neon). `auto` uses the fastest native backend and falls back to the JS backend when the native
 * binary cannot load, saying so once on stderr (the reason, and the two ways to choose: `js` to
 * use it quietly, `native` to fail instead). `native` is the fastest native backend or an error.
 * Asking for a native backend this machine cannot run throws here, at load, with the reason.
 */
import { loadNative, type Native } from './native'

export type BackendName = 'js' | 'scalar' | 'avx2' | 'avx512' | 'neon'
export const BACKEND_NAMES: readonly BackendName[] = ['js', 'scalar', 'avx2', 'avx512', 'neon']

export interface BackendInfo {
  /** The backend the kernels use (inputs shorter than the crossover go to the JS kernels). */
  backend: BackendName
  /** What HOTSTATS_BACKEND asked for. */
  requested: RequestedBackend
  /** Whether the native binding loaded, and from where. */
  native: boolean
  nativeFrom: string | null
  /** Why the native binding is not in use, when it is not. */
  reason: string | null
  /** The napi-rs platform name of this process. */
  platform: string | null
  /** Inputs shorter than this go to the JS kernels (see lib/kernels/kernels.ts). */
  crossover: number
}

/** What HOTSTATS_BACKEND may say: `native` is the fastest native backend, never the JS one. */
export type RequestedBackend = 'auto' | 'native' | BackendName

function requestedBackend(): RequestedBackend {
  const raw = (process.env.HOTSTATS_BACKEND ?? '').trim().toLowerCase()
  if (raw === '' || raw === 'auto') return 'auto'
  if (raw === 'native' || (BACKEND_NAMES as readonly string[]).includes(raw)) return raw as RequestedBackend
  throw new Error(`hotstats: HOTSTATS_BACKEND=${JSON.stringify(process.env.HOTSTATS_BACKEND)} is not one of auto, native, js, scalar, avx2, avx512, neon`)
}

/**
 * Set in process.env once the fallback was reported: worker threads and child processes started
 * afterwards inherit it and stay quiet, so the note appears once, not once per thread.
 */
const REPORTED = 'HOTSTATS_JS_FALLBACK_REPORTED'

/** Says once on stderr that `auto` fell back to the JS backend, why, and how to choose. */
function reportFallback(why: string): void {
  if (process.env[REPORTED] === '1') return
  process.env[REPORTED] = '1'
  process.stderr.write(
    `hotstats: the native binary did not load (${why}); using the pure-JS backend (the same results, slower). ` +
      'Set HOTSTATS_BACKEND=js to use it without this message, or HOTSTATS_BACKEND=native to fail instead.\n',
  )
}

interface Chosen {
  backend: BackendName
  requested: RequestedBackend
  native: Native | null
  nativeFrom: string | null
  reason: string | null
  platform: string | null
}

function choose(): Chosen {
  const requested = requestedBackend()
  if (requested === 'js') {
    return { backend: 'js', requested, native: null, nativeFrom: null, reason: 'HOTSTATS_BACKEND=js', platform: null }
  }
  const load = loadNative()
  if (!load.binding) {
    if (requested !== 'auto') {
      throw new Error(`hotstats: HOTSTATS_BACKEND=${requested} needs the native binary, which did not load: ${load.error}`)
    }
    reportFallback(load.error ?? 'unknown reason')
    return { backend: 'js', requested, native: null, nativeFrom: null, reason: `native binary did not load: ${load.error}`, platform: load.platform }
  }
  let name: string
  try {
    name = load.binding.selectBackend(requested === 'native' ? 'auto' : requested)
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    if (requested !== 'auto') throw new Error(`hotstats: HOTSTATS_BACKEND=${requested}: ${why}`)
    reportFallback(why)
    return { backend: 'js', requested, native: null, nativeFrom: null, reason: why, platform: load.platform }
  }
  return { backend: name as BackendName, requested, native: load.binding, nativeFrom: load.from, reason: null, platform: load.platform }
}

export const chosen: Chosen = choose()

/** The native binding, or null on the JS backend. */
export const native: Native | null = chosen.native

/** The backend in use: 'avx512', 'avx2', 'neon', 'scalar' or 'js'. */
export function backend(): BackendName {
  return chosen.backend
}

/** CPU features detected at run time (empty when the native binary is not loaded). */
export function cpuFeatures(): string[] {
  if (native) return native.cpuFeatures()
  const probe = loadNative().binding
  return probe ? probe.cpuFeatures() : []
}

/**
 * Runs a facade's backend call, turning a native error into a RangeError: the facade has
 * checked the types, so what the binding still refuses is out of domain. TypeErrors and
 * RangeErrors (the JS port's) pass through.
 */
export function rangeErrors<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw e
    throw new RangeError((e as Error).message)
  }
}
