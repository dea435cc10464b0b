//! Bindings of `hotstats_core::spc`: values arrive as one Float64Array (subgroups row-major),
//! options as numbers and strings; a core error becomes an InvalidArg error (the facade throws
//! it as a RangeError). The facade names the panels and rules.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::spc::{
    charts::{self, Dispersion, Panel},
    constants::chart_constants,
    cusum::{self, Side},
    ewma,
    rules::RuleSet,
    SpcError,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn err(e: SpcError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

fn rule_set(s: &str) -> Result<RuleSet> {
    RuleSet::parse(s).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("rules must be 'western-electric', 'nelson' or 'limits', got {s:?}"),
        )
    })
}

/// [d2, d3, c4, A2, A3, D3, D4, B3, B4] for subgroup size n.
#[napi(catch_unwind)]
pub fn spc_constants(n: u32) -> Result<Vec<f64>> {
    let k = chart_constants(n as usize).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("subgroupSize must be from 2 to 25, got {n}"),
        )
    })?;
    Ok(vec![
        k.d2, k.d3, k.c4, k.a2, k.a3, k.d3_lower, k.d4, k.b3, k.b4,
    ])
}

#[napi(object)]
pub struct SpcLine {
    pub center: f64,
    pub ucl: f64,
    pub lcl: f64,
    pub points: Vec<f64>,
}

#[napi(object)]
pub struct SpcViolation {
    /// 0: the location panel, 1: the dispersion panel.
    pub panel: u32,
    pub index: u32,
    pub rule: u32,
}

#[napi(object)]
pub struct SpcShewhartChart {
    pub sigma: f64,
    pub location: SpcLine,
    pub dispersion: SpcLine,
    pub violations: Vec<SpcViolation>,
}

fn line(l: charts::ChartLine) -> SpcLine {
    SpcLine {
        center: l.center,
        ucl: l.ucl,
        lcl: l.lcl,
        points: l.points,
    }
}

impl From<charts::ShewhartChart> for SpcShewhartChart {
    fn from(c: charts::ShewhartChart) -> Self {
        SpcShewhartChart {
            sigma: c.sigma,
            location: line(c.location),
            dispersion: line(c.dispersion),
            violations: c
                .violations
                .iter()
                .map(|v| SpcViolation {
                    panel: (v.panel == Panel::Dispersion) as u32,
                    index: v.index as u32,
                    rule: v.rule as u32,
                })
                .collect(),
        }
    }
}

/// `dispersion` is "range" or "stddev".
#[napi(catch_unwind)]
pub fn spc_xbar_chart(
    values: &[f64],
    n: u32,
    dispersion: String,
    rules: String,
) -> Result<SpcShewhartChart> {
    let d = match dispersion.as_str() {
        "range" => Dispersion::Range,
        "stddev" => Dispersion::StdDev,
        _ => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("dispersion must be 'range' or 'stddev', got {dispersion:?}"),
            ))
        }
    };
    Ok(charts::xbar_chart(values, n as usize, d, rule_set(&rules)?)
        .map_err(err)?
        .into())
}

#[napi(catch_unwind)]
pub fn spc_individuals_chart(values: &[f64], rules: String) -> Result<SpcShewhartChart> {
    Ok(charts::individuals_chart(values, rule_set(&rules)?)
        .map_err(err)?
        .into())
}

#[napi(object)]
pub struct SpcEwmaChart {
    pub target: f64,
    pub sigma: f64,
    pub points: Vec<f64>,
    pub ucl: Vec<f64>,
    pub lcl: Vec<f64>,
    pub signals: Vec<u32>,
}

#[napi(catch_unwind)]
pub fn spc_ewma_chart(
    values: &[f64],
    lambda: f64,
    l: f64,
    target: Option<f64>,
    sigma: Option<f64>,
) -> Result<SpcEwmaChart> {
    let c = ewma::ewma_chart(values, lambda, l, target, sigma).map_err(err)?;
    Ok(SpcEwmaChart {
        target: c.target,
        sigma: c.sigma,
        points: c.points,
        ucl: c.ucl,
        lcl: c.lcl,
        signals: c.signals.iter().map(|&i| i as u32).collect(),
    })
}

#[napi(object)]
pub struct SpcCusumChart {
    pub target: f64,
    pub sigma: f64,
    pub allowance: f64,
    pub decision_interval: f64,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    /// Signal indices, each followed by its side: 1 upper, -1 lower.
    pub signals: Vec<i32>,
}

#[napi(catch_unwind)]
pub fn spc_cusum_chart(
    values: &[f64],
    k: f64,
    h: f64,
    target: Option<f64>,
    sigma: Option<f64>,
) -> Result<SpcCusumChart> {
    let c = cusum::cusum_chart(values, k, h, target, sigma).map_err(err)?;
    Ok(SpcCusumChart {
        target: c.target,
        sigma: c.sigma,
        allowance: c.k,
        decision_interval: c.h,
        upper: c.upper,
        lower: c.lower,
        signals: c
            .signals
            .iter()
            .flat_map(|&(i, s)| [i as i32, if s == Side::Upper { 1 } else { -1 }])
            .collect(),
    })
}
