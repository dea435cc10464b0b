//! The tabular CUSUM: C⁺_i = max(0, x_i − (target + K) + C⁺_{i−1}) and
//! C⁻_i = max(0, (target − K) − x_i + C⁻_{i−1}) from 0, with K = kσ and H = hσ; a signal is a
//! sum above H. The sums are not reset after a signal (as Montgomery's tables show them).

use super::{target_and_sigma, SpcError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Upper,
    Lower,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CusumChart {
    pub target: f64,
    pub sigma: f64,
    /// K = kσ, the allowance.
    pub k: f64,
    /// H = hσ, the decision interval.
    pub h: f64,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    pub signals: Vec<(usize, Side)>,
}

/// The running sums, shared by the streaming and batch charts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CusumState {
    pub upper: f64,
    pub lower: f64,
}

impl CusumState {
    /// Takes x with the absolute allowance `k_abs` = kσ; returns (C⁺, C⁻).
    pub fn step(&mut self, x: f64, target: f64, k_abs: f64) -> (f64, f64) {
        self.upper = (x - (target + k_abs) + self.upper).max(0.0);
        self.lower = ((target - k_abs) - x + self.lower).max(0.0);
        (self.upper, self.lower)
    }
}

/// Checks k >= 0 and h > 0 (both in units of σ).
pub fn check_parameters(k: f64, h: f64) -> Result<(), SpcError> {
    if !(k >= 0.0 && k.is_finite()) {
        return Err(SpcError::Invalid(format!(
            "k must be a finite number >= 0, got {k}"
        )));
    }
    if !(h > 0.0 && h.is_finite()) {
        return Err(SpcError::Invalid(format!(
            "h must be a finite number > 0, got {h}"
        )));
    }
    Ok(())
}

/// The CUSUM chart of `values`. `target` defaults to their mean and `sigma` to MR̄/d2(2).
pub fn cusum_chart(
    values: &[f64],
    k: f64,
    h: f64,
    target: Option<f64>,
    sigma: Option<f64>,
) -> Result<CusumChart, SpcError> {
    check_parameters(k, h)?;
    let (target, sigma) = target_and_sigma(values, target, sigma)?;
    let (k_abs, h_abs) = (k * sigma, h * sigma);
    let mut state = CusumState::default();
    let mut chart = CusumChart {
        target,
        sigma,
        k: k_abs,
        h: h_abs,
        upper: Vec::with_capacity(values.len()),
        lower: Vec::with_capacity(values.len()),
        signals: Vec::new(),
    };
    for (i, &x) in values.iter().enumerate() {
        let (up, lo) = state.step(x, target, k_abs);
        chart.upper.push(up);
        chart.lower.push(lo);
        if up > h_abs {
            chart.signals.push((i, Side::Upper));
        }
        if lo > h_abs {
            chart.signals.push((i, Side::Lower));
        }
    }
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_up_is_caught_on_the_upper_side() {
        let mut x = vec![0.0; 10];
        x.extend([2.0; 5]);
        let c = cusum_chart(&x, 0.5, 4.0, Some(0.0), Some(1.0)).unwrap();
        // Each shifted point adds 2 − 0.5 = 1.5: 1.5, 3, 4.5 > 4 at the third.
        assert_eq!(c.upper[12], 4.5);
        assert_eq!(
            c.signals,
            vec![(12, Side::Upper), (13, Side::Upper), (14, Side::Upper)]
        );
        assert!(c.lower.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(cusum_chart(&[1.0, 2.0], -0.1, 5.0, None, None).is_err());
        assert!(cusum_chart(&[1.0, 2.0], 0.5, 0.0, None, None).is_err());
        assert!(cusum_chart(&[1.0, f64::INFINITY], 0.5, 5.0, None, None).is_err());
    }
}
