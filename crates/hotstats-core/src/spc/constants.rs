//! The control-chart constants for subgroup sizes 2 to 25, computed rather than copied from a
//! printed table (which gives 3-4 decimals):
//! - d2(n) = E[R], the mean range of n standard normals: ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx over ℝ;
//! - d3(n) = sd(R), from E[R²] = ∫₀^∞ 2w P(R > w) dw with
//!   P(R > w) = 1 − n ∫ φ(x) (Φ(x + w) − Φ(x))ⁿ⁻¹ dx;
//! - c4(n) = E[s]/σ = √(2/(n−1)) Γ(n/2) / Γ((n−1)/2);
//! - and from them A2 = 3/(d2√n), A3 = 3/(c4√n), D3/D4 = 1 ∓ 3 d3/d2 (D3 floored at 0),
//!   B3/B4 = 1 ∓ 3√(1 − c4²)/c4 (B3 floored at 0).
//!
//! The integrals over ℝ use the trapezoid rule on [−10, 10] with step 1/8: for smooth integrands
//! with Gaussian tails it converges geometrically (the error is far below 1e-16 here). The
//! outer integral over w has an end at 0, so it uses 16-point Gauss-Legendre panels of width 1
//! on [0, 14] (P(R > 14) < 1e-20 for n ≤ 25). Φ(x + w) does not depend on n, so all 24 sizes are
//! computed together, once, on first use (about 40 thousand normal-cdf evaluations).

use std::sync::OnceLock;

use crate::inference::special::{ln_gamma, normal_cdf};

/// The smallest and largest subgroup sizes with constants.
pub const MIN_SUBGROUP: usize = 2;
pub const MAX_SUBGROUP: usize = 25;

/// The constants for one subgroup size (names as in the ASTM/Montgomery tables).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartConstants {
    pub n: usize,
    pub d2: f64,
    pub d3: f64,
    pub c4: f64,
    pub a2: f64,
    pub a3: f64,
    /// D3 (the lower range factor); named so because `d3` is taken.
    pub d3_lower: f64,
    pub d4: f64,
    pub b3: f64,
    pub b4: f64,
}

/// The constants for subgroup size `n`, or None outside 2..=25.
pub fn chart_constants(n: usize) -> Option<ChartConstants> {
    if !(MIN_SUBGROUP..=MAX_SUBGROUP).contains(&n) {
        return None;
    }
    static TABLE: OnceLock<Vec<ChartConstants>> = OnceLock::new();
    Some(TABLE.get_or_init(compute_all)[n - MIN_SUBGROUP])
}

/// xⁿ by repeated multiplication: the same bits in every backend (the JS port does the same).
fn ipow(x: f64, n: usize) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p *= x;
    }
    p
}

const STEP: f64 = 0.125;
const HALF_POINTS: usize = 80; // x = (i − 80)/8 for i in 0..=160: [−10, 10]
const GL_POINTS: usize = 16;
const W_PANELS: usize = 14;

/// The nodes and weights of Gauss-Legendre quadrature on [−1, 1], by Newton's method on the
/// Legendre recurrence from the usual starting guesses.
fn gauss_legendre(m: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(m);
    for i in 1..=m {
        let mut x = (core::f64::consts::PI * (i as f64 - 0.25) / (m as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=m {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = m as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() <= 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

fn compute_all() -> Vec<ChartConstants> {
    let grid: Vec<f64> = (0..=2 * HALF_POINTS)
        .map(|i| (i as f64 - HALF_POINTS as f64) * STEP)
        .collect();
    let cdf: Vec<f64> = grid.iter().map(|&x| normal_cdf(x)).collect();
    let pdf: Vec<f64> = grid
        .iter()
        .map(|&x| (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt())
        .collect();
    let sizes = MIN_SUBGROUP..=MAX_SUBGROUP;

    // d2: trapezoid over the grid; 1 − Φ(x) is Φ(−x), the mirrored grid entry.
    let last = grid.len() - 1;
    let d2: Vec<f64> = sizes
        .clone()
        .map(|n| {
            let mut s = 0.0;
            for i in 0..=last {
                let f = 1.0 - ipow(cdf[i], n) - ipow(cdf[last - i], n);
                s += if i == 0 || i == last { 0.5 * f } else { f };
            }
            s * STEP
        })
        .collect();

    // E[R²]: Gauss-Legendre over w, the trapezoid rule over x inside.
    let gl = gauss_legendre(GL_POINTS);
    let mut second = vec![0.0; d2.len()];
    let mut diff = vec![0.0; grid.len()];
    for panel in 0..W_PANELS {
        for &(t, weight) in &gl {
            let w = panel as f64 + 0.5 * (t + 1.0);
            for i in 0..=last {
                diff[i] = normal_cdf(grid[i] + w) - cdf[i];
            }
            for (k, n) in sizes.clone().enumerate() {
                let mut s = 0.0;
                for i in 0..=last {
                    let f = pdf[i] * ipow(diff[i], n - 1);
                    s += if i == 0 || i == last { 0.5 * f } else { f };
                }
                let survival = 1.0 - n as f64 * s * STEP;
                second[k] += 0.5 * weight * 2.0 * w * survival;
            }
        }
    }

    sizes
        .enumerate()
        .map(|(k, n)| {
            let nf = n as f64;
            let d2 = d2[k];
            let d3 = (second[k] - d2 * d2).sqrt();
            let c4 =
                (2.0 / (nf - 1.0)).sqrt() * (ln_gamma(nf / 2.0) - ln_gamma((nf - 1.0) / 2.0)).exp();
            let s = (1.0 - c4 * c4).sqrt();
            ChartConstants {
                n,
                d2,
                d3,
                c4,
                a2: 3.0 / (d2 * nf.sqrt()),
                a3: 3.0 / (c4 * nf.sqrt()),
                d3_lower: (1.0 - 3.0 * d3 / d2).max(0.0),
                d4: 1.0 + 3.0 * d3 / d2,
                b3: (1.0 - 3.0 * s / c4).max(0.0),
                b4: 1.0 + 3.0 * s / c4,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d2_of_two_is_two_over_root_pi() {
        let c = chart_constants(2).unwrap();
        assert!(
            (c.d2 - 2.0 / core::f64::consts::PI.sqrt()).abs() < 1e-14,
            "{}",
            c.d2
        );
        // R = |X1 − X2| ~ √2 |Z|: sd(R)² = 2 − 4/π.
        assert!(
            (c.d3 - (2.0 - 4.0 / core::f64::consts::PI).sqrt()).abs() < 1e-13,
            "{}",
            c.d3
        );
    }

    #[test]
    fn sizes_outside_the_table_have_none() {
        assert!(chart_constants(1).is_none());
        assert!(chart_constants(26).is_none());
        assert!(chart_constants(25).is_some());
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        let gl = gauss_legendre(GL_POINTS);
        let total: f64 = gl.iter().map(|&(_, w)| w).sum();
        assert!((total - 2.0).abs() < 1e-14);
        // ∫ x^30 over [−1, 1] = 2/31 (degree 2m − 1 = 31 is the limit).
        let x30: f64 = gl.iter().map(|&(x, w)| w * x.powi(30)).sum();
        assert!((x30 - 2.0 / 31.0).abs() < 1e-14, "{x30}");
    }
}
