//! Binding of HyperLogLog (`hotstats_core::hll`). The state is a 16384-byte register array
//! owned by the JS object; these functions update or read it in place.
//!
//! A function that writes the registers takes its other arguments as owned typed arrays (not
//! `&[u8]`, which would stay borrowed for the whole call) and reads them into Rust memory
//! (patterns, a copy) before it borrows the registers mutably: JS may pass views of one buffer
//! for both (`h.merge(h)` does), and a `&mut` must not alias another live borrow.

// The #[napi] exports are not compiled into unit tests, so the helpers look unused there.
#![cfg_attr(test, allow(dead_code))]

use hotstats_core::hll;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// The registers, mutably. Callers hold no other borrow of JS memory while it lives (see the
/// module doc).
fn registers_mut(r: &mut Uint8Array) -> Result<&mut [u8; hll::REGISTERS]> {
    let len = r.len();
    // SAFETY: the borrow is tied to `r`, an argument of this synchronous call, so it ends before
    // the call returns; meanwhile the JS thread waits in this call, so no JS code touches the
    // array (the facade allocates it on a plain ArrayBuffer, which no other thread can reach),
    // and the caller holds no other Rust borrow of JS memory (module doc), so nothing aliases it.
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

/// (register index, value) of every element, read before the registers are borrowed.
type Patterns = Vec<(u16, u8)>;

fn pattern(element: &[u8]) -> (u16, u8) {
    let (i, v) = hll::pattern(element);
    // i < REGISTERS = 16384.
    (i as u16, v)
}

/// Sets each register to the larger of its value and the patterns'; whether any changed.
fn apply(r: &mut [u8; hll::REGISTERS], patterns: &Patterns) -> bool {
    let mut changed = false;
    for &(i, v) in patterns {
        let slot = &mut r[i as usize];
        if v > *slot {
            *slot = v;
            changed = true;
        }
    }
    changed
}

/// Adds every byte string to the registers; returns whether any changed.
#[napi(catch_unwind)]
pub fn hll_add_bytes(mut regs: Uint8Array, items: Vec<Uint8Array>) -> Result<bool> {
    let patterns: Patterns = items.iter().map(|b| pattern(b)).collect();
    let r = registers_mut(&mut regs)?;
    Ok(apply(r, &patterns))
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
pub fn hll_merge(mut into: Uint8Array, other: Uint8Array) -> Result<()> {
    // A copy: `other` may be `into` itself (h.merge(h)), or overlap it.
    let b: Box<[u8; hll::REGISTERS]> = Box::new(*registers(&other)?);
    let a = registers_mut(&mut into)?;
    hll::merge(a, &b);
    Ok(())
}

/// Redis's dense string for the registers (cached cardinality marked stale).
#[napi(catch_unwind)]
pub fn hll_to_redis(regs: &[u8]) -> Result<Uint8Array> {
    Ok(hll::redis::to_redis_dense(registers(regs)?).into())
}

/// Adds elements packed back to back in `bytes`, element i being the next `lengths[i]` bytes
/// (the TS class packs strings as UTF-8 this way: one call, no per-element Node-API work).
/// Lengths that overrun `bytes` are an error and nothing is added.
#[napi(catch_unwind)]
pub fn hll_add_packed(
    mut regs: Uint8Array,
    bytes: Uint8Array,
    lengths: Uint32Array,
) -> Result<bool> {
    let (bytes, lengths): (&[u8], &[u32]) = (&bytes, &lengths);
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
    let mut at = 0usize;
    let patterns: Patterns = lengths
        .iter()
        .map(|&l| {
            let end = at + l as usize;
            let p = pattern(&bytes[at..end]);
            at = end;
            p
        })
        .collect();
    let r = registers_mut(&mut regs)?;
    Ok(apply(r, &patterns))
}
