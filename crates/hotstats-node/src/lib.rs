//! napi-rs bindings of hotstats-core. Bindings only: convert at the edge, check arguments,
//! and keep panics out of Node (`catch_unwind` on every export and inside every AsyncTask).
//!
//! The TypeScript facade (`lib/`) validates user input first; the checks here are the last line.

use std::panic::{catch_unwind, AssertUnwindSafe};

use hotstats_core::kernels::{Backend, Kernels, Summary as CoreSummary};
use napi::bindgen_prelude::*;
use napi_derive::napi;

mod fast;
mod inference;
mod ingest;
mod metrics;
mod spc;
mod window;

/// The process-wide backend, chosen once (shared by every worker_thread: Rust statics are).
/// It is the core's own choice, so every kernel the core runs for a binding (sketch bucket
/// indices, window and metrics summaries) uses it too.
pub(crate) fn selected() -> Kernels {
    *hotstats_core::kernels::selected()
}

/// Kernels for an explicit backend id (index into `nativeBackends()`), or the selected ones.
pub(crate) fn kernels(backend: Option<u32>) -> Result<Kernels> {
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
    Ok(kernels(backend)?.variance(x, ddof))
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
    Ok(kernels(backend)?.summarize(x, ddof).into())
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
    let kernels = kernels(backend)?;
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

// ---- HyperLogLog (state: a 16384-byte register array owned by the JS object) --------------

use hotstats_core::hll;

fn registers_mut(r: &mut Uint8Array) -> Result<&mut [u8; hll::REGISTERS]> {
    let len = r.len();
    // SAFETY: the array is an argument of this synchronous call, on the JS thread: nothing else
    // reads or writes it until the call returns, and the slice does not outlive the call.
    let bytes = unsafe { r.as_mut() };
    bytes.try_into().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!("registers must be {} bytes, got {len}", hll::REGISTERS),
        )
    })
}

fn registers(r: &[u8]) -> Result<&[u8; hll::REGISTERS]> {
    r.try_into().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!(
                "registers must be {} bytes, got {}",
                hll::REGISTERS,
                r.len()
            ),
        )
    })
}

/// Adds every byte string to the registers; returns whether any changed.
#[napi(catch_unwind)]
pub fn hll_add_bytes(mut regs: Uint8Array, items: Vec<Uint8Array>) -> Result<bool> {
    let r = registers_mut(&mut regs)?;
    let mut changed = false;
    for b in &items {
        changed |= hll::add(r, b);
    }
    Ok(changed)
}

/// Redis's cardinality estimate of the registers.
#[napi(catch_unwind)]
pub fn hll_count(regs: &[u8]) -> Result<f64> {
    let r = registers(regs)?;
    if r.iter().any(|&v| v > hll::MAX_VALUE) {
        return Err(Error::new(Status::InvalidArg, "register value above 51"));
    }
    Ok(hll::estimate(r) as f64)
}

/// Union into `into` (register-wise max).
#[napi(catch_unwind)]
pub fn hll_merge(mut into: Uint8Array, other: &[u8]) -> Result<()> {
    let a = registers_mut(&mut into)?;
    let b = registers(other)?;
    hll::merge(a, b);
    Ok(())
}

/// Redis's dense string for the registers (cached cardinality marked stale).
#[napi(catch_unwind)]
pub fn hll_to_redis(regs: &[u8]) -> Result<Uint8Array> {
    Ok(hll::redis::to_redis_dense(registers(regs)?).into())
}

/// Registers (16384 bytes) from a Redis HLL string, dense or sparse; an Error for bad bytes.
#[napi(catch_unwind)]
pub fn hll_from_redis(bytes: &[u8]) -> Result<Uint8Array> {
    let regs = hll::redis::from_redis(bytes)
        .map_err(|e| Error::new(Status::InvalidArg, format!("not a Redis HyperLogLog: {e}")))?;
    Ok(regs.to_vec().into())
}

// ---- Moments (state: a Float64Array of 9 fields owned by the JS object) ------------------
// Layout: [count, sum, min, max, shift, mean, m2, m3, m4], as lib/js/moments.ts.

use hotstats_core::moments::Moments;

fn moments_from(state: &[f64]) -> Result<Moments> {
    if state.len() != 9 {
        return Err(Error::new(
            Status::InvalidArg,
            format!("moments state must have 9 fields, got {}", state.len()),
        ));
    }
    let count = state[0];
    if !((0.0..=9_007_199_254_740_992.0).contains(&count) && count.fract() == 0.0) {
        return Err(Error::new(
            Status::InvalidArg,
            format!("moments count must be a whole number, got {count}"),
        ));
    }
    Ok(Moments {
        count: count as u64,
        sum: state[1],
        min: state[2],
        max: state[3],
        shift: state[4],
        mean: state[5],
        m2: state[6],
        m3: state[7],
        m4: state[8],
    })
}

fn moments_into(m: &Moments, state: &mut [f64]) {
    let fields = [
        m.count as f64,
        m.sum,
        m.min,
        m.max,
        m.shift,
        m.mean,
        m.m2,
        m.m3,
        m.m4,
    ];
    state.copy_from_slice(&fields);
}

/// Adds every value of `x` to the moments state in place.
#[napi(catch_unwind)]
pub fn moments_add_many(mut state: Float64Array, x: &[f64]) -> Result<()> {
    // Moments take finite values only (as every class): checked before anything is added.
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "xs[{i}] must be finite, got {}",
                match x[i] {
                    v if v.is_nan() => "NaN",
                    v if v > 0.0 => "Infinity",
                    _ => "-Infinity",
                }
            ),
        ));
    }
    let mut m = moments_from(&state)?;
    m.add_all(x);
    // SAFETY: `state` is an argument of this synchronous call on the JS thread; nothing else
    // touches it until the call returns.
    moments_into(&m, unsafe { state.as_mut() });
    Ok(())
}

