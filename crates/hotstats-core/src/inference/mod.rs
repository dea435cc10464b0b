//! Statistical inference with scipy's conventions, so users can cross-check: t-tests
//! ([`ttest`]), Mann-Whitney U ([`mann_whitney`]), chi-square on 2×k tables and the
//! two-proportion z-test ([`proportions`]), the Bayesian beta-binomial A/B comparison
//! ([`bayes_ab`]), Shapiro-Wilk ([`shapiro`]) and maximum-likelihood fits ([`fit`]); the
//! distribution functions behind them live in [`special`].
//!
//! Every function checks its input first (finite values, enough of them, a defined statistic)
//! and returns [`InferenceError`] instead of scipy's NaN results: a zero-variance sample gives
//! no t statistic, an empty column no chi-square.

// `!(x > 0.0)` is deliberate throughout: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use core::fmt;

pub mod bayes_ab;
pub mod fit;
pub mod mann_whitney;
pub mod proportions;
pub mod shapiro;
pub mod special;
pub mod ttest;

/// The alternative hypothesis, as scipy's `alternative`: `Less` means the first sample's
/// location (or proportion) is below the second's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alternative {
    TwoSided,
    Less,
    Greater,
}

impl Alternative {
    /// Parses scipy's names: "two-sided", "less", "greater".
    pub fn parse(s: &str) -> Option<Alternative> {
        match s {
            "two-sided" => Some(Alternative::TwoSided),
            "less" => Some(Alternative::Less),
            "greater" => Some(Alternative::Greater),
            _ => None,
        }
    }

    /// The p-value of a statistic from its two tails, `sf(s) = P(S >= s)` and
    /// `cdf(s) = P(S <= s)` (each computed directly by the caller): two-sided doubles the
    /// smaller, capped at 1.
    pub fn p_value(self, sf: f64, cdf: f64) -> f64 {
        match self {
            Alternative::Greater => sf,
            Alternative::Less => cdf,
            Alternative::TwoSided => (2.0 * sf.min(cdf)).min(1.0),
        }
    }
}

/// Why a test has no answer for this input.
#[derive(Clone, Debug, PartialEq)]
pub enum InferenceError {
    /// An argument is out of its domain (names the argument and what was expected).
    Invalid(String),
    /// The statistic is undefined for this data (e.g. zero variance); says why.
    Undefined(String),
}

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferenceError::Invalid(m) | InferenceError::Undefined(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for InferenceError {}

/// Checks that every value of sample `name` is finite and that it has at least `min` values.
pub(crate) fn check_sample(name: &str, xs: &[f64], min: usize) -> Result<(), InferenceError> {
    if xs.len() < min {
        return Err(InferenceError::Invalid(format!(
            "{name} needs at least {min} values, got {}",
            xs.len()
        )));
    }
    if let Some(i) = xs.iter().position(|v| !v.is_finite()) {
        return Err(InferenceError::Invalid(format!(
            "{name}[{i}] must be a finite number, got {}",
            xs[i]
        )));
    }
    Ok(())
}

/// Checks the four counts of a two-proportion comparison: finite, >= 0, trials > 0 where
/// `need_trials`, and successes <= trials.
pub(crate) fn check_two_proportions(
    counts: [f64; 4],
    need_trials: bool,
) -> Result<(), InferenceError> {
    let names = ["successesA", "trialsA", "successesB", "trialsB"];
    for (name, v) in names.iter().zip(counts) {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(InferenceError::Invalid(format!(
                "{name} must be a finite count >= 0, got {v}"
            )));
        }
    }
    let [sa, na, sb, nb] = counts;
    if need_trials && (na == 0.0 || nb == 0.0) {
        return Err(InferenceError::Invalid("trials must be > 0".into()));
    }
    if sa > na || sb > nb {
        return Err(InferenceError::Invalid(
            "successes cannot exceed trials".into(),
        ));
    }
    Ok(())
}

