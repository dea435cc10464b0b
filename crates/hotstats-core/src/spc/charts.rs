//! Shewhart charts: X̄-R, X̄-S and individuals/moving-range (I-MR), with limits estimated from
//! the data (phase I) and every rule violation found.
//!
//! Each chart has a location chart (subgroup means, or the individual values), checked with the
//! chosen [`RuleSet`], and a dispersion chart (ranges, standard deviations or moving ranges),
//! checked against its own 3σ limits (rule 1 only).
//! - X̄-R: σ̂ = R̄/d2, X̄ limits x̿ ± A2·R̄ (= 3σ̂/√n), R limits D3·R̄ and D4·R̄.
//! - X̄-S: σ̂ = s̄/c4, X̄ limits x̿ ± A3·s̄, S limits B3·s̄ and B4·s̄ (s with n − 1).
//! - I-MR: σ̂ = MR̄/d2(2), X limits x̄ ± 3σ̂, MR limits 0 and D4(2)·MR̄; moving range i is
//!   |x[i+1] − x[i]|.
//!
//! Sums run left to right, the same in every backend.

use super::constants::{chart_constants, ChartConstants, MAX_SUBGROUP, MIN_SUBGROUP};
use super::rules::{violations, RuleSet};
use super::SpcError;
use crate::inference::check_sample;

/// One chart: its center line, limits and plotted points.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartLine {
    pub center: f64,
    pub ucl: f64,
    pub lcl: f64,
    pub points: Vec<f64>,
}

/// Which of a chart's two panels a violation is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Location,
    Dispersion,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    pub panel: Panel,
    /// The position in that panel's points.
    pub index: usize,
    /// The rule number in the chart's rule set (1 on the dispersion panel).
    pub rule: u8,
}

/// A location chart and its dispersion chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ShewhartChart {
    /// The subgroup size (1 for I-MR).
    pub subgroup_size: usize,
    /// σ̂, the process standard deviation estimated from the dispersion.
    pub sigma: f64,
    pub location: ChartLine,
    pub dispersion: ChartLine,
    pub violations: Vec<Violation>,
}

/// Which dispersion statistic an X̄ chart is paired with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispersion {
    Range,
    StdDev,
}

fn sum(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |s, &v| s + v)
}

pub(crate) fn mean(xs: &[f64]) -> f64 {
    sum(xs) / xs.len() as f64
}

/// The sample standard deviation (n − 1), two-pass.
fn stddev(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().fold(0.0, |s, &v| s + (v - m) * (v - m)) / (xs.len() - 1) as f64).sqrt()
}

fn range(xs: &[f64]) -> f64 {
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    hi - lo
}

fn collect(loc: &[f64], zones: (f64, f64), disp: &ChartLine, set: RuleSet) -> Vec<Violation> {
    let mut out: Vec<Violation> = violations(loc, zones.0, zones.1, set)
        .into_iter()
        .map(|(index, rule)| Violation {
            panel: Panel::Location,
            index,
            rule,
        })
        .collect();
    for (index, &p) in disp.points.iter().enumerate() {
        if p > disp.ucl || p < disp.lcl {
            out.push(Violation {
                panel: Panel::Dispersion,
                index,
                rule: 1,
            });
        }
    }
    out
}

