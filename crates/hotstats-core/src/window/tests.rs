use super::*;

fn opts(window_ms: f64, buckets: usize, lateness: f64) -> WindowOptions {
    WindowOptions {
        window_ms,
        buckets,
        relative_accuracy: 0.01,
        allowed_lateness_ms: lateness,
    }
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The oracle: every accepted event kept as (key, epoch, value), with the acceptance rule
/// restated from the module doc, and the window's statistics recomputed from scratch.
struct Oracle {
    width: f64,
    buckets: i64,
    lateness: f64,
    watermark: f64,
    late: u64,
    events: Vec<(u32, i64, f64)>,
}

impl Oracle {
    fn record(&mut self, key: u32, v: f64, t: f64) -> bool {
        let e = (t / self.width).floor() as i64;
        let newer_in_slot = self
            .events
            .iter()
            .any(|&(k, e2, _)| k == key && e2 > e && (e2 - e) % self.buckets == 0);
        if t < self.watermark - self.lateness || newer_in_slot {
            self.late += 1;
            return false;
        }
        self.events.push((key, e, v));
        self.watermark = self.watermark.max(t);
        true
    }
    fn live(&self, key: u32, now: f64) -> Vec<f64> {
        let e = (now / self.width).floor() as i64;
        // An event is live if its epoch is in range and no newer epoch of its slot replaced it.
        self.events
            .iter()
            .filter(|&&(k, e1, _)| {
                k == key
                    && e1 > e - self.buckets
                    && e1 <= e
                    && !self.events.iter().any(|&(k2, e2, _)| {
                        k2 == key && e2 > e1 && (e2 - e1) % self.buckets == 0 && e2 <= e
                    })
            })
            .map(|&(_, _, v)| v)
            .collect()
    }
}

#[test]
fn count_sum_min_max_match_the_oracle_exactly_as_time_moves() {
    for (seed, lateness, buckets) in [
        (1u64, 1000.0, 10usize),
        (2, 250.0, 10),
        (3, 0.0, 4),
        (4, 1000.0, 1),
        (5, 5000.0, 60),
    ] {
        let mut rng = Rng(seed);
        let mut w = SlidingWindow::new(opts(1000.0, buckets, lateness)).unwrap();
        let mut o = Oracle {
            width: 1000.0 / buckets as f64,
            buckets: buckets as i64,
            lateness,
            watermark: f64::NEG_INFINITY,
            late: 0,
            events: Vec::new(),
        };
        let keys = [w.key_id("a").unwrap(), w.key_id("b").unwrap()];
        let mut clock = 0.0f64;
        for step in 0..3000 {
            // Time mostly moves forward, sometimes jumps, sometimes an event arrives late.
            clock += match rng.below(10) {
                0 => 700.0,
                1..=7 => rng.below(40) as f64,
                _ => 0.0,
            };
            let t = if rng.below(5) == 0 {
                clock - rng.below(1500) as f64
            } else {
                clock
            };
            // Integers and quarters: sums of a few thousand are exact in f64, so == is fair.
            let v = (rng.below(4000) as f64 - 2000.0) / 4.0;
            let key = keys[rng.below(2) as usize];
            let accepted = w.record(key, v, t, None).unwrap();
            assert_eq!(accepted, o.record(key, v, t), "step {step}: acceptance");
            if step % 7 == 0 {
                let now = clock + rng.below(300) as f64;
                for &k in &keys {
                    let live = o.live(k, now);
                    let s = w.stats(k, now).unwrap();
                    assert_eq!(s.count, live.len() as u64, "step {step}: count");
                    assert_eq!(s.sum, live.iter().sum::<f64>(), "step {step}: sum");
                    if live.is_empty() {
                        assert!(s.min.is_nan() && s.max.is_nan() && s.mean.is_nan());
                    } else {
                        assert_eq!(s.min, live.iter().cloned().fold(f64::INFINITY, f64::min));
                        assert_eq!(
                            s.max,
                            live.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                        );
                        let mean = live.iter().sum::<f64>() / live.len() as f64;
                        assert!((s.mean - mean).abs() <= 1e-12 * mean.abs().max(1.0));
                    }
                    if live.len() > 1 {
                        let m = live.iter().sum::<f64>() / live.len() as f64;
                        let var = live.iter().map(|v| (v - m) * (v - m)).sum::<f64>()
                            / (live.len() - 1) as f64;
                        assert!(
                            (s.variance - var).abs() <= 1e-9 * var.max(1.0),
                            "variance {} vs {var}",
                            s.variance
                        );
                    }
                    assert_eq!(s.rate, live.len() as f64);
                }
            }
        }
        assert_eq!(w.late(), o.late);
        assert!(o.late > 0, "the run exercised late events");
    }
}

#[test]
fn an_expired_huge_value_leaves_no_drift() {
    let mut w = SlidingWindow::new(opts(10_000.0, 10, 10_000.0)).unwrap();
    let k = w.key_id("k").unwrap();
    w.record(k, 1e16, 0.0, None).unwrap();
    for i in 0..1000 {
        w.record(k, 1.0, 500.0 + i as f64 * 10.0, None).unwrap();
    }
    // At 10.5 s the first bucket (0..1 s, holding 1e16 and 50 ones) has expired.
    let s = w.stats(k, 10_500.0).unwrap();
    assert_eq!(s.count, 950);
    assert_eq!(s.sum, 950.0);
    assert_eq!((s.min, s.max), (1.0, 1.0));
    assert_eq!(s.variance, 0.0);
    // With the huge value still live the compensated sum keeps every one of the ones.
    let mut w = SlidingWindow::new(opts(10_000.0, 10, 10_000.0)).unwrap();
    let k = w.key_id("k").unwrap();
    w.record(k, 1e16, 0.0, None).unwrap();
    for i in 0..900 {
        w.record(k, 1.0, 500.0 + i as f64 * 10.0, None).unwrap();
        w.record(k, -1e16, 9_000.0, None).unwrap();
        w.record(k, 1e16, 9_000.0, None).unwrap();
    }
    assert_eq!(w.stats(k, 9_999.0).unwrap().sum, 1e16 + 900.0);
}

#[test]
fn quantiles_and_uniques_cover_only_the_live_buckets() {
    let mut w = SlidingWindow::new(opts(60_000.0, 60, 60_000.0)).unwrap();
    let k = w.key_id("route=/").unwrap();
    // Minute 0: values 1..=1000, users u0..u999; minute 1: values 1001..=3000, users v0..v1999.
    for i in 0..1000 {
        let p = hll::pattern(format!("u{i}").as_bytes());
        w.record(k, (i + 1) as f64, i as f64 * 60.0, Some(p))
            .unwrap();
    }
    let minute_one = |w: &mut SlidingWindow, range: std::ops::Range<usize>| {
        for i in range {
            let p = hll::pattern(format!("v{i}").as_bytes());
            w.record(k, (1001 + i) as f64, 60_000.0 + i as f64 * 30.0, Some(p))
                .unwrap();
        }
    };
    // Halfway through minute 1: minute 0's second half and minute 1's first half.
    minute_one(&mut w, 0..1000);
    let mid = w.stats(k, 89_999.0).unwrap();
    assert_eq!(mid.count, 500 + 1000);
    assert!(
        (mid.uniques as f64 - 1500.0).abs() < 0.02 * 1500.0,
        "{}",
        mid.uniques
    );
    minute_one(&mut w, 1000..2000);
    // At the end of minute 1 only its values and users are live.
    let s = w.stats(k, 119_999.0).unwrap();
    assert_eq!(s.count, 2000);
    assert!(
        (s.uniques as f64 - 2000.0).abs() < 0.02 * 2000.0,
        "{}",
        s.uniques
    );
    let sketch = w.sketch(k, 119_999.0).unwrap();
    for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
        let exact = 1001.0 + (q * 1999.0f64).floor();
        let got = sketch.quantile(q).unwrap();
        assert!(
            (got - exact).abs() <= 0.0101 * exact,
            "q {q}: {got} vs {exact}"
        );
    }
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    assert!(SlidingWindow::new(opts(0.0, 10, 0.0)).is_err());
    assert!(SlidingWindow::new(opts(1000.0, 0, 0.0)).is_err());
    assert!(SlidingWindow::new(opts(1000.0, MAX_BUCKETS + 1, 0.0)).is_err());
    assert!(SlidingWindow::new(opts(1000.0, 10, -1.0)).is_err());
    assert!(SlidingWindow::new(WindowOptions {
        relative_accuracy: 1.0,
        ..opts(1000.0, 10, 0.0)
    })
    .is_err());
    let mut w = SlidingWindow::new(opts(1000.0, 10, 0.0)).unwrap();
    let k = w.key_id("k").unwrap();
    w.record(k, 2.0, 5.0, None).unwrap();
    let before = w.stats(k, 5.0).unwrap();
    assert!(w.record(k, f64::NAN, 6.0, None).is_err());
    assert!(w.record(k, 1.0, f64::INFINITY, None).is_err());
    assert!(w.record(7, 1.0, 6.0, None).is_err());
    assert!(w.record(k, 1.0, 6.0, Some((hll::REGISTERS, 1))).is_err());
    assert!(w
        .record(k, 1.0, 6.0, Some((0, hll::MAX_VALUE + 1)))
        .is_err());
    assert_eq!(
        format!("{:?}", w.stats(k, 5.0).unwrap()),
        format!("{before:?}")
    );
    assert_eq!(w.watermark(), 5.0);
    assert!(w.stats(9, 5.0).is_none());
}

