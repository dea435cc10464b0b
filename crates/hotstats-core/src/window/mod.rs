//! Time-windowed statistics on rings of buckets ([`SlidingWindow`]) and the most recent N values
//! ([`sample_ring::SampleRing`]).
//!
//! A window of `window_ms` is split into `buckets` slots of `width = window_ms / buckets`. An
//! event at time t belongs to epoch ⌊t / width⌋ and goes to slot epoch mod buckets. A read at
//! time `now` covers the epochs (E − buckets, E] with E = ⌊now / width⌋: between
//! window − width and window of the past. Slots are not cleared by a timer: a slot whose
//! epoch is out of range is skipped by reads and reset by the next write that needs it, so an
//! idle key costs nothing.
//!
//! Exactness: count is an integer per bucket. Each bucket keeps its sum as a compensated
//! (Neumaier) pair, and a read adds the live pairs afresh, so nothing is ever subtracted when a
//! bucket expires: the window's sum has no drift, and min and max are those of the live
//! buckets. Mean and variance merge the buckets' Moments (Pébay). Quantiles merge the buckets'
//! QuantileSketches; uniques take the register-wise max of the buckets' HyperLogLogs.
//!
//! Time: the caller passes it (processing time: the clock at record; event time: each event's
//! timestamp). An event older than the watermark (the newest time seen) minus
//! `allowed_lateness_ms`, or whose slot already holds a newer epoch, is dropped and counted in
//! [`SlidingWindow::late`]. Processing time uses a lateness of one window, so a clock that
//! steps back a little loses nothing that is still in the window.

// `!(x > 0.0)` is deliberate: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod sample_ring;

use std::collections::HashMap;

use crate::hll;
use crate::moments::Moments;
use crate::quantile::QuantileSketch;

/// Bins per sign of each bucket's sketch (as the QuantileSketch default).
const MAX_BINS: u64 = 2048;
/// The most buckets per window.
pub const MAX_BUCKETS: usize = 3600;
/// The most keys per window.
pub const MAX_KEYS: usize = 1 << 20;

/// Why a window refused a call.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowError(pub String);

impl core::fmt::Display for WindowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WindowError {}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowOptions {
    pub window_ms: f64,
    pub buckets: usize,
    /// The buckets' QuantileSketch accuracy.
    pub relative_accuracy: f64,
    /// How far behind the watermark an event may be and still count.
    pub allowed_lateness_ms: f64,
}

impl WindowOptions {
    fn check(&self) -> Result<(), WindowError> {
        if !(self.window_ms > 0.0 && self.window_ms.is_finite()) {
            return Err(WindowError(format!(
                "windowMs must be a finite number > 0, got {}",
                self.window_ms
            )));
        }
        if !(1..=MAX_BUCKETS).contains(&self.buckets) {
            return Err(WindowError(format!(
                "buckets must be an integer from 1 to {MAX_BUCKETS}, got {}",
                self.buckets
            )));
        }
        if !(self.relative_accuracy > 0.0 && self.relative_accuracy < 1.0) {
            return Err(WindowError(format!(
                "relativeAccuracy must be in (0, 1), got {}",
                self.relative_accuracy
            )));
        }
        if !(self.allowed_lateness_ms >= 0.0) {
            return Err(WindowError(format!(
                "allowedLatenessMs must be >= 0, got {}",
                self.allowed_lateness_ms
            )));
        }
        Ok(())
    }
}

/// The statistics of one key over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowStats {
    pub count: u64,
    /// Exact up to one rounding of the compensated total; 0 when empty.
    pub sum: f64,
    /// NaN when empty.
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample variance (n − 1); NaN below 2 values.
    pub variance: f64,
    /// count / window seconds.
    pub rate: f64,
    /// Distinct `unique` elements (HyperLogLog estimate); 0 when none were given.
    pub uniques: u64,
}

#[derive(Clone)]
struct Bucket {
    epoch: i64,
    count: u64,
    sum: f64,
    compensation: f64,
    moments: Moments,
    sketch: QuantileSketch,
    registers: Option<Box<[u8; hll::REGISTERS]>>,
}

impl Bucket {
    fn reset(&mut self, epoch: i64) {
        self.epoch = epoch;
        self.count = 0;
        self.sum = 0.0;
        self.compensation = 0.0;
        self.moments = Moments::default();
        self.sketch.clear();
        if let Some(r) = self.registers.as_mut() {
            r.fill(0);
        }
    }
}

/// Neumaier's step: adds `x` to the pair (s, c).
#[inline]
fn neumaier(s: &mut f64, c: &mut f64, x: f64) {
    let t = *s + x;
    *c += if s.abs() >= x.abs() {
        (*s - t) + x
    } else {
        (x - t) + *s
    };
    *s = t;
}

pub struct SlidingWindow {
    opts: WindowOptions,
    width_ms: f64,
    names: Vec<String>,
    ids: HashMap<String, u32>,
    rings: Vec<Vec<Bucket>>,
    watermark: f64,
    late: u64,
    empty: Bucket,
}

impl SlidingWindow {
    pub fn new(opts: WindowOptions) -> Result<SlidingWindow, WindowError> {
        opts.check()?;
        let sketch = QuantileSketch::new(opts.relative_accuracy, MAX_BINS)
            .map_err(|e| WindowError(e.to_string()))?;
        Ok(SlidingWindow {
            opts,
            width_ms: opts.window_ms / opts.buckets as f64,
            names: Vec::new(),
            ids: HashMap::new(),
            rings: Vec::new(),
            watermark: f64::NEG_INFINITY,
            late: 0,
            empty: Bucket {
                epoch: i64::MIN,
                count: 0,
                sum: 0.0,
                compensation: 0.0,
                moments: Moments::default(),
                sketch,
                registers: None,
            },
        })
    }

