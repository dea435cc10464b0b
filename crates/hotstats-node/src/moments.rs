//! Binding of `hotstats_core::moments::Moments`. The state is a Float64Array of 9 fields owned
//! by the JS object: [count, sum, min, max, shift, mean, m2, m3, m4], as lib/moments/js.ts.
//!
//! A function that writes the state takes its other arguments as owned typed arrays (not
//! `&[f64]`, which would stay borrowed for the whole call), reads everything first and borrows
//! the state mutably only to store the result: JS may pass views of one buffer for both
//! (`m.merge(m)` does), and a `&mut` must not alias another live borrow.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::moments::Moments;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn moments_from(state: &[f64]) -> Result<Moments> {
    if state.len() != 9 {
        return Err(Error::new(
            Status::InvalidArg,
            format!("moments state must have 9 fields, got {}", state.len()),
        ));
    }
    let count = state[0];
    if !((0.0..=9_007_199_254_740_992.0).contains(&count) && count.fract() == 0.0) {
        return Err(Error::new(
            Status::InvalidArg,
            format!("moments count must be a whole number, got {count}"),
        ));
    }
    Ok(Moments {
        count: count as u64,
        sum: state[1],
        min: state[2],
        max: state[3],
        shift: state[4],
        mean: state[5],
        m2: state[6],
        m3: state[7],
        m4: state[8],
    })
}

fn moments_into(m: &Moments, state: &mut [f64]) {
    let fields = [
        m.count as f64,
        m.sum,
        m.min,
        m.max,
        m.shift,
        m.mean,
        m.m2,
        m.m3,
        m.m4,
    ];
    state.copy_from_slice(&fields);
}

/// Adds every value of `x` to the moments state in place.
#[napi(catch_unwind)]
pub fn moments_add_many(mut state: Float64Array, x: Float64Array) -> Result<()> {
    let x: &[f64] = &x;
    // Moments take finite values only (as every class): checked before anything is added.
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "xs[{i}] must be finite, got {}",
                match x[i] {
                    v if v.is_nan() => "NaN",
                    v if v > 0.0 => "Infinity",
                    _ => "-Infinity",
                }
            ),
        ));
    }
    let mut m = moments_from(&state)?;
    m.add_all(x);
    // SAFETY: `x` and the state were last read above, and no other borrow of JS memory is live
    // (both are owned handles, not borrowed arguments); the JS thread waits in this call, so no
    // JS code touches the state (the facade allocates it on a plain ArrayBuffer, which no other
    // thread can reach), and the borrow ends inside `moments_into`.
    moments_into(&m, unsafe { state.as_mut() });
    Ok(())
}

/// Pébay merge of `other` into `into`, in place.
#[napi(catch_unwind)]
pub fn moments_merge(mut into: Float64Array, other: Float64Array) -> Result<()> {
    let mut a = moments_from(&into)?;
    a.merge(&moments_from(&other)?);
    // SAFETY: as in moments_add_many: `other` and `into` were read into `a` above (they may be
    // the same array: m.merge(m)), and nothing else borrows JS memory now.
    moments_into(&a, unsafe { into.as_mut() });
    Ok(())
}
