//! Registers that cost little while few are set: a sorted list of the non-zero registers until
//! [`SPARSE_MAX`] of them are set, then the 16 KiB dense array. The estimate is the same either
//! way (a register is a register); only memory differs. A sliding window keeps one set per
//! bucket, so a key with a few uniques per bucket costs bytes per bucket, not 16 KiB.
//!
//! Sparse entries are packed patterns, `index << 6 | value` (value in 1..=51 fits 6 bits), so
//! sorting the packed entries sorts them by register index.

use super::{MAX_VALUE, REGISTERS};

/// Non-zero registers kept in the sparse list (4 bytes each) before turning dense (as
/// `SPARSE_MAX_REGISTERS` of lib/hll/unique.ts).
pub const SPARSE_MAX: usize = 256;

#[derive(Clone, Debug, PartialEq)]
pub enum Registers {
    /// Packed `index << 6 | value` of the non-zero registers, sorted, at most [`SPARSE_MAX`].
    Sparse(Vec<u32>),
    Dense(Box<[u8; REGISTERS]>),
}

impl Default for Registers {
    fn default() -> Self {
        Registers::Sparse(Vec::new())
    }
}

impl Registers {
    /// Raises register `i` to `v` if `v` is larger. `i < REGISTERS` and `1 <= v <= MAX_VALUE`
    /// (checked by the callers, debug-asserted here).
    #[inline]
    pub fn set_max(&mut self, i: usize, v: u8) {
        debug_assert!(i < REGISTERS && (1..=MAX_VALUE).contains(&v));
        match self {
            Registers::Dense(r) => {
                if r[i] < v {
                    r[i] = v;
                }
            }
            Registers::Sparse(list) => {
                let packed = (i as u32) << 6 | v as u32;
                match list.binary_search_by_key(&(i as u32), |e| e >> 6) {
                    Ok(k) => {
                        if (list[k] & 63) < v as u32 {
                            list[k] = packed;
                        }
                    }
                    Err(k) if list.len() < SPARSE_MAX => list.insert(k, packed),
                    Err(_) => {
                        let mut dense = self.to_dense();
                        dense[i] = v;
                        *self = Registers::Dense(dense);
                    }
                }
            }
        }
    }

    /// Whether no register is set.
    pub fn is_empty(&self) -> bool {
        match self {
            Registers::Sparse(list) => list.is_empty(),
            // A dense set is only made from a full sparse one.
            Registers::Dense(_) => false,
        }
    }

    /// Back to no register set; a dense array is freed (a bucket that is reused may see few).
    pub fn clear(&mut self) {
        match self {
            Registers::Sparse(list) => list.clear(),
            Registers::Dense(_) => *self = Registers::default(),
        }
    }

    /// Register-wise max into `into`.
    pub fn merge_into(&self, into: &mut [u8; REGISTERS]) {
        match self {
            Registers::Sparse(list) => {
                for &e in list {
                    let (i, v) = ((e >> 6) as usize, (e & 63) as u8);
                    if into[i] < v {
                        into[i] = v;
                    }
                }
            }
            Registers::Dense(r) => super::merge(into, r),
        }
    }

    /// The 16384 registers.
    pub fn to_dense(&self) -> Box<[u8; REGISTERS]> {
        let mut out = Box::new([0u8; REGISTERS]);
        self.merge_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_and_dense_hold_the_same_registers() {
        let mut seed = 1u64;
        for n in [
            0usize,
            1,
            5,
            SPARSE_MAX - 1,
            SPARSE_MAX,
            SPARSE_MAX + 1,
            3000,
        ] {
            let mut r = Registers::default();
            let mut dense = [0u8; REGISTERS];
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (i, v) = super::super::pattern(&seed.to_le_bytes());
                r.set_max(i, v);
                if dense[i] < v {
                    dense[i] = v;
                }
            }
            assert_eq!(*r.to_dense(), dense, "{n} elements");
            assert_eq!(r.is_empty(), n == 0);
            let set = dense.iter().filter(|&&x| x != 0).count();
            assert_eq!(matches!(r, Registers::Dense(_)), set > SPARSE_MAX, "{n}");
            assert_eq!(
                super::super::estimate(&r.to_dense()),
                super::super::estimate(&dense)
            );
            r.clear();
            assert!(r.is_empty());
            assert_eq!(*r.to_dense(), [0u8; REGISTERS]);
        }
    }

    #[test]
    fn a_smaller_value_never_lowers_a_register() {
        let mut r = Registers::default();
        r.set_max(7, 5);
        r.set_max(7, 3);
        r.set_max(3, 1);
        r.set_max(9000, MAX_VALUE);
        let d = r.to_dense();
        assert_eq!((d[3], d[7], d[9000]), (1, 5, MAX_VALUE));
        assert_eq!(
            r,
            Registers::Sparse(vec![3 << 6 | 1, 7 << 6 | 5, 9000 << 6 | 51])
        );
    }
}
