// Expected StatsD events for the parser and decoder specs, and the seeded generator the server
// specs share.
import type { StatsdEvent, StatsdType } from '../../server/events'
import { newEvent } from '../../server/statsd'

/** The expected event, with the parser's defaults for what is not given. */
export function ev(
  name: string,
  type: StatsdType,
  value: number | string,
  opts: { tags?: [string, string][]; sampleRate?: number; timestampMs?: number; delta?: boolean } = {},
): StatsdEvent {
  const isSet = type === 's'
  return newEvent(
    name,
    type,
    isSet ? NaN : (value as number),
    isSet ? String(value) : undefined,
    type === 'g' ? (opts.delta ?? false) : undefined,
    opts.sampleRate ?? 1,
    opts.tags ?? [],
    opts.timestampMs,
  )
}

/** A seeded generator (mulberry32): every run sends the same values. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
