//! napi-rs bindings of hotstats-core. Bindings only: convert at the edge, check arguments,
//! and keep panics out of Node (`catch_unwind` on every export and inside every AsyncTask).
//!
//! The TypeScript facade (`lib/`) validates user input first; the checks here are the last line.
//!
//! One binding file per capability (kernels, hll, moments, quantile, window, ingest,
//! metrics, inference, spc; `fast.rs` holds the raw `sum`/`min`/`max` callbacks). Every
//! `unsafe` block says on a `// SAFETY:` line why it holds (denied by lint).
//!
//! Typed arrays: a call reads its typed-array arguments in place, as slices. A plain
//! ArrayBuffer cannot change during a synchronous call (the JS thread waits in it); a
//! SharedArrayBuffer can be written by another thread meanwhile, and what such a racing write
//! does to the answer is the caller's affair (as with JS code reading it without Atomics): keep
//! a shared array still while a call reads it (for an async twin, until its promise settles:
//! `kernels::PoolInput` reads a shared array in place on the libuv pool). Arrays the binding writes are the facade's own,
//! on plain ArrayBuffers; a `&mut` to them never coexists with another borrow of JS memory.

#![deny(clippy::undocumented_unsafe_blocks)]

use std::panic::catch_unwind;

use napi::bindgen_prelude::*;
use napi_derive::napi;

mod fast;
mod hll;
mod inference;
mod ingest;
mod kernels;
mod metrics;
mod moments;
mod quantile;
mod spc;
mod window;

// ---- The panic glue's own tests (every capability's exports follow the same pattern) ---------

/// Test-only: panics inside Rust, to prove the panic becomes a JS Error and the process goes on.
#[napi(catch_unwind, js_name = "__panicForTest")]
pub fn panic_for_test(message: String) -> Result<()> {
    panic!("hotstats test panic: {message}");
}

pub struct PanicTask;

impl Task for PanicTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> Result<()> {
        catch_unwind(|| panic!("hotstats test panic on the libuv pool")).map_err(|_| {
            Error::new(
                Status::GenericFailure,
                "hotstats: internal panic in an async kernel",
            )
        })
    }
    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Test-only: a task whose compute panics on the libuv pool.
#[napi(
    catch_unwind,
    js_name = "__panicOnPoolForTest",
    ts_return_type = "Promise<void>"
)]
pub fn panic_on_pool_for_test() -> AsyncTask<PanicTask> {
    AsyncTask::new(PanicTask)
}
