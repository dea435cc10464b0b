//! Test helpers shared by the core's integration tests: a seeded PRNG, hostile inputs and
//! an independent oracle (Shewchuk's exactly rounded sum, as Python's math.fsum).
#![allow(dead_code)]

/// SplitMix64: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// `±10^u` with u uniform in [lo, hi).
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let sign = if self.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
        sign * 10f64.powf(lo + (hi - lo) * self.unit())
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
    /// A value from a hostile mix: wide magnitudes, both signs, subnormals, zeros of both signs,
    /// and (if `specials`) NaN and ±Infinity.
    pub fn hostile(&mut self, specials: bool) -> f64 {
        match self.below(if specials { 12 } else { 9 }) {
            0..=3 => self.log_uniform(-300.0, 300.0),
            4 => self.log_uniform(-20.0, 20.0),
            5 => {
                f64::from_bits(self.next_u64() & 0x000f_ffff_ffff_ffff)
                    * if self.unit() < 0.5 { -1.0 } else { 1.0 }
            }
            6 => {
                if self.unit() < 0.5 {
                    0.0
                } else {
                    -0.0
                }
            }
            7 => (self.below(2001) as f64) - 1000.0,
            8 => {
                // Random bits, NaN patterns excluded (clamp keeps NaN).
                let v = f64::from_bits(self.next_u64());
                if v.is_nan() {
                    1.0
                } else {
                    v.clamp(-1e300, 1e300)
                }
            }
            9 => f64::NAN,
            10 => f64::INFINITY,
            _ => f64::NEG_INFINITY,
        }
    }
}

/// Shewchuk's algorithm with exact partials and correct final rounding (CPython math.fsum).
/// Finite inputs whose partial sums do not overflow only.
pub fn fsum(xs: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &v in xs {
        let mut x = v;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                core::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    let n = partials.len();
    if n == 0 {
        return 0.0;
    }
    let mut k = n - 1;
    let mut hi = partials[k];
    let mut lo = 0.0;
    while k > 0 {
        k -= 1;
        let x = hi;
        let y = partials[k];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Round half-even correctly when the rest of the partials push past a halfway case.
    if k > 0 && ((lo < 0.0 && partials[k - 1] < 0.0) || (lo > 0.0 && partials[k - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

/// Distance in units in the last place between two finite doubles (0 when equal, ±0 equal).
pub fn ulp_distance(a: f64, b: f64) -> u64 {
    fn key(v: f64) -> i64 {
        let b = v.to_bits() as i64;
        if b < 0 {
            i64::MIN - b
        } else {
            b
        }
    }
    (key(a) as i128 - key(b) as i128).unsigned_abs() as u64
}

pub fn naive_sum(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |a, &b| a + b)
}
