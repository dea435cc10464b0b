//! Maximum-likelihood fits of candidate distributions, ranked by AIC (scipy's `norm.fit`,
//! `lognorm.fit(floc=0)`, `expon.fit(floc=0)` give the same parameters).

use super::{check_sample, mean_variance, InferenceError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Candidate {
    /// params: mean, sd (the MLE: divides by n)
    Normal,
    /// params: mu, sigma of ln x (needs every x > 0)
    LogNormal,
    /// params: rate = 1 / mean (needs every x > 0)
    Exponential,
}

impl Candidate {
    pub fn parse(s: &str) -> Option<Candidate> {
        match s {
            "normal" => Some(Candidate::Normal),
            "lognormal" => Some(Candidate::LogNormal),
            "exponential" => Some(Candidate::Exponential),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Candidate::Normal => "normal",
            Candidate::LogNormal => "lognormal",
            Candidate::Exponential => "exponential",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub candidate: Candidate,
    /// (name, value) pairs in the order documented on [`Candidate`].
    pub params: Vec<(&'static str, f64)>,
    pub log_likelihood: f64,
    /// 2k − 2 ln L, k the number of parameters.
    pub aic: f64,
}

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Fits each candidate by maximum likelihood and returns them best (lowest AIC) first.
/// Candidates that need positive data are left out when some x <= 0. Errors: fewer than 2
/// values, a non-finite value, zero variance (of x, or of ln x for the lognormal).
pub fn fit_distribution(x: &[f64], candidates: &[Candidate]) -> Result<Vec<Fit>, InferenceError> {
    check_sample("x", x, 2)?;
    let n = x.len() as f64;
    let positive = x.iter().all(|&v| v > 0.0);
    let mut fits = Vec::new();
    for &c in candidates {
        let fit = match c {
            Candidate::Normal => {
                let (mean, var) = mean_variance(x);
                let var = var * (n - 1.0) / n;
                if !(var > 0.0) {
                    return Err(InferenceError::Undefined(
                        "x has zero variance: the normal fit is degenerate".into(),
                    ));
                }
                let sd = var.sqrt();
                let ll = -n * (HALF_LN_2PI + sd.ln()) - n / 2.0;
                (vec![("mean", mean), ("sd", sd)], ll, 2.0)
            }
            Candidate::LogNormal if positive => {
                let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
                let (mu, var) = mean_variance(&logs);
                let var = var * (n - 1.0) / n;
                if !(var > 0.0) {
                    return Err(InferenceError::Undefined(
                        "ln x has zero variance: the lognormal fit is degenerate".into(),
                    ));
                }
                let sigma = var.sqrt();
                let sum_logs = crate::kernels::selected().sum(&logs);
                let ll = -sum_logs - n * (HALF_LN_2PI + sigma.ln()) - n / 2.0;
                (vec![("mu", mu), ("sigma", sigma)], ll, 2.0)
            }
            Candidate::Exponential if positive => {
                let mean = crate::kernels::selected().sum(x) / n;
                let rate = 1.0 / mean;
                (vec![("rate", rate)], n * rate.ln() - n, 1.0)
            }
            _ => continue,
        };
        let (params, log_likelihood, k) = fit;
        fits.push(Fit {
            candidate: c,
            params,
            log_likelihood,
            aic: 2.0 * k - 2.0 * log_likelihood,
        });
    }
    fits.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    Ok(fits)
}
