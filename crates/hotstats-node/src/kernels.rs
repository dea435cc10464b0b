//! Binding of the float64 summary kernels (`hotstats_core::kernels`): backend choice, the
//! synchronous kernels with a napi signature (`sum`, `min` and `max` are raw callbacks in
//! `fast.rs`) and their async twins on the libuv pool.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use hotstats_core::kernels::{Backend, Kernels, Summary as CoreSummary};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::fast;

/// The process-wide backend, chosen once (shared by every worker_thread: Rust statics are).
/// It is the core's own choice, so every kernel the core runs for a binding (sketch bucket
/// indices, window and metrics summaries) uses it too.
pub(crate) fn selected() -> Kernels {
    *hotstats_core::kernels::selected()
}

/// Kernels for an explicit backend id (index into `nativeBackends()`), or the selected ones.
pub(crate) fn for_backend(backend: Option<u32>) -> Result<Kernels> {
    match backend {
        None => Ok(selected()),
        Some(id) => {
            let b = Backend::ALL.get(id as usize).ok_or_else(|| {
                Error::new(
                    Status::InvalidArg,
                    format!("backend id {id} is out of range 0..{}", Backend::ALL.len()),
                )
            })?;
            b.kernels()
                .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
        }
    }
}

fn check_ddof(ddof: f64) -> Result<f64> {
    if ddof.is_finite() && ddof >= 0.0 {
        Ok(ddof)
    } else {
        Err(Error::new(
            Status::InvalidArg,
            format!("ddof must be a finite number >= 0, got {ddof}"),
        ))
    }
}

/// Chooses the process-wide native backend once ("auto", "scalar", "avx2", "avx512" or "neon")
/// and returns its name. Errors if the CPU cannot run it, or if another backend was already chosen.
#[napi(catch_unwind)]
pub fn select_backend(name: String) -> Result<String> {
    let got = Backend::parse(&name)
        .and_then(hotstats_core::kernels::select)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
    Ok(got.backend().name().to_string())
}

/// The native backend in use (chosen on first use if `selectBackend` was not called).
#[napi(catch_unwind)]
pub fn selected_backend() -> String {
    selected().backend().name().to_string()
}

/// Native backend names by id (the id is the index), with whether this CPU runs each.
#[napi(object)]
pub struct NativeBackend {
    pub id: u32,
    pub name: String,
    pub supported: bool,
    pub reason: Option<String>,
}

#[napi(catch_unwind)]
pub fn native_backends() -> Vec<NativeBackend> {
    Backend::ALL
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let check = b.check();
            NativeBackend {
                id: i as u32,
                name: b.name().to_string(),
                supported: check.is_ok(),
                reason: check.err().map(|e| e.to_string()),
            }
        })
        .collect()
}

/// CPU features detected at run time (those hotstats looks at).
#[napi(catch_unwind)]
pub fn cpu_features() -> Vec<String> {
    hotstats_core::kernels::cpu_features()
        .into_iter()
        .map(String::from)
        .collect()
}

/// Registers the raw per-call-cost-sensitive exports (`sum`, `min`, `max`): see `fast.rs`.
/// Runs at load (not a JS-callable export), with no panic crossing into Node all the same.
#[napi(module_exports)]
pub fn register_fast_exports(exports: Object) -> Result<()> {
    catch_unwind(AssertUnwindSafe(|| fast::register(exports))).unwrap_or_else(|_| {
        Err(Error::new(
            Status::GenericFailure,
            "hotstats: internal panic while registering sum/min/max",
        ))
    })
}

#[napi(catch_unwind)]
pub fn variance(x: &[f64], ddof: f64, backend: Option<u32>) -> Result<f64> {
    let ddof = check_ddof(ddof)?;
    Ok(for_backend(backend)?.variance(x, ddof))
}

/// count, sum, mean, min, max, variance and stddev.
#[napi(object)]
pub struct Summary {
    pub count: f64,
    pub sum: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub variance: f64,
    pub stddev: f64,
}

