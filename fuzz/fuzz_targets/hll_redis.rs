#![no_main]
//! Redis HLL bytes from outside: decoding never panics; what decodes holds only register values
//! a hash can produce (0..=51) and re-encodes to a dense string that decodes to the same
//! registers.
use hotstats_core::hll::redis::{from_redis, to_redis_dense};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(regs) = from_redis(data) {
        assert!(regs.iter().all(|&v| v <= hotstats_core::hll::MAX_VALUE));
        let again = from_redis(&to_redis_dense(&regs)).expect("our dense output decodes");
        assert_eq!(*again, *regs);
        let _ = hotstats_core::hll::estimate(&regs);
    }
});
