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
    pub total: f64,
}

impl Store {
    pub fn new(max_bins: usize) -> Store {
        Store {
            offset: 0,
            counts: Vec::new(),
            max_bins: max_bins.max(1),
            total: 0.0,
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
            Some(self.offset + self.counts.len() as i32 - 1)
        }
    }

    /// Adds `w` to bucket `i`, widening or collapsing the window as needed.
    #[inline]
    pub fn add(&mut self, i: i32, w: f64) {
        self.total += w;
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
        let Some(top) = self.top() else {
            self.offset = i;
            self.counts.push(w);
            return;
        };
        if i > top {
            // Grow upward; collapse the lowest buckets if the window gets too wide.
            let new_len = (i - self.offset) as usize + 1;
            if new_len > self.max_bins {
                let new_offset = i - self.max_bins as i32 + 1;
                self.collapse_below(new_offset);
            }
            let len = (i - self.offset) as usize + 1;
            self.counts.resize(len, 0.0);
            let k = (i - self.offset) as usize;
            self.counts[k] += w;
        } else if i >= self.offset {
            let k = (i - self.offset) as usize;
            self.counts[k] += w;
        } else {
            // Below the window: extend downward if room remains, else into the lowest bucket.
            let width = (top - i) as usize + 1;
            if width <= self.max_bins {
                let grow = (self.offset - i) as usize;
                let mut counts = vec![0.0; grow];
                counts.extend_from_slice(&self.counts);
                self.counts = counts;
                self.offset = i;
                self.counts[0] += w;
            } else {
                let new_offset = top - self.max_bins as i32 + 1;
                self.collapse_below(new_offset);
                self.counts[0] += w;
            }
        }
    }

    /// Folds every bucket below `new_offset` into bucket `new_offset` (lowest first).
    fn collapse_below(&mut self, new_offset: i32) {
        if new_offset <= self.offset {
            return;
        }
        let cut = ((new_offset - self.offset) as usize).min(self.counts.len());
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
                return self.offset + k as i32;
            }
        }
        self.top().unwrap_or(0)
    }

    /// Adds every bucket of `other` (same mapping), lowest first.
    pub fn merge(&mut self, other: &Store) {
        for (k, c) in other.counts.iter().enumerate() {
            if *c != 0.0 {
                self.add(other.offset + k as i32, *c);
            }
        }
    }
}
