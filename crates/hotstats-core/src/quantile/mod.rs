//! QuantileSketch: DDSketch-style quantiles with a relative-error guarantee.
//!
//! Every quantile returned is within `relative_accuracy` (α in [1e-6, 1), default 0.01: see
//! [`MIN_RELATIVE_ACCURACY`] for the lower bound) of the true value at that rank (the element
//! at 0-based position floor(q · (count - 1)) of the sorted input), as long as the buckets
//! involved were not collapsed. Memory is bounded by `max_bins` buckets per sign
//! (default 2048); when a store needs more, its lowest-magnitude buckets collapse (see
//! [`store`]), so only the smallest magnitudes lose accuracy: with α = 0.01 and 2048 bins, one
//! store spans magnitudes over a ratio of about 6e17 before anything collapses.
//! Magnitudes below the mapping's `min_indexable` (~2.3e-308) count as zero.
//!
//! Serialized format (version 1, little endian):
//! ```text
//! 'H' 'S' 'Q' 'S' | version u8 = 1 | 0 0 0 | alpha f64 | max_bins u32 | 0 0 0 0 |
//! count f64 | sum f64 | min f64 | max f64 | zero_count f64 |
//! positive store: offset i32, len u32, len × f64 counts | negative store: the same
//! ```
//! Decoding checks every field (alpha in [1e-6, 1) as `new` requires, max_bins >= 1,
//! len <= max_bins, counts finite and >= 0, count = zero_count + both totals up to rounding,
//! offsets that keep indices in i32, no trailing bytes) and returns an error otherwise.
//! `sum` may be any double a sketch can reach: finite, ±Infinity once it overflowed, NaN once it
//! overflowed both ways; NaN is always written as the canonical quiet NaN (0x7ff8000000000000)
//! and any other NaN bit pattern is refused, so one state has one encoding. `count` never
//! overflows: an add or merge that would take it past f64::MAX is refused.

pub mod mapping;
pub mod store;

use core::fmt;

use crate::kernels::{self, js_max, js_min, MinMax};
use mapping::Mapping;
pub use mapping::MIN_RELATIVE_ACCURACY;
use store::Store;

#[derive(Clone, Debug, PartialEq)]
pub struct QuantileSketch {
    pub mapping: Mapping,
    pub positive: Store,
    pub negative: Store,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SketchError {
    Accuracy(f64),
    MaxBins(u64),
    Value(f64),
    /// The value at this position of a batch is not finite.
    ValueAt(usize, f64),
    Weight(f64),
    Quantile(f64),
    MismatchedAccuracy(f64, f64),
    /// An add or merge would take `count` (the total weight) past f64::MAX.
    CountOverflow,
    Format(String),
}

impl fmt::Display for SketchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SketchError::Accuracy(a) => write!(
                f,
                "relativeAccuracy must be in [{MIN_RELATIVE_ACCURACY:e}, 1), got {a}"
            ),
            SketchError::MaxBins(m) => {
                write!(f, "maxBins must be an integer in [1, 2^24], got {m}")
            }
            SketchError::Value(v) => write!(f, "values must be finite, got {v}"),
            SketchError::ValueAt(i, v) => write!(f, "values[{i}] must be finite, got {v}"),
            SketchError::Weight(w) => write!(f, "count must be finite and > 0, got {w}"),
            SketchError::Quantile(q) => write!(f, "quantile must be in [0, 1], got {q}"),
            SketchError::MismatchedAccuracy(a, b) => {
                write!(f, "cannot merge sketches of relativeAccuracy {a} and {b}")
            }
            SketchError::CountOverflow => {
                write!(f, "the total weight (count) would overflow past 1.8e308")
            }
            SketchError::Format(why) => write!(f, "not a serialized QuantileSketch: {why}"),
        }
    }
}

impl std::error::Error for SketchError {}

/// Values per compensated partial sum in `add_all` (= `QUANTILE_STAGING` in
/// lib/quantile/quantile.ts).
pub const SUM_RUN: usize = 1024;

pub const MAX_BINS_LIMIT: u64 = 1 << 24;

