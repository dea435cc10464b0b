//! The state behind the metrics registry: metric families (counter, gauge, histogram, summary),
//! their labeled series, and the arithmetic that applies a thread's staged records to them.
//!
//! Writers never touch this per event. Each thread stages records in its own typed arrays and
//! hands them over in batches (`apply`, `observe`); readers take a `snapshot`. The binding
//! keeps one [`Store`] for the whole process behind a mutex, so every worker_thread sees the
//! same families; the JS backend keeps the same store per thread (lib/metrics/js.ts)
//! and replicates batches between threads.
//!
//! Series ids (`sid`) are never reused: a batch that names a removed series is reported back
//! as dead instead of landing in whatever series took its place.
//!
//! Staged record layouts of counters and gauges (`apply`: one row per sid):
//! ```text
//! counter    [delta]                       delta >= 0 (checked by the caller)
//! gauge      [set_flag, set_value, delta]  if set_flag != 0 the value becomes set_value, then += delta
//! ```
//! Histograms and summaries take observed values, one per sid (`observe`): a histogram
//! counts each in its bucket, a summary adds it to the current age bucket's sketch; both add
//! the compensated sum of each run of a series' values. A histogram with `native_histogram`
//! also keeps an all-time sketch per series (exported as a Prometheus native histogram; read it
//! with `window_sketches`).
//! Snapshot rows: counter/gauge `[value]`, histogram `[count_0 .. count_nb, sum]` (not
//! cumulative), summary `[count, sum, q_1 .. q_k]` for the family's percentiles (0 when the
//! window is empty, as prom-client; NaN with `empty_quantile_nan`). A summary family with
//! `prune_aged_buckets` drops, at each snapshot, the series whose window is empty (prom-client's
//! `pruneAgedBuckets`: the series, its count and its sum are gone until its next value).

mod window;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::quantile::{QuantileSketch, SUM_RUN};
pub use window::Window;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "counter" => Some(Kind::Counter),
            "gauge" => Some(Kind::Gauge),
            "histogram" => Some(Kind::Histogram),
            "summary" => Some(Kind::Summary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// What a family is. Two definitions under one key must be equal to share the family.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyDef {
    /// Registry name and metric name, e.g. "default\0http_requests_total".
    pub key: String,
    pub kind: Kind,
    pub help: String,
    pub label_names: Vec<String>,
    /// Histogram upper bounds, finite and strictly increasing (+Inf is implied).
    pub buckets: Vec<f64>,
    /// Summary quantiles reported, each in [0, 1].
    pub percentiles: Vec<f64>,
    /// Summary window: 0 for all time, else the window length in milliseconds.
    pub max_age_ms: f64,
    /// Summary window buckets (1 when max_age_ms is 0).
    pub age_buckets: u32,
    pub relative_accuracy: f64,
    /// Series allowed before new label sets go to the overflow series.
    pub max_series: u32,
    /// The user's rule for combining this gauge across processes (carried, not used here).
    pub aggregator: String,
    /// Summary: drop a series from snapshots (and the store) once its window is empty.
    pub prune_aged_buckets: bool,
    /// Summary: an empty window's quantiles are NaN (client_golang) instead of 0 (prom-client).
    pub empty_quantile_nan: bool,
    /// Histogram: also keep an all-time sketch per series, for native-histogram export.
    pub native_histogram: bool,
}

#[derive(Debug, PartialEq)]
pub enum MetricsError {
    UnknownFamily(u32),
    Conflict(String),
    Invalid(String),
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::UnknownFamily(id) => write!(
                f,
                "metric family {id} is not registered (cleared or removed)"
            ),
            MetricsError::Conflict(m) | MetricsError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for MetricsError {}

/// Label values of the series that takes new label sets once a family is at its limit.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

struct Series {
    labels: Vec<String>,
    values: Vec<f64>,
    window: Option<Window>,
}

struct Family {
    def: FamilyDef,
    series: BTreeMap<u32, Series>,
    index: HashMap<Vec<String>, u32>,
    next_sid: u32,
    overflow: Option<u32>,
    refused: f64,
}

impl Family {
    fn value_width(&self) -> usize {
        match self.def.kind {
            Kind::Counter | Kind::Gauge => 1,
            Kind::Histogram => self.def.buckets.len() + 2,
            Kind::Summary => 2,
        }
    }

