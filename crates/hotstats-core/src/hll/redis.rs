//! Redis's HyperLogLog string formats (what GET returns after PFADD, and what SET accepts).
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
//!
//! sparse (enc 1): a run-length code over the registers, in order, covering exactly 16384:
//!   00xxxxxx           ZERO:  xxxxxx + 1 (1..64) registers equal to 0
//!   01xxxxxx yyyyyyyy  XZERO: (xxxxxx << 8 | yyyyyyyy) + 1 (1..16384) registers equal to 0
//!   1vvvvvxx           VAL:   xx + 1 (1..4) registers equal to vvvvv + 1 (1..32)
//! ```
//!
//! Bytes from outside are untrusted: every opcode is bounds-checked before it is applied, the
//! total must be exactly 16384 registers, every dense register is at most 51 (sparse VAL runs
//! cannot exceed 32), and any violation is an error, never a panic or an out-of-bounds access.

use core::fmt;

use super::{MAX_VALUE, REGISTERS};

/// Header size in bytes.
pub const HEADER: usize = 16;
/// Size of the packed dense registers.
pub const DENSE_REGISTER_BYTES: usize = (REGISTERS * 6).div_ceil(8);
/// Total size of a dense Redis HLL string.
pub const DENSE_SIZE: usize = HEADER + DENSE_REGISTER_BYTES;

const MAGIC: &[u8; 4] = b"HYLL";
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;

