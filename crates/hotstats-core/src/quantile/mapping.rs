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
//! the same order as the TypeScript port (`lib/js/quantile.ts`).

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
    /// `relative_accuracy` must be in (0, 1) (checked by the caller).
    pub fn new(relative_accuracy: f64) -> Mapping {
        let a = relative_accuracy;
        let multiplier = 7.0 / (10.0 * ln_1p(2.0 * a / (1.0 - a)));
        // Keep clear of subnormals: their exponent bits do not give log2.
        let min_indexable = f64::MIN_POSITIVE * (1.0 + a) / (1.0 - a);
        Mapping {
            relative_accuracy: a,
            multiplier,
            min_indexable,
        }
    }

    /// Approximation of log2(x) for normal positive x (exact at powers of two).
    #[inline]
    fn approx_log2(x: f64) -> f64 {
        let bits = x.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i32 - 1023;
        let s = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000) - 1.0;
        ((A * s + B) * s + C) * s + e as f64
    }

    /// Bucket of a positive magnitude `>= min_indexable`.
    #[inline]
    pub fn index(&self, v: f64) -> i32 {
        let y = Self::approx_log2(v) * self.multiplier;
        // floor without a libm call (x86_64's baseline has no roundsd): truncate, then step down
        // for negative non-integers. |y| < 2^31 for every normal v and accuracy >= 1e-6.
        let t = y as i32;
        if (t as f64) > y {
            t - 1
        } else {
            t
        }
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
