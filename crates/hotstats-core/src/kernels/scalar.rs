//! Scalar twin of the SIMD kernels. Always compiled; it defines the order of operations the
//! AVX2 and NEON kernels must reproduce bit for bit (see `lanes.rs`).

use super::lanes::{js_max, js_min, FastLanes, Lanes, MinMax, LANES};

/// Calls `f(lane, value)` for every element, lane = index % 16, in index order. Whole blocks of
/// 16 first (a fixed-trip inner loop the compiler unrolls), then the tail.
#[inline(always)]
fn for_each_lane(x: &[f64], mut f: impl FnMut(usize, f64)) {
    let mut blocks = x.chunks_exact(LANES);
    for block in &mut blocks {
        for (lane, &v) in block.iter().enumerate() {
            f(lane, v);
        }
    }
    for (lane, &v) in blocks.remainder().iter().enumerate() {
        f(lane, v);
    }
}

/// Compensated per-lane sums of `x` (element `i` into lane `i % 16`): the cascaded pass.
pub fn sum_lanes(x: &[f64]) -> Lanes {
    let mut acc = Lanes::default();
    for_each_lane(x, |lane, v| acc.add(lane, v));
    acc
}

/// The fast pass of `sum` (see `lanes.rs`): Neumaier lanes with the max-|c| certificate.
pub fn fast_lanes(x: &[f64]) -> FastLanes {
    let mut acc = FastLanes::default();
    for_each_lane(x, |lane, v| acc.add(lane, v));
    acc
}

/// Compensated per-lane sums of `d = x - m` and of `d * d` (the second pass of the variance).
pub fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
    let mut d_acc = Lanes::default();
    let mut q_acc = Lanes::default();
    for_each_lane(x, |lane, v| {
        let d = v - m;
        d_acc.add(lane, d);
        q_acc.add(lane, d * d);
    });
    (d_acc, q_acc)
}

/// Minimum and maximum with `Math.min`/`Math.max` semantics; NaN for empty input.
pub fn min_max(x: &[f64]) -> MinMax {
    if x.is_empty() {
        return MinMax {
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &v in x {
        lo = js_min(lo, v);
        hi = js_max(hi, v);
    }
    MinMax { min: lo, max: hi }
}

/// Bound counts at or below which [`bucket_indices`] compares every value with every bound
/// (a loop over the values per bound, which vectorizes); above it, a binary search per value.
pub const LINEAR_BOUNDS: usize = 32;

/// `out[k]` = how many of `bounds` (finite, strictly increasing) are below `xs[k]`: the
/// histogram bucket of `xs[k]` (a value equal to a bound is in that bound's bucket, as
/// Prometheus' `le`). Exact comparisons, so every backend gives the same indices. `out` must be
/// at least as long as `xs`.
#[inline(always)]
pub fn bucket_indices_body(bounds: &[f64], xs: &[f64], out: &mut [u32]) {
    let out = &mut out[..xs.len()];
    if bounds.len() <= LINEAR_BOUNDS {
        out.fill(0);
        for &b in bounds {
            for (o, &x) in out.iter_mut().zip(xs) {
                *o += (b < x) as u32;
            }
        }
    } else {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = bounds.partition_point(|&b| b < x) as u32;
        }
    }
}

/// See [`bucket_indices_body`].
pub fn bucket_indices(bounds: &[f64], xs: &[f64], out: &mut [u32]) {
    bucket_indices_body(bounds, xs, out)
}