/// Whether `a` is an accepted relative accuracy: in [[`MIN_RELATIVE_ACCURACY`], 1), so that
/// every finite double has a bucket (NaN is not).
pub fn relative_accuracy_ok(a: f64) -> bool {
    (MIN_RELATIVE_ACCURACY..1.0).contains(&a)
}

impl QuantileSketch {
    /// A sketch of relative accuracy α in [[`MIN_RELATIVE_ACCURACY`], 1) and at most `max_bins`
    /// buckets per sign; anything else is an error.
    pub fn new(relative_accuracy: f64, max_bins: u64) -> Result<QuantileSketch, SketchError> {
        if !relative_accuracy_ok(relative_accuracy) {
            return Err(SketchError::Accuracy(relative_accuracy));
        }
        if !(1..=MAX_BINS_LIMIT).contains(&max_bins) {
            return Err(SketchError::MaxBins(max_bins));
        }
        Ok(QuantileSketch {
            mapping: Mapping::new(relative_accuracy),
            positive: Store::new(max_bins as usize),
            negative: Store::new(max_bins as usize),
            zero_count: 0.0,
            count: 0.0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        })
    }

    /// Adds `v` with weight `w` (both checked first; nothing changes on error). A weight that
    /// would take `count` past f64::MAX is an error; `sum` may overflow to ±Infinity (or NaN once
    /// it overflowed both ways), which serializes and deserializes as it is.
    pub fn add(&mut self, v: f64, w: f64) -> Result<(), SketchError> {
        if !v.is_finite() {
            return Err(SketchError::Value(v));
        }
        if !(w.is_finite() && w > 0.0) {
            return Err(SketchError::Weight(w));
        }
        if !(self.count + w).is_finite() {
            return Err(SketchError::CountOverflow);
        }
        self.add_unchecked(v, w);
        Ok(())
    }

    /// Adds finite values with weight 1; checks them all before adding any.
    ///
    /// Works in chunks of 256: first every bucket index (SIMD where the CPU has it, the same
    /// bits as scalar), then the bucket counts in input order (the same counts as adding the
    /// values one by one). `sum` grows by the compensated sum (the `sum` kernel: more accurate
    /// than adding one by one) of each run of [`SUM_RUN`] values, the staging size of the JS
    /// API, so staged adds and one batch give the same bits; min/max follow `Math.min`/`Math.max`
    /// (-0 is below +0). The JS port does the same and gets the same bits.
    pub fn add_all(&mut self, xs: &[f64]) -> Result<(), SketchError> {
        if xs.is_empty() {
            return Ok(());
        }
        // The min/max kernel doubles as the check: NaN anywhere makes both NaN, an infinity
        // shows as the min or the max. Only then look for the culprit.
        let k = kernels::selected();
        let extremes = k.min_max(xs);
        if !(extremes.min.is_finite() && extremes.max.is_finite()) {
            let i = xs.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(SketchError::ValueAt(i, xs[i]));
        }
        for run in xs.chunks(SUM_RUN) {
            let extremes = if run.len() == xs.len() {
                extremes
            } else {
                k.min_max(run)
            };
            self.add_finite_run(run, extremes, k.sum(run));
        }
        Ok(())
    }

