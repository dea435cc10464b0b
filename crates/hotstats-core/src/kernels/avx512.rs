//! AVX-512 kernels (x86_64): the 16 lanes are two zmm registers of 8 doubles. Each entry is an
//! `unsafe fn` with `#[target_feature(enable = "avx512f")]`; the dispatcher in `mod.rs` calls
//! them only after detecting AVX-512F (and AVX2, whose histogram bucket kernel this backend
//! reuses; its QuantileSketch index kernel is `quantile::mapping::index_many_avx512`). The lane bodies are
//! `simd.rs`'s over the [`Avx512`] token, so they reproduce `scalar.rs` bit for bit; the tail and
//! the reduction are the scalar code. No FMA.
//!
//! What AVX-512 changes besides the width: the fast pass's compare goes to a mask register
//! and the two selections are masked blends (`vblendmpd`), so there are half as many
//! instructions per element as with AVX2. `vrangepd` (AVX-512DQ: "the operand of larger |.|" in
//! one instruction) was measured too and was slower on the project's Zen 4 machine (the same
//! 3.9-4.1 elements/ns as AVX2 at 4K-64K elements, against 4.9-5.1 for compare and blend).
//! All are exact selections, the compare is `>=` (`_CMP_GE_OQ`, false for NaN), so the bits are
//! the scalar branch's.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax};
use super::simd::{self, F64s};

/// Proof that this CPU runs AVX-512F: the only way to make one is [`Avx512::new`].
#[derive(Clone, Copy)]
pub(super) struct Avx512(());

impl Avx512 {
    /// # Safety
    /// The CPU must support AVX-512F (`is_x86_feature_detected!`).
    #[inline(always)]
    pub(super) unsafe fn new() -> Avx512 {
        debug_assert!(is_x86_feature_detected!("avx512f"));
        Avx512(())
    }
}

impl F64s for Avx512 {
    const WIDTH: usize = 8;
    type V = __m512d;

    #[inline(always)]
    fn zero(self) -> __m512d {
        // SAFETY: an `Avx512` exists only where the CPU runs AVX-512F (`Avx512::new`'s contract),
        // which is all this intrinsic (and those of the methods below: "the token") requires.
        unsafe { _mm512_setzero_pd() }
    }
    #[inline(always)]
    fn splat(self, x: f64) -> __m512d {
        // SAFETY: AVX-512F runs here (the token).
        unsafe { _mm512_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m512d {
        // SAFETY: AVX-512F runs here (the token); the caller guarantees 8 readable doubles at p.
        unsafe { _mm512_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m512d) {
        // SAFETY: AVX-512F runs here (the token); the caller guarantees 8 writable doubles at p.
        unsafe { _mm512_storeu_pd(p, v) }
    }
    #[inline(always)]
    fn add(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: AVX-512F runs here (the token).
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: AVX-512F runs here (the token).
        unsafe { _mm512_sub_pd(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: AVX-512F runs here (the token).
        unsafe { _mm512_mul_pd(a, b) }
    }
    /// A compare of the magnitudes into a mask (`_CMP_GE_OQ`: false for NaN, like `>=`) and two
    /// masked blends.
    #[inline(always)]
    fn big_small(self, s: __m512d, x: __m512d) -> (__m512d, __m512d) {
        // SAFETY: AVX-512F runs here (the token).
        unsafe {
            let ge = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(_mm512_abs_pd(s), _mm512_abs_pd(x));
            (
                _mm512_mask_blend_pd(ge, x, s),
                _mm512_mask_blend_pd(ge, s, x),
            )
        }
    }
    #[inline(always)]
    fn max_abs(self, m: __m512d, c: __m512d) -> __m512d {
        // SAFETY: AVX-512F runs here (the token).
        unsafe { _mm512_max_pd(m, _mm512_abs_pd(c)) }
    }
    #[inline(always)]
    fn prefetch(self, p: *const f64) {
        // SAFETY: SSE runs here (implied by AVX-512F); a prefetch never faults, whatever `p` is.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
///
/// # Safety
/// The CPU must support AVX-512F (checked by the caller).
#[target_feature(enable = "avx512f")]
pub unsafe fn sum_lanes(x: &[f64]) -> Lanes {
    // SAFETY: the caller guarantees AVX-512F (this function's contract).
    simd::sum_lanes(unsafe { Avx512::new() }, x)
}

/// The fast pass of `sum`, as `scalar::fast_lanes` (Neumaier lanes with the max-|c| certificate).
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn fast_lanes(x: &[f64]) -> FastLanes {
    // SAFETY: the caller guarantees AVX-512F (this function's contract).
    simd::fast_lanes(unsafe { Avx512::new() }, x)
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    // SAFETY: the caller guarantees AVX-512F (this function's contract).
    simd::dev_lanes(unsafe { Avx512::new() }, x, m)
}

/// Minimum and maximum with `Math.min`/`Math.max` semantics, as `scalar::min_max`.
///
/// `vminpd`/`vmaxpd` return the second operand for NaN and for equal zeros, so NaN and the sign
/// of zero are tracked separately, in mask registers: "saw NaN", "saw -0", "saw +0".
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn min_max(x: &[f64]) -> MinMax {
    debug_assert!(is_x86_feature_detected!("avx512f"));
    if x.is_empty() {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let n = x.len();
    let p = x.as_ptr();
    let mut lo = [_mm512_set1_pd(f64::INFINITY); 2];
    let mut hi = [_mm512_set1_pd(f64::NEG_INFINITY); 2];
    let mut nan: __mmask8 = 0;
    let mut neg_zero: __mmask8 = 0;
    let mut pos_zero: __mmask8 = 0;
    let neg_zero_bits = _mm512_set1_epi64(i64::MIN);
    let zero_bits = _mm512_setzero_si512();
    let blocks = n / 16;
    for b in 0..blocks {
        for k in 0..2 {
            // SAFETY: b < n / 16, so elements b * 16 + k * 8 .. + 8 are inside `x`.
            let v = unsafe { _mm512_loadu_pd(p.add(b * 16 + k * 8)) };
            lo[k] = _mm512_min_pd(lo[k], v);
            hi[k] = _mm512_max_pd(hi[k], v);
            nan |= _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(v, v);
            let bits = _mm512_castpd_si512(v);
            neg_zero |= _mm512_cmpeq_epi64_mask(bits, neg_zero_bits);
            pos_zero |= _mm512_cmpeq_epi64_mask(bits, zero_bits);
        }
    }
    if nan != 0 {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let mut lo_a = [0.0f64; 16];
    let mut hi_a = [0.0f64; 16];
    // SAFETY: each array holds 16 doubles, two unaligned stores of 8.
    unsafe {
        _mm512_storeu_pd(lo_a.as_mut_ptr(), lo[0]);
        _mm512_storeu_pd(lo_a.as_mut_ptr().add(8), lo[1]);
        _mm512_storeu_pd(hi_a.as_mut_ptr(), hi[0]);
        _mm512_storeu_pd(hi_a.as_mut_ptr().add(8), hi[1]);
    }
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in 0..16 {
        min = js_min(min, lo_a[k]);
        max = js_max(max, hi_a[k]);
    }
    // Zeros seen in the vector part: fix the sign the min/max instructions may have lost.
    if min == 0.0 {
        min = if neg_zero != 0 { -0.0 } else { 0.0 };
    }
    if max == 0.0 {
        max = if pos_zero != 0 { 0.0 } else { -0.0 };
    }
    for &v in &x[blocks * 16..] {
        min = js_min(min, v);
        max = js_max(max, v);
    }
    MinMax { min, max }
}
