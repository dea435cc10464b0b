//! NEON kernels (aarch64, where NEON is baseline). 8 registers of 2 doubles are lanes 0..16,
//! updated with the same TwoSum as `scalar.rs`; the tail and the reduction are the scalar code,
//! so results match the scalar kernel bit for bit. No FMA (`vfmaq_f64` is never used).

#![cfg(target_arch = "aarch64")]

use core::arch::aarch64::*;

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax, LANES};

/// TwoSum on 2 lanes: `(a + b, exact error)`.
#[inline(always)]
unsafe fn two_sum(a: float64x2_t, b: float64x2_t) -> (float64x2_t, float64x2_t) {
    let t = vaddq_f64(a, b);
    let bp = vsubq_f64(t, a);
    let ap = vsubq_f64(t, bp);
    (t, vaddq_f64(vsubq_f64(a, ap), vsubq_f64(b, bp)))
}

/// One cascaded step on 2 lanes, as `Lanes::add`.
#[inline(always)]
unsafe fn acc_step(acc: &mut Acc, k: usize, v: float64x2_t) {
    let (t, e) = two_sum(acc.s[k], v);
    let (u, f) = two_sum(acc.c[k], e);
    acc.s[k] = t;
    acc.c[k] = u;
    acc.cc[k] = vaddq_f64(acc.cc[k], f);
}

/// 16 lanes as 8 registers per component.
struct Acc {
    s: [float64x2_t; 8],
    c: [float64x2_t; 8],
    cc: [float64x2_t; 8],
}

impl Acc {
    #[inline(always)]
    unsafe fn new() -> Acc {
        let z = vdupq_n_f64(0.0);
        Acc {
            s: [z; 8],
            c: [z; 8],
            cc: [z; 8],
        }
    }

    #[inline(always)]
    unsafe fn store(&self) -> Lanes {
        let mut out = Lanes::default();
        for k in 0..8 {
            // SAFETY: each array has 16 elements and k * 2 + 2 <= 16.
            vst1q_f64(out.s.as_mut_ptr().add(k * 2), self.s[k]);
            vst1q_f64(out.c.as_mut_ptr().add(k * 2), self.c[k]);
            vst1q_f64(out.cc.as_mut_ptr().add(k * 2), self.cc[k]);
        }
        out
    }
}

/// Compensated per-lane sums, as `scalar::sum_lanes`.
///
/// # Safety
/// NEON must be available (always true on aarch64 targets Rust supports here).
#[target_feature(enable = "neon")]
pub unsafe fn sum_lanes(x: &[f64]) -> Lanes {
    let mut acc = Acc::new();
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        for k in 0..8 {
            // SAFETY: b < len / 16, so elements b * 16 + k * 2 .. + 2 are inside `x`.
            let v = vld1q_f64(p.add(b * LANES + k * 2));
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
/// `FCMGE` is false for NaN, like `>=`; `BSL` selects as the scalar branch does.
///
/// # Safety
/// NEON must be available.
#[target_feature(enable = "neon")]
pub unsafe fn fast_lanes(x: &[f64]) -> FastLanes {
    let z = vdupq_n_f64(0.0);
    let mut s = [z; 8];
    let mut c = [z; 8];
    let mut m = [z; 8];
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        for k in 0..8 {
            // SAFETY: b < len / 16, so the 2 loaded elements are inside `x`.
            let v = vld1q_f64(p.add(b * LANES + k * 2));
            let t = vaddq_f64(s[k], v);
            let ge = vcgeq_f64(vabsq_f64(s[k]), vabsq_f64(v));
            let big = vbslq_f64(ge, s[k], v);
            let small = vbslq_f64(ge, v, s[k]);
            let e = vaddq_f64(vsubq_f64(big, t), small);
            c[k] = vaddq_f64(c[k], e);
            m[k] = vmaxq_f64(m[k], vabsq_f64(c[k]));
            s[k] = t;
        }
    }
    let mut out = FastLanes::default();
    for k in 0..8 {
        // SAFETY: each array has 16 elements and k * 2 + 2 <= 16.
        vst1q_f64(out.s.as_mut_ptr().add(k * 2), s[k]);
        vst1q_f64(out.c.as_mut_ptr().add(k * 2), c[k]);
        vst1q_f64(out.m.as_mut_ptr().add(k * 2), m[k]);
    }
    for (lane, &v) in x[blocks * LANES..].iter().enumerate() {
        out.add(lane, v);
    }
    out
}

/// Compensated per-lane sums of `x - m` and `(x - m)^2`, as `scalar::dev_lanes`.
///
/// # Safety
/// NEON must be available.
#[target_feature(enable = "neon")]
pub unsafe fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    let mv = vdupq_n_f64(m);
    let mut dacc = Acc::new();
    let mut qacc = Acc::new();
    let blocks = x.len() / LANES;
    let p = x.as_ptr();
    for b in 0..blocks {
        for k in 0..8 {
            // SAFETY: b < len / 16, so the 2 loaded elements are inside `x`.
            let v = vld1q_f64(p.add(b * LANES + k * 2));
            let d = vsubq_f64(v, mv);
            let q = vmulq_f64(d, d);
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
            let v = vld1q_f64(p.add(b * 4 + k * 2));
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
