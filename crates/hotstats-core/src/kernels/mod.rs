//! Float64 summary kernels: sum, mean, min, max, variance, standard deviation, summary.
//!
//! Every backend (AVX-512, AVX2, NEON, scalar Rust, and the TypeScript port in `lib/kernels/js.ts`)
//! computes the same IEEE operations in the same order (see [`lanes`]), so a given input gives
//! the same bits everywhere. Choose a backend once with [`Backend::detect`] or
//! [`Backend::parse`], then keep the returned [`Kernels`] (a table of function pointers).
//!
//! Public contract of every kernel:
//! - empty input: `sum` is `0`, `count` is `0`, `mean`/`min`/`max`/`variance`/`stddev` are NaN;
//! - NaN anywhere: `sum`, `mean`, `min`, `max`, `variance` and `stddev` are NaN;
//! - ±Infinity: `sum`/`mean`/`min`/`max` follow IEEE (`+Inf + -Inf` is NaN); `variance` is NaN;
//! - overflow: a sum whose exact value exceeds the double range gives ±Infinity (and then the
//!   variance is NaN); finite partial sums never overflow early because lanes are independent;
//! - `min`/`max` follow JavaScript's `Math.min`/`Math.max`: -0 is less than +0;
//! - `sum` is compensated (see [`lanes`]): within 2 ulps of the exactly rounded sum unless the
//!   condition number `Σ|x| / |Σx|` exceeds about 1e30 / n; a certified fast pass answers most
//!   inputs, the cascaded pass the ill-conditioned rest;
//! - a sum whose only terms are zeros is `+0`, even if they are all `-0`.

// Every `unsafe` block here says why it is sound (the crate gets the same lint; this keeps the
// kernels checked on their own).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod lanes;
pub mod scalar;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod simd;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(target_arch = "aarch64")]
pub mod neon;

use core::fmt;

pub use lanes::{finish_fast, js_max, js_min, reduce, FastLanes, Lanes, MinMax, LANES};

/// A native kernel backend. (`js`, the fourth backend, lives in the TypeScript layer.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Scalar,
    Avx2,
    Neon,
    Avx512,
}

/// Why a backend cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// The name is not one of `auto`, `scalar`, `avx2`, `avx512`, `neon` (`js` is handled above
    /// this crate).
    Unknown(String),
    /// The backend exists but this CPU or build cannot run it.
    Unsupported { backend: Backend, reason: String },
    /// [`select`] was already called (or [`selected`] used) with another backend.
    AlreadySelected { selected: Backend, wanted: Backend },
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Unknown(name) => write!(
                f,
                "unknown backend {name:?}: expected one of auto, js, scalar, avx2, avx512, neon"
            ),
            BackendError::Unsupported { backend, reason } => {
                write!(f, "backend {:?} cannot run here: {reason}", backend.name())
            }
            BackendError::AlreadySelected { selected, wanted } => write!(
                f,
                "backend {:?} was already chosen for this process; cannot switch to {:?}",
                selected.name(),
                wanted.name()
            ),
        }
    }
}

impl std::error::Error for BackendError {}

