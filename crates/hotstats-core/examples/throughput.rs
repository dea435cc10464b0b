//! Quick throughput check of every backend's sum (elements per ns): `cargo run --release --example throughput`.
use hotstats_core::Backend;
use std::time::Instant;

fn main() {
    for &n in &[4096usize, 65536, 1 << 20, 16 << 20] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        for b in Backend::ALL.into_iter().filter(|b| b.check().is_ok()) {
            let k = b.kernels().unwrap();
            let reps = (64 << 20) / n;
            let mut best = f64::INFINITY;
            let mut sink = 0.0;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..reps {
                    sink += k.sum(std::hint::black_box(&x));
                }
                best = best.min(t.elapsed().as_nanos() as f64 / reps as f64);
            }
            println!(
                "n={n:>9} {:>6}: {:.2} elements/ns ({sink:.1})",
                b.name(),
                n as f64 / best
            );
        }
    }
}