/// Why bytes are not a valid Redis HyperLogLog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    TooShort(usize),
    BadMagic,
    UnknownEncoding(u8),
    DenseSize(usize),
    /// A sparse opcode at this byte offset runs past the registers or the input.
    SparseOverrun(usize),
    /// The sparse runs cover this many registers instead of 16384.
    SparseCoverage(usize),
    /// A dense register holds a value no hash can produce (above [`MAX_VALUE`] = 51: 1 + the
    /// 50 hash bits left after the index), though its 6 bits could hold up to 63.
    RegisterValue {
        index: usize,
        value: u8,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::TooShort(n) => {
                write!(f, "{n} bytes is shorter than the 16-byte HYLL header")
            }
            FormatError::BadMagic => write!(f, "missing the HYLL magic"),
            FormatError::UnknownEncoding(e) => {
                write!(f, "unknown encoding {e} (0 dense, 1 sparse)")
            }
            FormatError::DenseSize(n) => write!(f, "dense HLL must be {DENSE_SIZE} bytes, got {n}"),
            FormatError::SparseOverrun(at) => {
                write!(f, "sparse opcode at byte {at} runs past the end")
            }
            FormatError::SparseCoverage(n) => {
                write!(f, "sparse runs cover {n} registers, not {REGISTERS}")
            }
            FormatError::RegisterValue { index, value } => write!(
                f,
                "dense register {index} is {value}, above the largest possible value {MAX_VALUE}"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

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

/// Unpacked registers from a Redis HLL string (dense or sparse).
pub fn from_redis(bytes: &[u8]) -> Result<Box<[u8; REGISTERS]>, FormatError> {
    if bytes.len() < HEADER {
        return Err(FormatError::TooShort(bytes.len()));
    }
    if &bytes[..4] != MAGIC {
        return Err(FormatError::BadMagic);
    }
    let mut regs = Box::new([0u8; REGISTERS]);
    let body = &bytes[HEADER..];
    match bytes[4] {
        ENC_DENSE => {
            if bytes.len() != DENSE_SIZE {
                return Err(FormatError::DenseSize(bytes.len()));
            }
            for (i, r) in regs.iter_mut().enumerate() {
                let value = dense_get(body, i);
                // 6 bits hold up to 63; only 0..=51 can come from a hash. Refused here, so every
                // decoded HLL counts (the estimator's histogram has room for 0..=51 only).
                if value > MAX_VALUE {
                    return Err(FormatError::RegisterValue { index: i, value });
                }
                *r = value;
            }
        }
        ENC_SPARSE => {
            let mut idx = 0usize;
            let mut p = 0usize;
            while p < body.len() {
                let op = body[p];
                let (run, value, width) = if op & 0xc0 == 0 {
                    ((op & 0x3f) as usize + 1, 0u8, 1usize)
                } else if op & 0xc0 == 0x40 {
                    let Some(&lo) = body.get(p + 1) else {
                        return Err(FormatError::SparseOverrun(HEADER + p));
                    };
                    (
                        ((((op & 0x3f) as usize) << 8) | lo as usize) + 1,
                        0u8,
                        2usize,
                    )
                } else {
                    ((op & 0x3) as usize + 1, ((op >> 2) & 0x1f) + 1, 1usize)
                };
                // Checked before writing: a run may not pass the last register.
                if idx + run > REGISTERS {
                    return Err(FormatError::SparseOverrun(HEADER + p));
                }
                if value != 0 {
                    regs[idx..idx + run].fill(value);
                }
                idx += run;
                p += width;
            }
            if idx != REGISTERS {
                return Err(FormatError::SparseCoverage(idx));
            }
        }
        other => return Err(FormatError::UnknownEncoding(other)),
    }
    Ok(regs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_roundtrip_every_register() {
        let mut regs = [0u8; REGISTERS];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = ((i * 7 + 3) % 52) as u8;
        }
        let bytes = to_redis_dense(&regs);
        assert_eq!(bytes.len(), DENSE_SIZE);
        assert_eq!(*from_redis(&bytes).unwrap(), regs);
    }

    /// Issue 19: a dense register above 51 was accepted, and then `count` failed natively while
    /// the JS backend returned a number. Both decoders refuse it now; 51 itself decodes.
    #[test]
    fn dense_registers_above_51_are_refused() {
        let mut regs = [0u8; REGISTERS];
        regs[0] = MAX_VALUE;
        regs[REGISTERS - 1] = MAX_VALUE;
        let ok = to_redis_dense(&regs);
        assert_eq!(*from_redis(&ok).unwrap(), regs);
        for (index, value) in [(0usize, 52u8), (7, 63), (REGISTERS - 1, 52), (9000, 60)] {
            let mut bytes = ok.clone();
            dense_set(&mut bytes[HEADER..], index, value);
            assert_eq!(
                from_redis(&bytes),
                Err(FormatError::RegisterValue { index, value })
            );
        }
    }

    #[test]
    fn sparse_decodes_and_rejects_bad_runs() {
        // XZERO of 16383 registers, then VAL 5 x1.
        let mut b = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        b.extend_from_slice(&[0x40 | 0x3f, 0xfe, 0x80 | (4 << 2)]);
        let regs = from_redis(&b).unwrap();
        assert_eq!(regs[16383], 5);
        assert_eq!(regs.iter().filter(|&&v| v != 0).count(), 1);
        // One register too many.
        let mut over = b.clone();
        over.push(0x00);
        assert!(matches!(
            from_redis(&over),
            Err(FormatError::SparseOverrun(_))
        ));
        // Too few, truncated XZERO, bad magic, bad encoding, short.
        assert!(matches!(
            from_redis(&b[..b.len() - 1]),
            Err(FormatError::SparseCoverage(16383))
        ));
        assert!(matches!(
            from_redis(&b[..HEADER + 1]),
            Err(FormatError::SparseOverrun(_))
        ));
        assert_eq!(
            from_redis(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"),
            Err(FormatError::BadMagic)
        );
        assert_eq!(
            from_redis(b"HYLL\x07\0\0\0\0\0\0\0\0\0\0\0"),
            Err(FormatError::UnknownEncoding(7))
        );
        assert_eq!(from_redis(b"HYLL"), Err(FormatError::TooShort(4)));
        assert_eq!(
            from_redis(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0\0"),
            Err(FormatError::DenseSize(17))
        );
    }
}