/// Mean and sample variance (`ddof` = 1) of finite values: the mean from the compensated sum
/// kernel, the variance by a second, compensated pass over the deviations (no cancellation
/// from subtracting large squares).
pub(crate) fn mean_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = crate::kernels::selected().sum(xs) / n;
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for &x in xs {
        let d = (x - mean) * (x - mean);
        let t = s + d;
        c += if s.abs() >= d.abs() {
            (s - t) + d
        } else {
            (d - t) + s
        };
        s = t;
    }
    (mean, (s + c) / (n - 1.0))
}

#[cfg(test)]
mod tests {
    use super::mann_whitney::{mann_whitney_u, Method};
    use super::proportions::{chi_square_test, two_proportion_z_test};
    use super::shapiro::shapiro_wilk;
    use super::ttest::{one_sample, student, welch};
    use super::{Alternative::*, InferenceError};

    fn undefined<T: core::fmt::Debug>(r: Result<T, InferenceError>) -> bool {
        matches!(r, Err(InferenceError::Undefined(_)))
    }
    fn invalid<T: core::fmt::Debug>(r: Result<T, InferenceError>) -> bool {
        matches!(r, Err(InferenceError::Invalid(_)))
    }

    #[test]
    fn edge_cases_give_clear_errors_not_nan() {
        let flat = [2.0, 2.0, 2.0];
        assert!(undefined(welch(&flat, &flat, TwoSided)));
        assert!(undefined(student(&flat, &[5.0, 5.0], TwoSided)));
        assert!(undefined(one_sample(&flat, 1.0, TwoSided)));
        assert!(invalid(welch(&[1.0], &[1.0, 2.0], TwoSided)));
        assert!(invalid(welch(&[1.0, f64::NAN], &[1.0, 2.0], TwoSided)));
        assert!(invalid(one_sample(&[1.0, 2.0], f64::INFINITY, TwoSided)));
        // One flat sample and one that varies: Welch is defined.
        assert!(welch(&flat, &[1.0, 3.0], TwoSided).is_ok());
        // All ties: no variance for U; exact refuses ties.
        assert!(undefined(mann_whitney_u(
            &flat,
            &flat,
            TwoSided,
            Method::Auto,
            true
        )));
        assert!(invalid(mann_whitney_u(
            &[1.0, 2.0],
            &[2.0, 3.0],
            Less,
            Method::Exact,
            true
        )));
        assert!(invalid(mann_whitney_u(
            &[],
            &[2.0],
            Less,
            Method::Auto,
            true
        )));
        assert!(undefined(chi_square_test(
            &[vec![1.0, 0.0], vec![2.0, 0.0]],
            true
        )));
        assert!(invalid(chi_square_test(
            &[vec![1.0, -1.0], vec![2.0, 3.0]],
            true
        )));
        assert!(invalid(chi_square_test(&[vec![1.0, 1.0], vec![2.0]], true)));
        assert!(undefined(two_proportion_z_test(
            0.0, 10.0, 0.0, 12.0, TwoSided
        )));
        assert!(invalid(two_proportion_z_test(
            11.0, 10.0, 0.0, 12.0, TwoSided
        )));
        assert!(undefined(shapiro_wilk(&flat)));
        assert!(invalid(shapiro_wilk(&[1.0, 2.0])));
        assert!(invalid(shapiro_wilk(&vec![1.0; 5001])));
    }

    #[test]
    fn exact_mann_whitney_matches_enumeration() {
        // Every split of 0..7 into 3 and 4 values: P(U >= u) by counting.
        let (m, n) = (3usize, 4usize);
        let mut counts = vec![0u32; m * n + 1];
        for mask in 0u32..(1 << (m + n)) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // U of the first sample: pairs (a in first, b in second) with a > b.
            let u = (0..m + n)
                .filter(|&i| mask >> i & 1 == 1)
                .map(|i| (0..i).filter(|&j| mask >> j & 1 == 0).count())
                .sum::<usize>();
            counts[u] += 1;
        }
        let total: u32 = counts.iter().sum();
        for u in 0..=m * n {
            let want = counts[u..].iter().sum::<u32>() as f64 / total as f64;
            let got = super::mann_whitney::exact_sf(u as f64, m, n);
            assert!((got - want).abs() < 1e-15, "u={u}: {got} vs {want}");
        }
    }
}
