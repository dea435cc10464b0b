//! Binding of `hotstats_core::ingest::Ingestor`. The pool is a SharedArrayBuffer made by
//! lib/ring.ts; this object holds a strong reference to it (the Uint8Array) and stops its
//! aggregation threads before letting go, so the threads never outlive the memory.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use std::time::Duration;

use hotstats_core::ingest::{ring::Pool, Ingestor};
use hotstats_core::window::WindowOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

#[napi]
pub struct NativeIngestor {
    // Declared first so it drops first: its Drop joins the threads, then the memory goes.
    inner: Ingestor,
    _memory: Uint8Array,
}

#[napi]
impl NativeIngestor {
    /// `threads` < 0: sized from the CPU budget.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        memory: Uint8Array,
        window_ms: f64,
        buckets: u32,
        relative_accuracy: f64,
        allowed_lateness_ms: f64,
        threads: i32,
    ) -> Result<Self> {
        let ptr = memory.as_ptr() as *mut u8;
        // Safe: `memory` (kept below) keeps the SharedArrayBuffer alive; the pool only uses atomics.
        let pool = unsafe { Pool::open(ptr, memory.len()) }.map_err(invalid)?;
        let window = WindowOptions {
            window_ms,
            buckets: buckets as usize,
            relative_accuracy,
            allowed_lateness_ms,
        };
        let threads = (threads >= 0).then_some(threads as usize);
        let inner = Ingestor::new(pool, window, threads).map_err(invalid)?;
        Ok(NativeIngestor {
            inner,
            _memory: memory,
        })
    }

    #[napi(catch_unwind)]
    pub fn flush(&self) {
        self.inner.flush();
    }

    /// [count, sum, min, max, mean, variance, rate, uniques] of `key` at `now`.
    #[napi(catch_unwind)]
    pub fn stats(&self, key: String, now: f64) -> Vec<f64> {
        self.inner.stats(&key, now).to_array().to_vec()
    }

    #[napi(catch_unwind)]
    pub fn quantiles(&self, key: String, now: f64, qs: &[f64]) -> Result<Vec<f64>> {
        let sketch = self.inner.sketch(&key, now);
        qs.iter()
            .map(|&q| sketch.quantile(q).map_err(|e| invalid(e.to_string())))
            .collect()
    }

    /// [accepted, aggregated, inFlight, dropped, rejected, late, invalid].
    #[napi(catch_unwind)]
    pub fn counts(&self) -> Vec<f64> {
        let c = self.inner.counts();
        [
            c.accepted,
            c.aggregated,
            c.in_flight,
            c.dropped,
            c.rejected,
            c.late,
            c.invalid,
        ]
        .iter()
        .map(|&v| v as f64)
        .collect()
    }

    #[napi(catch_unwind)]
    pub fn keys(&self) -> Vec<String> {
        self.inner.keys()
    }

    #[napi(catch_unwind)]
    pub fn pending(&self) -> u32 {
        self.inner.pending() as u32
    }

    #[napi(catch_unwind)]
    pub fn seal(&self) {
        self.inner.seal();
    }

    /// Seals, waits up to `timeout_ms` for pending producers, stops the threads, drains.
    /// Returns the rings still pending.
    #[napi(catch_unwind)]
    pub fn close(&mut self, timeout_ms: f64) -> u32 {
        let t = Duration::from_secs_f64(timeout_ms.clamp(0.0, 3.6e6) / 1000.0);
        self.inner.close(t) as u32
    }

    #[napi(getter, catch_unwind)]
    pub fn watermark(&self) -> f64 {
        self.inner.watermark()
    }

    #[napi(getter, catch_unwind)]
    pub fn threads(&self) -> u32 {
        self.inner.threads() as u32
    }

    /// [cgroup quota in CPUs (NaN: none), CPUs in the affinity mask, the budget].
    #[napi(getter, catch_unwind)]
    pub fn cpu(&self) -> Vec<f64> {
        let b = self.inner.budget();
        vec![b.quota.unwrap_or(f64::NAN), b.affinity as f64, b.cpus]
    }
}
