//! Run rules for a Shewhart chart's plotted statistic: Western Electric's four and Nelson's
//! eight. A rule is broken at point i when the run of points ending at i breaks it, so a
//! streaming chart can check each new point as it arrives and a batch chart checks every i.
//!
//! With c the center line and σ the plotted statistic's standard deviation, "beyond kσ" means
//! p − c > kσ (above) or c − p > kσ (below), and a point exactly on c is on neither side. For the
//! "k of m beyond a zone" rules point i itself must be one of the k, on the same side; so a
//! pattern is reported where it completes, not again at a later in-zone point.
//!
//! | rule | Western Electric                 | Nelson                                      |
//! |------|----------------------------------|---------------------------------------------|
//! | 1    | one point beyond 3σ              | one point beyond 3σ                          |
//! | 2    | 2 of 3 beyond 2σ, same side      | 9 in a row on one side of c                  |
//! | 3    | 4 of 5 beyond 1σ, same side      | 6 in a row steadily increasing or decreasing |
//! | 4    | 8 in a row on one side of c      | 14 in a row alternating up and down          |
//! | 5    |                                  | 2 of 3 beyond 2σ, same side                  |
//! | 6    |                                  | 4 of 5 beyond 1σ, same side                  |
//! | 7    |                                  | 15 in a row within 1σ (either side)          |
//! | 8    |                                  | 8 in a row beyond 1σ (either side)           |

/// Which rules to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSet {
    /// Rule 1 only (a point beyond 3σ).
    Limits,
    WesternElectric,
    Nelson,
}

impl RuleSet {
    /// Parses "limits", "western-electric" or "nelson".
    pub fn parse(s: &str) -> Option<RuleSet> {
        match s {
            "limits" => Some(RuleSet::Limits),
            "western-electric" => Some(RuleSet::WesternElectric),
            "nelson" => Some(RuleSet::Nelson),
            _ => None,
        }
    }

    /// How many trailing points a check looks at (a streaming chart keeps this many).
    pub fn window(self) -> usize {
        match self {
            RuleSet::Limits => 1,
            RuleSet::WesternElectric => 8,
            RuleSet::Nelson => 15,
        }
    }
}

#[derive(Clone, Copy)]
struct Zones {
    center: f64,
    sigma: f64,
}

impl Zones {
    fn above(self, p: f64, k: f64) -> bool {
        p - self.center > k * self.sigma
    }
    fn below(self, p: f64, k: f64) -> bool {
        self.center - p > k * self.sigma
    }
    /// At least `k` of the last `m` points beyond `zone`σ on the side of the last point, which
    /// must itself be beyond.
    fn k_of_m(self, run: &[f64], k: usize, m: usize, zone: f64) -> bool {
        if run.len() < m {
            return false;
        }
        let w = &run[run.len() - m..];
        let last = w[m - 1];
        if self.above(last, zone) {
            w.iter().filter(|&&v| self.above(v, zone)).count() >= k
        } else if self.below(last, zone) {
            w.iter().filter(|&&v| self.below(v, zone)).count() >= k
        } else {
            false
        }
    }
    fn same_side(self, run: &[f64], m: usize) -> bool {
        if run.len() < m {
            return false;
        }
        let w = &run[run.len() - m..];
        w.iter().all(|&v| v > self.center) || w.iter().all(|&v| v < self.center)
    }
}

/// The rules (as a bit set: bit r − 1 for rule r) that the run ending at the last point of
/// `run` breaks. `run` holds the points so far, oldest first (only the last
/// [`RuleSet::window`] matter). Empty `run`: no rule. NaN points compare false everywhere, so
/// they break no rule and end every run.
pub fn rules_broken(run: &[f64], center: f64, sigma: f64, set: RuleSet) -> u32 {
    let Some(&last) = run.last() else { return 0 };
    let z = Zones { center, sigma };
    let mut bits = 0u32;
    let mut flag = |rule: u32, hit: bool| {
        if hit {
            bits |= 1 << (rule - 1);
        }
    };
    flag(1, z.above(last, 3.0) || z.below(last, 3.0));
    match set {
        RuleSet::Limits => {}
        RuleSet::WesternElectric => {
            flag(2, z.k_of_m(run, 2, 3, 2.0));
            flag(3, z.k_of_m(run, 4, 5, 1.0));
            flag(4, z.same_side(run, 8));
        }
        RuleSet::Nelson => {
            flag(2, z.same_side(run, 9));
            flag(3, monotone(run, 6));
            flag(4, alternating(run, 14));
            flag(5, z.k_of_m(run, 2, 3, 2.0));
            flag(6, z.k_of_m(run, 4, 5, 1.0));
            flag(
                7,
                run.len() >= 15
                    && run[run.len() - 15..]
                        .iter()
                        .all(|&v| !z.above(v, 1.0) && !z.below(v, 1.0)),
            );
            flag(
                8,
                run.len() >= 8
                    && run[run.len() - 8..]
                        .iter()
                        .all(|&v| z.above(v, 1.0) || z.below(v, 1.0)),
            );
        }
    }
    bits
}

