//! Streaming moments (count, sum, min, max, mean, M2, M3, M4) with the stable one-pass update
//! (Welford / Terriberry) and Pébay's pairwise merge, so summaries of parts merge into the
//! summary of the whole (threads, processes, machines).
//!
//! Values are shifted by the first value seen (`shift`) before the updates: with a large offset
//! and a tiny spread (1e9 ± 1e-3), `x - shift` is exact and small, so the running mean and the
//! moments keep full precision (unshifted, the rounding of a mean near 1e9 alone costs ~1e-4 of M2).
//!
//! The serialized form (HSMO) is written and read in JS only (lib/moments/js.ts, the one decoder,
//! fuzzed by scripts/fuzz-ts.ts): the state is a JS Float64Array, and this module only adds
//! batches to it and merges two of them (issue 19 deleted the Rust twin nothing called).

/// The state, as plain fields (the JS backend keeps the same fields in a Float64Array).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// The first value seen; the moments are those of `x - shift`.
    pub shift: f64,
    /// Mean of `x - shift`.
    pub mean: f64,
    pub m2: f64,
    pub m3: f64,
    pub m4: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            shift: 0.0,
            mean: 0.0,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
        }
    }
}

impl Moments {
    /// Adds one value (Terriberry's update of M2..M4). NaN or ±Infinity make every moment NaN
    /// (and min/max follow Math.min/Math.max), which is the honest answer.
    pub fn add(&mut self, x: f64) {
        if self.count == 0 {
            self.shift = if x.is_finite() { x } else { 0.0 };
        }
        let n1 = self.count as f64;
        self.count += 1;
        let n = self.count as f64;
        let delta = (x - self.shift) - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        self.sum += x;
        self.min = crate::kernels::lanes::js_min(self.min, x);
        self.max = crate::kernels::lanes::js_max(self.max, x);
    }

    pub fn add_all(&mut self, xs: &[f64]) {
        for &x in xs {
            self.add(x);
        }
    }

    /// Pébay's pairwise combination: the summary of the union of both inputs.
    pub fn merge(&mut self, b: &Moments) {
        if b.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *b;
            return;
        }
        let na = self.count as f64;
        let nb = b.count as f64;
        let n = na + nb;
        // Difference of the means in a's frame: the shifts' difference is exact when they are close.
        let delta = (b.shift - self.shift) + (b.mean - self.mean);
        let d2 = delta * delta;
        let d3 = d2 * delta;
        let d4 = d2 * d2;
        let m2 = self.m2 + b.m2 + d2 * na * nb / n;
        let m3 = self.m3
            + b.m3
            + d3 * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * b.m2 - nb * self.m2) / n;
        let m4 = self.m4
            + b.m4
            + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6.0 * d2 * (na * na * b.m2 + nb * nb * self.m2) / (n * n)
            + 4.0 * delta * (na * b.m3 - nb * self.m3) / n;
        self.mean += delta * nb / n;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
        self.count += b.count;
        self.sum += b.sum;
        self.min = crate::kernels::lanes::js_min(self.min, b.min);
        self.max = crate::kernels::lanes::js_max(self.max, b.max);
    }

    /// The mean of the values added; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.shift + self.mean
        }
    }

    /// Variance with `ddof`; NaN when count - ddof <= 0.
    pub fn variance(&self, ddof: f64) -> f64 {
        let d = self.count as f64 - ddof;
        if d > 0.0 {
            self.m2 / d
        } else {
            f64::NAN
        }
    }

    /// Population skewness g1 = sqrt(n) M3 / M2^1.5; NaN for fewer than 2 values or zero spread.
    pub fn skewness(&self) -> f64 {
        let n = self.count as f64;
        if self.count < 2 || self.m2 == 0.0 {
            return f64::NAN;
        }
        n.sqrt() * self.m3 / self.m2.powf(1.5)
    }

    /// Population excess kurtosis g2 = n M4 / M2² - 3; NaN for fewer than 2 values or zero spread.
    pub fn kurtosis(&self) -> f64 {
        let n = self.count as f64;
        if self.count < 2 || self.m2 == 0.0 {
            return f64::NAN;
        }
        n * self.m4 / (self.m2 * self.m2) - 3.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / a.abs().max(b.abs())
        }
    }

    #[test]
    fn merge_of_parts_equals_the_whole_on_hostile_data() {
        // Large offset, small skewed spread: the textbook power-sum formulas fail here.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let xs: Vec<f64> = (0..20_000).map(|_| 1e9 + (-next().ln()) * 1e-3).collect();
        let mut whole = Moments::default();
        whole.add_all(&xs);
        for parts in [2usize, 3, 7, 64] {
            let chunk = xs.len().div_ceil(parts);
            let mut merged = Moments::default();
            for c in xs.chunks(chunk) {
                let mut m = Moments::default();
                m.add_all(c);
                merged.merge(&m);
            }
            assert_eq!(merged.count, whole.count);
            for (name, a, b) in [
                ("mean", merged.mean(), whole.mean()),
                ("m2", merged.m2, whole.m2),
                ("m3", merged.m3, whole.m3),
                ("m4", merged.m4, whole.m4),
            ] {
                assert!(rel(a, b) <= 1e-12, "{parts} parts: {name} {a:e} vs {b:e}");
            }
            assert_eq!(merged.min, whole.min);
            assert_eq!(merged.max, whole.max);
        }
        // Exponential spread: skewness 2, excess kurtosis 6 (within sampling error).
        assert!((whole.skewness() - 2.0).abs() < 0.3, "{}", whole.skewness());
        assert!((whole.kurtosis() - 6.0).abs() < 2.0, "{}", whole.kurtosis());
    }
}
