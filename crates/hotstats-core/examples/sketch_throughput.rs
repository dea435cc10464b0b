//! Quick throughput check of QuantileSketch::add_all: `cargo run --release --example sketch_throughput`.
use hotstats_core::quantile::QuantileSketch;
use std::time::Instant;

fn main() {
    let n = 1 << 20;
    let mut s = 1u64;
    let xs: Vec<f64> = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 8.0).exp()
        })
        .collect();
    let m = hotstats_core::quantile::mapping::Mapping::new(0.01);
    let mut idx = vec![0i32; n];
    let t = Instant::now();
    for (slot, &v) in idx.iter_mut().zip(&xs) {
        *slot = m.index(v);
    }
    println!(
        "index only: {:.2} ns/value ({})",
        t.elapsed().as_nanos() as f64 / n as f64,
        idx[7]
    );
    let mut st = hotstats_core::quantile::store::Store::new(2048);
    let t = Instant::now();
    for &i in &idx {
        st.add(i, 1.0);
    }
    println!(
        "store only: {:.2} ns/value ({})",
        t.elapsed().as_nanos() as f64 / n as f64,
        st.total()
    );
    for _ in 0..3 {
        let t = Instant::now();
        let mut sk = QuantileSketch::new(0.01, 2048).unwrap();
        sk.add_all(&xs).unwrap();
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "add_all: {ns:.2} ns/value ({:.0}M values/s), p99 {}",
            1e3 / ns,
            sk.quantile(0.99).unwrap()
        );
    }
}

#[allow(dead_code)]
fn parts() {}
