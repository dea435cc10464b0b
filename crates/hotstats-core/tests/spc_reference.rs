//! The process-control charts against an independent implementation
//! (`__test__/fixtures/spc-reference.json`, written by `scripts/reference/spc_reference.py`):
//! constants within 1e-10 of scipy's quadrature, limits and points within 1e-12 relative, every
//! violation and signal exactly.
use hotstats_core::spc::{
    charts::{individuals_chart, xbar_chart, Dispersion, Panel, ShewhartChart},
    constants::chart_constants,
    cusum::{cusum_chart, Side},
    ewma::ewma_chart,
    rules::RuleSet,
};
use serde_json::Value;

fn close(what: &str, got: f64, want: f64, tol: f64, worst: &mut f64) {
    let err = (got - want).abs() / want.abs().max(1e-3);
    assert!(
        err <= tol,
        "{what}: got {got:e}, want {want:e}, error {err:e} > {tol:e}"
    );
    *worst = worst.max(err);
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close_all(what: &str, got: &[f64], want: &Value, worst: &mut f64) {
    let want = nums(want);
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        close(&format!("{what}[{i}]"), g, w, 1e-12, worst);
    }
}

fn check_shewhart(
    name: &str,
    got: &ShewhartChart,
    want: &Value,
    panels: [&str; 2],
    worst: &mut f64,
) {
    close(
        &format!("{name} sigma"),
        got.sigma,
        want["sigma"].as_f64().unwrap(),
        1e-12,
        worst,
    );
    for (line, key) in [(&got.location, panels[0]), (&got.dispersion, panels[1])] {
        let w = &want[key];
        for (field, g) in [
            ("center", line.center),
            ("ucl", line.ucl),
            ("lcl", line.lcl),
        ] {
            close(
                &format!("{name} {key}.{field}"),
                g,
                w[field].as_f64().unwrap(),
                1e-12,
                worst,
            );
        }
        close_all(
            &format!("{name} {key}.points"),
            &line.points,
            &w["points"],
            worst,
        );
    }
    let mut got_v: Vec<(String, u64, u64)> = got
        .violations
        .iter()
        .map(|v| {
            let panel = if v.panel == Panel::Location {
                panels[0]
            } else {
                panels[1]
            };
            (panel.to_string(), v.index as u64, v.rule as u64)
        })
        .collect();
    let mut want_v: Vec<(String, u64, u64)> = want["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["chart"].as_str().unwrap().to_string(),
                v["index"].as_u64().unwrap(),
                v["rule"].as_u64().unwrap(),
            )
        })
        .collect();
    got_v.sort();
    want_v.sort();
    assert_eq!(got_v, want_v, "{name}: violations");
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../__test__/fixtures/spc-reference.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut worst_constant = 0.0f64;
    for c in doc["constants"].as_array().unwrap() {
        let n = c["n"].as_u64().unwrap() as usize;
        let k = chart_constants(n).unwrap();
        for (name, got) in [
            ("d2", k.d2),
            ("d3", k.d3),
            ("c4", k.c4),
            ("A2", k.a2),
            ("A3", k.a3),
            ("D3", k.d3_lower),
            ("D4", k.d4),
            ("B3", k.b3),
            ("B4", k.b4),
        ] {
            let want = c[name].as_f64().unwrap();
            let err = (got - want).abs() / want.abs().max(1e-3);
            assert!(
                err <= 1e-10,
                "{name}({n}): got {got}, want {want}, error {err:e}"
            );
            worst_constant = worst_constant.max(err);
        }
    }
    let mut worst = 0.0f64;
    let charts = doc["charts"].as_array().unwrap();
    let mut violations = 0;
    for c in charts {
        let f = c["fn"].as_str().unwrap();
        let name = format!(
            "{f} {} {}",
            c["name"].as_str().unwrap(),
            c["rules"].as_str().unwrap_or("")
        );
        let want = &c["expected"];
        match f {
            "xbarR" | "xbarS" => {
                let groups: Vec<Vec<f64>> = c["subgroups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(nums)
                    .collect();
                let n = groups[0].len();
                let flat: Vec<f64> = groups.concat();
                let set = RuleSet::parse(c["rules"].as_str().unwrap()).unwrap();
                let (disp, key) = if f == "xbarR" {
                    (Dispersion::Range, "range")
                } else {
                    (Dispersion::StdDev, "stddev")
                };
                let got = xbar_chart(&flat, n, disp, set).unwrap();
                check_shewhart(&name, &got, want, ["xbar", key], &mut worst);
                violations += got.violations.len();
            }
            "imr" => {
                let set = RuleSet::parse(c["rules"].as_str().unwrap()).unwrap();
                let got = individuals_chart(&nums(&c["values"]), set).unwrap();
                check_shewhart(
                    &name,
                    &got,
                    want,
                    ["individuals", "movingRange"],
                    &mut worst,
                );
                violations += got.violations.len();
            }
            "ewma" => {
                let num = |k: &str| c[k].as_f64().unwrap();
                let got = ewma_chart(
                    &nums(&c["values"]),
                    num("lambda"),
                    num("L"),
                    Some(num("target")),
                    Some(num("sigma")),
                )
                .unwrap();
                close_all(
                    &format!("{name} z"),
                    &got.points,
                    &want["points"],
                    &mut worst,
                );
                close_all(&format!("{name} ucl"), &got.ucl, &want["ucl"], &mut worst);
                close_all(&format!("{name} lcl"), &got.lcl, &want["lcl"], &mut worst);
                let want_s: Vec<usize> = want["signals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect();
                assert_eq!(got.signals, want_s, "{name}: signals");
                violations += got.signals.len();
            }
            "cusum" => {
                let num = |k: &str| c[k].as_f64().unwrap();
                let got = cusum_chart(
                    &nums(&c["values"]),
                    num("k"),
                    num("h"),
                    Some(num("target")),
                    Some(num("sigma")),
                )
                .unwrap();
                close_all(
                    &format!("{name} upper"),
                    &got.upper,
                    &want["upper"],
                    &mut worst,
                );
                close_all(
                    &format!("{name} lower"),
                    &got.lower,
                    &want["lower"],
                    &mut worst,
                );
                let want_s: Vec<(usize, Side)> = want["signals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| {
                        (
                            v["index"].as_u64().unwrap() as usize,
                            if v["side"] == "upper" {
                                Side::Upper
                            } else {
                                Side::Lower
                            },
                        )
                    })
                    .collect();
                assert_eq!(got.signals, want_s, "{name}: signals");
                violations += got.signals.len();
            }
            _ => panic!("unknown chart {f}"),
        }
    }
    println!(
        "spc_reference: 24 constant sets (worst error {worst_constant:.1e}), {} charts, {violations} violations and signals matched (worst error {worst:.1e})",
        charts.len()
    );
}