#[test]
fn keys_expire_once_their_window_is_empty_and_their_ids_are_reused() {
    let mut w = SlidingWindow::new(opts(1000.0, 10, 1000.0)).unwrap();
    let a = w.key_id("a").unwrap();
    let b = w.key_id("b").unwrap();
    let idle = w.key_id("never-written").unwrap();
    w.record(a, 1.0, 50.0, None).unwrap(); // epoch 0
    w.record(b, 2.0, 950.0, None).unwrap(); // epoch 9
                                            // At 999 (epoch 9) both are live; the key without events has nothing in any window.
    assert_eq!(w.expire(999.0), vec![idle]);
    assert_eq!(w.len(), 2);
    // At 1000 (epoch 10) epoch 0 has left: a goes, b stays, and reads at 1000 agree.
    let before = w.stats(b, 1000.0).unwrap();
    assert_eq!(w.stats(a, 1000.0).unwrap().count, 0);
    assert_eq!(w.expire(1000.0), vec![a]);
    assert!(!w.holds(a) && w.stats(a, 1000.0).is_none());
    assert!(
        w.record(a, 1.0, 1000.0, None).is_err(),
        "a freed id is unknown"
    );
    assert_eq!(
        format!("{:?}", w.stats(b, 1000.0).unwrap()),
        format!("{before:?}")
    );
    assert_eq!(w.keys().collect::<Vec<_>>(), vec!["b"]);
    // A new key takes a freed id and starts empty; the old key comes back as a new one.
    let c = w.key_id("c").unwrap();
    assert!(c == a || c == idle);
    assert_eq!(w.stats(c, 1000.0).unwrap().count, 0);
    assert_eq!(w.find("a"), None);
    let a2 = w.key_id("a").unwrap();
    assert_eq!(w.stats(a2, 1000.0).unwrap().count, 0);
    assert_eq!(w.id_bound(), 3, "ids are reused, not grown");
    // NaN expires nothing; remove frees at once.
    assert!(w.expire(f64::NAN).is_empty());
    assert_eq!(w.remove("b"), Some(b));
    assert_eq!(w.remove("b"), None);
    assert!(!w.remove_id(b));
    assert_eq!(w.len(), 2);
}