impl From<CoreSummary> for Summary {
    fn from(s: CoreSummary) -> Self {
        Summary {
            count: s.count,
            sum: s.sum,
            mean: s.mean,
            min: s.min,
            max: s.max,
            variance: s.variance,
            stddev: s.stddev,
        }
    }
}

#[napi(catch_unwind)]
pub fn summarize(x: &[f64], ddof: f64, backend: Option<u32>) -> Result<Summary> {
    let ddof = check_ddof(ddof)?;
    Ok(for_backend(backend)?.summarize(x, ddof).into())
}

/// What an async kernel task computes.
#[derive(Clone, Copy)]
enum Op {
    Sum,
    MinMax,
    Variance,
    Summary,
}

/// What an async kernel reads on the libuv pool: memory the caller cannot free meanwhile.
///
/// A plain ArrayBuffer can be detached (transferred to a worker, `ArrayBuffer.prototype.transfer`)
/// while the task is pending, and its new owner may free the memory: a reference to the
/// Float64Array keeps the view alive, not the memory. So such input is copied on the JS thread
/// before the task is queued. A SharedArrayBuffer cannot be detached, and the reference keeps
/// it (and so its memory, shared by every thread holding it) alive until the task is dropped:
/// read in place. (The facade copies large plain arrays into a SharedArrayBuffer in chunks
/// across event-loop turns, so the copy here never blocks the event loop for long.)
enum PoolInput {
    Copied(Vec<f64>),
    Shared(Float64Array),
}

impl PoolInput {
    /// Checks that `value` is a Float64Array and takes it as pool input (see above).
    fn new(env: Env, value: Unknown<'_>) -> Result<PoolInput> {
        let raw = value.raw();
        let mut ty = 0;
        let mut len = 0usize;
        let mut data = std::ptr::null_mut();
        let mut buffer = std::ptr::null_mut();
        // SAFETY: `raw` is a value of this call on the JS thread; the out-pointers are locals.
        let status = unsafe {
            napi::sys::napi_get_typedarray_info(
                env.raw(),
                raw,
                &mut ty,
                &mut len,
                &mut data,
                &mut buffer,
                std::ptr::null_mut(),
            )
        };
        if status != napi::sys::Status::napi_ok || ty != napi::sys::TypedarrayType::float64_array {
            let msg = "x must be a Float64Array";
            env.throw_type_error(msg, None)?;
            return Err(Error::new(Status::PendingException, msg.to_string()));
        }
        let mut plain = false;
        // SAFETY: `buffer` is the array's buffer, just returned by Node for this call.
        let status = unsafe { napi::sys::napi_is_arraybuffer(env.raw(), buffer, &mut plain) };
        if status != napi::sys::Status::napi_ok {
            return Err(Error::new(
                Status::GenericFailure,
                "could not inspect the array's buffer".to_string(),
            ));
        }
        if plain {
            // `napi_is_arraybuffer` is false for a SharedArrayBuffer: this one is detachable.
            let x: &[f64] = if len == 0 || data.is_null() {
                &[]
            } else {
                // SAFETY: Node reported a Float64Array of `len` elements at `data` (8-aligned);
                // the slice is read now, on the JS thread, where nothing can detach it.
                unsafe { std::slice::from_raw_parts(data as *const f64, len) }
            };
            Ok(PoolInput::Copied(x.to_vec()))
        } else {
            // SAFETY: `raw` is a live value of this call; checked above to be a Float64Array.
            let shared = unsafe { Float64Array::from_napi_value(env.raw(), raw) }?;
            Ok(PoolInput::Shared(shared))
        }
    }

    fn as_slice(&self) -> &[f64] {
        match self {
            PoolInput::Copied(v) => v,
            PoolInput::Shared(a) => a,
        }
    }
}

/// A kernel run on the libuv pool, over a private copy of the caller's array or a
/// SharedArrayBuffer it keeps alive (see [`PoolInput`] and README "Async twins").
pub struct KernelTask {
    data: PoolInput,
    kernels: Kernels,
    op: Op,
    ddof: f64,
}

