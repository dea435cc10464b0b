//! The accumulation order every backend shares.
//!
//! Why 16 lanes: element `i` of the input always goes to lane `i % 16`, whatever the ISA.
//! 16 is a multiple of every vector width we use (AVX2: 4 doubles, NEON: 2), and 4 AVX2
//! registers of independent chains hide the 4-cycle add latency. Because every backend puts
//! each element into the same lane and applies the same IEEE operations in the same order,
//! the lane states are equal bit for bit, and so is the result.
//!
//! Why a fixed reduction tree: floating-point addition is not associative, so the lanes are
//! combined in one fixed order (`reduce`), written once here and used by every native backend
//! (the TypeScript port in `lib/kernels/js.ts` copies it operation for operation).
//!
//! Each lane keeps a cascaded compensated triple `(s, c, cc)` (Ogita-Rump-Oishi SumK with K = 3):
//! `s` is the running sum; the exact rounding error of every `s + x` (Knuth's branch-free TwoSum)
//! is added to `c`, again with TwoSum, and that second error goes into `cc`. TwoSum yields the
//! same error as Neumaier's branchy update (the exact error is unique) but needs no compare or
//! blend, so it maps one-to-one onto SIMD.
//!
//! Why two levels: with one level (plain Neumaier) the errors themselves are summed with rounding,
//! which costs ~n·eps²·max|partial sum|. When terms of magnitude 1e20 cancel down to a total of
//! about 1, that is thousands of ulps (measured: 17266 ulps on `tests/accuracy.rs`'s
//! wide-cancellation family). The second level makes that term ~n·eps³·max|partial|, so the
//! result is within 2 ulps of the exactly rounded sum unless the condition number
//! `Σ|x| / |Σx|` exceeds about 1e30 / n.
//!
//! The cascade costs 13 additions per element. Most inputs do not need it, so `sum` first runs a
//! cheaper pass ([`FastLanes`], Neumaier's update: the exact error of `s + x` is added to `c` with
//! plain rounding) that also tracks `m = max |c|` per lane, a bound on the rounding it commits:
//! at most `2^-53 · Σ_k |c_k| <= 2^-53 · ceil(n/16) · Σ_l m_l`. If that bound (with a guard for the
//! tree) is at most an eighth of the result's magnitude, the result is within 1 ulp of the exact
//! sum and is returned ([`finish_fast`]); otherwise `sum` runs the cascaded pass. The decision
//! depends only on values every backend computes identically, so results stay bit-identical.
//!
//! No FMA is used anywhere (`mul_add` would round differently from a multiply then an add).

/// Number of virtual lanes. Element `i` goes to lane `i % LANES` on every backend.
pub const LANES: usize = 16;

/// Compensated per-lane state: `s[l]` is lane `l`'s running sum, `c[l]` the sum of its rounding
/// errors, `cc[l]` the rounding errors of that.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lanes {
    pub s: [f64; LANES],
    pub c: [f64; LANES],
    pub cc: [f64; LANES],
}

impl Default for Lanes {
    fn default() -> Self {
        Lanes {
            s: [0.0; LANES],
            c: [0.0; LANES],
            cc: [0.0; LANES],
        }
    }
}

impl Lanes {
    /// Adds `x` to lane `lane`: the scalar twin of every SIMD update.
    #[inline(always)]
    pub fn add(&mut self, lane: usize, x: f64) {
        let (t, e) = two_sum(self.s[lane], x);
        let (u, f) = two_sum(self.c[lane], e);
        self.s[lane] = t;
        self.c[lane] = u;
        self.cc[lane] += f;
    }

    /// Lanes bitwise equal: what "same bits" means in the tests. Any NaN equals any NaN, because
    /// NaN payloads are not specified by IEEE 754 or Rust (results canonicalize NaN anyway).
    pub fn bits_eq(&self, other: &Lanes) -> bool {
        let same = |x: &f64, y: &f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        let eq =
            |a: &[f64; LANES], b: &[f64; LANES]| a.iter().zip(b.iter()).all(|(x, y)| same(x, y));
        eq(&self.s, &other.s) && eq(&self.c, &other.c) && eq(&self.cc, &other.cc)
    }
}

/// Knuth's TwoSum: `t = fl(a + b)` and `e` with `a + b = t + e` exactly (for finite, non-overflowing
/// inputs). Six additions, no branch. With an infinite or NaN operand `e` is NaN, and then `t` is
/// infinite or NaN too; [`reduce`] relies on that.
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let t = a + b;
    let bp = t - a;
    let ap = t - bp;
    let e = (a - ap) + (b - bp);
    (t, e)
}

/// Combines the 16 lanes in a fixed pairwise tree (lane `i` with lane `i + w` for w = 8, 4, 2, 1),
/// adding the triples as expansions (the errors of each level carried down), then rounds
/// `s + c + cc` once: `(h, l) = TwoSum(s, c)`, result `h + (l + cc)`.
///
/// If the combined `s` is not finite (an input was ±Infinity or NaN, or the sum overflowed) it is
/// returned as is: the compensation is meaningless then, and may be NaN.
#[inline(always)]
pub fn reduce(lanes: &Lanes) -> f64 {
    let mut s = lanes.s;
    let mut c = lanes.c;
    let mut cc = lanes.cc;
    let mut w = LANES / 2;
    while w >= 1 {
        for i in 0..w {
            let (t, e1) = two_sum(s[i], s[i + w]);
            let (u, e2) = two_sum(c[i], c[i + w]);
            let (v, e3) = two_sum(u, e1);
            s[i] = t;
            c[i] = v;
            cc[i] = (cc[i] + cc[i + w]) + (e2 + e3);
        }
        w /= 2;
    }
    if !s[0].is_finite() {
        return s[0];
    }
    let (h, l) = two_sum(s[0], c[0]);
    h + (l + cc[0])
}

