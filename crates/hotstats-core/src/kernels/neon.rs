//! NEON kernels (aarch64, where NEON is baseline). 8 registers of 2 doubles are lanes 0..16,
//! updated by `simd.rs`'s lane bodies over the [`Neon`] token (the same TwoSum as `scalar.rs`);
//! the tail and the reduction are the scalar code, so results match the scalar kernel bit for
//! bit. No FMA (`vfmaq_f64` is never used).

#![cfg(target_arch = "aarch64")]

use core::arch::aarch64::*;

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax};
use super::simd::{self, F64s};

/// Proof that this CPU runs NEON (the aarch64 baseline): made only by [`Neon::new`].
#[derive(Clone, Copy)]
pub(super) struct Neon(());

impl Neon {
    /// # Safety
    /// The CPU must support NEON (`is_aarch64_feature_detected!`).
    #[inline(always)]
    pub(super) unsafe fn new() -> Neon {
        Neon(())
    }
}

impl F64s for Neon {
    const WIDTH: usize = 2;
    type V = float64x2_t;

    #[inline(always)]
    fn zero(self) -> float64x2_t {
        // SAFETY: a `Neon` exists only where the CPU runs NEON (`Neon::new`'s contract), which
        // is all this intrinsic (and those of the methods below: "the token") requires.
        unsafe { vdupq_n_f64(0.0) }
    }
    #[inline(always)]
    fn splat(self, x: f64) -> float64x2_t {
        // SAFETY: NEON runs here (the token).
        unsafe { vdupq_n_f64(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> float64x2_t {
        // SAFETY: NEON runs here (the token); the caller guarantees 2 readable doubles at p.
        unsafe { vld1q_f64(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: float64x2_t) {
        // SAFETY: NEON runs here (the token); the caller guarantees 2 writable doubles at p.
        unsafe { vst1q_f64(p, v) }
    }
    #[inline(always)]
    fn add(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        // SAFETY: NEON runs here (the token).
        unsafe { vaddq_f64(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        // SAFETY: NEON runs here (the token).
        unsafe { vsubq_f64(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        // SAFETY: NEON runs here (the token).
        unsafe { vmulq_f64(a, b) }
    }
    /// `FCMGE` of the magnitudes (false for NaN, like `>=`) and two `BSL` selects.
    #[inline(always)]
    fn big_small(self, s: float64x2_t, x: float64x2_t) -> (float64x2_t, float64x2_t) {
        // SAFETY: NEON runs here (the token).
        unsafe {
            let ge = vcgeq_f64(vabsq_f64(s), vabsq_f64(x));
            (vbslq_f64(ge, s, x), vbslq_f64(ge, x, s))
        }
    }
    #[inline(always)]
    fn max_abs(self, m: float64x2_t, c: float64x2_t) -> float64x2_t {
        // SAFETY: NEON runs here (the token).
        unsafe { vmaxq_f64(m, vabsq_f64(c)) }
    }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
///
/// # Safety
/// NEON must be available (always true on aarch64 targets Rust supports here).
#[target_feature(enable = "neon")]
pub unsafe fn sum_lanes(x: &[f64]) -> Lanes {
    // SAFETY: the caller guarantees NEON (this function's contract).
    simd::sum_lanes(unsafe { Neon::new() }, x)
}

/// The fast pass of `sum`, as `scalar::fast_lanes` (Neumaier lanes with the max-|c| certificate).
///
/// # Safety
/// NEON must be available.
#[target_feature(enable = "neon")]
pub unsafe fn fast_lanes(x: &[f64]) -> FastLanes {
    // SAFETY: the caller guarantees NEON (this function's contract).
    simd::fast_lanes(unsafe { Neon::new() }, x)
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
///
/// # Safety
/// NEON must be available.
#[target_feature(enable = "neon")]
pub unsafe fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    // SAFETY: the caller guarantees NEON (this function's contract).
    simd::dev_lanes(unsafe { Neon::new() }, x, m)
}

/// Minimum and maximum with `Math.min`/`Math.max` semantics, as `scalar::min_max`.
/// `FMIN`/`FMAX` already propagate NaN and order -0 below +0, so no extra masks are needed.
///
/// # Safety
/// NEON must be available.
#[target_feature(enable = "neon")]
pub unsafe fn min_max(x: &[f64]) -> MinMax {
    if x.is_empty() {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let n = x.len();
    let p = x.as_ptr();
    let mut lo = [vdupq_n_f64(f64::INFINITY); 2];
    let mut hi = [vdupq_n_f64(f64::NEG_INFINITY); 2];
    let blocks = n / 4;
    for b in 0..blocks {
        for k in 0..2 {
            // SAFETY: b < n / 4, so elements b * 4 + k * 2 .. + 2 are inside `x`.
            let v = unsafe { vld1q_f64(p.add(b * 4 + k * 2)) };
            lo[k] = vminq_f64(lo[k], v);
            hi[k] = vmaxq_f64(hi[k], v);
        }
    }
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in 0..2 {
        min = js_min(
            min,
            js_min(vgetq_lane_f64::<0>(lo[k]), vgetq_lane_f64::<1>(lo[k])),
        );
        max = js_max(
            max,
            js_max(vgetq_lane_f64::<0>(hi[k]), vgetq_lane_f64::<1>(hi[k])),
        );
    }
    for &v in &x[blocks * 4..] {
        min = js_min(min, v);
        max = js_max(max, v);
    }
    MinMax { min, max }
}
