//! The EWMA chart: z_i = λ x_i + (1 − λ) z_{i−1} from z_0 = target, with the exact
//! time-varying limits target ± L σ √(λ/(2 − λ) · (1 − (1 − λ)^{2i})), which widen towards
//! the asymptotic ones. A signal is z_i outside its limits. For subgroup means pass their σ
//! (σ/√n).

use super::{target_and_sigma, SpcError};

#[derive(Clone, Debug, PartialEq)]
pub struct EwmaChart {
    pub target: f64,
    pub sigma: f64,
    pub points: Vec<f64>,
    pub ucl: Vec<f64>,
    pub lcl: Vec<f64>,
    /// Indices of the points outside their limits.
    pub signals: Vec<usize>,
}

/// The running state, so a streaming chart and the batch chart take the same steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EwmaState {
    pub z: f64,
    /// (1 − λ)^{2i}, kept by multiplication so every backend has the same bits.
    pub decay: f64,
}

impl EwmaState {
    pub fn new(target: f64) -> EwmaState {
        EwmaState {
            z: target,
            decay: 1.0,
        }
    }

    /// Takes x; returns (z, lcl, ucl).
    pub fn step(
        &mut self,
        x: f64,
        lambda: f64,
        l: f64,
        target: f64,
        sigma: f64,
    ) -> (f64, f64, f64) {
        self.z = lambda * x + (1.0 - lambda) * self.z;
        self.decay *= (1.0 - lambda) * (1.0 - lambda);
        let half = l * sigma * (lambda / (2.0 - lambda) * (1.0 - self.decay)).sqrt();
        (self.z, target - half, target + half)
    }
}

/// Checks λ in (0, 1] and L > 0.
pub fn check_parameters(lambda: f64, l: f64) -> Result<(), SpcError> {
    if !(lambda > 0.0 && lambda <= 1.0) {
        return Err(SpcError::Invalid(format!(
            "lambda must be in (0, 1], got {lambda}"
        )));
    }
    if !(l > 0.0 && l.is_finite()) {
        return Err(SpcError::Invalid(format!(
            "L must be a finite number > 0, got {l}"
        )));
    }
    Ok(())
}

/// The EWMA chart of `values`. `target` defaults to their mean and `sigma` to MR̄/d2(2).
pub fn ewma_chart(
    values: &[f64],
    lambda: f64,
    l: f64,
    target: Option<f64>,
    sigma: Option<f64>,
) -> Result<EwmaChart, SpcError> {
    check_parameters(lambda, l)?;
    let (target, sigma) = target_and_sigma(values, target, sigma)?;
    let mut state = EwmaState::new(target);
    let mut chart = EwmaChart {
        target,
        sigma,
        points: Vec::with_capacity(values.len()),
        ucl: Vec::with_capacity(values.len()),
        lcl: Vec::with_capacity(values.len()),
        signals: Vec::new(),
    };
    for (i, &x) in values.iter().enumerate() {
        let (z, lcl, ucl) = state.step(x, lambda, l, target, sigma);
        chart.points.push(z);
        chart.lcl.push(lcl);
        chart.ucl.push(ucl);
        if z > ucl || z < lcl {
            chart.signals.push(i);
        }
    }
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_one_is_a_shewhart_chart() {
        let c = ewma_chart(&[1.0, -4.0, 2.0], 1.0, 3.0, Some(0.0), Some(1.0)).unwrap();
        assert_eq!(c.points, vec![1.0, -4.0, 2.0]);
        assert_eq!(c.ucl, vec![3.0; 3]);
        assert_eq!(c.signals, vec![1]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(ewma_chart(&[1.0, 2.0], 0.0, 3.0, None, None).is_err());
        assert!(ewma_chart(&[1.0, 2.0], 1.5, 3.0, None, None).is_err());
        assert!(ewma_chart(&[1.0, 2.0], 0.2, f64::NAN, None, None).is_err());
        assert!(ewma_chart(&[1.0, 2.0], 0.2, 3.0, None, Some(0.0)).is_err());
        assert!(ewma_chart(&[1.0], 0.2, 3.0, Some(1.0), None).is_err()); // σ needs 2 values
        assert!(ewma_chart(&[1.0], 0.2, 3.0, Some(1.0), Some(1.0)).is_ok());
    }
}
