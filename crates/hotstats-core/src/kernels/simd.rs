//! One body for the sum and deviation lanes on every SIMD ISA.
//!
//! The 16 virtual lanes (see [`lanes`](super::lanes)) are `16 / WIDTH` registers of `WIDTH`
//! doubles: 8 NEON registers, 4 AVX2 registers, 2 AVX-512 registers. Each ISA file implements
//! [`F64s`] for a zero-sized token type (a proof that the CPU runs that ISA) and calls the
//! generic bodies below from its `#[target_feature]` entries; the bodies are
//! `#[inline(always)]`, so each entry is compiled with its ISA enabled and the token's methods
//! become single instructions (the AVX2 fast pass compiles to the same instructions as the
//! hand-written twin this replaced: an opcode diff of the two found none). Only the fast pass's branch (`big`/`small`) and `max |c|`
//! differ per ISA, so they are trait methods; everything else is written once here.
//!
//! Bits: every method is one IEEE operation per lane (add, sub, mul, an exact selection), in
//! the order of `Lanes::add` / `FastLanes::add`; the tail (fewer than 16 elements) runs the
//! scalar code itself. So every ISA gives the scalar twin's lane states bit for bit.

use super::lanes::{FastLanes, Lanes, LANES};

/// A register of `WIDTH` doubles on one ISA, and the operations the lane bodies use.
///
/// Implemented by zero-sized tokens that exist only where the CPU runs the ISA (their
/// constructor is `unsafe` and says so), which is what makes the methods' intrinsics sound.
pub(super) trait F64s: Copy {
    /// Doubles per register; a divisor of 16.
    const WIDTH: usize;
    /// Registers per 16 lanes (`16 / WIDTH`), at most [`MAX_REGS`].
    const REGS: usize = LANES / Self::WIDTH;
    type V: Copy;

    fn zero(self) -> Self::V;
    fn splat(self, x: f64) -> Self::V;
    /// # Safety
    /// `p .. p + WIDTH` must be readable doubles (no alignment needed).
    unsafe fn load(self, p: *const f64) -> Self::V;
    /// # Safety
    /// `p .. p + WIDTH` must be writable doubles (no alignment needed).
    unsafe fn store(self, p: *mut f64, v: Self::V);
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// Per lane, `FastLanes::add`'s operands ordered by magnitude: `(big, small)` = `(s, x)` if
    /// `|s| >= |x|`, else `(x, s)`. (Where `|s| == |x|` either order gives the same error
    /// `(big - t) + small`; where one is NaN the error is NaN either way.)
    fn big_small(self, s: Self::V, x: Self::V) -> (Self::V, Self::V);
    /// Per lane `max(m, |c|)` for `m >= 0` and `c` not NaN (any value where `c` is NaN: a NaN
    /// `c` never becomes finite again, and `finish_fast` refuses such a lane's result).
    fn max_abs(self, m: Self::V, c: Self::V) -> Self::V;
    /// A hint to fetch the cache line at `p` (which may be past the end: a prefetch never
    /// faults). None by default.
    #[inline(always)]
    fn prefetch(self, _p: *const f64) {}
}

/// Most registers any ISA needs for 16 lanes (NEON: 8 of 2 doubles).
pub(super) const MAX_REGS: usize = 8;

/// How far ahead (in elements) the fast pass prefetches: 8 KiB. Measured on the project's
/// AVX2 machine (16M elements from DRAM): none 1.96, 64 1.90, 256 2.38, 1024 2.62, 2048 2.47
/// elements/ns; in-cache sizes unchanged.
pub(super) const PREFETCH_AHEAD: usize = 1024;

/// TwoSum per lane: `(a + b, exact error)`, as `lanes::two_sum`.
#[inline(always)]
fn two_sum<S: F64s>(s: S, a: S::V, b: S::V) -> (S::V, S::V) {
    let t = s.add(a, b);
    let bp = s.sub(t, a);
    let ap = s.sub(t, bp);
    (t, s.add(s.sub(a, ap), s.sub(b, bp)))
}

/// The cascaded triples of 16 lanes, as registers.
struct Acc<S: F64s> {
    s: [S::V; MAX_REGS],
    c: [S::V; MAX_REGS],
    cc: [S::V; MAX_REGS],
}

impl<S: F64s> Acc<S> {
    #[inline(always)]
    fn new(simd: S) -> Self {
        let z = simd.zero();
        Acc {
            s: [z; MAX_REGS],
            c: [z; MAX_REGS],
            cc: [z; MAX_REGS],
        }
    }

