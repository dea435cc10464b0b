//! Value ↔ bucket-index mapping with a relative-accuracy guarantee (DDSketch's cubically
//! interpolated mapping, as in sketches-go/sketches-java).
//!
//! `index(v) = floor(approx_log2(v) * multiplier)`, where `approx_log2` takes the binary
//! exponent from the bits and interpolates the significand with a cubic. Every value of bucket
//! `i` is within `relative_accuracy` of `value(i)`.
//!
//! Bit-reproducibility: only IEEE `+ - * /`, `floor` and bit manipulation are used, never libm
//! (`log1p` and `cbrt` differ between C libraries and JavaScript engines): the multiplier's
//! `ln(1 + y)` is a fixed atanh series and the inverse cubic a fixed number of Newton steps, in
//! the same order as the TypeScript port (`lib/quantile/js.ts`).

use crate::kernels::Kernels;

/// The smallest relative accuracy accepted. Below it the indices of the largest doubles
/// (|index| ≈ 1024 × 0.35 / α) would leave i32 — and so would the difference of two indices in
/// one store, which the store's window arithmetic needs — so a sketch would answer wrongly; at
/// 1e-6 every finite double is indexable with |index| < 3.6e8 < 2^30 (checked by a test).
/// Nothing useful is lost: at α = 1e-6 the default 2048 bins span values within 0.4% of each
/// other before collapsing.
pub const MIN_RELATIVE_ACCURACY: f64 = 1e-6;

const A: f64 = 6.0 / 35.0;
const B: f64 = -3.0 / 5.0;
const C: f64 = 10.0 / 7.0;

/// `ln(1 + y)` for `y > 0` as `2 atanh(z)`, `z = y / (2 + y)`, summing the series until a term
/// no longer changes the sum (z < 1; up to ~20000 terms as the accuracy nears 1, a few for
/// the usual 0.01).
pub fn ln_1p(y: f64) -> f64 {
    let z = y / (2.0 + y);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    let mut k = 0u32;
    while k < 100_000 {
        let next = sum + term / (2 * k + 1) as f64;
        if next == sum {
            break;
        }
        sum = next;
        term *= z2;
        k += 1;
    }
    2.0 * sum
}

/// `2^e` exactly, for normal exponents.
pub fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mapping {
    pub relative_accuracy: f64,
    pub multiplier: f64,
    /// Smallest magnitude given its own bucket; smaller ones count as zero.
    pub min_indexable: f64,
}

impl Mapping {
    /// `relative_accuracy` must be in [[`MIN_RELATIVE_ACCURACY`], 1) (checked by the caller).
    pub fn new(relative_accuracy: f64) -> Mapping {
        let a = relative_accuracy;
        debug_assert!((MIN_RELATIVE_ACCURACY..1.0).contains(&a));
        let multiplier = 7.0 / (10.0 * ln_1p(2.0 * a / (1.0 - a)));
        // Keep clear of subnormals: their exponent bits do not give log2.
        let min_indexable = f64::MIN_POSITIVE * (1.0 + a) / (1.0 - a);
        Mapping {
            relative_accuracy: a,
            multiplier,
            min_indexable,
        }
    }

    /// Bucket of a positive magnitude `>= min_indexable`.
    #[inline]
    pub fn index(&self, v: f64) -> i32 {
        index_scalar(self.multiplier, v)
    }

    /// `out[k] = index(max(|xs[k]|, floor))` for every `k` (`xs` finite, `out` at least as long
    /// as `xs`, `floor >= min_indexable`), with the kernels `k` (the process's selected backend,
    /// in the sketch: see [`crate::kernels::selected`]). The bulk path of
    /// `QuantileSketch::add_all`: the AVX2 and NEON versions do the same IEEE operations in the
    /// same order as [`index_many_scalar`], so every backend gives the same indices as
    /// [`Mapping::index`].
    pub fn index_many(&self, k: &Kernels, xs: &[f64], floor: f64, out: &mut [i32]) {
        k.quantile_indices(self.multiplier, xs, floor, out);
    }

