//! Binding of HyperLogLog (`hotstats_core::hll`). The state is a 16384-byte register array
//! owned by the JS object; these functions update or read it in place.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::hll;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn registers_mut(r: &mut Uint8Array) -> Result<&mut [u8; hll::REGISTERS]> {
    let len = r.len();
    // SAFETY: the array is an argument of this synchronous call, on the JS thread: nothing else
    // reads or writes it until the call returns, and the slice does not outlive the call.
    let bytes = unsafe { r.as_mut() };
    bytes.try_into().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!("registers must be {} bytes, got {len}", hll::REGISTERS),
        )
    })
}

fn registers(r: &[u8]) -> Result<&[u8; hll::REGISTERS]> {
    r.try_into().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!(
                "registers must be {} bytes, got {}",
                hll::REGISTERS,
                r.len()
            ),
        )
    })
}

/// Adds every byte string to the registers; returns whether any changed.
#[napi(catch_unwind)]
pub fn hll_add_bytes(mut regs: Uint8Array, items: Vec<Uint8Array>) -> Result<bool> {
    let r = registers_mut(&mut regs)?;
    let mut changed = false;
    for b in &items {
        changed |= hll::add(r, b);
    }
    Ok(changed)
}

/// Redis's cardinality estimate of the registers.
#[napi(catch_unwind)]
pub fn hll_count(regs: &[u8]) -> Result<f64> {
    let r = registers(regs)?;
    if r.iter().any(|&v| v > hll::MAX_VALUE) {
        return Err(Error::new(Status::InvalidArg, "register value above 51"));
    }
    Ok(hll::estimate(r) as f64)
}

/// Union into `into` (register-wise max).
#[napi(catch_unwind)]
pub fn hll_merge(mut into: Uint8Array, other: &[u8]) -> Result<()> {
    let a = registers_mut(&mut into)?;
    let b = registers(other)?;
    hll::merge(a, b);
    Ok(())
}

/// Redis's dense string for the registers (cached cardinality marked stale).
#[napi(catch_unwind)]
pub fn hll_to_redis(regs: &[u8]) -> Result<Uint8Array> {
    Ok(hll::redis::to_redis_dense(registers(regs)?).into())
}

/// Registers (16384 bytes) from a Redis HLL string, dense or sparse; an Error for bad bytes.
#[napi(catch_unwind)]
pub fn hll_from_redis(bytes: &[u8]) -> Result<Uint8Array> {
    let regs = hll::redis::from_redis(bytes)
        .map_err(|e| Error::new(Status::InvalidArg, format!("not a Redis HyperLogLog: {e}")))?;
    Ok(regs.to_vec().into())
}

/// Adds elements packed back to back in `bytes`, element i being the next `lengths[i]` bytes
/// (the TS class packs strings as UTF-8 this way: one call, no per-element Node-API work).
/// Lengths that overrun `bytes` are an error and nothing is added.
#[napi(catch_unwind)]
pub fn hll_add_packed(mut regs: Uint8Array, bytes: &[u8], lengths: &[u32]) -> Result<bool> {
    let total: u64 = lengths.iter().map(|&l| l as u64).sum();
    if total > bytes.len() as u64 {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "lengths add up to {total} bytes, more than the {} given",
                bytes.len()
            ),
        ));
    }
    let r = registers_mut(&mut regs)?;
    let mut at = 0usize;
    let mut changed = false;
    for &l in lengths {
        let end = at + l as usize;
        changed |= hll::add(r, &bytes[at..end]);
        at = end;
    }
    Ok(changed)
}