impl Backend {
    /// Every native backend, in a fixed order (stable ids for the bindings: new ones go last).
    pub const ALL: [Backend; 4] = [
        Backend::Scalar,
        Backend::Avx2,
        Backend::Neon,
        Backend::Avx512,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Avx2 => "avx2",
            Backend::Neon => "neon",
            Backend::Avx512 => "avx512",
        }
    }

    /// Parses a backend name. `"auto"` (or an empty string) means [`Backend::detect`].
    pub fn parse(name: &str) -> Result<Backend, BackendError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Backend::detect()),
            "scalar" => Ok(Backend::Scalar),
            "avx2" => Ok(Backend::Avx2),
            "avx512" => Ok(Backend::Avx512),
            "neon" => Ok(Backend::Neon),
            other => Err(BackendError::Unknown(other.to_string())),
        }
    }

    /// The fastest backend this CPU runs: AVX-512, else AVX2 (x86_64); NEON (aarch64); scalar.
    pub fn detect() -> Backend {
        Backend::fastest(|b| b.check().is_ok())
    }

    /// The first backend `runs` accepts in order of preference (AVX-512, AVX2, NEON), else
    /// scalar: [`Backend::detect`]'s choice, apart from the CPU so that it can be tested.
    fn fastest(runs: impl Fn(Backend) -> bool) -> Backend {
        [Backend::Avx512, Backend::Avx2, Backend::Neon]
            .into_iter()
            .find(|&b| runs(b))
            .unwrap_or(Backend::Scalar)
    }

    /// Ok if this CPU and build can run the backend; otherwise why not.
    pub fn check(self) -> Result<(), BackendError> {
        let unsupported = |reason: &str| {
            Err(BackendError::Unsupported {
                backend: self,
                reason: reason.to_string(),
            })
        };
        match self {
            Backend::Scalar => Ok(()),
            Backend::Avx2 => {
                #[cfg(target_arch = "x86_64")]
                {
                    if is_x86_feature_detected!("avx") && is_x86_feature_detected!("avx2") {
                        Ok(())
                    } else {
                        unsupported("this x86_64 CPU lacks AVX2")
                    }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unsupported("AVX2 exists only on x86_64")
                }
            }
            Backend::Avx512 => {
                // Every sub-feature this backend's kernels use: F for the lanes, min/max and
                // sketch indices, AVX2 for the histogram bucket kernel it shares with `avx2`.
                #[cfg(target_arch = "x86_64")]
                {
                    if is_x86_feature_detected!("avx512f")
                        && is_x86_feature_detected!("avx")
                        && is_x86_feature_detected!("avx2")
                    {
                        Ok(())
                    } else {
                        unsupported("this x86_64 CPU lacks AVX-512F")
                    }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unsupported("AVX-512 exists only on x86_64")
                }
            }
            Backend::Neon => {
                #[cfg(target_arch = "aarch64")]
                {
                    if std::arch::is_aarch64_feature_detected!("neon") {
                        Ok(())
                    } else {
                        unsupported("this aarch64 CPU lacks NEON")
                    }
                }
                #[cfg(not(target_arch = "aarch64"))]
                {
                    unsupported("NEON exists only on aarch64")
                }
            }
        }
    }

    /// The kernel table of this backend, after checking the CPU can run it.
    pub fn kernels(self) -> Result<Kernels, BackendError> {
        self.check()?;
        Ok(match self {
            Backend::Scalar => Kernels {
                backend: self,
                sum: sum_scalar,
                fast_lanes: scalar::fast_lanes,
                sum_lanes: scalar::sum_lanes,
                dev_lanes: scalar::dev_lanes,
                min_max: scalar::min_max,
                bucket_indices: scalar::bucket_indices,
                quantile_indices: quantile_indices_scalar,
            },
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => Kernels {
                backend: self,
                sum: avx2_entry::sum,
                fast_lanes: avx2_entry::fast_lanes,
                sum_lanes: avx2_entry::sum_lanes,
                dev_lanes: avx2_entry::dev_lanes,
                min_max: avx2_entry::min_max,
                bucket_indices: avx2_entry::bucket_indices,
                quantile_indices: avx2_entry::quantile_indices,
            },
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => Kernels {
                backend: self,
                sum: avx512_entry::sum,
                fast_lanes: avx512_entry::fast_lanes,
                sum_lanes: avx512_entry::sum_lanes,
                dev_lanes: avx512_entry::dev_lanes,
                min_max: avx512_entry::min_max,
                // The AVX2 histogram kernel (this backend's check includes AVX2): the same indices.
                bucket_indices: avx2_entry::bucket_indices,
                quantile_indices: avx512_entry::quantile_indices,
            },
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => Kernels {
                backend: self,
                sum: neon_entry::sum,
                fast_lanes: neon_entry::fast_lanes,
                sum_lanes: neon_entry::sum_lanes,
                dev_lanes: neon_entry::dev_lanes,
                min_max: neon_entry::min_max,
                // NEON is the aarch64 baseline: the scalar build already vectorizes it.
                bucket_indices: scalar::bucket_indices,
                quantile_indices: neon_entry::quantile_indices,
            },
            #[allow(unreachable_patterns)]
            _ => unreachable!("check() rejected backends this build lacks"),
        })
    }
}

