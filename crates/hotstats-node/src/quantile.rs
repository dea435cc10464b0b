//! Binding of `hotstats_core::quantile::QuantileSketch` (the TS class `QuantileSketch` stages
//! values in JS and calls this in batches).

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::quantile::{QuantileSketch as CoreSketch, SketchError};
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn sketch_error(e: SketchError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// The native state of a QuantileSketch (the TS class `QuantileSketch` stages values and
/// calls this in batches).
#[napi]
pub struct NativeQuantileSketch {
    inner: CoreSketch,
}

#[napi]
impl NativeQuantileSketch {
    #[napi(constructor, catch_unwind)]
    pub fn new(relative_accuracy: f64, max_bins: f64) -> Result<Self> {
        if !(max_bins.fract() == 0.0 && max_bins >= 1.0) {
            return Err(sketch_error(SketchError::MaxBins(0)));
        }
        Ok(NativeQuantileSketch {
            inner: CoreSketch::new(relative_accuracy, max_bins as u64).map_err(sketch_error)?,
        })
    }

    /// Adds every value with weight 1 (all checked first).
    #[napi(catch_unwind)]
    pub fn add_many(&mut self, x: &[f64]) -> Result<()> {
        self.inner.add_all(x).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn add_weighted(&mut self, v: f64, w: f64) -> Result<()> {
        self.inner.add(v, w).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn quantile(&self, q: f64) -> Result<f64> {
        self.inner.quantile(q).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>> {
        qs.iter()
            .map(|&q| self.inner.quantile(q).map_err(sketch_error))
            .collect()
    }

    #[napi(catch_unwind)]
    pub fn rank(&self, v: f64) -> f64 {
        self.inner.rank(v)
    }

    /// [count, sum, min, max]
    #[napi(catch_unwind)]
    pub fn stats(&self) -> Vec<f64> {
        vec![
            self.inner.count,
            self.inner.sum,
            self.inner.min,
            self.inner.max,
        ]
    }

    #[napi(catch_unwind)]
    pub fn merge(&mut self, other: &NativeQuantileSketch) -> Result<()> {
        self.inner.merge(&other.inner).map_err(sketch_error)
    }

    #[napi(catch_unwind)]
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    #[napi(catch_unwind)]
    pub fn serialize(&self) -> Uint8Array {
        self.inner.serialize().into()
    }

    #[napi(factory, catch_unwind)]
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        Ok(NativeQuantileSketch {
            inner: CoreSketch::deserialize(bytes).map_err(sketch_error)?,
        })
    }
}
