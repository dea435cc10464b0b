//! Time-windowed statistics on rings of buckets ([`SlidingWindow`]). (The most recent N values,
//! `SampleRing`, live in JS only: lib/window/sample-ring.ts summarizes them with the kernels.)
//!
//! A window of `window_ms` is split into `buckets` slots of `width = window_ms / buckets`. An
//! event at time t belongs to epoch ⌊t / width⌋ and goes to slot epoch mod buckets. A read at
//! time `now` covers the epochs (E − buckets, E] with E = ⌊now / width⌋: between
//! window − width and window of the past. Slots are not cleared by a timer: a slot whose
//! epoch is out of range is skipped by reads and reset by the next write that needs it. A
//! key's buckets are allocated when first written, and [`SlidingWindow::expire`] forgets the keys
//! whose newest event has left the window (their memory is freed and their id reused), so keys
//! that went quiet cost nothing once the caller sweeps. Unique elements go to a sparse register
//! list per bucket ([`hll::sparse::Registers`]) until it fills, so a few uniques per bucket
//! cost a few bytes, not a 16 KiB HyperLogLog.
//!
//! Exactness: count is an integer per bucket. Each bucket keeps its sum as a compensated
//! (Neumaier) pair, and a read adds the live pairs afresh, so nothing is ever subtracted when a
//! bucket expires: the window's sum has no drift, and min and max are those of the live
//! buckets. Each bucket keeps its mean and M2 (Welford per event; a run of events adds its
//! kernel mean and M2 by Chan's merge), and a read merges the live buckets' the same way for the
//! variance. Quantiles merge the buckets' QuantileSketches; uniques take the register-wise max of
//! the buckets' HyperLogLogs.
//!
//! [`SlidingWindow::record_run`] adds many values of one key at one time in one step (the
//! ingestor's path): the run's count, compensated sum, min/max and M2 come from the SIMD kernels
//! and its sketch indices from `add_finite_run`, so a value costs a few nanoseconds.
//!
//! Time: the caller passes it (processing time: the clock at record; event time: each event's
//! timestamp). An event older than the watermark (the newest time seen) minus
//! `allowed_lateness_ms`, or whose slot already holds a newer epoch, is dropped and counted in
//! [`SlidingWindow::late`]. Processing time uses a lateness of one window, so a clock that
//! steps back a little loses nothing that is still in the window.

// `!(x > 0.0)` is deliberate: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::collections::HashMap;