    /// Representative value of bucket `i` (its lower bound times 1 + accuracy).
    pub fn value(&self, i: i32) -> f64 {
        let x = i as f64 / self.multiplier;
        let exponent = x.floor();
        let frac = x - exponent;
        // Solve ((A s + B) s + C) s = frac on [0, 1): increasing, so Newton from s = frac converges.
        let mut s = frac;
        for _ in 0..8 {
            let p = ((A * s + B) * s + C) * s - frac;
            let dp = (3.0 * A * s + 2.0 * B) * s + C;
            s -= p / dp;
        }
        let s = s.clamp(0.0, 1.0);
        // Any i32 index must work (indices come from deserialized bytes too): past ±2100 the
        // result is 0 or Infinity anyway; below that, three normal-range powers of two.
        let e = exponent.clamp(-2100.0, 2100.0) as i32;
        let p1 = e.clamp(-1022, 1023);
        let p2 = (e - p1).clamp(-1022, 1023);
        let p3 = e - p1 - p2;
        (1.0 + s) * pow2(p1) * pow2(p2) * pow2(p3) * (1.0 + self.relative_accuracy)
    }
}

/// Approximation of log2(x) for normal positive x (exact at powers of two).
#[inline]
fn approx_log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let s = f64::from_bits((bits & SIGNIFICAND_MASK) | ONE_BITS) - 1.0;
    ((A * s + B) * s + C) * s + e as f64
}

#[inline]
fn index_scalar(multiplier: f64, v: f64) -> i32 {
    let y = approx_log2(v) * multiplier;
    // floor without a libm call (x86_64's baseline has no roundsd): truncate, then step down
    // for negative non-integers. |y| < 2^30 for every normal v and accuracy >=
    // MIN_RELATIVE_ACCURACY.
    let t = y as i32;
    if (t as f64) > y {
        t - 1
    } else {
        t
    }
}

const SIGNIFICAND_MASK: u64 = 0x000f_ffff_ffff_ffff;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;
/// `2^52` as bits: OR-ing a small integer into its significand and subtracting `2^52` converts
/// the integer to a double exactly (AVX2 has no 64-bit integer to double conversion).
const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;

/// The portable [`Mapping::index_many`] (the scalar backend's, and the reference the SIMD
/// versions match). Panics if `out` is shorter than `xs`.
pub fn index_many_scalar(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
    let out = &mut out[..xs.len()];
    for (slot, &v) in out.iter_mut().zip(xs) {
        *slot = index_scalar(multiplier, v.abs().max(floor));
    }
}

/// [`index_many_scalar`] with AVX2, four values at a time.
///
/// # Safety
/// The CPU must have AVX2, and `out.len() >= xs.len()` (the stores write `xs.len()` indices).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn index_many_avx2(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
    use std::arch::x86_64::*;
    debug_assert!(out.len() >= xs.len());
    let n4 = xs.len() / 4 * 4;
    let abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
    let floor_v = _mm256_set1_pd(floor);
    let sig_mask = _mm256_set1_epi64x(SIGNIFICAND_MASK as i64);
    let one_bits = _mm256_set1_epi64x(ONE_BITS as i64);
    let exp_mask = _mm256_set1_epi64x(0x7ff);
    let two52 = _mm256_set1_epi64x(TWO_52_BITS as i64);
    let bias = _mm256_set1_pd(4503599627370496.0 + 1023.0);
    let (a, b, c) = (_mm256_set1_pd(A), _mm256_set1_pd(B), _mm256_set1_pd(C));
    let one = _mm256_set1_pd(1.0);
    let m = _mm256_set1_pd(multiplier);
    let mut k = 0;
    while k < n4 {
        // SAFETY: k + 4 <= n4 <= xs.len(): the load reads inside xs.
        let v = _mm256_loadu_pd(xs.as_ptr().add(k));
        // max(|v|, floor): both operands are finite and non-NaN, so maxpd is IEEE max.
        let x = _mm256_max_pd(_mm256_and_pd(v, abs_mask), floor_v);
        let bits = _mm256_castpd_si256(x);
        let e_biased = _mm256_and_si256(_mm256_srli_epi64(bits, 52), exp_mask);
        // (2^52 + e_biased) - (2^52 + 1023) = e exactly.
        let e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(e_biased, two52)), bias);
        let s = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, sig_mask), one_bits)),
            one,
        );
        let p = _mm256_add_pd(_mm256_mul_pd(a, s), b);
        let p = _mm256_add_pd(_mm256_mul_pd(p, s), c);
        let p = _mm256_add_pd(_mm256_mul_pd(p, s), e);
        let y = _mm256_floor_pd(_mm256_mul_pd(p, m));
        let i = _mm256_cvttpd_epi32(y);
        // SAFETY: k + 4 <= xs.len() <= out.len() (the caller's guarantee): four i32 fit.
        _mm_storeu_si128(out.as_mut_ptr().add(k) as *mut __m128i, i);
        k += 4;
    }
    for (slot, &v) in out[n4..].iter_mut().zip(&xs[n4..]) {
        *slot = index_scalar(multiplier, v.abs().max(floor));
    }
}

