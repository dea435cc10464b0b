//! Bucket counts with bounded memory: a dense window of at most `max_bins` consecutive bucket
//! indices. When a new index would widen the window past `max_bins`, the lowest buckets are
//! collapsed into the lowest bucket that stays ("collapsing lowest"): memory stays bounded and
//! the high end (large magnitudes, the tail a latency monitor cares about) stays exact, while
//! the smallest magnitudes lose accuracy.
//!
//! Counts are f64 weights added in input order, so every backend sums them identically.

#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Index of `counts[0]`.
    pub offset: i32,
    pub counts: Vec<f64>,
    pub max_bins: usize,
}

impl Store {
    pub fn new(max_bins: usize) -> Store {
        Store {
            offset: 0,
            counts: Vec::new(),
            max_bins: max_bins.max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Highest index present (the window's top), if any.
    fn top(&self) -> Option<i32> {
        if self.counts.is_empty() {
            None
        } else {
            // offset + len - 1 <= i32::MAX: deserialization checks it, and growth never passes
            // an index that was itself an i32.
            Some((self.offset as i64 + self.counts.len() as i64 - 1) as i32)
        }
    }

    /// Adds `w` to bucket `i`, widening or collapsing the window as needed.
    /// Sum of the bucket counts, lowest bucket first (computed on demand: keeping a running
    /// total would add a dependent addition to every update).
    pub fn total(&self) -> f64 {
        let mut t = 0.0;
        for c in &self.counts {
            t += *c;
        }
        t
    }

    #[inline]
    pub fn add(&mut self, i: i32, w: f64) {
        // Fast path: inside the current window.
        let k = i.wrapping_sub(self.offset) as u32 as usize;
        if k < self.counts.len() {
            self.counts[k] += w;
            return;
        }
        self.add_outside(i, w);
    }

    #[cold]
    fn add_outside(&mut self, i: i32, w: f64) {
        // i64 arithmetic: offsets and indices may be anywhere in i32 (deserialized, merged).
        let max_bins = self.max_bins as i64;
        let (i, offset) = (i as i64, self.offset as i64);
        let Some(top) = self.top() else {
            self.offset = i as i32;
            self.counts.push(w);
            return;
        };
        let top = top as i64;
        if i > top {
            // Grow upward; collapse the lowest buckets if the window gets too wide.
            if i - offset + 1 > max_bins {
                self.collapse_below((i - max_bins + 1) as i32);
            }
            let len = (i - self.offset as i64) as usize + 1;
            self.counts.resize(len, 0.0);
            self.counts[len - 1] += w;
        } else if i >= offset {
            self.counts[(i - offset) as usize] += w;
        } else if top - i < max_bins {
            // Below the window with room left: extend downward.
            let grow = (offset - i) as usize;
            let mut counts = vec![0.0; grow];
            counts.extend_from_slice(&self.counts);
            self.counts = counts;
            self.offset = i as i32;
            self.counts[0] += w;
        } else {
            // Below a full window: into the lowest bucket that stays.
            self.collapse_below((top - max_bins + 1) as i32);
            self.counts[0] += w;
        }
    }

    /// Widens the window to cover indices `lo..=hi` if it can without collapsing (at most
    /// `max_bins` wide in all); returns the counts of `lo..=hi`, or None (and no change).
    pub fn widen_to(&mut self, lo: i32, hi: i32) -> Option<&mut [f64]> {
        let (lo, hi) = (lo as i64, hi as i64);
        let (new_lo, new_hi) = match self.top() {
            None => (lo, hi),
            Some(top) => (lo.min(self.offset as i64), hi.max(top as i64)),
        };
        if lo > hi || new_hi - new_lo + 1 > self.max_bins as i64 {
            return None;
        }
        if self.counts.is_empty() {
            self.offset = lo as i32;
        }
        let below = (self.offset as i64 - new_lo) as usize;
        if below > 0 {
            self.counts.splice(0..0, std::iter::repeat_n(0.0, below));
            self.offset = new_lo as i32;
        }
        self.counts.resize((new_hi - new_lo + 1) as usize, 0.0);
        let start = (lo - new_lo) as usize;
        Some(&mut self.counts[start..start + (hi - lo + 1) as usize])
    }

    /// Folds every bucket below `new_offset` into bucket `new_offset` (lowest first).
    fn collapse_below(&mut self, new_offset: i32) {
        if new_offset <= self.offset {
            return;
        }
        let cut = ((new_offset as i64 - self.offset as i64) as usize).min(self.counts.len());
        let mut folded = 0.0;
        for c in &self.counts[..cut] {
            folded += *c;
        }
        let mut rest: Vec<f64> = self.counts[cut..].to_vec();
        if rest.is_empty() {
            rest.push(0.0);
        }
        rest[0] += folded;
        self.counts = rest;
        self.offset = new_offset;
    }

    /// Bucket holding the element of 0-based rank `rank` (first bucket whose cumulative count
    /// exceeds `rank`), scanning upward; the top bucket if `rank` is past the end.
    pub fn key_at_rank(&self, rank: f64) -> i32 {
        let mut cum = 0.0;
        for (k, c) in self.counts.iter().enumerate() {
            cum += *c;
            if cum > rank {
                return (self.offset as i64 + k as i64) as i32;
            }
        }
        self.top().unwrap_or(0)
    }

    /// Adds every bucket of `other` (same mapping), lowest first.
    pub fn merge(&mut self, other: &Store) {
        for (k, c) in other.counts.iter().enumerate() {
            if *c != 0.0 {
                self.add((other.offset as i64 + k as i64) as i32, *c);
            }
        }
    }
}
