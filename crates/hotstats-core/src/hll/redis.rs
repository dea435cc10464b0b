//! Redis's dense HyperLogLog string (what SET accepts; PFCOUNT and PFMERGE work on it), written
//! for the registers here (`HyperLogLog.toRedis()` on the native backend).
//!
//! ```text
//! header (16 bytes):
//! +------+------+------+------+------+------+------+------+------+ ... +------+
//! | 'H'  | 'Y'  | 'L'  | 'L'  | enc  | 0    | 0    | 0    | card: u64 LE, 8 bytes  |
//! +------+------+------+------+------+------+------+------+------+ ... +------+
//!   enc: 0 = dense, 1 = sparse. card: cached cardinality; bit 7 of card[7] set = stale.
//!
//! dense (enc 0): 12288 bytes, 16384 registers of 6 bits, packed from the LSB of each byte:
//! +--------+--------+--------+------//
//! |11000000|22221111|33333322|55444444 ...      (digits: register number, MSB left)
//! +--------+--------+--------+------//
//! ```
//!
//! There is no decoder here: bytes from outside (GET after PFADD, dense or sparse) are decoded by
//! the one decoder that ships, `fromRedis` in lib/hll/js.ts (the registers are a JS
//! Uint8Array), fuzzed by scripts/fuzz-ts.ts. A Rust twin nothing called was deleted (issue 19).

use super::REGISTERS;

/// Header size in bytes.
pub const HEADER: usize = 16;
/// Size of the packed dense registers.
pub const DENSE_REGISTER_BYTES: usize = (REGISTERS * 6).div_ceil(8);
/// Total size of a dense Redis HLL string.
pub const DENSE_SIZE: usize = HEADER + DENSE_REGISTER_BYTES;

const MAGIC: &[u8; 4] = b"HYLL";
const ENC_DENSE: u8 = 0;

/// Register `i` of packed dense registers (Redis's HLL_DENSE_GET_REGISTER, without reading past
/// the end: the last register's second byte is treated as 0).
#[inline]
pub fn dense_get(packed: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = packed[byte] as u16;
    let b1 = packed.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

/// Sets register `i` of packed dense registers to `v` (< 64).
#[inline]
pub fn dense_set(packed: &mut [u8], i: usize, v: u8) {
    debug_assert!(v < 64);
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = v as u16;
    packed[byte] &= !((63u16 << fb) as u8);
    packed[byte] |= (v << fb) as u8;
    if byte + 1 < packed.len() {
        packed[byte + 1] &= !((63u16 >> (8 - fb)) as u8);
        packed[byte + 1] |= (v >> (8 - fb)) as u8;
    }
}

/// Redis's dense string for these registers, with the cached cardinality marked stale (so Redis
/// recomputes it on PFCOUNT). Register values above 63 cannot occur (they are at most 51).
pub fn to_redis_dense(registers: &[u8; REGISTERS]) -> Vec<u8> {
    let mut out = vec![0u8; DENSE_SIZE];
    out[..4].copy_from_slice(MAGIC);
    out[4] = ENC_DENSE;
    out[15] = 0x80; // HLL_INVALIDATE_CACHE: card[7] |= 1 << 7
    let packed = &mut out[HEADER..];
    for (i, &v) in registers.iter().enumerate() {
        if v != 0 {
            dense_set(packed, i, v & 63);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hll::MAX_VALUE;

    #[test]
    fn dense_writes_every_register_and_marks_the_cache_stale() {
        let mut regs = [0u8; REGISTERS];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = ((i * 7 + 3) % (MAX_VALUE as usize + 1)) as u8;
        }
        let bytes = to_redis_dense(&regs);
        assert_eq!(bytes.len(), DENSE_SIZE);
        assert_eq!(&bytes[..HEADER], b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80");
        for (i, &r) in regs.iter().enumerate() {
            assert_eq!(dense_get(&bytes[HEADER..], i), r, "register {i}");
        }
        // The layout of the diagram: register 0 in the low 6 bits of byte 0, register 1 in its
        // top 2 bits and the low 4 of byte 1.
        let mut one = [0u8; REGISTERS];
        one[0] = 0b10_1101;
        one[1] = 0b11_0010;
        let b = to_redis_dense(&one);
        assert_eq!(b[HEADER], 0b1010_1101);
        assert_eq!(b[HEADER + 1], 0b0000_1100);
    }
}