    pub fn options(&self) -> WindowOptions {
        self.opts
    }

    /// The id of `key`, created on first use (at most [`MAX_KEYS`]).
    pub fn key_id(&mut self, key: &str) -> Result<u32, WindowError> {
        if let Some(&id) = self.ids.get(key) {
            return Ok(id);
        }
        if self.names.len() >= MAX_KEYS {
            return Err(WindowError(format!(
                "a window holds at most {MAX_KEYS} keys"
            )));
        }
        let id = self.names.len() as u32;
        self.names.push(key.to_string());
        self.ids.insert(key.to_string(), id);
        self.rings.push(Vec::new());
        Ok(id)
    }

    /// Keys in creation order.
    pub fn keys(&self) -> &[String] {
        &self.names
    }

    /// Events dropped for arriving too late.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// The newest time seen (−∞ before the first event).
    pub fn watermark(&self) -> f64 {
        self.watermark
    }

    fn epoch(&self, t: f64) -> i64 {
        (t / self.width_ms).floor() as i64
    }

    /// Records `value` for key `id` at time `t` (ms), with an optional HyperLogLog pattern
    /// (register index, value) from [`hll::pattern`]. Returns false if the event was too late
    /// (counted, nothing else changes). Errors (nothing changes): an unknown id, a non-finite
    /// value or time, a bad pattern.
    pub fn record(
        &mut self,
        id: u32,
        value: f64,
        t: f64,
        unique: Option<(usize, u8)>,
    ) -> Result<bool, WindowError> {
        let ring_index = id as usize;
        if ring_index >= self.rings.len() {
            return Err(WindowError(format!("unknown key id {id}")));
        }
        if !value.is_finite() {
            return Err(WindowError(format!("value must be finite, got {value}")));
        }
        if !t.is_finite() {
            return Err(WindowError(format!("time must be finite, got {t}")));
        }
        if let Some((i, v)) = unique {
            if i >= hll::REGISTERS || v == 0 || v > hll::MAX_VALUE {
                return Err(WindowError(format!("bad HyperLogLog pattern ({i}, {v})")));
            }
        }
        if t < self.watermark - self.opts.allowed_lateness_ms {
            self.late += 1;
            return Ok(false);
        }
        let epoch = self.epoch(t);
        let n = self.opts.buckets;
        let ring = &mut self.rings[ring_index];
        if ring.is_empty() {
            *ring = vec![self.empty.clone(); n];
        }
        let slot = &mut ring[epoch.rem_euclid(n as i64) as usize];
        if slot.epoch > epoch {
            self.late += 1;
            return Ok(false);
        }
        if slot.epoch < epoch {
            slot.reset(epoch);
        }
        slot.count += 1;
        neumaier(&mut slot.sum, &mut slot.compensation, value);
        slot.moments.add(value);
        // Finite values and weight 1: the sketch cannot refuse them.
        let _ = slot.sketch.add(value, 1.0);
        if let Some((i, v)) = unique {
            let regs = slot
                .registers
                .get_or_insert_with(|| Box::new([0u8; hll::REGISTERS]));
            if regs[i] < v {
                regs[i] = v;
            }
        }
        if t > self.watermark {
            self.watermark = t;
        }
        Ok(true)
    }

    /// The live buckets of key `id` at `now`.
    fn live(&self, id: u32, now: f64) -> impl Iterator<Item = &Bucket> {
        let e = self.epoch(now);
        let lo = e.saturating_sub(self.opts.buckets as i64);
        self.rings
            .get(id as usize)
            .into_iter()
            .flatten()
            .filter(move |b| b.epoch > lo && b.epoch <= e && b.count > 0)
    }

    /// The statistics of key `id` over the window ending at `now`. None for an unknown id.
    pub fn stats(&self, id: u32, now: f64) -> Option<WindowStats> {
        if id as usize >= self.rings.len() {
            return None;
        }
        let (mut count, mut s, mut c) = (0u64, 0.0, 0.0);
        let mut moments = Moments::default();
        let mut registers: Option<Box<[u8; hll::REGISTERS]>> = None;
        for b in self.live(id, now) {
            count += b.count;
            neumaier(&mut s, &mut c, b.sum);
            neumaier(&mut s, &mut c, b.compensation);
            moments.merge(&b.moments);
            if let Some(r) = &b.registers {
                let into = registers.get_or_insert_with(|| Box::new([0u8; hll::REGISTERS]));
                hll::merge(into, r);
            }
        }
        let sum = s + c;
        Some(WindowStats {
            count,
            sum,
            min: if count == 0 { f64::NAN } else { moments.min },
            max: if count == 0 { f64::NAN } else { moments.max },
            mean: if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            },
            variance: moments.variance(1.0),
            rate: count as f64 / (self.opts.window_ms / 1000.0),
            uniques: registers.map_or(0, |r| hll::estimate(&r)),
        })
    }

    /// The merged sketch of key `id` over the window ending at `now` (None for an unknown id).
    pub fn sketch(&self, id: u32, now: f64) -> Option<QuantileSketch> {
        if id as usize >= self.rings.len() {
            return None;
        }
        let mut out = self.empty.sketch.clone();
        for b in self.live(id, now) {
            // Same accuracy by construction: merge cannot fail.
            let _ = out.merge(&b.sketch);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
