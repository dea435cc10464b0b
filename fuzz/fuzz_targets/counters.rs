#![no_main]
//! Serialized counters from outside: decoding never panics; what decodes round-trips byte for byte.
use hotstats_core::counters::{GCounter, PNCounter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = GCounter::deserialize(data) {
        assert_eq!(g.serialize(), data);
        let _ = g.value();
    }
    if let Ok(p) = PNCounter::deserialize(data) {
        assert_eq!(p.serialize(), data);
        let _ = p.value();
    }
});
