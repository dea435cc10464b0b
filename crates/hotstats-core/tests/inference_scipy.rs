//! Every inference function against scipy's values (`__test__/fixtures/inference-scipy.json`,
//! written by `scripts/reference/inference_scipy.py`): p-values within 1e-9 relative (where
//! p > 1e-300), Shapiro-Wilk within 1e-6, P(B beats A) within 1e-10.
use hotstats_core::inference::{
    bayes_ab::beta_binomial_ab,
    fit::{fit_distribution, Candidate},
    mann_whitney::{mann_whitney_u, Method},
    proportions::{chi_square_test, two_proportion_z_test},
    shapiro::shapiro_wilk,
    ttest::{one_sample, student, welch, welch_from_summaries, SampleSummary},
    Alternative,
};
use serde_json::Value;

struct Check {
    worst: f64,
    count: usize,
}

impl Check {
    /// Relative error against `want` (absolute below `floor`), at most `tol`.
    fn close(&mut self, what: &str, got: f64, want: f64, tol: f64, floor: f64) {
        let err = (got - want).abs() / want.abs().max(floor);
        assert!(
            err <= tol,
            "{what}: got {got:e}, want {want:e}, relative error {err:e} > {tol:e}"
        );
        self.worst = self.worst.max(err);
        self.count += 1;
    }
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../__test__/fixtures/inference-scipy.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let samples: Vec<Vec<f64>> = doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let sample = |v: &Value| -> Vec<f64> {
        match v {
            Value::String(s) => samples[s[1..].parse::<usize>().unwrap()].clone(),
            Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
            _ => panic!("not a sample: {v}"),
        }
    };
    let num = |v: &Value| v.as_f64().unwrap();
    let mut c = Check {
        worst: 0.0,
        count: 0,
    };
    let mut per_fn = std::collections::BTreeMap::<String, usize>::new();
    for case in doc["cases"].as_array().unwrap() {
        let (f, args, want) = (
            case["fn"].as_str().unwrap(),
            &case["args"],
            &case["expected"],
        );
        let alt = || Alternative::parse(args["alternative"].as_str().unwrap()).unwrap();
        let label = format!(
            "{f} {}",
            serde_json::to_string(args)
                .unwrap()
                .chars()
                .take(120)
                .collect::<String>()
        );
        let p = |c: &mut Check, got: f64, want: &Value| {
            let w = num(&want["pValue"]);
            if w > 1e-300 {
                c.close(&format!("{label} pValue"), got, w, 1e-9, 1e-300);
            }
        };
        match f {
            "welchTTest" | "studentTTest" | "oneSampleTTest" => {
                let a = sample(&args["a"]);
                let r = match f {
                    "welchTTest" => welch(&a, &sample(&args["b"]), alt()),
                    "studentTTest" => student(&a, &sample(&args["b"]), alt()),
                    _ => one_sample(&a, num(&args["mu"]), alt()),
                }
                .unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    1e-9,
                    1e-12,
                );
                c.close(&format!("{label} df"), r.df, num(&want["df"]), 1e-9, 1e-12);
                p(&mut c, r.p_value, want);
            }
            "welchTTestFromSummaries" => {
                let s = |v: &Value| SampleSummary {
                    count: num(&v["count"]),
                    mean: num(&v["mean"]),
                    variance: num(&v["variance"]),
                };
                let r = welch_from_summaries(&s(&args["a"]), &s(&args["b"]), alt()).unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    1e-9,
                    1e-12,
                );
                p(&mut c, r.p_value, want);
            }
            "mannWhitneyU" => {
                let r = mann_whitney_u(
                    &sample(&args["a"]),
                    &sample(&args["b"]),
                    alt(),
                    Method::parse(args["method"].as_str().unwrap()).unwrap(),
                    args["useContinuity"].as_bool().unwrap(),
                )
                .unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    0.0,
                    1.0,
                );
                p(&mut c, r.p_value, want);
            }
            "chiSquareTest" => {
                let table: Vec<Vec<f64>> = args["table"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(&sample)
                    .collect();
                let r = chi_square_test(&table, args["correction"].as_bool().unwrap()).unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    1e-9,
                    1e-12,
                );
                c.close(&format!("{label} df"), r.df, num(&want["df"]), 0.0, 1.0);
                for (row, wrow) in r.expected.iter().zip(want["expected"].as_array().unwrap()) {
                    for (e, w) in row.iter().zip(sample(wrow)) {
                        c.close(&format!("{label} expected"), *e, w, 1e-12, 1e-12);
                    }
                }
                p(&mut c, r.p_value, want);
            }
            "twoProportionZTest" => {
                let r = two_proportion_z_test(
                    num(&args["successesA"]),
                    num(&args["trialsA"]),
                    num(&args["successesB"]),
                    num(&args["trialsB"]),
                    alt(),
                )
                .unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    1e-9,
                    1e-12,
                );
                p(&mut c, r.p_value, want);
            }
            "betaBinomialAB" => {
                let r = beta_binomial_ab(
                    num(&args["successesA"]),
                    num(&args["trialsA"]),
                    num(&args["successesB"]),
                    num(&args["trialsB"]),
                    num(&args["prior"]["alpha"]),
                    num(&args["prior"]["beta"]),
                )
                .unwrap();
                c.close(
                    &format!("{label} probBBeatsA"),
                    r.prob_b_beats_a,
                    num(&want["probBBeatsA"]),
                    1e-10,
                    1.0,
                );
                for (got, key) in [
                    (r.credible_interval_a95, "credibleIntervalA95"),
                    (r.credible_interval_b95, "credibleIntervalB95"),
                ] {
                    let w = sample(&want[key]);
                    c.close(&format!("{label} {key}"), got[0], w[0], 1e-9, 1e-300);
                    c.close(&format!("{label} {key}"), got[1], w[1], 1e-9, 1e-300);
                }
                c.close(
                    &format!("{label} expectedLossA"),
                    r.expected_loss_a,
                    num(&want["expectedLossA"]),
                    1e-9,
                    1e-15,
                );
                c.close(
                    &format!("{label} expectedLossB"),
                    r.expected_loss_b,
                    num(&want["expectedLossB"]),
                    1e-9,
                    1e-15,
                );
            }
            "shapiroWilk" => {
                let r = shapiro_wilk(&sample(&args["x"])).unwrap();
                c.close(
                    &format!("{label} statistic"),
                    r.statistic,
                    num(&want["statistic"]),
                    1e-6,
                    1e-300,
                );
                c.close(
                    &format!("{label} pValue"),
                    r.p_value,
                    num(&want["pValue"]),
                    1e-6,
                    1e-300,
                );
            }
            "fitDistribution" => {
                let all = [
                    Candidate::Normal,
                    Candidate::LogNormal,
                    Candidate::Exponential,
                ];
                let fits = fit_distribution(&sample(&args["x"]), &all).unwrap();
                let want = want.as_array().unwrap();
                assert_eq!(fits.len(), want.len(), "{label}");
                for (got, w) in fits.iter().zip(want) {
                    assert_eq!(
                        got.candidate.name(),
                        w["name"].as_str().unwrap(),
                        "{label}: ranking"
                    );
                    for (k, v) in &got.params {
                        c.close(
                            &format!("{label} {k}"),
                            *v,
                            num(&w["params"][*k]),
                            1e-9,
                            1e-300,
                        );
                    }
                    c.close(
                        &format!("{label} logLikelihood"),
                        got.log_likelihood,
                        num(&w["logLikelihood"]),
                        1e-9,
                        1e-300,
                    );
                    c.close(
                        &format!("{label} aic"),
                        got.aic,
                        num(&w["aic"]),
                        1e-9,
                        1e-300,
                    );
                }
            }
            other => panic!("unknown fn {other}"),
        }
        *per_fn.entry(f.to_string()).or_default() += 1;
    }
    println!(
        "{} values checked in {:?} (worst relative error {:e})",
        c.count, per_fn, c.worst
    );
}