#[test]
fn uniques_are_the_same_sparse_or_dense() {
    // One bucket holding n distinct elements equals a dense HyperLogLog of them, on both sides
    // of the sparse limit, through record and record_run; reset buckets start empty again.
    for n in [1usize, 10, hll::sparse::SPARSE_MAX, 5000] {
        let mut w = SlidingWindow::new(opts(1000.0, 4, 1000.0)).unwrap();
        let k = w.key_id("k").unwrap();
        let r = w.key_id("run").unwrap();
        let mut dense = [0u8; hll::REGISTERS];
        let mut patterns = Vec::new();
        for i in 0..n {
            let e = format!("user{i}");
            hll::add(&mut dense, e.as_bytes());
            let p = hll::pattern(e.as_bytes());
            w.record(k, 1.0, 10.0, Some(p)).unwrap();
            patterns.push((p.0 as i32) << 6 | p.1 as i32);
        }
        w.record_run(r, 10.0, &vec![1.0; n], &patterns).unwrap();
        let want = hll::estimate(&dense);
        assert_eq!(w.stats(k, 10.0).unwrap().uniques, want, "{n}");
        assert_eq!(w.stats(r, 10.0).unwrap().uniques, want, "{n}");
        // The same slot one window later is reset: only the new element counts.
        w.record(k, 1.0, 1010.0, Some(hll::pattern(b"late")))
            .unwrap();
        assert_eq!(w.stats(k, 1010.0).unwrap().uniques, 1);
    }
}

