//! AVX2 kernels (x86_64). Each entry is an `unsafe fn` with `#[target_feature(enable = "avx2")]`;
//! the dispatcher in `mod.rs` calls them only after `is_x86_feature_detected!("avx2")` (which
//! implies AVX). They reproduce `scalar.rs` bit for bit: 4 registers of 4 doubles are lanes
//! 0..16; the lane bodies are `simd.rs`'s, over the [`Avx2`] token; the tail and the reduction
//! are the scalar code.
//! No FMA: the crate is never built with `+fma` in these functions, and Rust does not contract.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax};
use super::simd::{self, F64s};

/// Proof that this CPU runs AVX2 (and AVX): the only way to make one is [`Avx2::new`].
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

impl Avx2 {
    /// # Safety
    /// The CPU must support AVX and AVX2 (`is_x86_feature_detected!`).
    #[inline(always)]
    pub(super) unsafe fn new() -> Avx2 {
        debug_assert!(is_x86_feature_detected!("avx") && is_x86_feature_detected!("avx2"));
        Avx2(())
    }
}

impl F64s for Avx2 {
    const WIDTH: usize = 4;
    type V = __m256d;

    #[inline(always)]
    fn zero(self) -> __m256d {
        // SAFETY: an `Avx2` exists only where the CPU runs AVX2 (`Avx2::new`'s contract), which
        // is all this intrinsic (and those of the methods below: "the token") requires.
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    fn splat(self, x: f64) -> __m256d {
        // SAFETY: AVX2 runs here (the token).
        unsafe { _mm256_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m256d {
        // SAFETY: AVX2 runs here (the token); the caller guarantees 4 readable doubles at p.
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m256d) {
        // SAFETY: AVX2 runs here (the token); the caller guarantees 4 writable doubles at p.
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline(always)]
    fn add(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: AVX2 runs here (the token).
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: AVX2 runs here (the token).
        unsafe { _mm256_sub_pd(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: AVX2 runs here (the token).
        unsafe { _mm256_mul_pd(a, b) }
    }
    /// A compare (`_CMP_GE_OQ`: false for NaN, like `>=`) of the magnitudes and two blends.
    #[inline(always)]
    fn big_small(self, s: __m256d, x: __m256d) -> (__m256d, __m256d) {
        // SAFETY: AVX2 runs here (the token).
        unsafe {
            let sign = _mm256_set1_pd(-0.0);
            let ge =
                _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_andnot_pd(sign, s), _mm256_andnot_pd(sign, x));
            (_mm256_blendv_pd(x, s, ge), _mm256_blendv_pd(s, x, ge))
        }
    }
    #[inline(always)]
    fn max_abs(self, m: __m256d, c: __m256d) -> __m256d {
        // SAFETY: AVX2 runs here (the token).
        unsafe { _mm256_max_pd(m, _mm256_andnot_pd(_mm256_set1_pd(-0.0), c)) }
    }
    #[inline(always)]
    fn prefetch(self, p: *const f64) {
        // SAFETY: AVX2 runs here (SSE is implied); a prefetch never faults, whatever `p` is.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
///
/// # Safety
/// The CPU must support AVX2 (checked by the caller with `is_x86_feature_detected!`).
#[target_feature(enable = "avx2")]
pub unsafe fn sum_lanes(x: &[f64]) -> Lanes {
    // SAFETY: the caller guarantees AVX2 (this function's contract).
    simd::sum_lanes(unsafe { Avx2::new() }, x)
}

/// The fast pass of `sum`, as `scalar::fast_lanes` (Neumaier lanes with the max-|c| certificate).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn fast_lanes(x: &[f64]) -> FastLanes {
    // SAFETY: the caller guarantees AVX2 (this function's contract).
    simd::fast_lanes(unsafe { Avx2::new() }, x)
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    // SAFETY: the caller guarantees AVX2 (this function's contract).
    simd::dev_lanes(unsafe { Avx2::new() }, x, m)
}

/// Minimum and maximum with `Math.min`/`Math.max` semantics, as `scalar::min_max`.
///
/// `vminpd`/`vmaxpd` return the second operand for NaN and for equal zeros, so NaN and the sign
/// of zero are tracked separately: a NaN mask, and masks of "saw -0" / "saw +0".
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn min_max(x: &[f64]) -> MinMax {
    debug_assert!(is_x86_feature_detected!("avx2"));
    if x.is_empty() {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let n = x.len();
    let p = x.as_ptr();
    let mut lo = [_mm256_set1_pd(f64::INFINITY); 2];
    let mut hi = [_mm256_set1_pd(f64::NEG_INFINITY); 2];
    let mut nan = _mm256_setzero_pd();
    let mut neg_zero = _mm256_setzero_si256();
    let mut pos_zero = _mm256_setzero_si256();
    let neg_zero_bits = _mm256_set1_epi64x(i64::MIN);
    let zero_bits = _mm256_setzero_si256();
    let blocks = n / 8;
    for b in 0..blocks {
        for k in 0..2 {
            // SAFETY: b < n / 8, so elements b * 8 + k * 4 .. + 4 are inside `x`.
            let v = unsafe { _mm256_loadu_pd(p.add(b * 8 + k * 4)) };
            lo[k] = _mm256_min_pd(lo[k], v);
            hi[k] = _mm256_max_pd(hi[k], v);
            nan = _mm256_or_pd(nan, _mm256_cmp_pd::<_CMP_UNORD_Q>(v, v));
            let bits = _mm256_castpd_si256(v);
            neg_zero = _mm256_or_si256(neg_zero, _mm256_cmpeq_epi64(bits, neg_zero_bits));
            pos_zero = _mm256_or_si256(pos_zero, _mm256_cmpeq_epi64(bits, zero_bits));
        }
    }
    if _mm256_movemask_pd(nan) != 0 {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let mut lo_a = [0.0f64; 8];
    let mut hi_a = [0.0f64; 8];
    // SAFETY: each array holds 8 doubles, two unaligned stores of 4.
    unsafe {
        _mm256_storeu_pd(lo_a.as_mut_ptr(), lo[0]);
        _mm256_storeu_pd(lo_a.as_mut_ptr().add(4), lo[1]);
        _mm256_storeu_pd(hi_a.as_mut_ptr(), hi[0]);
        _mm256_storeu_pd(hi_a.as_mut_ptr().add(4), hi[1]);
    }
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in 0..8 {
        min = js_min(min, lo_a[k]);
        max = js_max(max, hi_a[k]);
    }
    // Zeros seen in the vector part: fix the sign the min/max instructions may have lost.
    let saw_neg_zero = _mm256_movemask_pd(_mm256_castsi256_pd(neg_zero)) != 0;
    let saw_pos_zero = _mm256_movemask_pd(_mm256_castsi256_pd(pos_zero)) != 0;
    if min == 0.0 {
        min = if saw_neg_zero { -0.0 } else { 0.0 };
    }
    if max == 0.0 {
        max = if saw_pos_zero { 0.0 } else { -0.0 };
    }
    for &v in &x[blocks * 8..] {
        min = js_min(min, v);
        max = js_max(max, v);
    }
    MinMax { min, max }
}

/// [`scalar::bucket_indices`](super::scalar::bucket_indices) compiled for AVX2 (the compiler
/// vectorizes the per-bound loop four values wide); the same indices.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn bucket_indices(bounds: &[f64], xs: &[f64], out: &mut [u32]) {
    super::scalar::bucket_indices_body(bounds, xs, out)
}