    /// The step [`add_all`](Self::add_all) takes per run of at most [`SUM_RUN`] values, for
    /// callers that already have the run's extremes and compensated sum from the kernels (the
    /// metrics store shares them with its own rows). The values must be finite.
    pub fn add_finite_run(&mut self, run: &[f64], extremes: MinMax, sum: f64) {
        assert!(run.len() <= SUM_RUN, "a run is at most SUM_RUN values");
        debug_assert!(run.iter().all(|v| v.is_finite()));
        const CHUNK: usize = 256;
        let mut idx = [0i32; CHUNK];
        let k = kernels::selected();
        let floor = self.mapping.min_indexable;
        let floor_idx = self.mapping.index(floor);
        for chunk in run.chunks(CHUNK) {
            // Magnitudes below min_indexable are counted as zero below; they get any index.
            self.mapping.index_many(k, chunk, floor, &mut idx);
            let idx = &idx[..chunk.len()];
            // Fast path: no value on the other side of zero, and the buckets of the rest fit the
            // store's window once widened. Widening first ends in the same window and counts as
            // adding one by one (no add in between would have collapsed), so the loop is a bare
            // add. Magnitudes below the floor count as zero either way.
            let side = if extremes.min >= 0.0 {
                Some(&mut self.positive)
            } else if extremes.max <= 0.0 {
                Some(&mut self.negative)
            } else {
                None
            };
            if let Some(zeros) =
                side.and_then(|store| add_one_sided(store, chunk, idx, floor, floor_idx))
            {
                self.zero_count += zeros as f64;
                self.count += chunk.len() as f64;
                continue;
            }
            let mut zeros = 0u32;
            for (&v, &i) in chunk.iter().zip(idx.iter()) {
                if v.abs() < floor {
                    zeros += 1;
                } else if v > 0.0 {
                    self.positive.add(i, 1.0);
                } else {
                    self.negative.add(i, 1.0);
                }
            }
            self.zero_count += zeros as f64;
            // Integer counts below 2^53: adding the chunk length at once equals adding 1s one by one.
            self.count += chunk.len() as f64;
        }
        // Whole-run stats from the summary kernels (SIMD, the same bits on every backend): the
        // run's compensated sum, and min/max with JavaScript's Math.min/max semantics.
        self.sum += sum;
        self.min = js_min(self.min, extremes.min);
        self.max = js_max(self.max, extremes.max);
    }

    fn add_unchecked(&mut self, v: f64, w: f64) {
        let a = v.abs();
        if a < self.mapping.min_indexable {
            self.zero_count += w;
        } else if v > 0.0 {
            self.positive.add(self.mapping.index(a), w);
        } else {
            self.negative.add(self.mapping.index(a), w);
        }
        self.count += w;
        self.sum += v * w;
        self.min = js_min(self.min, v);
        self.max = js_max(self.max, v);
    }

    /// The value at quantile `q` in [0, 1], clamped to the exact min and max (q = 0 and q = 1
    /// return them); NaN when empty.
    pub fn quantile(&self, q: f64) -> Result<f64, SketchError> {
        if !(0.0..=1.0).contains(&q) {
            return Err(SketchError::Quantile(q));
        }
        if self.count == 0.0 {
            return Ok(f64::NAN);
        }
        // The extremes are tracked exactly.
        if q == 0.0 {
            return Ok(self.min);
        }
        if q == 1.0 {
            return Ok(self.max);
        }
        let rank = q * (self.count - 1.0);
        let neg = self.negative.total();
        let v = if rank < neg {
            // Negative values: the element at sorted position floor(rank) is the one at position
            // neg - 1 - floor(rank) counting magnitudes upward.
            -self
                .mapping
                .value(self.negative.key_at_rank(neg - 1.0 - rank.floor()))
        } else if rank < neg + self.zero_count {
            0.0
        } else {
            self.mapping
                .value(self.positive.key_at_rank(rank - self.zero_count - neg))
        };
        // Clamp with plain comparisons (f64::max/min leave the sign of equal zeros unspecified).
        let v = if v < self.min { self.min } else { v };
        Ok(if v > self.max { self.max } else { v })
    }

    /// Estimated fraction of the values that are <= v (bucket representatives compared with v),
    /// in [0, 1]; NaN when empty.
    pub fn rank(&self, v: f64) -> f64 {
        if self.count == 0.0 {
            return f64::NAN;
        }
        let mut below = 0.0;
        for (k, c) in self.negative.counts.iter().enumerate() {
            if -self
                .mapping
                .value((self.negative.offset as i64 + k as i64) as i32)
                <= v
            {
                below += *c;
            }
        }
        if 0.0 <= v {
            below += self.zero_count;
        }
        for (k, c) in self.positive.counts.iter().enumerate() {
            if self
                .mapping
                .value((self.positive.offset as i64 + k as i64) as i32)
                <= v
            {
                below += *c;
            }
        }
        // At most 1: `count` sums the weights in the order they came, the bins group them, so
        // the two can differ in the last bits (and a decoded count within the tolerance).
        (below / self.count).min(1.0)
    }

