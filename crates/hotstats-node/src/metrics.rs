//! Bindings of the process-wide metrics store (hotstats_core::metrics). One store behind a
//! mutex for the whole process: every worker_thread that loads the addon sees the same
//! families. Threads stage records in JS and call in here once per batch, not per event.

// napi-derive does not expand the exports in `cargo test` builds, which leaves their helpers unused there.
#![cfg_attr(test, allow(dead_code))]

use std::sync::{Mutex, MutexGuard, OnceLock};

use hotstats_core::metrics::{FamilyDef, Kind, MetricsError, Store};
use napi::bindgen_prelude::*;
use napi_derive::napi;

static STORE: OnceLock<Mutex<Store>> = OnceLock::new();

fn store() -> MutexGuard<'static, Store> {
    // A panic cannot happen while the lock is held (catch_unwind aside, the store's methods
    // return errors), but if it did, the state is still consistent per call: keep going.
    STORE
        .get_or_init(|| Mutex::new(Store::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn err(e: MetricsError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

#[napi(object)]
pub struct MetricFamilyDef {
    pub key: String,
    pub kind: String,
    pub help: String,
    pub label_names: Vec<String>,
    pub buckets: Vec<f64>,
    pub percentiles: Vec<f64>,
    pub max_age_ms: f64,
    pub age_buckets: u32,
    pub relative_accuracy: f64,
    pub max_series: u32,
    pub aggregator: String,
    pub prune_aged_buckets: bool,
    pub empty_quantile_nan: bool,
    pub native_histogram: bool,
}

fn to_core(d: MetricFamilyDef) -> Result<FamilyDef> {
    let kind = Kind::parse(&d.kind).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("unknown metric kind {:?}", d.kind),
        )
    })?;
    Ok(FamilyDef {
        key: d.key,
        kind,
        help: d.help,
        label_names: d.label_names,
        buckets: d.buckets,
        percentiles: d.percentiles,
        max_age_ms: d.max_age_ms,
        age_buckets: d.age_buckets,
        relative_accuracy: d.relative_accuracy,
        max_series: d.max_series,
        aggregator: d.aggregator,
        prune_aged_buckets: d.prune_aged_buckets,
        empty_quantile_nan: d.empty_quantile_nan,
        native_histogram: d.native_histogram,
    })
}

fn from_core(d: &FamilyDef) -> MetricFamilyDef {
    MetricFamilyDef {
        key: d.key.clone(),
        kind: d.kind.name().to_string(),
        help: d.help.clone(),
        label_names: d.label_names.clone(),
        buckets: d.buckets.clone(),
        percentiles: d.percentiles.clone(),
        max_age_ms: d.max_age_ms,
        age_buckets: d.age_buckets,
        relative_accuracy: d.relative_accuracy,
        max_series: d.max_series,
        aggregator: d.aggregator.clone(),
        prune_aged_buckets: d.prune_aged_buckets,
        empty_quantile_nan: d.empty_quantile_nan,
        native_histogram: d.native_histogram,
    }
}

#[napi(object)]
pub struct MetricFamily {
    pub id: u32,
    pub def: MetricFamilyDef,
}

#[napi(object)]
pub struct MetricSnapshot {
    pub sids: Uint32Array,
    pub rows: Float64Array,
}

#[napi(object)]
pub struct MetricSketches {
    pub sids: Uint32Array,
    pub sketches: Vec<Uint8Array>,
}

/// Registers a family (or joins the equal one already under its key); returns its id.
#[napi(catch_unwind)]
pub fn metrics_define(def: MetricFamilyDef) -> Result<u32> {
    let def = to_core(def)?;
    store().define(def).map_err(err)
}

#[napi(catch_unwind)]
pub fn metrics_undefine(fid: u32) -> bool {
    store().undefine(fid)
}

/// Families whose key starts with `prefix`, in definition order.
#[napi(catch_unwind)]
pub fn metrics_families(prefix: String) -> Vec<MetricFamily> {
    store()
        .families(&prefix)
        .into_iter()
        .map(|(id, d)| MetricFamily {
            id,
            def: from_core(d),
        })
        .collect()
}

#[napi(catch_unwind)]
pub fn metrics_series(fid: u32, labels: Vec<String>) -> Result<u32> {
    store().series(fid, &labels).map_err(err)
}

#[napi(catch_unwind)]
pub fn metrics_remove(fid: u32, labels: Vec<String>) -> Result<bool> {
    store().remove(fid, &labels).map_err(err)
}

#[napi(catch_unwind)]
pub fn metrics_reset(fid: u32) -> Result<()> {
    store().reset(fid).map_err(err)
}

#[napi(catch_unwind)]
pub fn metrics_refused(fid: u32) -> Result<f64> {
    store().refused(fid).map_err(err)
}

/// Applies staged counter/gauge/histogram rows; returns the sids that name no live series.
#[napi(catch_unwind)]
pub fn metrics_apply(fid: u32, sids: &[u32], rows: &[f64]) -> Result<Vec<u32>> {
    store().apply(fid, sids, rows).map_err(err)
}

/// Adds staged summary values at `now_ms`; returns the sids that name no live series.
#[napi(catch_unwind)]
pub fn metrics_observe(fid: u32, sids: &[u32], values: &[f64], now_ms: f64) -> Result<Vec<u32>> {
    store().observe(fid, sids, values, now_ms).map_err(err)
}

#[napi(catch_unwind)]
pub fn metrics_snapshot(fid: u32, now_ms: f64) -> Result<MetricSnapshot> {
    let (sids, rows) = store().snapshot(fid, now_ms).map_err(err)?;
    Ok(MetricSnapshot {
        sids: sids.into(),
        rows: rows.into(),
    })
}

#[napi(catch_unwind)]
pub fn metrics_labels(fid: u32, sids: &[u32]) -> Result<Vec<Option<Vec<String>>>> {
    store().labels(fid, sids).map_err(err)
}

/// Each summary series' window as one serialized QuantileSketch.
#[napi(catch_unwind)]
pub fn metrics_window_sketches(fid: u32, now_ms: f64) -> Result<MetricSketches> {
    let all = store().window_sketches(fid, now_ms).map_err(err)?;
    let sids: Vec<u32> = all.iter().map(|(s, _)| *s).collect();
    let sketches = all.into_iter().map(|(_, k)| k.serialize().into()).collect();
    Ok(MetricSketches {
        sids: sids.into(),
        sketches,
    })
}