#[test]
fn a_batch_is_checked_whole_before_any_event_is_recorded() {
    let mut w = SlidingWindow::new(opts(1000.0, 10, 0.0)).unwrap();
    let k = w.key_id("k").unwrap();
    let j = w.key_id("j").unwrap();
    w.record(k, 2.0, 500.0, None).unwrap();
    let before = (
        format!("{:?}", w.stats(k, 500.0).unwrap()),
        format!("{:?}", w.stats(j, 500.0).unwrap()),
    );
    // Each case spoils event 1 of a two-event batch whose event 0 is good.
    type Batch = (Vec<u32>, Vec<f64>, Vec<f64>, Vec<i32>);
    // Register index REGISTERS is one past the last.
    const PAST: i32 = hll::REGISTERS as i32 * 64 + 1;
    type Spoil = fn(&mut Batch);
    let cases: [(Spoil, &str); 10] = [
        (|b| b.0[1] = 9, "event 1: unknown key id 9"),
        (
            |b| b.1[1] = f64::NAN,
            "event 1: value must be finite, got NaN",
        ),
        (
            |b| b.1[1] = f64::NEG_INFINITY,
            "event 1: value must be finite",
        ),
        (
            |b| b.2[1] = f64::INFINITY,
            "event 1: time must be finite, got inf",
        ),
        (|b| b.3[1] = 0, "event 1: bad HyperLogLog pattern 0"),
        (|b| b.3[1] = -2, "event 1: bad HyperLogLog pattern -2"),
        (|b| b.3[1] = PAST, "event 1: bad HyperLogLog pattern"),
        (|b| b.3[1] = 64 + 52, "event 1: bad HyperLogLog pattern 116"),
        (
            |b| b.1.truncate(1),
            "a batch needs as many values, times and patterns",
        ),
        (
            |b| b.3.push(-1),
            "a batch needs as many values, times and patterns",
        ),
    ];
    for (spoil, msg) in cases {
        let mut b: Batch = (vec![k, j], vec![1.0, 1.0], vec![600.0, 600.0], vec![-1, -1]);
        spoil(&mut b);
        let e = w.record_batch(&b.0, &b.1, &b.2, &b.3).unwrap_err();
        assert!(e.0.starts_with(msg), "{e} should start with {msg}");
        // The good first event was not recorded either.
        assert_eq!(format!("{:?}", w.stats(k, 500.0).unwrap()), before.0);
        assert_eq!(format!("{:?}", w.stats(j, 500.0).unwrap()), before.1);
        assert_eq!(w.watermark(), 500.0);
    }
    assert_eq!(w.record_batch(&[], &[], &[], &[]), Ok(0));

    // A valid batch: the same answers as recording the events one by one; late ones counted.
    let mut one = SlidingWindow::new(opts(1000.0, 10, 0.0)).unwrap();
    let (k1, j1) = (one.key_id("k").unwrap(), one.key_id("j").unwrap());
    one.record(k1, 2.0, 500.0, None).unwrap();
    let ids = [k, j, k, j, k];
    let values = [1.0, -3.5, 7.25, 0.0, 4.0];
    let times = [600.0, 650.0, 100.0, 700.0, 700.0];
    let patterns = [
        -1,
        PAST - 64 + 2,
        5 * 64 + 2,
        -1,
        64 + hll::MAX_VALUE as i32,
    ];
    assert_eq!(w.record_batch(&ids, &values, &times, &patterns), Ok(4));
    assert_eq!(w.late(), 1);
    let mut accepted = 0;
    for i in 0..ids.len() {
        let p = patterns[i];
        let unique = (p >= 0).then_some(((p >> 6) as usize, (p & 63) as u8));
        let id = if ids[i] == k { k1 } else { j1 };
        accepted += one.record(id, values[i], times[i], unique).unwrap() as usize;
    }
    assert_eq!(accepted, 4);
    for (a, b) in [(k, k1), (j, j1)] {
        assert_eq!(
            format!("{:?}", w.stats(a, 700.0).unwrap()),
            format!("{:?}", one.stats(b, 700.0).unwrap())
        );
    }
}
