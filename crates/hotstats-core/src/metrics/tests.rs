use super::*;

fn def(key: &str, kind: Kind) -> FamilyDef {
    FamilyDef {
        key: key.to_string(),
        kind,
        help: "help".into(),
        label_names: vec!["route".into()],
        buckets: vec![0.1, 1.0],
        percentiles: vec![0.5, 1.0],
        max_age_ms: 0.0,
        age_buckets: 1,
        relative_accuracy: 0.01,
        max_series: 3,
        aggregator: "sum".into(),
        prune_aged_buckets: false,
        empty_quantile_nan: false,
        native_histogram: false,
    }
}

fn l(v: &str) -> Vec<String> {
    vec![v.to_string()]
}

#[test]
fn define_joins_equal_definitions_and_refuses_conflicts() {
    let mut s = Store::new();
    let a = s.define(def("r\0x", Kind::Counter)).unwrap();
    assert_eq!(s.define(def("r\0x", Kind::Counter)).unwrap(), a);
    assert!(matches!(
        s.define(def("r\0x", Kind::Gauge)),
        Err(MetricsError::Conflict(_))
    ));
    let mut bad = def("r\0h", Kind::Histogram);
    bad.buckets = vec![1.0, 1.0];
    assert!(s.define(bad).is_err());
    assert!(s.undefine(a));
    assert_ne!(s.define(def("r\0x", Kind::Gauge)).unwrap(), a);
}

