//! MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit), as Redis uses it for HyperLogLog:
//! little-endian 8-byte blocks on every architecture, seed 0xadc83b19 for PFADD.

const M: u64 = 0xc6a4_a793_5bd1_e995;
const R: u32 = 47;

/// The seed Redis passes for HyperLogLog elements.
pub const REDIS_HLL_SEED: u64 = 0xadc8_3b19;

/// MurmurHash64A of `data` with `seed` (wrapping 64-bit arithmetic, as the C code).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    let len = data.len() as u64;
    let mut h = seed ^ len.wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for b in &mut blocks {
        let mut k = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            h ^= (byte as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_lengths_and_blocks_are_distinct() {
        // Every length 0..=17 hashes differently (tail handling covers 1..7 plus blocks).
        let data: Vec<u8> = (0u8..17).collect();
        let mut seen = std::collections::HashSet::new();
        for n in 0..=17 {
            assert!(seen.insert(murmur64a(&data[..n], REDIS_HLL_SEED)));
        }
    }
}
