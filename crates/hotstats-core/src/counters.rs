//! CRDT counters: [`GCounter`] (grow-only) and [`PNCounter`] (increments and decrements).
//!
//! Each replica counts under a `(replica id, incarnation)` key. A process that restarts without
//! its state picks a new incarnation (e.g. its start time plus randomness), so it never reuses a
//! key with a lower count: its earlier counts live on, under the old key, in every state that
//! has seen them. Merge takes the per-key maximum, so it is commutative, associative and
//! idempotent; the value is the sum over keys.
//!
//! Serialized GCounter (version 1, little endian):
//! ```text
//! +-----+-----+-----+-----+---------+-------+-------------------+---------- entries ----------+
//! | 'H' | 'S' | 'G' | 'C' | version | 0 0 0 | entry count: u32  | per entry:                  |
//! +-----+-----+-----+-----+---------+-------+-------------------+  id length: u16, id (UTF-8), |
//!                                                                 incarnation: u64, count: u64
//! ```
//! Entries are written sorted by (id bytes, incarnation), with no duplicate key; decoding
//! requires exactly that (so one state has one encoding) and rejects truncation, trailing bytes,
//! bad UTF-8 and counts above 2^53 - 1 (the largest integer JavaScript holds exactly).
//! A PNCounter is 'HSPN', version, 3 zero bytes, then the P and N GCounters' bodies (from
//! `entry count` on), P first.

use core::fmt;
use std::collections::BTreeMap;

/// Largest count (and sum) kept: 2^53 - 1, exact in a JavaScript number.
pub const MAX_COUNT: u64 = (1 << 53) - 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CounterError {
    Truncated(usize),
    BadMagic,
    Version(u8),
    Padding,
    BadId(usize),
    Unsorted(usize),
    CountTooLarge(u64),
    TrailingBytes(usize),
    /// An increment would take a count past [`MAX_COUNT`].
    Overflow,
}

impl fmt::Display for CounterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterError::Truncated(at) => write!(f, "truncated at byte {at}"),
            CounterError::BadMagic => write!(f, "bad magic"),
            CounterError::Version(v) => write!(f, "unsupported version {v}"),
            CounterError::Padding => write!(f, "reserved bytes must be zero"),
            CounterError::BadId(at) => write!(f, "replica id at byte {at} is not UTF-8"),
            CounterError::Unsorted(at) => {
                write!(f, "entry at byte {at} is out of order or duplicated")
            }
            CounterError::CountTooLarge(c) => write!(f, "count {c} is above 2^53 - 1"),
            CounterError::TrailingBytes(at) => write!(f, "trailing bytes from byte {at}"),
            CounterError::Overflow => write!(f, "count would exceed 2^53 - 1"),
        }
    }
}

impl std::error::Error for CounterError {}

/// Grow-only counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GCounter {
    entries: BTreeMap<(String, u64), u64>,
}

impl GCounter {
    /// Adds `amount` to this replica's count. Errors (and changes nothing) past 2^53 - 1.
    pub fn inc(
        &mut self,
        replica: &str,
        incarnation: u64,
        amount: u64,
    ) -> Result<(), CounterError> {
        let current = self
            .entries
            .get(&(replica.to_string(), incarnation))
            .copied()
            .unwrap_or(0);
        let next = current
            .checked_add(amount)
            .filter(|&c| c <= MAX_COUNT)
            .ok_or(CounterError::Overflow)?;
        self.entries
            .insert((replica.to_string(), incarnation), next);
        Ok(())
    }