    /// One cascaded step on register `k`, as `Lanes::add`.
    #[inline(always)]
    fn step(&mut self, simd: S, k: usize, v: S::V) {
        let (t, e) = two_sum(simd, self.s[k], v);
        let (u, f) = two_sum(simd, self.c[k], e);
        self.s[k] = t;
        self.c[k] = u;
        self.cc[k] = simd.add(self.cc[k], f);
    }

    #[inline(always)]
    fn store(&self, simd: S) -> Lanes {
        let mut out = Lanes::default();
        for k in 0..S::REGS {
            let at = k * S::WIDTH;
            // SAFETY: each array holds 16 doubles and at + WIDTH <= REGS * WIDTH = 16.
            unsafe {
                simd.store(out.s.as_mut_ptr().add(at), self.s[k]);
                simd.store(out.c.as_mut_ptr().add(at), self.c[k]);
                simd.store(out.cc.as_mut_ptr().add(at), self.cc[k]);
            }
        }
        out
    }
}

/// Loads register `k` of block `b` of `x`.
///
/// # Safety
/// `b < x.len() / 16` and `k < REGS`.
#[inline(always)]
unsafe fn load_block<S: F64s>(simd: S, x: &[f64], b: usize, k: usize) -> S::V {
    debug_assert!(b < x.len() / LANES && k < S::REGS);
    // SAFETY: b < len / 16 and k * WIDTH + WIDTH <= 16 (caller), so the WIDTH doubles at
    // b * 16 + k * WIDTH are inside `x`.
    unsafe { simd.load(x.as_ptr().add(b * LANES + k * S::WIDTH)) }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
#[inline(always)]
pub(super) fn sum_lanes<S: F64s>(simd: S, x: &[f64]) -> Lanes {
    let mut acc = Acc::new(simd);
    let blocks = x.len() / LANES;
    for b in 0..blocks {
        for k in 0..S::REGS {
            // SAFETY: b < blocks = len / 16 and k < REGS.
            let v = unsafe { load_block(simd, x, b, k) };
            acc.step(simd, k, v);
        }
    }
    let mut out = acc.store(simd);
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        out.add(lane, v);
    }
    out
}

/// The fast pass of `sum`, as `scalar::fast_lanes` (Neumaier lanes with the max-|c| certificate).
#[inline(always)]
pub(super) fn fast_lanes<S: F64s>(simd: S, x: &[f64]) -> FastLanes {
    let z = simd.zero();
    let mut s = [z; MAX_REGS];
    let mut c = [z; MAX_REGS];
    let mut m = [z; MAX_REGS];
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        // Hint the lines of a long input 8 KiB ahead in early.
        simd.prefetch(p.wrapping_add(b * LANES + PREFETCH_AHEAD));
        simd.prefetch(p.wrapping_add(b * LANES + PREFETCH_AHEAD + 8));
        for k in 0..S::REGS {
            // SAFETY: b < blocks = len / 16 and k < REGS.
            let v = unsafe { load_block(simd, x, b, k) };
            let t = simd.add(s[k], v);
            let (big, small) = simd.big_small(s[k], v);
            let e = simd.add(simd.sub(big, t), small);
            c[k] = simd.add(c[k], e);
            m[k] = simd.max_abs(m[k], c[k]);
            s[k] = t;
        }
    }
    let mut out = FastLanes::default();
    for k in 0..S::REGS {
        let at = k * S::WIDTH;
        // SAFETY: each array holds 16 doubles and at + WIDTH <= 16.
        unsafe {
            simd.store(out.s.as_mut_ptr().add(at), s[k]);
            simd.store(out.c.as_mut_ptr().add(at), c[k]);
            simd.store(out.m.as_mut_ptr().add(at), m[k]);
        }
    }
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        out.add(lane, v);
    }
    out
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
#[inline(always)]
pub(super) fn dev_lanes<S: F64s>(simd: S, x: &[f64], m: f64) -> (Lanes, Lanes) {
    let mv = simd.splat(m);
    let mut dacc = Acc::new(simd);
    let mut qacc = Acc::new(simd);
    let blocks = x.len() / LANES;
    for b in 0..blocks {
        for k in 0..S::REGS {
            // SAFETY: b < blocks = len / 16 and k < REGS.
            let v = unsafe { load_block(simd, x, b, k) };
            let d = simd.sub(v, mv);
            let q = simd.mul(d, d);
            dacc.step(simd, k, d);
            qacc.step(simd, k, q);
        }
    }
    let mut d_out = dacc.store(simd);
    let mut q_out = qacc.store(simd);
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        let d = v - m;
        d_out.add(lane, d);
        q_out.add(lane, d * d);
    }
    (d_out, q_out)
}