/// [`index_many_scalar`] with AVX-512F, eight values at a time: the operations of
/// [`index_many_avx2`] (separate multiplies and adds, no FMA; floor as a round toward -inf;
/// truncating conversion), so the same indices.
///
/// # Safety
/// The CPU must have AVX-512F, and `out.len() >= xs.len()` (the stores write `xs.len()` indices).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn index_many_avx512(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
    use std::arch::x86_64::*;
    debug_assert!(out.len() >= xs.len());
    let n8 = xs.len() / 8 * 8;
    let abs_mask = _mm512_set1_epi64(i64::MAX);
    let floor_v = _mm512_set1_pd(floor);
    let sig_mask = _mm512_set1_epi64(SIGNIFICAND_MASK as i64);
    let one_bits = _mm512_set1_epi64(ONE_BITS as i64);
    let exp_mask = _mm512_set1_epi64(0x7ff);
    let two52 = _mm512_set1_epi64(TWO_52_BITS as i64);
    let bias = _mm512_set1_pd(4503599627370496.0 + 1023.0);
    let (a, b, c) = (_mm512_set1_pd(A), _mm512_set1_pd(B), _mm512_set1_pd(C));
    let one = _mm512_set1_pd(1.0);
    let m = _mm512_set1_pd(multiplier);
    let mut k = 0;
    while k < n8 {
        // SAFETY: k + 8 <= n8 <= xs.len(): the load reads inside xs.
        let v = unsafe { _mm512_loadu_pd(xs.as_ptr().add(k)) };
        // max(|v|, floor): both operands are finite and non-NaN, so maxpd is IEEE max.
        let x = _mm512_max_pd(
            _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(v), abs_mask)),
            floor_v,
        );
        let bits = _mm512_castpd_si512(x);
        let e_biased = _mm512_and_si512(_mm512_srli_epi64::<52>(bits), exp_mask);
        // (2^52 + e_biased) - (2^52 + 1023) = e exactly.
        let e = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(e_biased, two52)), bias);
        let s = _mm512_sub_pd(
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, sig_mask), one_bits)),
            one,
        );
        let p = _mm512_add_pd(_mm512_mul_pd(a, s), b);
        let p = _mm512_add_pd(_mm512_mul_pd(p, s), c);
        let p = _mm512_add_pd(_mm512_mul_pd(p, s), e);
        // Round toward -inf to an integer (0 fraction bits), no exceptions: floor.
        let y = _mm512_roundscale_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(
            _mm512_mul_pd(p, m),
        );
        let i = _mm512_cvttpd_epi32(y);
        // SAFETY: k + 8 <= xs.len() <= out.len() (the caller's guarantee): eight i32 fit.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(k) as *mut __m256i, i) };
        k += 8;
    }
    for (slot, &v) in out[n8..].iter_mut().zip(&xs[n8..]) {
        *slot = index_scalar(multiplier, v.abs().max(floor));
    }
}

