//! Statistical process control: Shewhart charts ([`charts`]: X̄-R, X̄-S, I-MR) with Western
//! Electric and Nelson run rules ([`rules`]), EWMA ([`ewma`]) and tabular CUSUM ([`cusum`]),
//! and the chart constants they use ([`constants`]). Bad input returns [`SpcError`], as the
//! statistical tests do.

// `!(x > 0.0)` is deliberate throughout: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod charts;
pub mod constants;
pub mod cusum;
pub mod ewma;
pub mod rules;

/// Why a chart cannot be drawn: an argument out of its domain, or data without spread.
pub use crate::inference::InferenceError as SpcError;

/// Checks an optional target and σ (finite; σ > 0) and fills the missing ones from the data:
/// the mean, and σ̂ = MR̄/d2(2) from the moving ranges.
pub(crate) fn target_and_sigma(
    values: &[f64],
    target: Option<f64>,
    sigma: Option<f64>,
) -> Result<(f64, f64), SpcError> {
    crate::inference::check_sample("values", values, 1)?;
    if let Some(t) = target {
        if !t.is_finite() {
            return Err(SpcError::Invalid(format!(
                "target must be a finite number, got {t}"
            )));
        }
    }
    if let Some(s) = sigma {
        if !(s > 0.0 && s.is_finite()) {
            return Err(SpcError::Invalid(format!(
                "sigma must be a finite number > 0, got {s}"
            )));
        }
    }
    let target = target.unwrap_or_else(|| charts::mean(values));
    let sigma = match sigma {
        Some(s) => s,
        None => charts::moving_range_sigma(values)?.0,
    };
    Ok((target, sigma))
}