/// The last `m` points strictly increasing, or strictly decreasing.
fn monotone(run: &[f64], m: usize) -> bool {
    if run.len() < m {
        return false;
    }
    let w = &run[run.len() - m..];
    w.windows(2).all(|p| p[1] > p[0]) || w.windows(2).all(|p| p[1] < p[0])
}

/// The last `m` points alternate: every step nonzero and each the opposite way of the one before.
fn alternating(run: &[f64], m: usize) -> bool {
    if run.len() < m {
        return false;
    }
    let w = &run[run.len() - m..];
    let steps: Vec<f64> = w.windows(2).map(|p| p[1] - p[0]).collect();
    steps.iter().all(|&d| d != 0.0 && !d.is_nan())
        && steps.windows(2).all(|d| (d[0] > 0.0) != (d[1] > 0.0))
}

/// Every (index, rule) broken in `points`, in index order then rule order.
pub fn violations(points: &[f64], center: f64, sigma: f64, set: RuleSet) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    for i in 0..points.len() {
        let from = (i + 1).saturating_sub(set.window());
        let bits = rules_broken(&points[from..=i], center, sigma, set);
        for r in 0..8u8 {
            if bits & (1 << r) != 0 {
                out.push((i, r + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_at_end(run: &[f64], set: RuleSet) -> Vec<u8> {
        let bits = rules_broken(run, 0.0, 1.0, set);
        (1..=8).filter(|r| bits & (1 << (r - 1)) != 0).collect()
    }

    #[test]
    fn each_western_electric_rule_on_a_minimal_run() {
        let we = RuleSet::WesternElectric;
        assert_eq!(rules_at_end(&[3.5], we), vec![1]);
        assert_eq!(rules_at_end(&[-3.0], we), Vec::<u8>::new()); // exactly 3σ is not beyond
        assert_eq!(rules_at_end(&[2.5, 0.1, 2.1], we), vec![2]);
        assert_eq!(rules_at_end(&[2.5, 2.1, 0.1], we), Vec::<u8>::new()); // last point in zone
        assert_eq!(rules_at_end(&[-2.5, 2.1, 2.2], we), vec![2]);
        assert_eq!(rules_at_end(&[-2.5, 0.1, 2.2], we), Vec::<u8>::new()); // opposite sides
        assert_eq!(rules_at_end(&[1.5, 1.2, -0.5, 1.1, 1.9], we), vec![3]);
        assert_eq!(rules_at_end(&[0.1; 8], we), vec![4]);
        assert_eq!(
            rules_at_end(&[0.1, 0.1, 0.0, 0.1, 0.1, 0.1, 0.1, 0.1], we),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn each_nelson_rule_on_a_minimal_run() {
        let ne = RuleSet::Nelson;
        assert_eq!(rules_at_end(&[-0.1; 9], ne), vec![2]);
        assert_eq!(
            rules_at_end(&[-0.5, -0.4, -0.3, -0.2, -0.1, 0.0], ne),
            vec![3]
        );
        let alt: Vec<f64> = (0..14)
            .map(|i| if i % 2 == 0 { 0.2 } else { -0.2 })
            .collect();
        assert_eq!(rules_at_end(&alt, ne), vec![4]);
        let hug: Vec<f64> = (0..15)
            .map(|i| {
                if i % 3 == 0 {
                    0.5
                } else {
                    -0.4 + 0.01 * i as f64
                }
            })
            .collect();
        assert_eq!(rules_at_end(&hug, ne), vec![7]);
        let mix = [1.5, -1.5, 1.2, -1.4, 1.1, -1.3, 1.6, 1.7];
        assert_eq!(rules_at_end(&mix, ne), vec![8]);
    }

    #[test]
    fn nan_breaks_nothing_and_ends_runs() {
        assert_eq!(rules_at_end(&[f64::NAN], RuleSet::Nelson), Vec::<u8>::new());
        let mut run = vec![0.1; 8];
        run[3] = f64::NAN;
        assert_eq!(
            rules_at_end(&run, RuleSet::WesternElectric),
            Vec::<u8>::new()
        );
    }
}