/// An X̄-R or X̄-S chart of `values`, read as consecutive subgroups of `n` (row-major).
///
/// Errors: n outside 2..=25, a length that is not a positive multiple of n, fewer than 2
/// subgroups, a non-finite value ([`SpcError::Invalid`]); every subgroup without spread, so the
/// limits collapse ([`SpcError::Undefined`]).
pub fn xbar_chart(
    values: &[f64],
    n: usize,
    dispersion: Dispersion,
    set: RuleSet,
) -> Result<ShewhartChart, SpcError> {
    let k: ChartConstants = chart_constants(n).ok_or_else(|| {
        SpcError::Invalid(format!(
            "subgroupSize must be from {MIN_SUBGROUP} to {MAX_SUBGROUP}, got {n}"
        ))
    })?;
    if !values.len().is_multiple_of(n) {
        return Err(SpcError::Invalid(format!(
            "every subgroup must have {n} values; {} values is not a multiple",
            values.len()
        )));
    }
    check_sample("values", values, 2 * n)?;
    let means: Vec<f64> = values.chunks_exact(n).map(mean).collect();
    let disp: Vec<f64> = match dispersion {
        Dispersion::Range => values.chunks_exact(n).map(range).collect(),
        Dispersion::StdDev => values.chunks_exact(n).map(stddev).collect(),
    };
    let center = mean(&means);
    let dbar = mean(&disp);
    if !(dbar > 0.0) {
        return Err(SpcError::Undefined(
            "no subgroup has any spread: the control limits collapse".into(),
        ));
    }
    let (sigma, lo, hi) = match dispersion {
        Dispersion::Range => (dbar / k.d2, k.d3_lower, k.d4),
        Dispersion::StdDev => (dbar / k.c4, k.b3, k.b4),
    };
    let sigma_mean = sigma / (n as f64).sqrt();
    let dispersion = ChartLine {
        center: dbar,
        ucl: hi * dbar,
        lcl: lo * dbar,
        points: disp,
    };
    let violations = collect(&means, (center, sigma_mean), &dispersion, set);
    Ok(ShewhartChart {
        subgroup_size: n,
        sigma,
        location: ChartLine {
            center,
            ucl: center + 3.0 * sigma_mean,
            lcl: center - 3.0 * sigma_mean,
            points: means,
        },
        dispersion,
        violations,
    })
}

/// σ̂ = MR̄/d2(2) from the moving ranges of `values` (at least 2 finite values), with the
/// moving ranges.
pub(crate) fn moving_range_sigma(values: &[f64]) -> Result<(f64, Vec<f64>), SpcError> {
    check_sample("values", values, 2)?;
    let mr: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mrbar = mean(&mr);
    if !(mrbar > 0.0) {
        return Err(SpcError::Undefined(
            "all values are equal: the control limits collapse".into(),
        ));
    }
    Ok((
        mrbar / chart_constants(2).expect("n = 2 is in the table").d2,
        mr,
    ))
}

/// An individuals/moving-range chart of `values` (at least 2).
pub fn individuals_chart(values: &[f64], set: RuleSet) -> Result<ShewhartChart, SpcError> {
    let (sigma, mr) = moving_range_sigma(values)?;
    let center = mean(values);
    let mrbar = mean(&mr);
    let d4 = chart_constants(2).expect("n = 2 is in the table").d4;
    let dispersion = ChartLine {
        center: mrbar,
        ucl: d4 * mrbar,
        lcl: 0.0,
        points: mr,
    };
    let violations = collect(values, (center, sigma), &dispersion, set);
    Ok(ShewhartChart {
        subgroup_size: 1,
        sigma,
        location: ChartLine {
            center,
            ucl: center + 3.0 * sigma,
            lcl: center - 3.0 * sigma,
            points: values.to_vec(),
        },
        dispersion,
        violations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_refused() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!(matches!(
            xbar_chart(&x, 1, Dispersion::Range, RuleSet::Limits),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            xbar_chart(&x, 26, Dispersion::Range, RuleSet::Limits),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            xbar_chart(&x, 4, Dispersion::Range, RuleSet::Limits),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            xbar_chart(&x, 6, Dispersion::Range, RuleSet::Limits),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            xbar_chart(
                &[1.0, f64::NAN, 2.0, 3.0],
                2,
                Dispersion::Range,
                RuleSet::Limits
            ),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            xbar_chart(&[1.0; 6], 3, Dispersion::StdDev, RuleSet::Limits),
            Err(SpcError::Undefined(_))
        ));
        assert!(matches!(
            individuals_chart(&[1.0], RuleSet::Limits),
            Err(SpcError::Invalid(_))
        ));
        assert!(matches!(
            individuals_chart(&[2.0, 2.0, 2.0], RuleSet::Limits),
            Err(SpcError::Undefined(_))
        ));
    }

    #[test]
    fn an_outlying_subgroup_is_flagged_on_both_panels() {
        let mut x: Vec<f64> = (0..40).map(|i| 10.0 + ((i * 7) % 5) as f64 * 0.1).collect();
        x[20] = 30.0; // subgroup 5 (of size 4): its mean and range jump
        let c = xbar_chart(&x, 4, Dispersion::Range, RuleSet::WesternElectric).unwrap();
        assert!(c.violations.contains(&Violation {
            panel: Panel::Location,
            index: 5,
            rule: 1
        }));
        assert!(c.violations.contains(&Violation {
            panel: Panel::Dispersion,
            index: 5,
            rule: 1
        }));
    }
}
