//! Differential test: every native backend this CPU runs (AVX2 on x86_64, NEON on aarch64)
//! against the scalar twin, bit for bit (NEON under qemu-aarch64: scripts/test-aarch64.sh).
//!
//! Covers every length 0..=600 (across the 16-lane block and 8/4-element min/max blocks),
//! special values first, last and mixed, unaligned starts (views at an offset), random lengths
//! up to 10k with magnitudes 1e-300..1e300, subnormals, ±0, NaN and ±Infinity.

mod common;

use common::Rng;
use hotstats_core::kernels::{Backend, Kernels};

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn compare(scalar: &Kernels, other: &Kernels, x: &[f64], what: &str) {
    let fs = scalar.fast_lanes(x);
    let fo = other.fast_lanes(x);
    assert!(
        fs.bits_eq(&fo),
        "{what}: fast lanes differ ({:?} vs scalar), n={}",
        other.backend(),
        x.len()
    );
    assert!(
        same(scalar.sum_cascaded(x), other.sum_cascaded(x)),
        "{what}: cascaded sum differs, n={}",
        x.len()
    );
    if x.len() <= 16 {
        // The short-input shortcut of `sum` must equal the full cascaded pass.
        assert!(
            same(scalar.sum(x), scalar.sum_cascaded(x)),
            "{what}: short-input sum differs from the cascaded pass, n={}",
            x.len()
        );
    }
    let ls = scalar.sum_lanes(x);
    let lo = other.sum_lanes(x);
    assert!(
        ls.bits_eq(&lo),
        "{what}: sum lanes differ ({:?} vs scalar), n={}",
        other.backend(),
        x.len()
    );
    assert!(
        same(scalar.sum(x), other.sum(x)),
        "{what}: sum differs, n={}",
        x.len()
    );
    let a = scalar.summarize(x, 1.0);
    let b = other.summarize(x, 1.0);
    for (name, u, v) in [
        ("count", a.count, b.count),
        ("sum", a.sum, b.sum),
        ("mean", a.mean, b.mean),
        ("min", a.min, b.min),
        ("max", a.max, b.max),
        ("variance", a.variance, b.variance),
        ("stddev", a.stddev, b.stddev),
    ] {
        assert!(
            same(u, v),
            "{what}: {name} differs: {u:e} vs {v:e} on {:?}, n={}",
            other.backend(),
            x.len()
        );
    }
    let m = if x.is_empty() { 0.0 } else { x[x.len() / 2] };
    let (d1, q1) = scalar.dev_lanes(x, m);
    let (d2, q2) = other.dev_lanes(x, m);
    assert!(
        d1.bits_eq(&d2) && q1.bits_eq(&q2),
        "{what}: dev lanes differ, n={}",
        x.len()
    );
    assert!(
        same(scalar.variance(x, 0.0), other.variance(x, 0.0)),
        "{what}: population variance differs"
    );
}

fn main() {
    let scalar = Backend::Scalar.kernels().unwrap();
    let others: Vec<Kernels> = Backend::ALL
        .into_iter()
        .filter(|b| *b != Backend::Scalar)
        .filter_map(|b| b.kernels().ok())
        .collect();
    println!(
        "backends under test against scalar: {:?}",
        others.iter().map(|k| k.backend()).collect::<Vec<_>>()
    );
    let mut checks = 0usize;
    let mut rng = Rng::new(42);
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
    ];

    // Every length across block boundaries, with an unaligned start (offset 0..3 into a buffer).
    let pool: Vec<f64> = (0..700).map(|_| rng.hostile(false)).collect();
    for n in 0..=600 {
        for off in 0..3 {
            let x = &pool[off..off + n];
            for k in &others {
                compare(&scalar, k, x, "finite");
                checks += 1;
            }
        }
    }
    // Special values first, last, in the middle, and at each position around block edges.
    for &sv in &specials {
        for n in [1usize, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 257] {
            for pos in [0, n / 2, n - 1] {
                let mut x: Vec<f64> = (0..n).map(|_| rng.log_uniform(-5.0, 5.0)).collect();
                x[pos] = sv;
                for k in &others {
                    compare(&scalar, k, &x, "special");
                    checks += 1;
                }
            }
        }
    }
    // All zeros of mixed sign (sign of zero in min/max), and all equal values.
    for n in [1usize, 4, 8, 16, 17, 100] {
        for pattern in 0..3 {
            let x: Vec<f64> = (0..n)
                .map(|i| match pattern {
                    0 => -0.0,
                    1 => 0.0,
                    _ => {
                        if i % 3 == 0 {
                            -0.0
                        } else {
                            0.0
                        }
                    }
                })
                .collect();
            for k in &others {
                compare(&scalar, k, &x, "zeros");
                checks += 1;
            }
        }
    }
    // Magnitude ties (|s| == |x|, where the fast pass's ordering of s and x is a choice: AVX-512
    // selects with vrangepd, the others compare and blend) and huge cancellation: small
    // integers, ±powers of two, subnormal steps, and ±1e308 (whose sums overflow), every length
    // 0..=300 at unaligned starts.
    let tie_values = [
        1.0, -1.0, 2.0, -2.0, 0.0, -0.0, 4.0, -4.0, 5e-324, -5e-324, 1e-323, 1e308, -1e308, 1e300,
        -1e300, 0.5,
    ];
    for narrow in [4usize, 8, tie_values.len()] {
        let pool: Vec<f64> = (0..310).map(|_| tie_values[rng.below(narrow)]).collect();
        for n in 0..=300 {
            for off in 0..3 {
                for k in &others {
                    compare(&scalar, k, &pool[off..off + n], "ties");
                    checks += 1;
                }
            }
        }
    }
    // Huge cancellation: ±1e300-scale terms that cancel exactly around small ones.
    for n in [17usize, 33, 100, 257, 1000] {
        let mut x: Vec<f64> = Vec::with_capacity(2 * n);
        for i in 0..n {
            let big = rng.log_uniform(250.0, 300.0);
            x.push(big);
            x.push(rng.log_uniform(-10.0, 0.0) * if i % 2 == 0 { 1.0 } else { -1.0 });
            x.push(-big);
        }
        rng.shuffle(&mut x);
        for k in &others {
            compare(&scalar, k, &x, "cancellation");
            checks += 1;
        }
    }
    // Random lengths up to 10k, hostile mixes with and without specials.
    for trial in 0..300 {
        let n = rng.below(10_001);
        let with_specials = trial % 3 == 0;
        let x: Vec<f64> = (0..n + 3).map(|_| rng.hostile(with_specials)).collect();
        let off = rng.below(4);
        for k in &others {
            compare(&scalar, k, &x[off..off + n.min(x.len() - off)], "random");
            checks += 1;
        }
    }
    checks += sketch_index_matches_scalar(&mut rng);
    checks += bucket_indices_match_binary_search(&mut rng);
    println!("{checks} passed, 0 failed");
}

