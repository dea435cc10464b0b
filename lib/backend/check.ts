/**
 * The input rule every class follows: a value of the wrong type is a TypeError, a number out of
 * the domain a RangeError; both name the argument. These helpers run on error paths and on
 * options, never per event (hot paths test `typeof`/finiteness inline).
 */

/** What a value is, for messages: 'null', 'string', 'bigint', ... */
export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

/** `v` itself if it is a number, else a TypeError naming `name`. */
export function numberArg(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeName(v)}`)
  return v
}

/** An option: `fallback` when left out (undefined), else it must be a number (null is not). */
export function numberOption(v: unknown, name: string, fallback: number): number {
  return v === undefined ? fallback : numberArg(v, name)
}
