//! Accuracy of the compensated sum against an exactly rounded oracle (Shewchuk / math.fsum),
//! on ill-conditioned inputs where naive left-to-right summation is off by orders of magnitude.

mod common;

use common::{fsum, naive_sum, ulp_distance, Rng};
use hotstats_core::Backend;

/// A few ±1e16 among many small positive values: naive summation absorbs the small values.
fn absorption(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..n).map(|_| rng.unit()).collect();
    for _ in 0..4 {
        v.push(1e16);
        v.push(-1e16);
    }
    rng.shuffle(&mut v);
    // Keep a big value at the front so naive summation absorbs from the start.
    v.insert(0, 1e16);
    v.push(-1e16);
    v
}

/// Magnitudes 1e-20..1e20 with both signs; every value of magnitude >= 1 also appears negated,
/// so the large terms cancel exactly and the result is the sum of the small ones.
fn wide_cancellation(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let x = rng.log_uniform(-20.0, 20.0);
        v.push(x);
        if x.abs() >= 1.0 {
            v.push(-x);
        }
    }
    rng.shuffle(&mut v);
    v
}

/// Values whose exact sum is small: random terms, then terms that bring the total near zero.
fn near_zero_total(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..n).map(|_| rng.log_uniform(-5.0, 17.0)).collect();
    let t = fsum(&v);
    v.push(-t);
    v.push(rng.log_uniform(-3.0, 0.0));
    rng.shuffle(&mut v);
    v
}

/// Ordinary data (positive, or mixed signs around a mean): the fast pass answers these.
fn ordinary(rng: &mut Rng, n: usize) -> Vec<f64> {
    let shift = rng.log_uniform(-3.0, 3.0);
    (0..n).map(|_| shift + rng.log_uniform(-2.0, 2.0)).collect()
}

fn check_family(name: &str, make: fn(&mut Rng, usize) -> Vec<f64>) {
    check_family_with(name, make, true)
}

fn check_family_with(name: &str, make: fn(&mut Rng, usize) -> Vec<f64>, naive_must_fail: bool) {
    let mut rng = Rng::new(0x5eed ^ name.len() as u64);
    let mut worst = 0;
    let mut naive_bad = 0;
    let mut certified = 0;
    let scalar = Backend::Scalar.kernels().unwrap();
    let trials = 200;
    for t in 0..trials {
        let n = 16 + rng.below(4000);
        let x = make(&mut rng, n);
        let exact = fsum(&x);
        for b in Backend::ALL.into_iter().filter(|b| b.check().is_ok()) {
            let got = b.kernels().unwrap().sum(&x);
            let d = ulp_distance(got, exact);
            worst = worst.max(d);
            assert!(
                d <= 2,
                "{name} trial {t} on {b:?}: got {got:e}, exact {exact:e}, {d} ulps"
            );
        }
        if hotstats_core::kernels::finish_fast(&scalar.fast_lanes(&x), x.len()).is_some() {
            certified += 1;
        }
        // The cascaded pass alone also meets the bound (it is what uncertified inputs get).
        let d = ulp_distance(scalar.sum_cascaded(&x), exact);
        assert!(d <= 2, "{name} trial {t}: cascaded pass {d} ulps");
        let naive = naive_sum(&x);
        // "Orders of magnitude": a relative error of at least 1e-3 (usually far more).
        if (naive - exact).abs() > 1e-3 * exact.abs() {
            naive_bad += 1;
        }
    }
    eprintln!("{name}: worst {worst} ulps over {trials} trials; fast pass certified {certified}; naive off by >1e-3 in {naive_bad}");
    if !naive_must_fail {
        return;
    }
    assert!(
        naive_bad * 10 >= trials * 9,
        "{name}: naive summation should fail this family, failed only {naive_bad}/{trials}"
    );
}

fn main() {
    oracle_sanity();
    check_family("absorption", absorption);
    check_family("wide_cancellation", wide_cancellation);
    check_family("near_zero_total", near_zero_total);
    check_family_with("ordinary", ordinary, false);
    println!("5 passed, 0 failed");
}

fn oracle_sanity() {
    assert_eq!(fsum(&[1e16, 1.0, -1e16]), 1.0);
    assert_eq!(fsum(&[0.1; 10]), 1.0);
    assert_eq!(fsum(&[]), 0.0);
    assert_eq!(naive_sum(&[1e16, 1.0, -1e16]), 0.0);
    assert_eq!(ulp_distance(1.0, f64::from_bits(1.0f64.to_bits() + 2)), 2);
    assert_eq!(ulp_distance(-0.0, 0.0), 0);
    assert_eq!(
        ulp_distance(-f64::MIN_POSITIVE, f64::MIN_POSITIVE),
        2 * f64::MIN_POSITIVE.to_bits()
    );
}