/// Every backend's histogram bucket indices equal a binary search for the first bound >= x,
/// for bound counts on both sides of the linear/binary switch, values equal to bounds, ±0,
/// huge and tiny values, and lengths around the vector width.
fn bucket_indices_match_binary_search(rng: &mut Rng) -> usize {
    use hotstats_core::kernels::scalar::LINEAR_BOUNDS;
    let mut checks = 0;
    let all: Vec<Kernels> = Backend::ALL
        .into_iter()
        .filter_map(|b| b.kernels().ok())
        .collect();
    for nb in [0, 1, 2, 11, LINEAR_BOUNDS, LINEAR_BOUNDS + 1, 200] {
        let mut bounds: Vec<f64> = (0..nb)
            .map(|i| {
                if i == 0 {
                    -0.0
                } else {
                    rng.log_uniform(-3.0, 3.0) - 10.0
                }
            })
            .collect();
        bounds.sort_by(|a, b| a.partial_cmp(b).unwrap());
        bounds.dedup();
        let mut xs: Vec<f64> = bounds.clone();
        xs.extend([0.0, -0.0, f64::MAX, f64::MIN, 5e-324, -5e-324]);
        while xs.len() < 3000 {
            xs.push(rng.log_uniform(-3.0, 3.0) - 10.0);
        }
        for n in (0..20).chain([xs.len()]) {
            let want: Vec<u32> = xs[..n]
                .iter()
                .map(|&x| bounds.partition_point(|&b| b < x) as u32)
                .collect();
            for k in &all {
                let mut got = vec![u32::MAX; n + 1];
                k.bucket_indices(&bounds, &xs[..n], &mut got);
                assert_eq!(&got[..n], &want[..], "{:?}, {nb} bounds", k.backend());
                assert_eq!(got[n], u32::MAX, "nothing written past the values");
                checks += 1;
            }
        }
    }
    checks
}

/// Every backend's QuantileSketch bucket indices (each ISA's kernel through its own table, not
/// only through the dispatcher) equal the one-value `Mapping::index` for every finite value:
/// random bit patterns (subnormals, huge, negative), values near powers of two and bucket
/// edges, at every length around the vector width, and nothing is written past the values.
fn sketch_index_matches_scalar(rng: &mut Rng) -> usize {
    use hotstats_core::quantile::mapping::{Mapping, MIN_RELATIVE_ACCURACY};
    let all: Vec<Kernels> = Backend::ALL
        .into_iter()
        .filter_map(|b| b.kernels().ok())
        .collect();
    let mut checks = 0;
    for a in [MIN_RELATIVE_ACCURACY, 0.001, 0.01, 0.05, 0.5, 0.999] {
        let m = Mapping::new(a);
        let mut xs: Vec<f64> = Vec::new();
        while xs.len() < 20_000 {
            let v = f64::from_bits(rng.next_u64());
            if v.is_finite() {
                xs.push(v);
            }
            xs.push(rng.hostile(false));
            let p = f64::from_bits(((rng.below(2046) as u64) + 1) << 52);
            xs.push(p);
            xs.push(-f64::from_bits(p.to_bits() - 1));
            let edge = m.value(rng.below(4000) as i32 - 2000);
            if edge.is_finite() {
                xs.push(edge);
            }
        }
        for floor in [m.min_indexable, 1e-3] {
            for n in (0..40).chain([xs.len()]) {
                let want: Vec<i32> = xs[..n]
                    .iter()
                    .map(|v| m.index(v.abs().max(floor)))
                    .collect();
                for k in &all {
                    let mut got = vec![i32::MIN; n + 1];
                    m.index_many(k, &xs[..n], floor, &mut got);
                    for j in 0..n {
                        assert_eq!(
                            got[j],
                            want[j],
                            "{:?}, alpha {a}, floor {floor:e}: index of {:e} differs",
                            k.backend(),
                            xs[j]
                        );
                    }
                    assert_eq!(got[n], i32::MIN, "nothing written past the values");
                    checks += 1;
                }
            }
        }
    }
    checks
}
