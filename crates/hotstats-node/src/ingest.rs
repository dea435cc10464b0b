//! Binding of `hotstats_core::ingest::Ingestor`. The pool is a SharedArrayBuffer made by
//! lib/ingest/ring.ts; this object holds a strong reference to it (the Uint8Array) and stops its
//! aggregation threads before letting go, so the threads never outlive the memory. A view of a
//! plain ArrayBuffer is refused: the reference would keep the view alive, not the memory (a
//! transfer detaches it and its new owner may free it while the threads still read it).

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use std::ptr;
use std::time::Duration;

use hotstats_core::ingest::{ring::Pool, Ingestor};
use hotstats_core::window::WindowOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// The bytes of `value`, a Uint8Array on a SharedArrayBuffer (else an error), and a handle that
/// keeps the array, so its buffer, alive while it is held.
fn shared_bytes(env: &Env, value: Unknown<'_>) -> Result<(*mut u8, usize, Uint8Array)> {
    let raw = value.raw();
    let (mut ty, mut len, mut data, mut buffer) = (0, 0usize, ptr::null_mut(), ptr::null_mut());
    // SAFETY: `raw` is a value of this call on the JS thread; the out-pointers are locals.
    let status = unsafe {
        napi::sys::napi_get_typedarray_info(
            env.raw(),
            raw,
            &mut ty,
            &mut len,
            &mut data,
            &mut buffer,
            ptr::null_mut(),
        )
    };
    if status != napi::sys::Status::napi_ok || ty != napi::sys::TypedarrayType::uint8_array {
        return Err(invalid("memory must be a Uint8Array"));
    }
    let mut plain = false;
    // SAFETY: `buffer` is the array's buffer, just returned by Node for this call.
    let status = unsafe { napi::sys::napi_is_arraybuffer(env.raw(), buffer, &mut plain) };
    // `napi_is_arraybuffer` is false for a SharedArrayBuffer (a typed array's only other kind).
    if status != napi::sys::Status::napi_ok || plain {
        return Err(invalid(
            "memory must be a Uint8Array on a SharedArrayBuffer (an ingest pool)",
        ));
    }
    // SAFETY: `raw` is a live value of this call, checked above to be a Uint8Array.
    let handle = unsafe { Uint8Array::from_napi_value(env.raw(), raw) }?;
    Ok((data as *mut u8, len, handle))
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
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "memory: Uint8Array, windowMs: number, buckets: number, relativeAccuracy: number, allowedLatenessMs: number, threads: number"
    )]
    pub fn new(
        env: Env,
        memory: Unknown<'_>,
        window_ms: f64,
        buckets: u32,
        relative_accuracy: f64,
        allowed_lateness_ms: f64,
        threads: i32,
    ) -> Result<Self> {
        let (ptr, len, memory) = shared_bytes(&env, memory)?;
        // SAFETY: `ptr` and `len` are the array's bytes, writable, on a SharedArrayBuffer (checked
        // by `shared_bytes`), which cannot be detached; `memory`, kept in this object, keeps it
        // alive, and the object drops `inner` (joining the threads that use the pool) before it.
        // Other threads reach it only through JS Atomics and typed arrays (lib/ingest/ring.ts).
        // `open` checks the alignment and the header.
        let pool = unsafe { Pool::open(ptr, len) }.map_err(invalid)?;
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