/// State of the fast pass: per lane the running sum `s`, the sum of its exact errors `c`
/// (plainly rounded), and `m`, the largest `|c|` seen (bounds the rounding committed in `c`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FastLanes {
    pub s: [f64; LANES],
    pub c: [f64; LANES],
    pub m: [f64; LANES],
}

impl Default for FastLanes {
    fn default() -> Self {
        FastLanes {
            s: [0.0; LANES],
            c: [0.0; LANES],
            m: [0.0; LANES],
        }
    }
}

impl FastLanes {
    /// Adds `x` to lane `lane`: the scalar twin of every SIMD fast-pass update.
    #[inline(always)]
    pub fn add(&mut self, lane: usize, x: f64) {
        let s = self.s[lane];
        let t = s + x;
        // Neumaier: subtract the sum from the larger-magnitude operand first, so the error is exact.
        // `>=` is false for NaN on every backend (ordered compare), selecting the second form.
        let e = if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        let c = self.c[lane] + e;
        self.s[lane] = t;
        self.c[lane] = c;
        self.m[lane] = self.m[lane].max(c.abs());
    }

    /// Equal bits for `s` and `c` (any NaN equals any NaN); `m` compared where `c` is not NaN
    /// (max of a NaN is not specified alike on every ISA, and is never used then).
    pub fn bits_eq(&self, other: &FastLanes) -> bool {
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        (0..LANES).all(|l| {
            same(self.s[l], other.s[l])
                && same(self.c[l], other.c[l])
                && (self.c[l].is_nan() || same(self.m[l], other.m[l]))
        })
    }
}

/// The fast pass's result if it is certified accurate, else `None` (then run the cascaded pass).
///
/// `n` is the number of elements summed; the candidate is `reduce` of `(s, c, 0)`. Each rounding
/// in `c` errs by at most `2^-53 |c_k|`, so all of them by at most `2^-53 · ceil(n/16) · Σ_l m_l`;
/// the tree's own roundings are second order, at most `2^-53 · 2^-40 · Σ_l |s_l|` with room to
/// spare. The candidate is returned when it is finite and eight times the sum of those two
/// magnitudes, `8 · (ceil(n/16) · Σ m_l + 2^-40 · Σ |s_l|)`, is at most `|candidate|`: the error
/// committed is then below `2^-53 · |candidate| / 8`, an eighth of an ulp, so with the final
/// rounding the result is within 1 ulp of the exact sum. Sums over lanes run in lane order,
/// alike on every backend.
#[inline(always)]
pub fn finish_fast(f: &FastLanes, n: usize) -> Option<f64> {
    let res = reduce(&Lanes {
        s: f.s,
        c: f.c,
        cc: [0.0; LANES],
    });
    if !res.is_finite() {
        return None;
    }
    let mut msum = 0.0;
    let mut ssum = 0.0;
    for l in 0..LANES {
        msum += f.m[l];
        ssum += f.s[l].abs();
    }
    let per_lane = n.div_ceil(LANES) as f64;
    let bound = 8.0 * (per_lane * msum + ssum * TREE_GUARD);
    if bound <= res.abs() {
        Some(res)
    } else {
        None
    }
}

/// 2^-40: weight of Σ|s_l| in the fast pass's certificate (see [`finish_fast`]).
pub const TREE_GUARD: f64 = 1.0 / 1_099_511_627_776.0;

/// Running minimum and maximum with JavaScript's `Math.min`/`Math.max` semantics:
/// NaN anywhere gives NaN, and -0 is less than +0. Empty input gives NaN for both.
#[derive(Clone, Copy, Debug)]
pub struct MinMax {
    pub min: f64,
    pub max: f64,
}

/// `Math.min` on two doubles: NaN propagates, -0 < +0.
#[inline(always)]
pub fn js_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else if b < a {
        b
    } else {
        // Equal: only ±0 can differ in bits; the minimum of the two zeros has the sign bit if either does.
        f64::from_bits(a.to_bits() | b.to_bits())
    }
}

/// `Math.max` on two doubles: NaN propagates, +0 > -0.
#[inline(always)]
pub fn js_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else if b > a {
        b
    } else {
        f64::from_bits(a.to_bits() & b.to_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sum_is_exact() {
        let (t, e) = two_sum(1.0, 1e-20);
        assert_eq!(t, 1.0);
        assert_eq!(e, 1e-20);
        let (t, e) = two_sum(1e16, 1.0);
        assert_eq!(t + e, 1e16 + 1.0);
        assert_eq!(e, 1.0 - ((1e16 + 1.0) - 1e16));
    }

    #[test]
    fn js_min_max_semantics() {
        assert!(js_min(f64::NAN, 1.0).is_nan());
        assert!(js_max(1.0, f64::NAN).is_nan());
        assert_eq!(js_min(0.0, -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(js_min(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(js_max(-0.0, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(js_max(0.0, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(js_min(-1.0, 2.0), -1.0);
        assert_eq!(js_max(-1.0, 2.0), 2.0);
    }

    #[test]
    fn reduce_keeps_infinities_and_nan() {
        let mut l = Lanes::default();
        l.add(0, f64::INFINITY);
        l.add(1, 1.0);
        assert_eq!(reduce(&l), f64::INFINITY);
        l.add(2, f64::NEG_INFINITY);
        assert!(reduce(&l).is_nan());
    }
}
