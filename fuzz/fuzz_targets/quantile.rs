#![no_main]
//! Serialized QuantileSketch from outside: decoding never panics; what decodes round-trips and
//! answers queries without panicking.
use hotstats_core::quantile::QuantileSketch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = QuantileSketch::deserialize(data) {
        assert_eq!(s.serialize(), data);
        for q in [0.0, 0.25, 0.5, 0.99, 1.0] {
            let _ = s.quantile(q);
        }
        let _ = s.rank(1.0);
        let mut t = s.clone();
        let _ = t.merge(&s);
    }
});
