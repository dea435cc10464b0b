//! The most recent N values in a ring, summarized with the kernels on demand.

use crate::kernels::{selected, Summary};

pub struct SampleRing {
    values: Vec<f64>,
    capacity: usize,
    /// Where the next value goes once the ring is full (the oldest value's slot).
    next: usize,
    /// Values ever pushed.
    pushed: u64,
}

impl SampleRing {
    /// A ring of `capacity` (>= 1) values; None for 0.
    pub fn new(capacity: usize) -> Option<SampleRing> {
        if capacity == 0 {
            return None;
        }
        Some(SampleRing {
            values: Vec::with_capacity(capacity.min(1 << 16)),
            capacity,
            next: 0,
            pushed: 0,
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Values pushed since creation (kept or not).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Keeps `x`, dropping the oldest value when full. Any f64 is kept (NaN included: the
    /// summary then follows the kernels' NaN rules).
    pub fn push(&mut self, x: f64) {
        if self.values.len() < self.capacity {
            self.values.push(x);
        } else {
            self.values[self.next] = x;
            self.next = (self.next + 1) % self.capacity;
        }
        self.pushed += 1;
    }

    /// Pushes every value of `xs` in order; only the last `capacity` matter.
    pub fn push_all(&mut self, xs: &[f64]) {
        let skip = xs.len().saturating_sub(self.capacity);
        self.pushed += skip as u64;
        for &x in &xs[skip..] {
            self.push(x);
        }
    }

    /// The kept values, oldest first.
    pub fn values(&self) -> Vec<f64> {
        if self.values.len() < self.capacity {
            return self.values.clone();
        }
        let mut out = Vec::with_capacity(self.capacity);
        out.extend_from_slice(&self.values[self.next..]);
        out.extend_from_slice(&self.values[..self.next]);
        out
    }

    /// count, sum, mean, min, max and variance (with `ddof`) of the kept values, by the
    /// bit-reproducible kernels (the order does not matter to them beyond the lane split, so
    /// the summary is taken over the values oldest first).
    pub fn summarize(&self, ddof: f64) -> Summary {
        selected().summarize(&self.values(), ddof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n_in_order_across_wrap_around() {
        let mut r = SampleRing::new(4).unwrap();
        assert!(SampleRing::new(0).is_none());
        for i in 0..10usize {
            r.push(i as f64);
            let want: Vec<f64> = ((i + 1).saturating_sub(4)..=i).map(|v| v as f64).collect();
            assert_eq!(r.values(), want);
        }
        r.push_all(&[100.0, 101.0, 102.0, 103.0, 104.0, 105.0]);
        assert_eq!(r.values(), vec![102.0, 103.0, 104.0, 105.0]);
        assert_eq!(r.pushed(), 16);
        let s = r.summarize(1.0);
        assert_eq!((s.count, s.sum, s.min, s.max), (4.0, 414.0, 102.0, 105.0));
    }
}
