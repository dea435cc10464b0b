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
    // Past the whole window nothing is left: quantiles are NaN.
    let (_, rows) = s.snapshot(f, 5000.0).unwrap();
    assert!(rows[2].is_nan() && rows[3].is_nan());
    assert!(s.observe(f, &[a], &[f64::NAN], 0.0).is_err());
}