/// [`index_many_scalar`] with NEON, two values at a time.
///
/// # Safety
/// `out.len() >= xs.len()` (NEON itself is part of the aarch64 baseline).
#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn index_many_neon(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
    use std::arch::aarch64::*;
    debug_assert!(out.len() >= xs.len());
    let n2 = xs.len() / 2 * 2;
    let floor_v = vdupq_n_f64(floor);
    let sig_mask = vdupq_n_u64(SIGNIFICAND_MASK);
    let one_bits = vdupq_n_u64(ONE_BITS);
    let exp_mask = vdupq_n_u64(0x7ff);
    let two52 = vdupq_n_u64(TWO_52_BITS);
    let bias = vdupq_n_f64(4503599627370496.0 + 1023.0);
    let (a, b, c) = (vdupq_n_f64(A), vdupq_n_f64(B), vdupq_n_f64(C));
    let one = vdupq_n_f64(1.0);
    let m = vdupq_n_f64(multiplier);
    let mut k = 0;
    while k < n2 {
        // SAFETY: k + 2 <= n2 <= xs.len(): the load reads inside xs.
        let v = vld1q_f64(xs.as_ptr().add(k));
        let x = vmaxq_f64(vabsq_f64(v), floor_v);
        let bits = vreinterpretq_u64_f64(x);
        let e_biased = vandq_u64(vshrq_n_u64::<52>(bits), exp_mask);
        let e = vsubq_f64(vreinterpretq_f64_u64(vorrq_u64(e_biased, two52)), bias);
        let s = vsubq_f64(
            vreinterpretq_f64_u64(vorrq_u64(vandq_u64(bits, sig_mask), one_bits)),
            one,
        );
        // Separate multiply and add (never vfma): the same roundings as the scalar code.
        let p = vaddq_f64(vmulq_f64(a, s), b);
        let p = vaddq_f64(vmulq_f64(p, s), c);
        let p = vaddq_f64(vmulq_f64(p, s), e);
        let y = vrndmq_f64(vmulq_f64(p, m));
        let i = vcvtq_s64_f64(y);
        // SAFETY: k + 1 < xs.len() <= out.len() (the caller's guarantee).
        *out.get_unchecked_mut(k) = vgetq_lane_s64::<0>(i) as i32;
        *out.get_unchecked_mut(k + 1) = vgetq_lane_s64::<1>(i) as i32;
        k += 2;
    }
    for (slot, &v) in out[n2..].iter_mut().zip(&xs[n2..]) {
        *slot = index_scalar(multiplier, v.abs().max(floor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_1p_matches_libm_closely() {
        for y in [1e-6, 0.02, 0.5, 1.0, 3.0, 100.0] {
            let got = ln_1p(y);
            let want = f64::ln_1p(y);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "{y}: {got} vs {want}"
            );
        }
    }

    /// At the smallest accepted accuracy every finite magnitude from `min_indexable` up to
    /// f64::MAX has an index below 2^30 in magnitude, so indices and their differences (the
    /// store's window arithmetic) stay in i32, and the representative of the extreme buckets
    /// is still within α.
    #[test]
    fn every_finite_double_is_indexable_at_the_smallest_accuracy() {
        for a in [MIN_RELATIVE_ACCURACY, 1e-5, 0.01, 0.5, 0.999_999] {
            let m = Mapping::new(a);
            let mut scalar = [0i32; 4];
            let xs = [m.min_indexable, f64::MAX, 1.0, f64::MIN_POSITIVE * 3.0];
            index_many_scalar(m.multiplier, &xs, m.min_indexable, &mut scalar);
            let (lo, hi) = (m.index(m.min_indexable), m.index(f64::MAX));
            let floored = xs[3].max(m.min_indexable);
            assert_eq!(scalar, [lo, hi, m.index(1.0), m.index(floored)]);
            assert!(lo > -(1 << 30) && hi < (1 << 30), "a={a}: [{lo}, {hi}]");
            assert!((hi as i64 - lo as i64) < i32::MAX as i64);
            for x in [m.min_indexable, f64::MAX, 1e300, 1e-300] {
                let r = m.value(m.index(x));
                assert!(
                    (r - x).abs() <= a * x * (1.0 + 1e-9),
                    "a={a} x={x:e} rep={r:e}"
                );
            }
        }
    }

    #[test]
    fn every_bucket_honours_the_accuracy() {
        for a in [0.001, 0.01, 0.05] {
            let m = Mapping::new(a);
            let mut v = m.min_indexable;
            while v < 1e300 {
                for f in [1.0, 1.0 + 1e-12, 1.37, 1.999] {
                    let x = v * f;
                    let r = m.value(m.index(x));
                    assert!(
                        (r - x).abs() <= a * x * (1.0 + 1e-9),
                        "a={a} x={x:e} rep={r:e}"
                    );
                }
                v *= 1.7;
            }
        }
    }
}