impl Task for KernelTask {
    type Output = CoreSummary;
    type JsValue = Summary;

    fn compute(&mut self) -> Result<Self::Output> {
        let data: &[f64] = self.data.as_slice();
        let k = self.kernels;
        let (op, ddof) = (self.op, self.ddof);
        catch_unwind(AssertUnwindSafe(|| {
            let nan = f64::NAN;
            let n = data.len() as f64;
            match op {
                Op::Sum => {
                    let s = k.sum(data);
                    CoreSummary {
                        count: n,
                        sum: s,
                        mean: nan,
                        min: nan,
                        max: nan,
                        variance: nan,
                        stddev: nan,
                    }
                }
                Op::MinMax => {
                    let mm = k.min_max(data);
                    CoreSummary {
                        count: n,
                        sum: nan,
                        mean: nan,
                        min: mm.min,
                        max: mm.max,
                        variance: nan,
                        stddev: nan,
                    }
                }
                Op::Variance => {
                    let v = k.variance(data, ddof);
                    CoreSummary {
                        count: n,
                        sum: nan,
                        mean: nan,
                        min: nan,
                        max: nan,
                        variance: v,
                        stddev: v.sqrt(),
                    }
                }
                Op::Summary => k.summarize(data, ddof),
            }
        }))
        .map_err(|_| {
            Error::new(
                Status::GenericFailure,
                "hotstats: internal panic in an async kernel",
            )
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into())
    }
}

fn task(
    env: Env,
    x: Unknown<'_>,
    op: Op,
    ddof: f64,
    backend: Option<u32>,
) -> Result<AsyncTask<KernelTask>> {
    // Validate everything before copying anything.
    let ddof = check_ddof(ddof)?;
    let kernels = for_backend(backend)?;
    Ok(AsyncTask::new(KernelTask {
        data: PoolInput::new(env, x)?,
        kernels,
        op,
        ddof,
    }))
}

/// Sum on the libuv pool; resolves to a Summary whose `sum` and `count` are set.
/// A Float64Array on a plain ArrayBuffer is copied first; on a SharedArrayBuffer it is read in
/// place (see `PoolInput`).
#[napi(
    catch_unwind,
    ts_args_type = "x: Float64Array, backend?: number | undefined | null",
    ts_return_type = "Promise<Summary>"
)]
pub fn sum_async(env: Env, x: Unknown<'_>, backend: Option<u32>) -> Result<AsyncTask<KernelTask>> {
    task(env, x, Op::Sum, 0.0, backend)
}

/// Min and max on the libuv pool; resolves to a Summary whose `min`, `max` and `count` are set.
#[napi(
    catch_unwind,
    ts_args_type = "x: Float64Array, backend?: number | undefined | null",
    ts_return_type = "Promise<Summary>"
)]
pub fn min_max_async(
    env: Env,
    x: Unknown<'_>,
    backend: Option<u32>,
) -> Result<AsyncTask<KernelTask>> {
    task(env, x, Op::MinMax, 0.0, backend)
}

/// Variance on the libuv pool; resolves to a Summary whose `variance`, `stddev` and `count` are set.
#[napi(
    catch_unwind,
    ts_args_type = "x: Float64Array, ddof: number, backend?: number | undefined | null",
    ts_return_type = "Promise<Summary>"
)]
pub fn variance_async(
    env: Env,
    x: Unknown<'_>,
    ddof: f64,
    backend: Option<u32>,
) -> Result<AsyncTask<KernelTask>> {
    task(env, x, Op::Variance, ddof, backend)
}

/// Full summary on the libuv pool.
#[napi(
    catch_unwind,
    ts_args_type = "x: Float64Array, ddof: number, backend?: number | undefined | null",
    ts_return_type = "Promise<Summary>"
)]
pub fn summarize_async(
    env: Env,
    x: Unknown<'_>,
    ddof: f64,
    backend: Option<u32>,
) -> Result<AsyncTask<KernelTask>> {
    task(env, x, Op::Summary, ddof, backend)
}
