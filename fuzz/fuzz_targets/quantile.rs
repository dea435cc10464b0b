#![no_main]
//! Serialized QuantileSketch from outside (the native backend's decoder: lib/quantile/quantile.ts
//! calls it through NativeQuantileSketch.deserialize): decoding never panics; what decodes
//! round-trips byte for byte, answers quantiles within [min, max] and ranks within [0, 1], and a
//! merge either succeeds into bytes that decode again or fails leaving the target unchanged.
use hotstats_core::quantile::QuantileSketch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = QuantileSketch::deserialize(data) {
        assert_eq!(s.serialize(), data);
        for q in [0.0, 0.25, 0.5, 0.99, 1.0] {
            let v = s.quantile(q).expect("q in [0, 1]");
            if s.count > 0.0 {
                assert!(s.min <= v && v <= s.max, "quantile({q}) = {v}");
            } else {
                assert!(v.is_nan());
            }
        }
        for v in [s.min, 0.0, s.max, f64::INFINITY, f64::NEG_INFINITY] {
            let r = s.rank(v);
            assert!(s.count == 0.0 || (0.0..=1.0).contains(&r), "rank({v}) = {r}");
        }
        let mut t = s.clone();
        let before = t.serialize();
        match t.merge(&s) {
            Ok(()) => {
                QuantileSketch::deserialize(&t.serialize()).expect("a merge result decodes");
            }
            Err(_) => assert_eq!(t.serialize(), before),
        }
    }
});