/// The process-wide kernels, chosen once: by [`select`] (the bindings call it for
/// `HOTSTATS_BACKEND`), else [`Backend::detect`] on first use. Every kernel inside this crate
/// (sketch bucket indices, window and metrics summaries, inference sums) goes through this
/// table, so a forced backend is the only one that runs.
static SELECTED: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();

/// The process-wide kernels (see [`select`]); [`Backend::detect`]'s if none was chosen yet.
pub fn selected() -> &'static Kernels {
    SELECTED.get_or_init(|| {
        Backend::detect()
            .kernels()
            .expect("the detected backend runs here")
    })
}

/// Chooses the process-wide backend once. Choosing the one already chosen is fine; another
/// one, or one this CPU cannot run, is an error (and nothing changes).
pub fn select(backend: Backend) -> Result<&'static Kernels, BackendError> {
    let wanted = backend.kernels()?;
    let got = SELECTED.get_or_init(|| wanted);
    if got.backend() != backend {
        return Err(BackendError::AlreadySelected {
            selected: got.backend(),
            wanted: backend,
        });
    }
    Ok(got)
}

/// The CPU features hotstats looks at, as detected at run time (for `cpuFeatures()`).
pub fn cpu_features() -> Vec<&'static str> {
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("sse2") {
            out.push("sse2");
        }
        if is_x86_feature_detected!("avx") {
            out.push("avx");
        }
        if is_x86_feature_detected!("avx2") {
            out.push("avx2");
        }
        if is_x86_feature_detected!("fma") {
            out.push("fma");
        }
        if is_x86_feature_detected!("avx512f") {
            out.push("avx512f");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            out.push("neon");
        }
    }
    out
}

// Safe entry points to the `#[target_feature]` kernels. They are only reachable through a
// `Kernels` table, and `Backend::kernels` builds that table only after `check()` succeeded.
/// The whole of `sum` over one backend's lane passes: the short-input shortcut, the fast pass and
/// its certificate, else the cascaded pass. `#[inline(always)]` so that each backend's entry
/// compiles it, the reduction tree included, with that backend's instruction set (the tree is
/// the fixed cost of short sums: LLVM vectorizes it without reordering any operation).
#[inline(always)]
fn sum_with(
    x: &[f64],
    fast: impl Fn(&[f64]) -> FastLanes,
    cascaded: impl Fn(&[f64]) -> Lanes,
) -> f64 {
    if x.len() <= LANES {
        // One element per lane: both passes leave lane l = (x[l] + 0, 0, 0) (TwoSum and
        // Neumaier with +0 commit no error), so the tree alone gives their common answer.
        let mut lanes = Lanes::default();
        for (l, &v) in x.iter().enumerate() {
            lanes.s[l] = v + 0.0;
        }
        return canonical(reduce(&lanes));
    }
    match finish_fast(&fast(x), x.len()) {
        Some(r) => r,
        None => canonical(reduce(&cascaded(x))),
    }
}

fn sum_scalar(x: &[f64]) -> f64 {
    sum_with(x, scalar::fast_lanes, scalar::sum_lanes)
}