use crate::hll;
use crate::hll::sparse::Registers;
use crate::kernels::{self, lanes::js_max, lanes::js_min};
use crate::quantile::{QuantileSketch, SUM_RUN};

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
        if !crate::quantile::relative_accuracy_ok(self.relative_accuracy) {
            return Err(WindowError(
                crate::quantile::SketchError::Accuracy(self.relative_accuracy).to_string(),
            ));
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

impl WindowStats {
    /// [count, sum, min, max, mean, variance, rate, uniques] (the bindings' order).
    pub fn to_array(&self) -> [f64; 8] {
        [
            self.count as f64,
            self.sum,
            self.min,
            self.max,
            self.mean,
            self.variance,
            self.rate,
            self.uniques as f64,
        ]
    }
}

#[derive(Clone)]
struct Bucket {
    epoch: i64,
    count: u64,
    sum: f64,
    compensation: f64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
    sketch: QuantileSketch,
    /// Boxed (8 bytes in the bucket) so that buckets without uniques stay as small as before.
    registers: Option<Box<Registers>>,
}

impl Bucket {
    fn reset(&mut self, epoch: i64) {
        self.epoch = epoch;
        self.count = 0;
        self.sum = 0.0;
        self.compensation = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
        self.mean = 0.0;
        self.m2 = 0.0;
        self.sketch.clear();
        if let Some(r) = self.registers.as_mut() {
            r.clear();
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

/// Chan's merge of (n, mean, m2) with (nb, mean_b, m2_b); n is the count before the merge.
#[inline]
fn chan(n: u64, mean: &mut f64, m2: &mut f64, nb: u64, mean_b: f64, m2_b: f64) {
    if n == 0 {
        *mean = mean_b;
        *m2 = m2_b;
        return;
    }
    let (na, nb) = (n as f64, nb as f64);
    let total = na + nb;
    let d = mean_b - *mean;
    *mean += d * nb / total;
    *m2 += m2_b + d * d * na * nb / total;
}

/// One key's ring: no bucket until written; `newest` is the newest epoch written (i64::MIN
/// before the first write), what [`SlidingWindow::expire`] looks at.
#[derive(Default)]
struct Ring {
    buckets: Vec<Option<Box<Bucket>>>,
    newest: i64,
}

pub struct SlidingWindow {
    opts: WindowOptions,
    width_ms: f64,
    /// Key names by id; None for an id that was freed (and waits in `free`).
    names: Vec<Option<String>>,
    ids: HashMap<String, u32>,
    rings: Vec<Ring>,
    free: Vec<u32>,
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
            free: Vec::new(),
            watermark: f64::NEG_INFINITY,
            late: 0,
            empty: Bucket {
                epoch: i64::MIN,
                count: 0,
                sum: 0.0,
                compensation: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                mean: 0.0,
                m2: 0.0,
                sketch,
                registers: None,
            },
        })
    }

    pub fn options(&self) -> WindowOptions {
        self.opts
    }

    /// The id of `key`, created on first use (at most [`MAX_KEYS`] keys at once). A new key
    /// takes the id of a removed one when there is one.
    pub fn key_id(&mut self, key: &str) -> Result<u32, WindowError> {
        if let Some(&id) = self.ids.get(key) {
            return Ok(id);
        }
        if self.ids.len() >= MAX_KEYS {
            return Err(WindowError(format!(
                "a window holds at most {MAX_KEYS} keys"
            )));
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = Some(key.to_string());
                id
            }
            None => {
                self.names.push(Some(key.to_string()));
                self.rings.push(Ring {
                    buckets: Vec::new(),
                    newest: i64::MIN,
                });
                (self.names.len() - 1) as u32
            }
        };
        self.ids.insert(key.to_string(), id);
        Ok(id)
    }

    /// The keys held, by id (not in creation order once ids are reused).
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.names.iter().flatten()
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// One more than the largest id ever given (ids of held keys are below it).
    pub fn id_bound(&self) -> usize {
        self.names.len()
    }

    /// Whether `id` is the id of a held key.
    pub fn holds(&self, id: u32) -> bool {
        self.names.get(id as usize).is_some_and(|n| n.is_some())
    }

    /// Forgets key `id` and frees its buckets; its id goes to the next new key. False if `id`
    /// is not held.
    pub fn remove_id(&mut self, id: u32) -> bool {
        let Some(name) = self.names.get_mut(id as usize).and_then(Option::take) else {
            return false;
        };
        self.ids.remove(&name);
        self.rings[id as usize] = Ring {
            buckets: Vec::new(),
            newest: i64::MIN,
        };
        self.free.push(id);
        true
    }

    /// Forgets `key` (see [`remove_id`](Self::remove_id)); its old id, if it was held.
    pub fn remove(&mut self, key: &str) -> Option<u32> {
        let id = *self.ids.get(key)?;
        self.remove_id(id);
        Some(id)
    }

    /// Forgets every key with nothing in the window at `now` (its newest event is in an epoch
    /// at or before E − buckets, or it has none) and returns their ids, in id order. Reads at
    /// `now` or later answer the same before and after; a later event of the key starts it
    /// afresh. O(keys held). A NaN `now` expires nothing.
    pub fn expire(&mut self, now: f64) -> Vec<u32> {
        if now.is_nan() {
            return Vec::new();
        }
        let lo = self.epoch(now).saturating_sub(self.opts.buckets as i64);
        let gone: Vec<u32> = (0..self.names.len() as u32)
            .filter(|&id| self.names[id as usize].is_some() && self.rings[id as usize].newest <= lo)
            .collect();
        for &id in &gone {
            self.remove_id(id);
        }
        gone
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

    /// Raises the watermark to `t` if it is newer (an ingestor shares one watermark between
    /// its shards this way).
    pub fn advance_watermark(&mut self, t: f64) {
        if t > self.watermark {
            self.watermark = t;
        }
    }

    /// The epoch (bucket number since time 0) of time `t`.
    pub fn epoch_of(&self, t: f64) -> i64 {
        self.epoch(t)
    }

    /// The watermark rule alone, for `count` events at `t` in arrival order: false (and
    /// counted as late) if `t` is older than the watermark minus the allowed lateness;
    /// otherwise the watermark moves up to `t`. The ingestor admits a batch event by event
    /// this way, then adds its runs with [`record_admitted_run`](Self::record_admitted_run).
    pub fn admit(&mut self, t: f64, count: u64) -> bool {
        if t < self.watermark - self.opts.allowed_lateness_ms {
            self.late += count;
            return false;
        }
        if t > self.watermark {
            self.watermark = t;
        }
        true
    }

    /// The bucket an event of key `id` at time `t` goes to, reset if it held an older epoch;
    /// None (and counted as late, `count` times) if it holds a newer one.
    fn bucket(&mut self, id: u32, t: f64, count: u64) -> Option<&mut Bucket> {
        let epoch = self.epoch(t);
        let n = self.opts.buckets;
        let ring = &mut self.rings[id as usize];
        if ring.buckets.is_empty() {
            ring.buckets.resize_with(n, || None);
        }
        let slot = ring.buckets[epoch.rem_euclid(n as i64) as usize]
            .get_or_insert_with(|| Box::new(self.empty.clone()));
        if slot.epoch > epoch {
            self.late += count;
            return None;
        }
        if slot.epoch < epoch {
            slot.reset(epoch);
        }
        if epoch > ring.newest {
            ring.newest = epoch;
        }
        Some(slot)
    }

    fn slot(&mut self, id: u32, t: f64, count: u64) -> Option<&mut Bucket> {
        if !self.admit(t, count) {
            return None;
        }
        self.bucket(id, t, count)
    }

    fn check_key(&self, id: u32, t: f64) -> Result<(), WindowError> {
        if !self.holds(id) {
            return Err(WindowError(format!("unknown key id {id}")));
        }
        if !t.is_finite() {
            return Err(WindowError(format!("time must be finite, got {t}")));
        }
        Ok(())
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
        self.check_key(id, t)?;
        if !value.is_finite() {
            return Err(WindowError(format!("value must be finite, got {value}")));
        }
        if let Some((i, v)) = unique {
            if i >= hll::REGISTERS || v == 0 || v > hll::MAX_VALUE {
                return Err(WindowError(format!("bad HyperLogLog pattern ({i}, {v})")));
            }
        }
        Ok(self.record_valid(id, value, t, unique))
    }

    /// Records a batch of events in arrival order: event i is key `ids[i]`, value `values[i]`
    /// at time `times[i]` (ms), with packed HyperLogLog pattern `patterns[i]` (index * 64 +
    /// value, or −1 for none; see [`pattern_ok`]). Every event is checked before any is
    /// recorded, so a refused batch changes nothing. Returns how many were accepted (the rest
    /// were late, and counted). Errors: arrays of different lengths; an event with an unknown
    /// id, a non-finite value or time (NaN, ±Infinity), or a bad pattern (the error names the
    /// first such event). An empty batch records nothing and returns 0.
    pub fn record_batch(
        &mut self,
        ids: &[u32],
        values: &[f64],
        times: &[f64],
        patterns: &[i32],
    ) -> Result<usize, WindowError> {
        let n = ids.len();
        if values.len() != n || times.len() != n || patterns.len() != n {
            return Err(WindowError(format!(
                "a batch needs as many values, times and patterns as ids ({n}), got {}, {} and {}",
                values.len(),
                times.len(),
                patterns.len()
            )));
        }
        for i in 0..n {
            let (id, v, t, p) = (ids[i], values[i], times[i], patterns[i]);
            let why = if !self.holds(id) {
                format!("unknown key id {id}")
            } else if !v.is_finite() {
                format!("value must be finite, got {v}")
            } else if !t.is_finite() {
                format!("time must be finite, got {t}")
            } else if !pattern_ok(p) {
                format!("bad HyperLogLog pattern {p}")
            } else {
                continue;
            };
            return Err(WindowError(format!("event {i}: {why}")));
        }
        let mut accepted = 0;
        for i in 0..n {
            let p = patterns[i];
            let unique = (p >= 0).then_some(((p >> 6) as usize, (p & 63) as u8));
            // Checked above, every event before any is recorded.
            if self.record_valid(ids[i], values[i], times[i], unique) {
                accepted += 1;
            }
        }
        Ok(accepted)
    }

    /// [`record`](Self::record) for an event the caller has checked (as
    /// [`record_batch`](Self::record_batch) does for a whole batch first): `id` held, `value`
    /// and `t` finite, `unique` a valid pattern. Returns false if the event was too late.
    pub fn record_valid(
        &mut self,
        id: u32,
        value: f64,
        t: f64,
        unique: Option<(usize, u8)>,
    ) -> bool {
        debug_assert!(self.holds(id) && value.is_finite() && t.is_finite());
        debug_assert!(
            !unique.is_some_and(|(i, v)| i >= hll::REGISTERS || !(1..=hll::MAX_VALUE).contains(&v))
        );
        let Some(slot) = self.slot(id, t, 1) else {
            return false;
        };
        slot.count += 1;
        neumaier(&mut slot.sum, &mut slot.compensation, value);
        let d = value - slot.mean;
        slot.mean += d / slot.count as f64;
        slot.m2 += d * (value - slot.mean);
        slot.min = js_min(slot.min, value);
        slot.max = js_max(slot.max, value);
        // Finite values and weight 1: the sketch cannot refuse them.
        let _ = slot.sketch.add(value, 1.0);
        if let Some((i, v)) = unique {
            slot.registers
                .get_or_insert_with(Box::default)
                .set_max(i, v);
        }
        true
    }

    /// Records `values` for key `id`, all at time `t`, with packed HyperLogLog patterns
    /// (index * 64 + value, or −1 for none; empty `patterns` means none). Every run of up to
    /// [`SUM_RUN`] values adds its kernel count, compensated sum, min/max, mean and M2 (Chan's
    /// merge) and its sketch indices at once. Returns false if the run was too late (all of it
    /// is counted as late). Errors as [`record`](Self::record), checked before anything changes.
    pub fn record_run(
        &mut self,
        id: u32,
        t: f64,
        values: &[f64],
        patterns: &[i32],
    ) -> Result<bool, WindowError> {
        self.check_key(id, t)?;
        if !patterns.is_empty() && patterns.len() != values.len() {
            return Err(WindowError(
                "patterns must be empty or one per value".to_string(),
            ));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(WindowError(format!("value must be finite, got {v}")));
        }
        if let Some(&p) = patterns.iter().find(|&&p| !pattern_ok(p)) {
            return Err(WindowError(format!("bad HyperLogLog pattern {p}")));
        }
        if values.is_empty() {
            return Ok(true);
        }
        if !self.admit(t, values.len() as u64) {
            return Ok(false);
        }
        Ok(self.record_admitted_run(id, t, values, patterns))
    }

    /// [`record_run`](Self::record_run) for a run [`admit`](Self::admit) already let in and
    /// the caller checked (known id, finite values and time, valid patterns): only the bucket
    /// rule applies. Returns false if the bucket holds a newer epoch (the run is counted late).
    pub fn record_admitted_run(
        &mut self,
        id: u32,
        t: f64,
        values: &[f64],
        patterns: &[i32],
    ) -> bool {
        let k = kernels::selected();
        let Some(slot) = self.bucket(id, t, values.len() as u64) else {
            return false;
        };
        for run in values.chunks(SUM_RUN) {
            let n = run.len() as u64;
            let extremes = k.min_max(run);
            let sum = k.sum(run);
            let mean = sum / n as f64;
            chan(
                slot.count,
                &mut slot.mean,
                &mut slot.m2,
                n,
                mean,
                k.sum_sq_dev(run, mean),
            );
            slot.count += n;
            neumaier(&mut slot.sum, &mut slot.compensation, sum);
            slot.min = js_min(slot.min, extremes.min);
            slot.max = js_max(slot.max, extremes.max);
            slot.sketch.add_finite_run(run, extremes, sum);
        }
        if patterns.iter().any(|&p| p >= 0) {
            let regs = slot.registers.get_or_insert_with(Box::default);
            for &p in patterns.iter().filter(|&&p| p >= 0) {
                regs.set_max((p >> 6) as usize, (p & 63) as u8);
            }
        }
        true
    }

    /// The live buckets of key `id` at `now`.
    fn live(&self, id: u32, now: f64) -> impl Iterator<Item = &Bucket> {
        let e = self.epoch(now);
        let lo = e.saturating_sub(self.opts.buckets as i64);
        self.rings
            .get(id as usize)
            .into_iter()
            .flat_map(|r| r.buckets.iter())
            .filter_map(|b| b.as_deref())
            .filter(move |b| b.epoch > lo && b.epoch <= e && b.count > 0)
    }

    /// The statistics of key `id` over the window ending at `now`. None for an unknown id.
    pub fn stats(&self, id: u32, now: f64) -> Option<WindowStats> {
        if !self.holds(id) {
            return None;
        }
        Some(summarize(&self.opts, self.live(id, now)))
    }

    /// The merged sketch of key `id` over the window ending at `now` (None for an unknown id).
    pub fn sketch(&self, id: u32, now: f64) -> Option<QuantileSketch> {
        if !self.holds(id) {
            return None;
        }
        Some(self.merged_sketch(std::iter::once((self, id)), now))
    }

    fn merged_sketch<'a>(
        &self,
        parts: impl Iterator<Item = (&'a SlidingWindow, u32)>,
        now: f64,
    ) -> QuantileSketch {
        let mut out = self.empty.sketch.clone();
        for (w, id) in parts {
            for b in w.live(id, now) {
                // Same accuracy by construction: merge cannot fail.
                let _ = out.merge(&b.sketch);
            }
        }
        out
    }

    /// The id of `key` if this window has seen it.
    pub fn find(&self, key: &str) -> Option<u32> {
        self.ids.get(key).copied()
    }
}

/// The statistics of `key` over several windows with the same options (the shards of an
/// ingestor), as if their live buckets were one window's. Zero counts if no shard has the key.
pub fn stats_across(shards: &[&SlidingWindow], key: &str, now: f64) -> Option<WindowStats> {
    let first = shards.first()?;
    let buckets = shards
        .iter()
        .filter_map(|w| w.find(key).map(|id| (w, id)))
        .flat_map(|(w, id)| w.live(id, now));
    Some(summarize(&first.opts, buckets))
}

/// The merged sketch of `key` over several windows with the same options.
pub fn sketch_across(shards: &[&SlidingWindow], key: &str, now: f64) -> Option<QuantileSketch> {
    let first = shards.first()?;
    let parts = shards.iter().filter_map(|w| w.find(key).map(|id| (*w, id)));
    Some(first.merged_sketch(parts, now))
}

/// A packed HyperLogLog pattern (index * 64 + value) or −1.
pub fn pattern_ok(p: i32) -> bool {
    p == -1
        || (p >= 0
            && ((p >> 6) as usize) < hll::REGISTERS
            && (1..=hll::MAX_VALUE as i32).contains(&(p & 63)))
}

fn summarize<'a>(opts: &WindowOptions, buckets: impl Iterator<Item = &'a Bucket>) -> WindowStats {
    let (mut count, mut s, mut c) = (0u64, 0.0, 0.0);
    let (mut mean, mut m2) = (0.0, 0.0);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut registers: Option<Box<[u8; hll::REGISTERS]>> = None;
    for b in buckets {
        chan(count, &mut mean, &mut m2, b.count, b.mean, b.m2);
        count += b.count;
        neumaier(&mut s, &mut c, b.sum);
        neumaier(&mut s, &mut c, b.compensation);
        min = js_min(min, b.min);
        max = js_max(max, b.max);
        if let Some(r) = b.registers.as_deref().filter(|r| !r.is_empty()) {
            let into = registers.get_or_insert_with(|| Box::new([0u8; hll::REGISTERS]));
            r.merge_into(into);
        }
    }
    let sum = s + c;
    let empty = count == 0;
    WindowStats {
        count,
        sum,
        min: if empty { f64::NAN } else { min },
        max: if empty { f64::NAN } else { max },
        mean: if empty { f64::NAN } else { sum / count as f64 },
        variance: if count >= 2 {
            m2 / (count - 1) as f64
        } else {
            f64::NAN
        },
        rate: count as f64 / (opts.window_ms / 1000.0),
        uniques: registers.map_or(0, |r| hll::estimate(&r)),
    }
}

#[cfg(test)]
mod tests;
