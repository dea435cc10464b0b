//! Binding of `hotstats_core::window::SlidingWindow`: events arrive in batches (key ids,
//! values, times, packed HyperLogLog patterns), so one Node-API call carries many events.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::window::{SlidingWindow, WindowError, WindowOptions};
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn err(e: WindowError) -> Error {
    Error::new(Status::InvalidArg, e.0)
}

#[napi]
pub struct NativeSlidingWindow {
    inner: SlidingWindow,
}

#[napi]
impl NativeSlidingWindow {
    #[napi(constructor, catch_unwind)]
    pub fn new(
        window_ms: f64,
        buckets: u32,
        relative_accuracy: f64,
        allowed_lateness_ms: f64,
    ) -> Result<Self> {
        let opts = WindowOptions {
            window_ms,
            buckets: buckets as usize,
            relative_accuracy,
            allowed_lateness_ms,
        };
        Ok(NativeSlidingWindow {
            inner: SlidingWindow::new(opts).map_err(err)?,
        })
    }

    #[napi(catch_unwind)]
    pub fn key_id(&mut self, key: String) -> Result<u32> {
        self.inner.key_id(&key).map_err(err)
    }

    /// Records events[0..n): ids, values, times (ms) and patterns (index * 64 + value, or −1).
    /// Every event is checked before any is recorded (the core's `record_batch`). Returns how
    /// many were accepted (the rest were late).
    #[napi(catch_unwind)]
    pub fn record_many(
        &mut self,
        ids: &[u32],
        values: &[f64],
        times: &[f64],
        patterns: &[i32],
        n: u32,
    ) -> Result<u32> {
        let n = n as usize;
        if ids.len() < n || values.len() < n || times.len() < n || patterns.len() < n {
            return Err(Error::new(
                Status::InvalidArg,
                "every batch array needs n entries".to_string(),
            ));
        }
        let accepted = self
            .inner
            .record_batch(&ids[..n], &values[..n], &times[..n], &patterns[..n])
            .map_err(err)?;
        // At most n <= u32::MAX events were accepted.
        Ok(accepted as u32)
    }

    /// [count, sum, min, max, mean, variance, rate, uniques] of key `id` at `now`.
    #[napi(catch_unwind)]
    pub fn stats(&self, id: u32, now: f64) -> Result<Vec<f64>> {
        let s = self
            .inner
            .stats(id, now)
            .ok_or_else(|| Error::new(Status::InvalidArg, format!("unknown key id {id}")))?;
        Ok(s.to_array().to_vec())
    }

    /// The quantiles `qs` (each in [0, 1]) of key `id` over the window at `now`; NaN when empty.
    #[napi(catch_unwind)]
    pub fn quantiles(&self, id: u32, now: f64, qs: &[f64]) -> Result<Vec<f64>> {
        let sketch = self
            .inner
            .sketch(id, now)
            .ok_or_else(|| Error::new(Status::InvalidArg, format!("unknown key id {id}")))?;
        qs.iter()
            .map(|&q| {
                sketch
                    .quantile(q)
                    .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
            })
            .collect()
    }

    /// Forgets key `id` and frees its buckets (its id goes to the next new key); false if the
    /// id is not held.
    #[napi(catch_unwind)]
    pub fn remove(&mut self, id: u32) -> bool {
        self.inner.remove_id(id)
    }

    /// Forgets every key with nothing in the window at `now`; their ids.
    #[napi(catch_unwind)]
    pub fn expire(&mut self, now: f64) -> Uint32Array {
        Uint32Array::new(self.inner.expire(now))
    }

    #[napi(getter, catch_unwind)]
    pub fn late(&self) -> f64 {
        self.inner.late() as f64
    }

    #[napi(getter, catch_unwind)]
    pub fn watermark(&self) -> f64 {
        self.inner.watermark()
    }
}