#[test]
fn counters_add_gauges_set_then_add_histograms_add_per_bucket() {
    let mut s = Store::new();
    let c = s.define(def("r\0c", Kind::Counter)).unwrap();
    let g = s.define(def("r\0g", Kind::Gauge)).unwrap();
    let h = s.define(def("r\0h", Kind::Histogram)).unwrap();
    let (c1, c2) = (s.series(c, &l("a")).unwrap(), s.series(c, &l("b")).unwrap());
    s.apply(c, &[c1, c2, c1], &[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(s.snapshot(c, 0.0).unwrap(), (vec![c1, c2], vec![4.0, 2.0]));
    let g1 = s.series(g, &l("a")).unwrap();
    s.apply(g, &[g1], &[0.0, 0.0, 5.0]).unwrap();
    s.apply(g, &[g1], &[1.0, 10.0, -1.0]).unwrap();
    assert_eq!(s.snapshot(g, 0.0).unwrap().1, vec![9.0]);
    let (h1, h2) = (s.series(h, &l("a")).unwrap(), s.series(h, &l("b")).unwrap());
    // Bounds 0.1 and 1: a value equal to a bound counts in that bound's bucket (le).
    s.observe(
        h,
        &[h1, h1, h2, h1, h1, h1],
        &[0.125, -3.0, 5.0, 1.0, 1.5, 0.25],
        0.0,
    )
    .unwrap();
    s.observe(h, &[h2], &[0.1], 0.0).unwrap();
    let (sids, rows) = s.snapshot(h, 0.0).unwrap();
    assert_eq!(sids, vec![h1, h2]);
    assert_eq!(rows, vec![1.0, 3.0, 1.0, -0.125, 1.0, 0.0, 1.0, 5.0 + 0.1]);
    assert!(
        s.apply(h, &[h1], &[1.0, 0.0, 0.0, 1.0]).is_err(),
        "histograms take values"
    );
    assert!(s.observe(h, &[h1], &[f64::INFINITY], 0.0).is_err());
    assert!(
        s.observe(c, &[c1], &[1.0], 0.0).is_err(),
        "counters take rows"
    );
    assert_eq!(
        s.snapshot(h, 0.0).unwrap().1,
        rows,
        "refused batches change nothing"
    );
}

#[test]
fn removed_series_are_reported_dead_and_ids_are_not_reused() {
    let mut s = Store::new();
    let c = s.define(def("r\0c", Kind::Counter)).unwrap();
    let a = s.series(c, &l("a")).unwrap();
    assert!(s.remove(c, &l("a")).unwrap());
    assert!(!s.remove(c, &l("a")).unwrap());
    let a2 = s.series(c, &l("a")).unwrap();
    assert_ne!(a, a2);
    assert_eq!(s.apply(c, &[a, a2], &[1.0, 2.0]).unwrap(), vec![a]);
    assert_eq!(s.snapshot(c, 0.0).unwrap().1, vec![2.0]);
    s.reset(c).unwrap();
    assert_eq!(s.snapshot(c, 0.0).unwrap().0, Vec::<u32>::new());
}

#[test]
fn the_series_limit_sends_new_label_sets_to_one_overflow_series_and_counts_them() {
    let mut s = Store::new();
    let c = s.define(def("r\0c", Kind::Counter)).unwrap();
    for v in ["a", "b", "c"] {
        s.series(c, &l(v)).unwrap();
    }
    let o1 = s.series(c, &l("d")).unwrap();
    let o2 = s.series(c, &l("e")).unwrap();
    assert_eq!(o1, o2);
    assert_eq!(s.refused(c).unwrap(), 2.0);
    assert_eq!(
        s.labels(c, &[o1]).unwrap(),
        vec![Some(l(OVERFLOW_LABEL_VALUE))]
    );
    assert_eq!(
        s.series(c, &l("a")).unwrap(),
        0,
        "known label sets still resolve"
    );
    assert!(s.series(c, &[]).is_err(), "wrong label count");
}

#[test]
fn summaries_window_values_into_one_bucket_each_and_expire_them() {
    let mut s = Store::new();
    let mut d = def("r\0s", Kind::Summary);
    d.max_age_ms = 1000.0;
    d.age_buckets = 4; // 250 ms each
    d.percentiles = vec![0.0, 1.0];
    let f = s.define(d).unwrap();
    let a = s.series(f, &l("a")).unwrap();
    s.observe(f, &[a, a], &[1.0, 2.0], 0.0).unwrap();
    s.observe(f, &[a], &[100.0], 600.0).unwrap();
    let (_, rows) = s.snapshot(f, 900.0).unwrap();
    assert_eq!(rows[0..2], [3.0, 103.0]);
    assert_eq!(rows[2], 1.0);
    assert!((rows[3] - 100.0).abs() <= 1.0);
    // At 1000 ms the bucket [0, 250) has aged out; count and sum stay cumulative.
    let (_, rows) = s.snapshot(f, 1000.0).unwrap();
    assert_eq!(rows[0..2], [3.0, 103.0]);
    assert!((rows[2] - 100.0).abs() <= 1.0);
    // Past the whole window nothing is left: quantiles are 0 (prom-client's convention).
    let (_, rows) = s.snapshot(f, 5000.0).unwrap();
    assert_eq!(rows, [3.0, 103.0, 0.0, 0.0]);
    assert!(s.observe(f, &[a], &[f64::NAN], 0.0).is_err());
}

#[test]
fn empty_summary_windows_report_nan_on_request_and_are_pruned_on_request() {
    let mut s = Store::new();
    let mut d = def("r\0nan", Kind::Summary);
    d.max_age_ms = 1000.0;
    d.age_buckets = 2;
    d.empty_quantile_nan = true;
    let nan = s.define(d.clone()).unwrap();
    s.series(nan, &l("a")).unwrap();
    let (_, rows) = s.snapshot(nan, 0.0).unwrap();
    assert_eq!(rows[0..2], [0.0, 0.0]);
    assert!(rows[2].is_nan() && rows[3].is_nan());

    d.key = "r\0pruned".into();
    d.empty_quantile_nan = false;
    d.prune_aged_buckets = true;
    let p = s.define(d).unwrap();
    let a = s.series(p, &l("a")).unwrap();
    let b = s.series(p, &l("b")).unwrap();
    s.observe(p, &[a], &[5.0], 0.0).unwrap();
    s.observe(p, &[b], &[7.0], 900.0).unwrap();
    let (sids, _) = s.snapshot(p, 999.0).unwrap();
    assert_eq!(sids, [a, b]);
    // At 1400 ms a's value (0 ms) has aged out: a is gone, count and sum with it.
    let (sids, rows) = s.snapshot(p, 1400.0).unwrap();
    assert_eq!(sids, [b]);
    assert_eq!(rows[0..2], [1.0, 7.0]);
    assert_eq!(s.labels(p, &[a]).unwrap(), vec![None]);
    assert_eq!(
        s.observe(p, &[a], &[1.0], 1400.0).unwrap(),
        vec![a],
        "a's sid is dead"
    );
    let again = s.series(p, &l("a")).unwrap();
    assert_ne!(again, a, "a new series, counted from zero");
}

#[test]
fn native_histograms_keep_an_all_time_sketch_beside_their_buckets() {
    let mut s = Store::new();
    let mut d = def("r\0nh", Kind::Histogram);
    d.native_histogram = true;
    let f = s.define(d).unwrap();
    let a = s.series(f, &l("a")).unwrap();
    s.observe(f, &[a, a, a], &[0.05, 0.5, 5.0], 0.0).unwrap();
    s.observe(f, &[a], &[50.0], 1e12).unwrap();
    let (_, rows) = s.snapshot(f, 1e12).unwrap();
    assert_eq!(
        rows,
        [1.0, 1.0, 2.0, 55.55],
        "buckets and sum, no quantiles"
    );
    let sketches = s.window_sketches(f, 1e12).unwrap();
    assert_eq!(sketches.len(), 1);
    let (sid, sk) = &sketches[0];
    assert_eq!(*sid, a);
    assert_eq!(sk.count, 4.0);
    assert_eq!(sk.quantile(1.0).unwrap(), 50.0);
    let plain = s.define(def("r\0h", Kind::Histogram)).unwrap();
    s.series(plain, &l("a")).unwrap();
    assert!(s.window_sketches(plain, 0.0).unwrap().is_empty());
}
