//! AVX2 kernels (x86_64). Each entry is an `unsafe fn` with `#[target_feature(enable = "avx2")]`;
//! the dispatcher in `mod.rs` calls them only after `is_x86_feature_detected!("avx2")` (which
//! implies AVX). They reproduce `scalar.rs` bit for bit: 4 registers of 4 doubles are lanes
//! 0..16, updated with the same TwoSum; the tail and the reduction are the scalar code.
//! No FMA: the crate is never built with `+fma` in these functions, and Rust does not contract.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax, LANES};

/// How far ahead (in elements) the fast pass prefetches: 8 KiB. Measured on the project machine
/// (examples/throughput.rs, 16M elements from DRAM): none 1.96, 64 1.90, 256 2.38, 1024 2.62,
/// 2048 2.47 elements/ns; in-cache sizes unchanged.
const PREFETCH_AHEAD: usize = 1024;

/// TwoSum on 4 lanes: `(a + b, exact error)`.
#[inline(always)]
unsafe fn two_sum(a: __m256d, b: __m256d) -> (__m256d, __m256d) {
    let t = _mm256_add_pd(a, b);
    let bp = _mm256_sub_pd(t, a);
    let ap = _mm256_sub_pd(t, bp);
    (t, _mm256_add_pd(_mm256_sub_pd(a, ap), _mm256_sub_pd(b, bp)))
}

/// One cascaded step on 4 lanes, as `Lanes::add`.
#[inline(always)]
unsafe fn acc_step(acc: &mut Acc, k: usize, v: __m256d) {
    let (t, e) = two_sum(acc.s[k], v);
    let (u, f) = two_sum(acc.c[k], e);
    acc.s[k] = t;
    acc.c[k] = u;
    acc.cc[k] = _mm256_add_pd(acc.cc[k], f);
}

/// 16 lanes as 4 registers per component.
struct Acc {
    s: [__m256d; 4],
    c: [__m256d; 4],
    cc: [__m256d; 4],
}

impl Acc {
    #[inline(always)]
    unsafe fn new() -> Acc {
        let z = _mm256_setzero_pd();
        Acc {
            s: [z; 4],
            c: [z; 4],
            cc: [z; 4],
        }
    }

    #[inline(always)]
    unsafe fn store(&self) -> Lanes {
        let mut out = Lanes::default();
        for k in 0..4 {
            // SAFETY: each array has 16 elements and k * 4 + 4 <= 16; storeu needs no alignment.
            _mm256_storeu_pd(out.s.as_mut_ptr().add(k * 4), self.s[k]);
            _mm256_storeu_pd(out.c.as_mut_ptr().add(k * 4), self.c[k]);
            _mm256_storeu_pd(out.cc.as_mut_ptr().add(k * 4), self.cc[k]);
        }
        out
    }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
///
/// # Safety
/// The CPU must support AVX2 (checked by the caller with `is_x86_feature_detected!`).
#[target_feature(enable = "avx2")]
pub unsafe fn sum_lanes(x: &[f64]) -> Lanes {
    debug_assert!(is_x86_feature_detected!("avx2"));
    let mut acc = Acc::new();
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        for k in 0..4 {
            // SAFETY: b < blocks = len / 16, so b * 16 + k * 4 + 4 <= len: the load is in bounds.
            let v = _mm256_loadu_pd(p.add(b * LANES + k * 4));
            acc_step(&mut acc, k, v);
        }
    }
    let mut out = acc.store();
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        out.add(lane, v);
    }
    out
}

/// The fast pass of `sum`, as `scalar::fast_lanes` (Neumaier lanes with the max-|c| certificate).
/// The branch of the scalar update becomes a compare (`_CMP_GE_OQ`: false for NaN, like `>=`)
/// and two blends.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn fast_lanes(x: &[f64]) -> FastLanes {
    debug_assert!(is_x86_feature_detected!("avx2"));
    let sign = _mm256_set1_pd(-0.0);
    let z = _mm256_setzero_pd();
    let mut s = [z; 4];
    let mut c = [z; 4];
    let mut m = [z; 4];
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        // Hint the next lines of a long input in early; a prefetch never faults, even past the end.
        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(b * LANES + PREFETCH_AHEAD) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(b * LANES + PREFETCH_AHEAD + 8) as *const i8);
        for k in 0..4 {
            // SAFETY: b < len / 16, so elements b * 16 + k * 4 .. + 4 are inside `x`.
            let v = _mm256_loadu_pd(p.add(b * LANES + k * 4));
            let t = _mm256_add_pd(s[k], v);
            let ge = _mm256_cmp_pd::<_CMP_GE_OQ>(
                _mm256_andnot_pd(sign, s[k]),
                _mm256_andnot_pd(sign, v),
            );
            let big = _mm256_blendv_pd(v, s[k], ge);
            let small = _mm256_blendv_pd(s[k], v, ge);
            let e = _mm256_add_pd(_mm256_sub_pd(big, t), small);
            c[k] = _mm256_add_pd(c[k], e);
            m[k] = _mm256_max_pd(m[k], _mm256_andnot_pd(sign, c[k]));
            s[k] = t;
        }
    }
    let mut out = FastLanes::default();
    for k in 0..4 {
        // SAFETY: each array has 16 elements and k * 4 + 4 <= 16.
        _mm256_storeu_pd(out.s.as_mut_ptr().add(k * 4), s[k]);
        _mm256_storeu_pd(out.c.as_mut_ptr().add(k * 4), c[k]);
        _mm256_storeu_pd(out.m.as_mut_ptr().add(k * 4), m[k]);
    }
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        out.add(lane, v);
    }
    out
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    debug_assert!(is_x86_feature_detected!("avx2"));
    let mv = _mm256_set1_pd(m);
    let mut dacc = Acc::new();
    let mut qacc = Acc::new();
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        for k in 0..4 {
            // SAFETY: b < len / 16, so the 4 loaded elements are inside `x`.
            let v = _mm256_loadu_pd(p.add(b * LANES + k * 4));
            let d = _mm256_sub_pd(v, mv);
            let q = _mm256_mul_pd(d, d);
            acc_step(&mut dacc, k, d);
            acc_step(&mut qacc, k, q);
        }
    }
    let mut d_out = dacc.store();
    let mut q_out = qacc.store();
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        let d = v - m;
        d_out.add(lane, d);
        q_out.add(lane, d * d);
    }
    (d_out, q_out)
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
            let v = _mm256_loadu_pd(p.add(b * 8 + k * 4));
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
    _mm256_storeu_pd(lo_a.as_mut_ptr(), lo[0]);
    _mm256_storeu_pd(lo_a.as_mut_ptr().add(4), lo[1]);
    _mm256_storeu_pd(hi_a.as_mut_ptr(), hi[0]);
    _mm256_storeu_pd(hi_a.as_mut_ptr().add(4), hi[1]);
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
