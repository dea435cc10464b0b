//! Binding of the CRDT counters (`hotstats_core::counters`): merges of serialized states (the JS
//! classes hold the state).

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::counters::{GCounter, PNCounter};
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn counter_error(e: hotstats_core::counters::CounterError) -> Error {
    Error::new(Status::InvalidArg, format!("not a serialized counter: {e}"))
}

/// Merge of two serialized GCounters, serialized (per-key maximum).
#[napi(catch_unwind)]
pub fn gcounter_merge(a: &[u8], b: &[u8]) -> Result<Uint8Array> {
    let mut x = GCounter::deserialize(a).map_err(counter_error)?;
    x.merge(&GCounter::deserialize(b).map_err(counter_error)?);
    Ok(x.serialize().into())
}

/// Merge of two serialized PNCounters, serialized.
#[napi(catch_unwind)]
pub fn pncounter_merge(a: &[u8], b: &[u8]) -> Result<Uint8Array> {
    let mut x = PNCounter::deserialize(a).map_err(counter_error)?;
    x.merge(&PNCounter::deserialize(b).map_err(counter_error)?);
    Ok(x.serialize().into())
}
