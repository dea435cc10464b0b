#![no_main]
//! Serialized Moments from outside: decoding never panics; what decodes round-trips.
use hotstats_core::moments::Moments;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Moments::deserialize(data) {
        assert_eq!(
            Moments::deserialize(&m.serialize()).map(|x| x.serialize()),
            Ok(m.serialize())
        );
        let _ = (m.mean(), m.variance(1.0), m.skewness(), m.kurtosis());
    }
});