#[cfg(target_arch = "x86_64")]
mod avx512_entry {
    use super::{avx512, FastLanes, Lanes, MinMax};
    /// `sum` compiled for AVX-512 (see `sum_with`).
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn sum_avx512(x: &[f64]) -> f64 {
        super::sum_with(
            x,
            // SAFETY: this function's contract (AVX-512F runs here).
            |x| unsafe { avx512::fast_lanes(x) },
            // SAFETY: as the line above.
            |x| unsafe { avx512::sum_lanes(x) },
        )
    }
    pub fn sum(x: &[f64]) -> f64 {
        // SAFETY: only called through a Kernels table built after the AVX-512F check.
        unsafe { sum_avx512(x) }
    }
    pub fn fast_lanes(x: &[f64]) -> FastLanes {
        // SAFETY: only called through a Kernels table built after the AVX-512F check.
        unsafe { avx512::fast_lanes(x) }
    }
    pub fn sum_lanes(x: &[f64]) -> Lanes {
        // SAFETY: only called through a Kernels table built after the AVX-512F check.
        unsafe { avx512::sum_lanes(x) }
    }
    pub fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
        // SAFETY: only called through a Kernels table built after the AVX-512F check.
        unsafe { avx512::dev_lanes(x, m) }
    }
    pub fn min_max(x: &[f64]) -> MinMax {
        // SAFETY: only called through a Kernels table built after the AVX-512F check.
        unsafe { avx512::min_max(x) }
    }
    pub fn quantile_indices(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
        assert!(out.len() >= xs.len(), "out is shorter than xs");
        // SAFETY: only called through a Kernels table built after the AVX-512F check; `out`
        // holds xs.len() indices (asserted).
        unsafe { crate::quantile::mapping::index_many_avx512(multiplier, xs, floor, out) }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2_entry {
    use super::{avx2, FastLanes, Lanes, MinMax};
    /// `sum` compiled for AVX2 (see `sum_with`).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn sum_avx2(x: &[f64]) -> f64 {
        super::sum_with(
            x,
            // SAFETY: this function's contract (AVX2 runs here).
            |x| unsafe { avx2::fast_lanes(x) },
            // SAFETY: as the line above.
            |x| unsafe { avx2::sum_lanes(x) },
        )
    }
    pub fn sum(x: &[f64]) -> f64 {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { sum_avx2(x) }
    }
    pub fn fast_lanes(x: &[f64]) -> FastLanes {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { avx2::fast_lanes(x) }
    }
    pub fn sum_lanes(x: &[f64]) -> Lanes {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { avx2::sum_lanes(x) }
    }
    pub fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { avx2::dev_lanes(x, m) }
    }
    pub fn min_max(x: &[f64]) -> MinMax {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { avx2::min_max(x) }
    }
    pub fn bucket_indices(bounds: &[f64], xs: &[f64], out: &mut [u32]) {
        // SAFETY: only called through a Kernels table built after the AVX2 check.
        unsafe { avx2::bucket_indices(bounds, xs, out) }
    }
    pub fn quantile_indices(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
        assert!(out.len() >= xs.len(), "out is shorter than xs");
        // SAFETY: only called through a Kernels table built after the AVX2 check; `out` holds
        // xs.len() indices (asserted).
        unsafe { crate::quantile::mapping::index_many_avx2(multiplier, xs, floor, out) }
    }
}

#[cfg(target_arch = "aarch64")]
mod neon_entry {
    use super::{neon, FastLanes, Lanes, MinMax};
    /// `sum` with the NEON lane passes (see `sum_with`; NEON is the aarch64 baseline, so the
    /// tree is vectorized already).
    pub fn sum(x: &[f64]) -> f64 {
        super::sum_with(
            x,
            // SAFETY: only called through a Kernels table built after the NEON check.
            |x| unsafe { neon::fast_lanes(x) },
            // SAFETY: as the line above.
            |x| unsafe { neon::sum_lanes(x) },
        )
    }
    pub fn fast_lanes(x: &[f64]) -> FastLanes {
        // SAFETY: only called through a Kernels table built after the NEON check.
        unsafe { neon::fast_lanes(x) }
    }
    pub fn sum_lanes(x: &[f64]) -> Lanes {
        // SAFETY: only called through a Kernels table built after the NEON check.
        unsafe { neon::sum_lanes(x) }
    }
    pub fn dev_lanes(x: &[f64], m: f64) -> (Lanes, Lanes) {
        // SAFETY: only called through a Kernels table built after the NEON check.
        unsafe { neon::dev_lanes(x, m) }
    }
    pub fn min_max(x: &[f64]) -> MinMax {
        // SAFETY: only called through a Kernels table built after the NEON check.
        unsafe { neon::min_max(x) }
    }
    pub fn quantile_indices(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
        assert!(out.len() >= xs.len(), "out is shorter than xs");
        // SAFETY: only called through a Kernels table built after the NEON check; `out` holds
        // xs.len() indices (asserted).
        unsafe { crate::quantile::mapping::index_many_neon(multiplier, xs, floor, out) }
    }
}

