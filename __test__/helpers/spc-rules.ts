// The Western Electric and Nelson run rules, written for the tests from their textbook
// statement, as scripts/reference/spc_reference.py (the independent reference) states them, and
// sharing no code with lib/spc/js.ts: a violation is reported at point i when the run of points
// ending at i breaks the rule; for the "k of m beyond a zone" rules point i itself must be one
// of the k, on the same side; "beyond kσ" is p - center > kσ (or center - p > kσ); a point on
// the center line is on neither side. spc.spec.ts first checks this against every chart of the
// reference fixture, then uses it where the fixture has no case (a ControlChart's phase II).

export type RuleSetName = 'none' | 'western-electric' | 'nelson'

const above = (p: number, c: number, s: number, k: number): boolean => p - c > k * s
const below = (p: number, c: number, s: number, k: number): boolean => c - p > k * s

/** The rules that the run of points ending at i breaks, in increasing order. */
export function rulesAt(p: readonly number[], i: number, c: number, s: number, set: RuleSetName): number[] {
  const out: number[] = []
  if (set === 'none') return out
  const win = (m: number): number[] | null => (i + 1 < m ? null : p.slice(i - m + 1, i + 1))
  const kOfM = (k: number, m: number, zone: number): boolean => {
    const w = win(m)
    if (!w) return false
    for (const side of [above, below]) {
      if (side(p[i], c, s, zone) && w.filter((v) => side(v, c, s, zone)).length >= k) return true
    }
    return false
  }
  const sameSide = (m: number): boolean => {
    const w = win(m)
    return w !== null && (w.every((v) => v > c) || w.every((v) => v < c))
  }
  const diffs = (m: number): number[] | null => {
    const w = win(m)
    return w && w.slice(1).map((v, j) => v - w[j])
  }
  const beyond3 = above(p[i], c, s, 3) || below(p[i], c, s, 3)
  if (set === 'western-electric') {
    if (beyond3) out.push(1)
    if (kOfM(2, 3, 2)) out.push(2)
    if (kOfM(4, 5, 1)) out.push(3)
    if (sameSide(8)) out.push(4)
    return out
  }
  if (beyond3) out.push(1)
  if (sameSide(9)) out.push(2)
  const d6 = diffs(6)
  if (d6 && (d6.every((x) => x > 0) || d6.every((x) => x < 0))) out.push(3)
  const d14 = diffs(14)
  if (d14 && d14.every((x) => x !== 0) && d14.slice(0, 12).every((x, j) => x > 0 !== d14[j + 1] > 0)) out.push(4)
  if (kOfM(2, 3, 2)) out.push(5)
  if (kOfM(4, 5, 1)) out.push(6)
  const w15 = win(15)
  if (w15 && w15.every((v) => !above(v, c, s, 1) && !below(v, c, s, 1))) out.push(7)
  const w8 = win(8)
  if (w8 && w8.every((v) => above(v, c, s, 1) || below(v, c, s, 1))) out.push(8)
  return out
}

/** Every violation of a series: [index, rule] pairs, index-major. */
export function ruleViolations(p: readonly number[], c: number, s: number, set: RuleSetName): [number, number][] {
  const out: [number, number][] = []
  for (let i = 0; i < p.length; i++) for (const r of rulesAt(p, i, c, s, set)) out.push([i, r])
  return out
}
