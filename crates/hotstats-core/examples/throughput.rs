//! Kernel throughput per backend, without Node: `cargo run -p hotstats-core --release --example
//! throughput [sizes...]`. Each round times every backend once (the order rotates per round);
//! prints the median and min-max over the rounds in elements per ns, so a busy moment on a
//! shared machine shows as spread, not as a difference between backends. `KERNEL=sum` (default),
//! `cascaded`, `variance` or `minmax`; `ROUNDS` (default 7); `CLOCK=cpu` times this thread's
//! on-CPU time instead of the wall clock, which leaves out the time other processes had the CPU
//! (for direction on a busy machine).

use std::hint::black_box;
use std::time::Instant;

use hotstats_core::kernels::{Backend, Kernels};

fn run(k: &Kernels, kernel: &str, x: &[f64]) -> f64 {
    match kernel {
        "cascaded" => k.sum_cascaded(x),
        "variance" => k.variance(x, 1.0),
        "minmax" => k.min_max(x).max,
        _ => k.sum(x),
    }
}

/// Nanoseconds: the wall clock, or this thread's on-CPU time with `CLOCK=cpu`
/// (`CLOCK_THREAD_CPUTIME_ID`, exact to the call; /proc's schedstat lags by up to a tick).
fn now_ns(cpu: bool, start: Instant) -> f64 {
    if cpu {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid, writable timespec for the call's duration.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64;
        }
    }
    start.elapsed().as_nanos() as f64
}

fn main() {
    let cpu = std::env::var("CLOCK").is_ok_and(|c| c == "cpu");
    let start = Instant::now();
    let kernel = std::env::var("KERNEL").unwrap_or_else(|_| "sum".into());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let sizes: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if args.is_empty() {
            vec![16, 17, 64, 256, 4096, 65536, 1 << 20, 1 << 24]
        } else {
            args
        }
    };
    let backends: Vec<Kernels> = Backend::ALL
        .into_iter()
        .filter_map(|b| b.kernels().ok())
        .collect();
    println!("kernel {kernel}, {rounds} rounds; elements/ns, median (min-max); ns/call median");
    for &n in &sizes {
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sin() * 1e3 + 1.0).collect();
        // ~20 ms of work per backend per round.
        let reps = (20_000_000 / n.max(1)).clamp(1, 2_000_000);
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
        for r in 0..rounds + 1 {
            for j in 0..backends.len() {
                let i = (j + r) % backends.len();
                let t0 = now_ns(cpu, start);
                for _ in 0..reps {
                    black_box(run(&backends[i], &kernel, black_box(&x)));
                }
                let ns = (now_ns(cpu, start) - t0) / reps as f64;
                if r > 0 {
                    // Round 0 warms up.
                    times[i].push(ns);
                }
            }
        }
        let mut line = format!("n={n:>9}:");
        for (k, t) in backends.iter().zip(times.iter_mut()) {
            t.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let med = t[t.len() / 2];
            let (lo, hi) = (t[0], t[t.len() - 1]);
            line += &format!(
                "  {} {:.2} ({:.2}-{:.2}) {:.0}ns",
                k.backend().name(),
                n as f64 / med,
                n as f64 / hi,
                n as f64 / lo,
                med
            );
        }
        println!("{line}");
    }
}