    /// Sum over every (replica, incarnation); saturates at u64::MAX (never in practice).
    pub fn value(&self) -> u64 {
        self.entries
            .values()
            .fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Per-key maximum.
    pub fn merge(&mut self, other: &GCounter) {
        for (k, &v) in &other.entries {
            let e = self.entries.entry(k.clone()).or_insert(0);
            *e = (*e).max(v);
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, u64, u64)> {
        self.entries
            .iter()
            .map(|((id, inc), &c)| (id.as_str(), *inc, c))
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for ((id, inc), c) in &self.entries {
            out.extend_from_slice(&(id.len() as u16).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&inc.to_le_bytes());
            out.extend_from_slice(&c.to_le_bytes());
        }
    }

    /// Reads a body starting at `at`; returns the counter and the offset after it.
    fn read_body(bytes: &[u8], mut at: usize) -> Result<(GCounter, usize), CounterError> {
        let take = |at: usize, n: usize| bytes.get(at..at + n).ok_or(CounterError::Truncated(at));
        let n = u32::from_le_bytes(take(at, 4)?.try_into().expect("4 bytes")) as usize;
        at += 4;
        let mut entries = BTreeMap::new();
        let mut last: Option<(String, u64)> = None;
        for _ in 0..n {
            let start = at;
            let len = u16::from_le_bytes(take(at, 2)?.try_into().expect("2 bytes")) as usize;
            at += 2;
            let id = std::str::from_utf8(take(at, len)?)
                .map_err(|_| CounterError::BadId(at))?
                .to_string();
            at += len;
            let inc = u64::from_le_bytes(take(at, 8)?.try_into().expect("8 bytes"));
            at += 8;
            let count = u64::from_le_bytes(take(at, 8)?.try_into().expect("8 bytes"));
            at += 8;
            if count > MAX_COUNT {
                return Err(CounterError::CountTooLarge(count));
            }
            let key = (id, inc);
            if last.as_ref().is_some_and(|l| *l >= key) {
                return Err(CounterError::Unsorted(start));
            }
            last = Some(key.clone());
            entries.insert(key, count);
        }
        Ok((GCounter { entries }, at))
    }

    pub fn serialize(&self) -> Vec<u8> {
        let mut out = b"HSGC\x01\0\0\0".to_vec();
        self.write_body(&mut out);
        out
    }

    pub fn deserialize(bytes: &[u8]) -> Result<GCounter, CounterError> {
        check_header(bytes, b"HSGC")?;
        let (g, end) = GCounter::read_body(bytes, 8)?;
        if end != bytes.len() {
            return Err(CounterError::TrailingBytes(end));
        }
        Ok(g)
    }
}

fn check_header(bytes: &[u8], magic: &[u8; 4]) -> Result<(), CounterError> {
    if bytes.len() < 8 {
        return Err(CounterError::Truncated(bytes.len()));
    }
    if &bytes[..4] != magic {
        return Err(CounterError::BadMagic);
    }
    if bytes[4] != 1 {
        return Err(CounterError::Version(bytes[4]));
    }
    if bytes[5..8] != [0, 0, 0] {
        return Err(CounterError::Padding);
    }
    Ok(())
}

/// Counter with increments and decrements: two grow-only counters, value = P - N.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PNCounter {
    pub p: GCounter,
    pub n: GCounter,
}

impl PNCounter {
    pub fn inc(
        &mut self,
        replica: &str,
        incarnation: u64,
        amount: u64,
    ) -> Result<(), CounterError> {
        self.p.inc(replica, incarnation, amount)
    }

    pub fn dec(
        &mut self,
        replica: &str,
        incarnation: u64,
        amount: u64,
    ) -> Result<(), CounterError> {
        self.n.inc(replica, incarnation, amount)
    }

    pub fn value(&self) -> i128 {
        self.p.value() as i128 - self.n.value() as i128
    }

    pub fn merge(&mut self, other: &PNCounter) {
        self.p.merge(&other.p);
        self.n.merge(&other.n);
    }

    pub fn serialize(&self) -> Vec<u8> {
        let mut out = b"HSPN\x01\0\0\0".to_vec();
        self.p.write_body(&mut out);
        self.n.write_body(&mut out);
        out
    }

    pub fn deserialize(bytes: &[u8]) -> Result<PNCounter, CounterError> {
        check_header(bytes, b"HSPN")?;
        let (p, at) = GCounter::read_body(bytes, 8)?;
        let (n, end) = GCounter::read_body(bytes, at)?;
        if end != bytes.len() {
            return Err(CounterError::TrailingBytes(end));
        }
        Ok(PNCounter { p, n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_laws_and_restarts() {
        let mut a = GCounter::default();
        a.inc("a", 1, 5).unwrap();
        let mut b = GCounter::default();
        b.inc("b", 1, 3).unwrap();
        // "a" restarts, loses its state, counts again under a new incarnation.
        b.inc("a", 2, 1).unwrap();
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.value(), 9);
        let mut again = ab.clone();
        again.merge(&ab);
        assert_eq!(again, ab);
    }

    #[test]
    fn formats_roundtrip_and_reject_bad_bytes() {
        let mut pn = PNCounter::default();
        pn.inc("w1", 7, 10).unwrap();
        pn.dec("w2", 1, 4).unwrap();
        pn.inc("ü", 1, 1).unwrap();
        let b = pn.serialize();
        assert_eq!(PNCounter::deserialize(&b).unwrap(), pn);
        assert_eq!(pn.value(), 7);
        for cut in 0..b.len() {
            assert!(
                PNCounter::deserialize(&b[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(matches!(
            PNCounter::deserialize(&extra),
            Err(CounterError::TrailingBytes(_))
        ));
        let mut g = GCounter::default();
        g.inc("x", 1, MAX_COUNT).unwrap();
        assert_eq!(g.inc("x", 1, 1), Err(CounterError::Overflow));
        assert_eq!(g.value(), MAX_COUNT);
    }
}