    /// Folds `other` in; both must have the same relative accuracy, and the merged `count` must
    /// stay finite (else an error, and nothing changes).
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<(), SketchError> {
        if self.mapping.relative_accuracy != other.mapping.relative_accuracy {
            return Err(SketchError::MismatchedAccuracy(
                self.mapping.relative_accuracy,
                other.mapping.relative_accuracy,
            ));
        }
        if !(self.count + other.count).is_finite() {
            return Err(SketchError::CountOverflow);
        }
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
        self.zero_count += other.zero_count;
        self.count += other.count;
        self.sum += other.sum;
        self.min = js_min(self.min, other.min);
        self.max = js_max(self.max, other.max);
        Ok(())
    }

    pub fn clear(&mut self) {
        let fresh = QuantileSketch::new(
            self.mapping.relative_accuracy,
            self.positive.max_bins as u64,
        )
        .expect("valid parameters");
        *self = fresh;
    }

    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            72 + 8 * (self.positive.counts.len() + self.negative.counts.len()) + 16,
        );
        out.extend_from_slice(b"HSQS\x01\0\0\0");
        out.extend_from_slice(&self.mapping.relative_accuracy.to_le_bytes());
        out.extend_from_slice(&(self.positive.max_bins as u32).to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        // NaN (a sum that overflowed both ways) is written as the one canonical quiet NaN.
        let sum = if self.sum.is_nan() {
            f64::NAN
        } else {
            self.sum
        };
        for v in [self.count, sum, self.min, self.max, self.zero_count] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for s in [&self.positive, &self.negative] {
            out.extend_from_slice(&s.offset.to_le_bytes());
            out.extend_from_slice(&(s.counts.len() as u32).to_le_bytes());
            for c in &s.counts {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        out
    }

    pub fn deserialize(bytes: &[u8]) -> Result<QuantileSketch, SketchError> {
        let bad = |why: String| SketchError::Format(why);
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], SketchError> {
            let s = bytes
                .get(at..at + n)
                .ok_or_else(|| SketchError::Format(format!("truncated at byte {at}")))?;
            at += n;
            Ok(s)
        };
        let head = take(8)?;
        if &head[..4] != b"HSQS" {
            return Err(bad("bad magic".into()));
        }
        if head[4] != 1 {
            return Err(bad(format!("unsupported version {}", head[4])));
        }
        if head[5..8] != [0, 0, 0] {
            return Err(bad("reserved bytes must be zero".into()));
        }
        let f = |b: &[u8]| f64::from_le_bytes(b.try_into().expect("8 bytes"));
        let alpha = f(take(8)?);
        let max_bins = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as u64;
        if take(4)? != [0, 0, 0, 0] {
            return Err(bad("reserved bytes must be zero".into()));
        }
        let mut sk = QuantileSketch::new(alpha, max_bins).map_err(|e| bad(e.to_string()))?;
        sk.count = f(take(8)?);
        sk.sum = f(take(8)?);
        sk.min = f(take(8)?);
        sk.max = f(take(8)?);
        sk.zero_count = f(take(8)?);
        for neg in [false, true] {
            let offset = i32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
            let len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as u64;
            if len > max_bins {
                return Err(bad(format!(
                    "store of {len} bins exceeds maxBins {max_bins}"
                )));
            }
            if (offset as i64) + (len as i64) > i32::MAX as i64 {
                return Err(bad("store indices overflow".into()));
            }
            if len == 0 && offset != 0 {
                // As `Store::new` leaves it: one encoding per state.
                return Err(bad(format!("an empty store has offset 0, got {offset}")));
            }
            // The bytes first: a short input claiming 2^24 bins allocates nothing.
            let raw = take(8 * len as usize)?;
            let mut counts = Vec::with_capacity(len as usize);
            for b in raw.chunks_exact(8) {
                let c = f(b);
                if !(c.is_finite() && c >= 0.0) {
                    return Err(bad(format!("bin count {c} is not finite and >= 0")));
                }
                counts.push(c);
            }
            let store = if neg {
                &mut sk.negative
            } else {
                &mut sk.positive
            };
            store.offset = offset;
            store.counts = counts;
        }
        if at != bytes.len() {
            return Err(bad(format!("trailing bytes from byte {at}")));
        }
        if !(sk.zero_count.is_finite() && sk.zero_count >= 0.0) {
            return Err(bad(format!(
                "zero count {} is not finite and >= 0",
                sk.zero_count
            )));
        }
        let expected = sk.zero_count + sk.positive.total() + sk.negative.total();
        if !(expected.is_finite()
            && sk.count.is_finite()
            && (sk.count - expected).abs() <= 1e-9 * expected)
        {
            return Err(bad(format!(
                "count {} does not match the bins ({expected})",
                sk.count
            )));
        }
        if sk.sum.is_nan() && sk.sum.to_bits() != f64::NAN.to_bits() {
            return Err(bad(format!(
                "sum is a NaN other than the canonical one (bits {:#018x})",
                sk.sum.to_bits()
            )));
        }
        if sk.count > 0.0 && !(sk.min.is_finite() && sk.max.is_finite() && sk.min <= sk.max) {
            return Err(bad("min/max are not finite and ordered".into()));
        }
        // An empty sketch has one state (as `new` makes it): no bins, zero sum, min = +Infinity,
        // max = -Infinity. Anything else would leak into the next add or merge.
        if sk.count == 0.0
            && (sk.min != f64::INFINITY
                || sk.max != f64::NEG_INFINITY
                || sk.sum.to_bits() != 0
                || !sk.positive.counts.is_empty()
                || !sk.negative.counts.is_empty())
        {
            return Err(bad(
                "an empty sketch must have no bins, sum 0, min = +Infinity and max = -Infinity"
                    .into(),
            ));
        }
        Ok(sk)
    }
}

