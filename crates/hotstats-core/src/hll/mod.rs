//! HyperLogLog with Redis's parameters and arithmetic, so that for the same elements the
//! registers, and therefore PFCOUNT's estimate, are exactly Redis's (7.x):
//! precision 14 (16384 registers of 6 bits), MurmurHash64A with seed 0xadc83b19, register value
//! = 1 + the number of trailing zeros of the hash's upper 50 bits (at most 51), and Otmar Ertl's
//! improved estimator (arXiv:1702.01284), rounded half away from zero.
//!
//! Registers are kept unpacked here (one byte each, 16 KiB); [`redis`] writes Redis's packed
//! dense encoding (the decoder of Redis strings, dense or sparse, is lib/hll/js.ts's `fromRedis`).

pub mod murmur;
pub mod redis;
pub mod sparse;

pub use murmur::{murmur64a, REDIS_HLL_SEED};

/// Register index bits.
pub const P: u32 = 14;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Hash bits left for the run of zeros.
pub const Q: u32 = 64 - P;
/// Largest register value (Q + 1).
pub const MAX_VALUE: u8 = (Q + 1) as u8;

const ALPHA_INF: f64 = 0.721_347_520_444_481_7; // 1 / (2 ln 2), HLL_ALPHA_INF

/// The register an element goes to and the value it proposes (Redis's `hllPatLen`).
#[inline]
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, REDIS_HLL_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The sentinel bit at Q bounds the count at Q + 1 when the upper bits are all zero.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds one element to unpacked registers; true if a register changed.
#[inline]
pub fn add(registers: &mut [u8; REGISTERS], element: &[u8]) -> bool {
    let (i, v) = pattern(element);
    if v > registers[i] {
        registers[i] = v;
        true
    } else {
        false
    }
}

/// Union: each register becomes the larger of the two (commutative, associative, idempotent).
pub fn merge(into: &mut [u8; REGISTERS], other: &[u8; REGISTERS]) {
    for (a, &b) in into.iter_mut().zip(other.iter()) {
        *a = (*a).max(b);
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        // pow(1 - x, 2) in C is the correctly rounded square, the same as this product.
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// Cardinality estimate from the register histogram (`histogram[v]` = registers equal to v),
/// exactly as Redis's `hllCount`.
pub fn estimate_from_histogram(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histogram[(Q + 1) as usize] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histogram[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histogram[0] as f64 / m);
    // llroundl: round half away from zero (f64::round does the same).
    (ALPHA_INF * m * m / z).round() as u64
}

/// Cardinality estimate of unpacked registers (values must be <= 51).
pub fn estimate(registers: &[u8; REGISTERS]) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in registers.iter() {
        histogram[(r & 63) as usize] += 1;
    }
    estimate_from_histogram(&histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_zero_and_one_is_one() {
        let mut r = [0u8; REGISTERS];
        assert_eq!(estimate(&r), 0);
        add(&mut r, b"a");
        assert_eq!(estimate(&r), 1);
    }

    #[test]
    fn values_are_bounded() {
        for i in 0..100_000u32 {
            let (idx, v) = pattern(&i.to_le_bytes());
            assert!(idx < REGISTERS);
            assert!((1..=MAX_VALUE).contains(&v));
        }
    }
}