/// The portable QuantileSketch bucket indices (the reference the SIMD versions match).
fn quantile_indices_scalar(multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
    crate::quantile::mapping::index_many_scalar(multiplier, xs, floor, out)
}

/// Everything `summarize` returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: f64,
    pub sum: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub variance: f64,
    pub stddev: f64,
}

/// A backend's kernel table. Cheap to copy; build it once with [`Backend::kernels`].
#[derive(Clone, Copy)]
pub struct Kernels {
    backend: Backend,
    sum: fn(&[f64]) -> f64,
    fast_lanes: fn(&[f64]) -> FastLanes,
    sum_lanes: fn(&[f64]) -> Lanes,
    dev_lanes: fn(&[f64], f64) -> (Lanes, Lanes),
    min_max: fn(&[f64]) -> MinMax,
    bucket_indices: fn(&[f64], &[f64], &mut [u32]),
    quantile_indices: fn(f64, &[f64], f64, &mut [i32]),
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernels")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Kernels {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Per-lane state of `sum`'s fast pass (for differential tests).
    pub fn fast_lanes(&self, x: &[f64]) -> FastLanes {
        (self.fast_lanes)(x)
    }

    /// Per-lane state of `sum`'s cascaded pass (for differential tests).
    pub fn sum_lanes(&self, x: &[f64]) -> Lanes {
        (self.sum_lanes)(x)
    }

    /// The cascaded pass alone (what `sum` falls back to when the fast pass is not certified).
    pub fn sum_cascaded(&self, x: &[f64]) -> f64 {
        canonical(reduce(&(self.sum_lanes)(x)))
    }

    /// Per-lane compensated state of the variance's second pass (for differential tests).
    pub fn dev_lanes(&self, x: &[f64], m: f64) -> (Lanes, Lanes) {
        (self.dev_lanes)(x, m)
    }

    /// Compensated sum. Empty: 0. See the module docs for NaN, ±Infinity and overflow.
    pub fn sum(&self, x: &[f64]) -> f64 {
        (self.sum)(x)
    }

    /// `sum / count`. Empty: NaN.
    pub fn mean(&self, x: &[f64]) -> f64 {
        if x.is_empty() {
            return f64::NAN;
        }
        self.sum(x) / x.len() as f64
    }

    /// Minimum (`Math.min` semantics). Empty: NaN.
    pub fn min(&self, x: &[f64]) -> f64 {
        canonical((self.min_max)(x).min)
    }

    /// Maximum (`Math.max` semantics). Empty: NaN.
    pub fn max(&self, x: &[f64]) -> f64 {
        canonical((self.min_max)(x).max)
    }

    /// Both extremes in one pass.
    pub fn min_max(&self, x: &[f64]) -> MinMax {
        let mm = (self.min_max)(x);
        MinMax {
            min: canonical(mm.min),
            max: canonical(mm.max),
        }
    }

    /// `out[k]` = the histogram bucket of `xs[k]`: how many of `bounds` (finite, strictly
    /// increasing) are below it, so a value equal to a bound is in that bound's bucket
    /// (Prometheus' `le`) and one above every bound is in bucket `bounds.len()` (+Inf).
    /// Panics if `out` is shorter than `xs`.
    pub fn bucket_indices(&self, bounds: &[f64], xs: &[f64], out: &mut [u32]) {
        (self.bucket_indices)(bounds, xs, out)
    }