/// Pébay merge of `other` into `into`, in place.
#[napi(catch_unwind)]
pub fn moments_merge(mut into: Float64Array, other: &[f64]) -> Result<()> {
    let mut a = moments_from(&into)?;
    a.merge(&moments_from(other)?);
    // SAFETY: as in moments_add_many.
    moments_into(&a, unsafe { into.as_mut() });
    Ok(())
}

#[napi(catch_unwind)]
pub fn moments_serialize(state: &[f64]) -> Result<Uint8Array> {
    Ok(moments_from(state)?.serialize().to_vec().into())
}

/// The 9-field state from serialized bytes; an Error for bad bytes.
#[napi(catch_unwind)]
pub fn moments_deserialize(bytes: &[u8]) -> Result<Vec<f64>> {
    let m = Moments::deserialize(bytes)
        .map_err(|e| Error::new(Status::InvalidArg, format!("not serialized Moments: {e}")))?;
    let mut out = vec![0.0; 9];
    moments_into(&m, &mut out);
    Ok(out)
}

// ---- CRDT counters: merges of serialized states (the JS classes hold the state) ----------

use hotstats_core::counters::{GCounter, PNCounter};

fn counter_error(e: hotstats_core::counters::CounterError) -> Error {
    Error::new(Status::InvalidArg, format!("not a serialized counter: {e}"))
}

/// Merge of two serialized GCounters, serialized (per-key maximum).
#[napi(catch_unwind)]
pub fn gcounter_merge(a: &[u8], b: &[u8]) -> Result<Uint8Array> {
    let mut x = GCounter::deserialize(a).map_err(counter_error)?;
    x.merge(&GCounter::deserialize(b).map_err(counter_error)?);
    Ok(x.serialize().into())
}

/// Merge of two serialized PNCounters, serialized.
#[napi(catch_unwind)]
pub fn pncounter_merge(a: &[u8], b: &[u8]) -> Result<Uint8Array> {
    let mut x = PNCounter::deserialize(a).map_err(counter_error)?;
    x.merge(&PNCounter::deserialize(b).map_err(counter_error)?);
    Ok(x.serialize().into())
}

// ---- QuantileSketch ----------------------------------------------------------------------

use hotstats_core::quantile::{QuantileSketch as CoreSketch, SketchError};

fn sketch_error(e: SketchError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// The native state of a QuantileSketch (the TS class `QuantileSketch` stages values and
/// calls this in batches).
#[napi]
pub struct NativeQuantileSketch {
    inner: CoreSketch,
}

#[napi]
impl NativeQuantileSketch {
    #[napi(constructor, catch_unwind)]
    pub fn new(relative_accuracy: f64, max_bins: f64) -> Result<Self> {
        if !(max_bins.fract() == 0.0 && max_bins >= 1.0) {
            return Err(sketch_error(SketchError::MaxBins(0)));
        }
        Ok(NativeQuantileSketch {
            inner: CoreSketch::new(relative_accuracy, max_bins as u64).map_err(sketch_error)?,
        })
    }

    /// Adds every value with weight 1 (all checked first).
    #[napi(catch_unwind)]
    pub fn add_many(&mut self, x: &[f64]) -> Result<()> {
        self.inner.add_all(x).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn add_weighted(&mut self, v: f64, w: f64) -> Result<()> {
        self.inner.add(v, w).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn quantile(&self, q: f64) -> Result<f64> {
        self.inner.quantile(q).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>> {
        qs.iter()
            .map(|&q| self.inner.quantile(q).map_err(sketch_error))
            .collect()
    }

    #[napi(catch_unwind)]
    pub fn rank(&self, v: f64) -> f64 {
        self.inner.rank(v)
    }

    /// [count, sum, min, max]
    #[napi(catch_unwind)]
    pub fn stats(&self) -> Vec<f64> {
        vec![
            self.inner.count,
            self.inner.sum,
            self.inner.min,
            self.inner.max,
        ]
    }

    #[napi(catch_unwind)]
    pub fn merge(&mut self, other: &NativeQuantileSketch) -> Result<()> {
        self.inner.merge(&other.inner).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    #[napi(catch_unwind)]
    pub fn serialize(&self) -> Uint8Array {
        self.inner.serialize().into()
    }

    #[napi(factory, catch_unwind)]
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        Ok(NativeQuantileSketch {
            inner: CoreSketch::deserialize(bytes).map_err(sketch_error)?,
        })
    }
}

/// Adds elements packed back to back in `bytes`, element i being the next `lengths[i]` bytes
/// (the TS class packs strings as UTF-8 this way: one call, no per-element Node-API work).
/// Lengths that overrun `bytes` are an error and nothing is added.
#[napi(catch_unwind)]
pub fn hll_add_packed(mut regs: Uint8Array, bytes: &[u8], lengths: &[u32]) -> Result<bool> {
    let total: u64 = lengths.iter().map(|&l| l as u64).sum();
    if total > bytes.len() as u64 {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "lengths add up to {total} bytes, more than the {} given",
                bytes.len()
            ),
        ));
    }
    let r = registers_mut(&mut regs)?;
    let mut at = 0usize;
    let mut changed = false;
    for &l in lengths {
        let end = at + l as usize;
        changed |= hll::add(r, &bytes[at..end]);
        at = end;
    }
    Ok(changed)
}