/// Adds a chunk with no value on the other side of zero from `store`'s (`idx` its bucket
/// indices, `floor_idx` the bucket of `floor`) if the buckets fit the store's window once
/// widened; returns how many magnitudes were below `floor` (zeros, for the caller to count),
/// or None with nothing changed.
fn add_one_sided(
    store: &mut Store,
    chunk: &[f64],
    idx: &[i32],
    floor: f64,
    floor_idx: i32,
) -> Option<u32> {
    let mut lo = idx.iter().copied().min()?;
    let mut hi = idx.iter().copied().max()?;
    if lo > floor_idx {
        // No zeros (their index is floor_idx): a bare add per value.
        let counts = store.widen_to(lo, hi)?;
        for &i in idx {
            counts[(i - lo) as usize] += 1.0;
        }
        return Some(0);
    }
    (lo, hi) = (i32::MAX, i32::MIN);
    for (&v, &i) in chunk.iter().zip(idx) {
        if v.abs() >= floor {
            (lo, hi) = (lo.min(i), hi.max(i));
        }
    }
    if lo > hi {
        return Some(chunk.len() as u32);
    }
    let counts = store.widen_to(lo, hi)?;
    let mut zeros = 0u32;
    for (&v, &i) in chunk.iter().zip(idx) {
        if v.abs() < floor {
            zeros += 1;
        } else {
            counts[(i - lo) as usize] += 1.0;
        }
    }
    Some(zeros)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform draws in (0, 1) from a fixed-seed LCG.
    fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
    }

    fn check_quantiles(xs: &mut [f64], sk: &QuantileSketch, alpha: f64) {
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for q in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0] {
            let truth = xs[(q * (xs.len() - 1) as f64).floor() as usize];
            let got = sk.quantile(q).unwrap();
            assert!(
                (got - truth).abs() <= alpha * truth.abs() * (1.0 + 1e-12),
                "q={q}: {got} vs {truth}"
            );
        }
    }

    #[test]
    fn relative_error_on_heavy_tails_negatives_and_zeros() {
        let mut u = uniform(11);
        let mut xs: Vec<f64> = Vec::new();
        for i in 0..50_000 {
            let v = match i % 5 {
                0 => (3.0 * (u() - 0.5) * 4.0).exp(), // lognormal-ish
                1 => 1.0 / u().powf(1.0 / 1.5),       // Pareto(1.5)
                2 => -(u() * 1e3),                    // negatives
                3 => 0.0,                             // zeros
                _ => 10f64.powf(-9.0 + 21.0 * u()),   // 1e-9 .. 1e12
            };
            xs.push(v);
        }
        let mut sk = QuantileSketch::new(0.01, 2048).unwrap();
        sk.add_all(&xs).unwrap();
        check_quantiles(&mut xs, &sk, 0.01);
        // Merge of halves equals the whole (same bins, counts are integers).
        let mut a = QuantileSketch::new(0.01, 2048).unwrap();
        let mut b = QuantileSketch::new(0.01, 2048).unwrap();
        a.add_all(&xs[..20_000]).unwrap();
        b.add_all(&xs[20_000..]).unwrap();
        a.merge(&b).unwrap();
        for q in [0.0, 0.3, 0.5, 0.99, 1.0] {
            assert_eq!(a.quantile(q).unwrap(), sk.quantile(q).unwrap());
        }
        let bytes = sk.serialize();
        assert_eq!(QuantileSketch::deserialize(&bytes).unwrap(), sk);
        for cut in [0, 7, 8, 20, bytes.len() - 1] {
            assert!(QuantileSketch::deserialize(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn collapsing_loses_only_the_low_end() {
        let mut sk = QuantileSketch::new(0.01, 64).unwrap();
        let xs: Vec<f64> = (0..2000).map(|i| 1.01f64.powi(i)).collect();
        sk.add_all(&xs).unwrap();
        assert!(sk.positive.counts.len() <= 64);
        let mut sorted = xs.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        // High quantiles stay accurate.
        for q in [0.99, 0.999, 1.0] {
            let truth = sorted[(q * 1999.0) as usize];
            let got = sk.quantile(q).unwrap();
            assert!((got - truth).abs() <= 0.01 * truth * 1.000001, "q={q}");
        }
    }

    /// Bulk adds (whose one-sided chunks widen the store once, then add) give the same bins,
    /// counts and extremes as adding one value at a time, through widening up and down and
    /// through collapsing.
    #[test]
    fn bulk_adds_bin_like_one_by_one() {
        let mut u = uniform(5);
        let mut cases: Vec<(usize, Vec<f64>)> = Vec::new();
        for max_bins in [16, 64, 2048] {
            // Positive runs that drift upward, then downward, then jump; negatives; mixed.
            let up: Vec<f64> = (0..3000).map(|i| (1.0 + u()) * 1.002f64.powi(i)).collect();
            let down: Vec<f64> = (0..3000).map(|i| (1.0 + u()) * 0.998f64.powi(i)).collect();
            let jumps: Vec<f64> = (0..3000)
                .map(|i| 10f64.powi((i / 500) * 3 - 6) * (1.0 + u()))
                .collect();
            // Narrow chunks (about 20 buckets) whose union keeps growing: collapses at 16 and 64.
            let narrow: Vec<f64> = (0..6000)
                .map(|i| (1.0 + 0.3 * u()) * 1.0005f64.powi(i))
                .collect();
            let neg: Vec<f64> = up.iter().chain(&down).map(|v| -v).collect();
            // One-sided with zeros (and -0, and a whole chunk of them) in between.
            let mut zeros: Vec<f64> = up
                .iter()
                .enumerate()
                .map(|(i, v)| if i % 97 == 0 { 0.0 } else { *v })
                .collect();
            zeros.extend(std::iter::repeat_n(0.0, 800));
            zeros.extend(
                neg.iter()
                    .enumerate()
                    .map(|(i, v)| if i % 89 == 0 { -0.0 } else { *v }),
            );
            let mixed: Vec<f64> = (0..3000)
                .map(|i| match i % 3 {
                    0 => u() * 50.0,
                    1 => -u() * 50.0,
                    _ => 0.0,
                })
                .collect();
            for xs in [up, down, jumps, narrow, neg, zeros, mixed] {
                cases.push((max_bins, xs));
            }
        }
        for (max_bins, xs) in cases {
            let mut bulk = QuantileSketch::new(0.01, max_bins as u64).unwrap();
            let mut one = QuantileSketch::new(0.01, max_bins as u64).unwrap();
            for part in xs.chunks(700) {
                bulk.add_all(part).unwrap();
            }
            for &v in &xs {
                one.add(v, 1.0).unwrap();
            }
            assert_eq!(bulk.positive, one.positive, "max_bins {max_bins}");
            assert_eq!(bulk.negative, one.negative, "max_bins {max_bins}");
            assert_eq!(bulk.zero_count, one.zero_count);
            assert_eq!(bulk.count, one.count);
            assert_eq!((bulk.min, bulk.max), (one.min, one.max));
        }
    }

    /// Issue 19: at α = 1e-8 the index of 1e300 left i32 and the sketch answered p75 ≈ 2.95e18
    /// for [1e300, 1e-300, 5, 1e200, 3e250]. Accuracies below MIN_RELATIVE_ACCURACY are refused
    /// (constructor and decoder); at the bound the answer is right.
    #[test]
    fn accuracy_below_the_indexable_bound_is_refused() {
        for a in [1e-8, 9.99e-7, 0.0, -0.01, 1.0, f64::NAN] {
            match QuantileSketch::new(a, 2048) {
                Err(SketchError::Accuracy(got)) => assert_eq!(got.to_bits(), a.to_bits()),
                other => panic!("{a}: {other:?}"),
            }
            let mut bytes = QuantileSketch::new(0.01, 16).unwrap().serialize();
            bytes[8..16].copy_from_slice(&a.to_le_bytes());
            assert!(QuantileSketch::deserialize(&bytes).is_err(), "{a}");
        }
        assert!(SketchError::Accuracy(1e-8)
            .to_string()
            .contains("[1e-6, 1)"));
        // At the bound, the extremes of the double range each get their own bucket within α
        // (one value per store: nothing collapses), in bulk and one by one alike.
        let m = QuantileSketch::new(MIN_RELATIVE_ACCURACY, 2048)
            .unwrap()
            .mapping;
        for x in [
            f64::MAX,
            1e300,
            3e250,
            5.0,
            1e-300,
            m.min_indexable * 1.5,
            -f64::MAX,
            -1e-300,
        ] {
            let mut bulk = QuantileSketch::new(MIN_RELATIVE_ACCURACY, 2048).unwrap();
            bulk.add_all(&[x; 300]).unwrap();
            let mut one = QuantileSketch::new(MIN_RELATIVE_ACCURACY, 2048).unwrap();
            one.add(x, 300.0).unwrap();
            assert_eq!(
                (&bulk.positive, &bulk.negative),
                (&one.positive, &one.negative)
            );
            let rep = m.value(m.index(x.abs())).copysign(x);
            assert!(
                (rep - x).abs() <= MIN_RELATIVE_ACCURACY * x.abs() * (1.0 + 1e-9),
                "{x:e}: bucket representative {rep:e}"
            );
            assert_eq!(
                bulk.quantile(0.5).unwrap(),
                x,
                "clamped to the exact min = max"
            );
            // Whatever the sum (f64::MAX x 300 overflows it), what serializes deserializes.
            let bytes = bulk.serialize();
            assert_eq!(
                QuantileSketch::deserialize(&bytes).unwrap().serialize(),
                bytes
            );
        }
        // The issue's input: bulk and one-by-one agree (the wide range collapses, as documented).
        let xs = [1e300, 1e-300, 5.0, 1e200, 3e250];
        let mut bulk = QuantileSketch::new(MIN_RELATIVE_ACCURACY, 2048).unwrap();
        bulk.add_all(&xs).unwrap();
        let mut one = QuantileSketch::new(MIN_RELATIVE_ACCURACY, 2048).unwrap();
        for v in xs {
            one.add(v, 1.0).unwrap();
        }
        assert_eq!(bulk.positive, one.positive);
        assert!(
            bulk.positive.offset > 0,
            "indices near 1e300 stay positive (no wrap)"
        );
    }

    /// Issue 19: a sketch whose sum overflowed serialized but did not deserialize ("count 2 does
    /// not match the bins (2)"). The sum may be ±Infinity or NaN (one NaN encoding); the count
    /// cannot overflow (refused at the add or merge, nothing changed).
    #[test]
    fn overflowed_sums_round_trip_and_count_overflow_is_refused() {
        let mut up = QuantileSketch::new(0.01, 64).unwrap();
        up.add_all(&[1e308, 1e308]).unwrap();
        assert_eq!(up.sum, f64::INFINITY);
        let mut down = QuantileSketch::new(0.01, 64).unwrap();
        down.add(-1e308, 3.0).unwrap();
        assert_eq!(down.sum, f64::NEG_INFINITY);
        let mut both = up.clone();
        both.merge(&down).unwrap();
        assert!(both.sum.is_nan());
        for sk in [&up, &down, &both] {
            let bytes = sk.serialize();
            let back = QuantileSketch::deserialize(&bytes).expect("what serializes deserializes");
            assert_eq!(back.serialize(), bytes);
            assert_eq!(
                back.sum.to_bits(),
                sk.serialize()[32..40]
                    .try_into()
                    .map(u64::from_le_bytes)
                    .unwrap()
            );
            assert_eq!(back.quantile(1.0).unwrap(), sk.max);
        }
        // NaN is written canonically, and only the canonical NaN decodes.
        let mut weird = both.clone();
        weird.sum = f64::from_bits(0xfff8_0000_0000_0001);
        let bytes = weird.serialize();
        assert_eq!(&bytes[32..40], &f64::NAN.to_le_bytes());
        let mut bad = bytes.clone();
        bad[32..40].copy_from_slice(&0xfff8_0000_0000_0000u64.to_le_bytes());
        assert!(QuantileSketch::deserialize(&bad).is_err());
        // Count overflow: refused, nothing changed.
        let mut heavy = QuantileSketch::new(0.01, 64).unwrap();
        heavy.add(1.0, 1e308).unwrap();
        let before = heavy.serialize();
        assert_eq!(heavy.add(2.0, 1e308), Err(SketchError::CountOverflow));
        let other = heavy.clone();
        assert_eq!(heavy.merge(&other), Err(SketchError::CountOverflow));
        assert_eq!(heavy.serialize(), before);
    }

    /// The fuzzer's input: count 9 and bins adding up to a little more (within the decoder's
    /// tolerance) made rank(max) 1.0000000000000024. Weighted adds can do the same.
    #[test]
    fn rank_is_at_most_one() {
        let mut sk = QuantileSketch::new(0.01, 64).unwrap();
        for (v, w) in [(1.0, 0.1), (2.0, 0.2), (3.0, 0.3), (1.0, 0.7)] {
            sk.add(v, w).unwrap();
        }
        let mut bytes = sk.serialize();
        let count = sk.count * (1.0 - 4e-10);
        bytes[24..32].copy_from_slice(&count.to_le_bytes());
        let sk = QuantileSketch::deserialize(&bytes).unwrap();
        assert_eq!(sk.rank(f64::INFINITY), 1.0);
        assert_eq!(sk.rank(1e9), 1.0);
    }

    /// An empty sketch has one encoding; a short input claiming many bins is refused before any
    /// allocation of their size.
    #[test]
    fn empty_sketch_has_one_encoding() {
        let empty = QuantileSketch::new(0.01, 1 << 24).unwrap().serialize();
        assert!(QuantileSketch::deserialize(&empty).is_ok());
        let mut sum = empty.clone();
        sum[32..40].copy_from_slice(&5.0f64.to_le_bytes());
        assert!(QuantileSketch::deserialize(&sum).is_err());
        let mut offset = empty.clone();
        offset[64..68].copy_from_slice(&7i32.to_le_bytes());
        assert!(QuantileSketch::deserialize(&offset).is_err());
        let mut huge = empty.clone();
        huge[68..72].copy_from_slice(&(1u32 << 24).to_le_bytes());
        assert!(matches!(
            QuantileSketch::deserialize(&huge),
            Err(SketchError::Format(why)) if why.contains("truncated")
        ));
    }

    #[test]
    fn bad_input() {
        assert!(QuantileSketch::new(0.0, 10).is_err());
        assert!(QuantileSketch::new(0.01, 0).is_err());
        let mut sk = QuantileSketch::new(0.01, 10).unwrap();
        assert!(sk.add(f64::NAN, 1.0).is_err());
        assert!(sk.add(1.0, -1.0).is_err());
        assert!(sk.add_all(&[1.0, f64::INFINITY]).is_err());
        assert_eq!(sk.count, 0.0);
        assert!(sk.quantile(1.5).is_err());
        assert!(sk.quantile(0.5).unwrap().is_nan());
        let other = QuantileSketch::new(0.02, 10).unwrap();
        assert!(sk.merge(&other).is_err());
    }
}