    /// `out[k]` = the QuantileSketch bucket of `max(|xs[k]|, floor)` under the mapping with this
    /// `multiplier` (see [`crate::quantile::mapping`]): the same bits on every backend.
    /// `xs` finite, `floor` >= the mapping's `min_indexable`. Panics if `out` is shorter than `xs`.
    pub fn quantile_indices(&self, multiplier: f64, xs: &[f64], floor: f64, out: &mut [i32]) {
        (self.quantile_indices)(multiplier, xs, floor, out)
    }

    /// Variance with `ddof` delta degrees of freedom (1: sample, 0: population), computed with
    /// the corrected two-pass algorithm: the mean from the compensated sum, then compensated
    /// sums of `d = x - mean` and `d^2`, and `(Σd² - (Σd)²/n) / (n - ddof)`.
    /// NaN when `n - ddof <= 0`, when any element is NaN or ±Infinity, or when the sum overflows.
    pub fn variance(&self, x: &[f64], ddof: f64) -> f64 {
        let mean = self.mean(x);
        self.variance_with_mean(x, mean, ddof)
    }

    fn variance_with_mean(&self, x: &[f64], mean: f64, ddof: f64) -> f64 {
        let n = x.len() as f64;
        // `n - ddof > 0` is false for NaN too (ddof is checked finite by the bindings).
        let dof_positive = n - ddof > 0.0;
        if x.is_empty() || !dof_positive || !mean.is_finite() {
            return f64::NAN;
        }
        let (d, q) = (self.dev_lanes)(x, mean);
        let sd = reduce(&d);
        let sq = reduce(&q);
        if !sq.is_finite() {
            return canonical(sq);
        }
        let v = (sq - sd * sd / n) / (n - ddof);
        if v < 0.0 {
            0.0
        } else {
            v
        }
    }

    /// M2 = Σ(x − mean)² of finite `x` around their `mean`, from the same compensated second
    /// pass as `variance` (`Σd² − (Σd)²/n`, never below 0). Empty: 0.
    pub fn sum_sq_dev(&self, x: &[f64], mean: f64) -> f64 {
        if x.is_empty() {
            return 0.0;
        }
        let (d, q) = (self.dev_lanes)(x, mean);
        let sd = reduce(&d);
        let m2 = reduce(&q) - sd * sd / x.len() as f64;
        if m2 < 0.0 {
            0.0
        } else {
            m2
        }
    }

    /// `sqrt(variance(x, ddof))`.
    pub fn stddev(&self, x: &[f64], ddof: f64) -> f64 {
        self.variance(x, ddof).sqrt()
    }

    /// count, sum, mean, min, max, variance and stddev (with `ddof`) in three passes.
    pub fn summarize(&self, x: &[f64], ddof: f64) -> Summary {
        let n = x.len() as f64;
        let sum = self.sum(x);
        let mean = if x.is_empty() { f64::NAN } else { sum / n };
        let mm = self.min_max(x);
        let variance = self.variance_with_mean(x, mean, ddof);
        Summary {
            count: n,
            sum,
            mean,
            min: mm.min,
            max: mm.max,
            variance,
            stddev: variance.sqrt(),
        }
    }
}

/// One NaN bit pattern for every backend (hardware min/max may return a NaN input's payload).
#[inline]
fn canonical(v: f64) -> f64 {
    if v.is_nan() {
        f64::NAN
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn detect_prefers_avx512_then_avx2_then_neon_then_scalar() {
        // A CPU without AVX-512 gets avx2; one with neither x86 backend, neon or scalar.
        assert_eq!(Backend::fastest(|_| true), Backend::Avx512);
        assert_eq!(Backend::fastest(|b| b != Backend::Avx512), Backend::Avx2);
        assert_eq!(Backend::fastest(|b| b == Backend::Neon), Backend::Neon);
        assert_eq!(Backend::fastest(|_| false), Backend::Scalar);
        // And on this CPU, detect() is the fastest backend whose check passes.
        assert_eq!(Backend::detect(), Backend::fastest(|b| b.check().is_ok()));
        assert!(Backend::detect().check().is_ok());
    }
}