    fn new_series(&mut self, labels: Vec<String>) -> Result<u32, MetricsError> {
        let windowed = match self.def.kind {
            Kind::Summary => true,
            Kind::Histogram => self.def.native_histogram,
            Kind::Counter | Kind::Gauge => false,
        };
        let window = if windowed {
            // A histogram's sketch covers all time (its def has max_age_ms 0).
            Some(Window::new(&self.def).map_err(|e| MetricsError::Invalid(e.to_string()))?)
        } else {
            None
        };
        let sid = self.next_sid;
        self.next_sid = self
            .next_sid
            .checked_add(1)
            .ok_or_else(|| MetricsError::Invalid("series ids exhausted for this family".into()))?;
        self.series.insert(
            sid,
            Series {
                labels: labels.clone(),
                values: vec![0.0; self.value_width()],
                window,
            },
        );
        self.index.insert(labels, sid);
        Ok(sid)
    }
}

/// A batch's ids that name no live series (removed, reset or never created).
pub type DeadSids = Vec<u32>;

#[derive(Default)]
pub struct Store {
    families: HashMap<u32, Family>,
    by_key: HashMap<String, u32>,
    next_fid: u32,
}

fn check_def(def: &FamilyDef) -> Result<(), MetricsError> {
    let bad = |m: String| Err(MetricsError::Invalid(m));
    if def.kind == Kind::Histogram {
        if def.buckets.iter().any(|b| !b.is_finite()) {
            return bad("histogram buckets must be finite (+Inf is added)".into());
        }
        if def.buckets.windows(2).any(|w| w[0] >= w[1]) {
            return bad("histogram buckets must be strictly increasing".into());
        }
    }
    if def.kind == Kind::Summary {
        if def.percentiles.iter().any(|q| !(0.0..=1.0).contains(q)) {
            return bad("summary percentiles must be in [0, 1]".into());
        }
        if !(def.max_age_ms >= 0.0 && def.max_age_ms.is_finite()) || def.age_buckets == 0 {
            return bad("summary window needs max_age_ms >= 0 and age_buckets >= 1".into());
        }
    }
    if def.max_series == 0 {
        return bad("max_series must be at least 1".into());
    }
    Ok(())
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Registers a family, or joins the one already under `def.key` if its definition is equal.
    pub fn define(&mut self, def: FamilyDef) -> Result<u32, MetricsError> {
        check_def(&def)?;
        if let Some(&fid) = self.by_key.get(&def.key) {
            let have = &self.families[&fid].def;
            if *have != def {
                return Err(MetricsError::Conflict(format!(
                    "metric {:?} is already registered with a different definition ({} with labels {:?})",
                    def.key.rsplit('\0').next().unwrap_or(""),
                    have.kind.name(),
                    have.label_names
                )));
            }
            return Ok(fid);
        }
        let fid = self.next_fid;
        self.next_fid += 1;
        self.by_key.insert(def.key.clone(), fid);
        self.families.insert(
            fid,
            Family {
                def,
                series: BTreeMap::new(),
                index: HashMap::new(),
                next_sid: 0,
                overflow: None,
                refused: 0.0,
            },
        );
        Ok(fid)
    }

    /// Forgets a family and its series (a later `define` under its key starts afresh).
    pub fn undefine(&mut self, fid: u32) -> bool {
        match self.families.remove(&fid) {
            Some(f) => {
                self.by_key.remove(&f.def.key);
                true
            }
            None => false,
        }
    }

    /// Families whose key starts with `prefix` (a registry's name and "\0"), in definition order.
    pub fn families(&self, prefix: &str) -> Vec<(u32, &FamilyDef)> {
        let mut out: Vec<(u32, &FamilyDef)> = self
            .families
            .iter()
            .filter(|(_, f)| f.def.key.starts_with(prefix))
            .map(|(&id, f)| (id, &f.def))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out
    }

    fn family(&mut self, fid: u32) -> Result<&mut Family, MetricsError> {
        self.families
            .get_mut(&fid)
            .ok_or(MetricsError::UnknownFamily(fid))
    }

    /// The series for these label values, created if new. At the family's limit a new label set
    /// is refused: it is counted and the overflow series (every label `__overflow__`) is returned.
    pub fn series(&mut self, fid: u32, labels: &[String]) -> Result<u32, MetricsError> {
        let f = self.family(fid)?;
        if labels.len() != f.def.label_names.len() {
            return Err(MetricsError::Invalid(format!(
                "expected {} label values, got {}",
                f.def.label_names.len(),
                labels.len()
            )));
        }
        if let Some(&sid) = f.index.get(labels) {
            return Ok(sid);
        }
        let live = f.series.len() - usize::from(f.overflow.is_some());
        if live >= f.def.max_series as usize {
            f.refused += 1.0;
            if let Some(sid) = f.overflow {
                return Ok(sid);
            }
            let sid = f.new_series(vec![OVERFLOW_LABEL_VALUE.to_string(); labels.len()])?;
            f.overflow = Some(sid);
            return Ok(sid);
        }
        f.new_series(labels.to_vec())
    }

    /// New label sets refused because the family was at its limit.
    pub fn refused(&self, fid: u32) -> Result<f64, MetricsError> {
        self.families
            .get(&fid)
            .map(|f| f.refused)
            .ok_or(MetricsError::UnknownFamily(fid))
    }

    /// Removes one series; true if it existed.
    pub fn remove(&mut self, fid: u32, labels: &[String]) -> Result<bool, MetricsError> {
        let f = self.family(fid)?;
        match f.index.remove(labels) {
            Some(sid) => {
                f.series.remove(&sid);
                if f.overflow == Some(sid) {
                    f.overflow = None;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes every series of the family (prom-client's `reset`).
    pub fn reset(&mut self, fid: u32) -> Result<(), MetricsError> {
        let f = self.family(fid)?;
        f.series.clear();
        f.index.clear();
        f.overflow = None;
        f.refused = 0.0;
        Ok(())
    }

    /// Applies staged rows (counter or gauge) to their series.
    pub fn apply(
        &mut self,
        fid: u32,
        sids: &[u32],
        rows: &[f64],
    ) -> Result<DeadSids, MetricsError> {
        let f = self.family(fid)?;
        let width = match f.def.kind {
            Kind::Counter => 1,
            Kind::Gauge => 3,
            Kind::Histogram | Kind::Summary => {
                return Err(MetricsError::Invalid(
                    "histograms and summaries take values through observe".into(),
                ))
            }
        };
        if rows.len() != sids.len() * width {
            return Err(MetricsError::Invalid(format!(
                "expected {} staged values ({} rows of {width}), got {}",
                sids.len() * width,
                sids.len(),
                rows.len()
            )));
        }
        let mut dead = Vec::new();
        for (sid, row) in sids.iter().zip(rows.chunks_exact(width)) {
            let Some(s) = f.series.get_mut(sid) else {
                dead.push(*sid);
                continue;
            };
            match f.def.kind {
                Kind::Counter => s.values[0] += row[0],
                Kind::Gauge => {
                    if row[0] != 0.0 {
                        s.values[0] = row[1];
                    }
                    s.values[0] += row[2];
                }
                Kind::Histogram | Kind::Summary => unreachable!("checked above"),
            }
        }
        Ok(dead)
    }

    /// Adds observed values (one per sid) to histogram or summary series, at time `now_ms`
    /// (the summary window's clock). Consecutive values of one series are one run: a histogram
    /// counts each value in its bucket, a summary adds the run to its sketch, and both add the
    /// run's compensated sum to the series' sum. All values are checked before any is added.
    pub fn observe(
        &mut self,
        fid: u32,
        sids: &[u32],
        values: &[f64],
        now_ms: f64,
    ) -> Result<DeadSids, MetricsError> {
        let f = self.family(fid)?;
        let kind = f.def.kind;
        if kind != Kind::Summary && kind != Kind::Histogram {
            return Err(MetricsError::Invalid(
                "observe is for histograms and summaries".into(),
            ));
        }
        if sids.len() != values.len() {
            return Err(MetricsError::Invalid(
                "sids and values differ in length".into(),
            ));
        }
        // The min/max kernel is the finiteness check (NaN or an infinity shows in the extremes).
        let k = crate::kernels::selected();
        let extremes = k.min_max(values);
        let all_finite = extremes.min.is_finite() && extremes.max.is_finite();
        if !values.is_empty() && !all_finite {
            let v = values
                .iter()
                .find(|v| !v.is_finite())
                .copied()
                .unwrap_or(f64::NAN);
            return Err(MetricsError::Invalid(format!(
                "observed values must be finite, got {v}"
            )));
        }
        let bounds = &f.def.buckets;
        // Histogram scratch (empty for summaries): each value's bucket, and four interleaved
        // tallies per bucket.
        let histogram = kind == Kind::Histogram;
        let mut idx = vec![0u32; if histogram { SUM_RUN } else { 0 }];
        let mut tally = vec![0u32; if histogram { 4 * (bounds.len() + 1) } else { 0 }];
        let mut dead = Vec::new();
        let mut start = 0;
        while start < sids.len() {
            let sid = sids[start];
            let end = start + run_length(&sids[start..]);
            let run = &values[start..end];
            let Some(s) = f.series.get_mut(&sid) else {
                dead.extend(std::iter::repeat_n(sid, run.len()));
                start = end;
                continue;
            };
            // Runs of at most SUM_RUN values: each run's compensated sum (the sum kernel: the
            // same bits on every backend, including the JS twin) grows the series' sum (and a
            // summary's window sketch's).
            for part in run.chunks(SUM_RUN) {
                let part_sum = k.sum(part);
                if histogram {
                    let nb = bounds.len();
                    k.bucket_indices(bounds, part, &mut idx);
                    count_buckets(&idx[..part.len()], &mut tally, &mut s.values[..=nb]);
                    s.values[nb + 1] += part_sum;
                    if let Some(w) = s.window.as_mut() {
                        let part_extremes = if part.len() == values.len() {
                            extremes
                        } else {
                            k.min_max(part)
                        };
                        w.add_finite_run(part, part_extremes, part_sum, now_ms);
                    }
                } else {
                    let part_extremes = if part.len() == values.len() {
                        extremes
                    } else {
                        k.min_max(part)
                    };
                    s.values[0] += part.len() as f64;
                    s.values[1] += part_sum;
                    let w = s.window.as_mut().expect("summary series have a window");
                    w.add_finite_run(part, part_extremes, part_sum, now_ms);
                }
            }
            start = end;
        }
        Ok(dead)
    }

    /// Every live series' sid and row (see the module docs), in creation order.
    pub fn snapshot(
        &mut self,
        fid: u32,
        now_ms: f64,
    ) -> Result<(Vec<u32>, Vec<f64>), MetricsError> {
        let f = self.family(fid)?;
        let empty = if f.def.empty_quantile_nan {
            f64::NAN
        } else {
            0.0
        };
        let prune = f.def.prune_aged_buckets;
        let mut sids = Vec::with_capacity(f.series.len());
        let mut rows = Vec::new();
        let mut pruned = Vec::new();
        let summary = f.def.kind == Kind::Summary;
        for (&sid, s) in f.series.iter_mut() {
            if let Some(w) = s.window.as_mut().filter(|_| summary) {
                let merged = w
                    .merged(now_ms)
                    .map_err(|e| MetricsError::Invalid(e.to_string()))?;
                if prune && merged.count == 0.0 {
                    pruned.push(sid);
                    continue;
                }
                sids.push(sid);
                rows.extend_from_slice(&s.values);
                for &q in &f.def.percentiles {
                    let v = merged.quantile(q).unwrap_or(f64::NAN);
                    rows.push(if merged.count == 0.0 { empty } else { v });
                }
            } else {
                sids.push(sid);
                rows.extend_from_slice(&s.values);
            }
        }
        for sid in pruned {
            if let Some(s) = f.series.remove(&sid) {
                f.index.remove(&s.labels);
            }
            if f.overflow == Some(sid) {
                f.overflow = None;
            }
        }
        Ok((sids, rows))
    }

    /// Label values of these series (None for a removed one).
    pub fn labels(&self, fid: u32, sids: &[u32]) -> Result<Vec<Option<Vec<String>>>, MetricsError> {
        let f = self
            .families
            .get(&fid)
            .ok_or(MetricsError::UnknownFamily(fid))?;
        Ok(sids
            .iter()
            .map(|sid| f.series.get(sid).map(|s| s.labels.clone()))
            .collect())
    }

    /// Each live summary series' window merged into one sketch (for merging across processes).
    pub fn window_sketches(
        &mut self,
        fid: u32,
        now_ms: f64,
    ) -> Result<Vec<(u32, QuantileSketch)>, MetricsError> {
        let f = self.family(fid)?;
        let mut out = Vec::with_capacity(f.series.len());
        for (&sid, s) in f.series.iter_mut() {
            if let Some(w) = s.window.as_mut() {
                out.push((
                    sid,
                    w.merged(now_ms)
                        .map_err(|e| MetricsError::Invalid(e.to_string()))?,
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;

/// Adds to `counts` how many of `idx` name each bucket. Four interleaved tallies (zeroed on
/// return), so values in one bucket do not wait on each other's increments; integer counts
/// below 2^53 make the f64 result the same as adding 1 per value.
fn count_buckets(idx: &[u32], tally: &mut [u32], counts: &mut [f64]) {
    let n = counts.len();
    let mut quads = idx.chunks_exact(4);
    for q in &mut quads {
        tally[q[0] as usize] += 1;
        tally[n + q[1] as usize] += 1;
        tally[2 * n + q[2] as usize] += 1;
        tally[3 * n + q[3] as usize] += 1;
    }
    for &i in quads.remainder() {
        tally[i as usize] += 1;
    }
    for (b, c) in counts.iter_mut().enumerate() {
        let t = tally[b] + tally[n + b] + tally[2 * n + b] + tally[3 * n + b];
        *c += t as f64;
        for lane in 0..4 {
            tally[lane * n + b] = 0;
        }
    }
}

/// How many leading sids equal the first (at least 1 for a non-empty slice): 16 at a time by
/// OR-ing differences, which the compiler vectorizes, then one by one.
fn run_length(sids: &[u32]) -> usize {
    let first = sids[0];
    let mut n = 0;
    for block in sids.chunks_exact(16) {
        if block.iter().fold(0, |acc, &s| acc | (s ^ first)) != 0 {
            break;
        }
        n += 16;
    }
    n + sids[n..].iter().take_while(|&&s| s == first).count()
}
