//! `HOTSTATS_BACKEND=scalar` must run no AVX2 (issue 19: `Mapping::index_many` chose AVX2 by
//! itself). Two checks:
//! - structural: CPU features are detected only in `kernels/` (`Backend::check`, and the ISA
//!   files' debug_asserts), so no kernel elsewhere can pick an ISA behind the selected table's
//!   back;
//! - behavioural: once this process selects the scalar backend, `selected()` is that table, a
//!   switch is refused, and the sketch (whose bucket indices now come from the table) still
//!   gives the bins of one-by-one adds.

use std::fs;
use std::path::{Path, PathBuf};

use hotstats_core::kernels::{select, selected, Backend, BackendError};
use hotstats_core::quantile::QuantileSketch;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("readable source dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn feature_detection_lives_in_the_dispatcher_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("../hotstats-node/src"), &mut files);
    assert!(files.len() > 20, "found the sources ({})", files.len());
    let mut offenders = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("readable source");
        // The dispatcher (kernels/mod.rs) and the ISA files' debug_asserts of their invariant.
        let allowed = f
            .parent()
            .is_some_and(|d| d.ends_with("hotstats-core/src/kernels"));
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let detects = code.contains("is_x86_feature_detected!")
                || code.contains("is_aarch64_feature_detected!");
            if detects && !allowed {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "CPU features detected outside kernels/ (go through kernels::selected()):\n{}",
        offenders.join("\n")
    );
}

fn selecting_scalar_is_what_runs() {
    let k = select(Backend::Scalar).expect("scalar runs everywhere");
    assert_eq!(k.backend(), Backend::Scalar);
    assert_eq!(selected().backend(), Backend::Scalar);
    assert!(select(Backend::Scalar).is_ok(), "choosing it again is fine");
    for other in [Backend::Avx2, Backend::Avx512, Backend::Neon] {
        if other.check().is_ok() {
            assert_eq!(
                select(other).err(),
                Some(BackendError::AlreadySelected {
                    selected: Backend::Scalar,
                    wanted: other
                })
            );
        }
    }
    assert_eq!(
        selected().backend(),
        Backend::Scalar,
        "unchanged after a refused switch"
    );
    // The sketch's bulk path runs on the selected table: same bins as one-by-one adds.
    let xs: Vec<f64> = (0..5000)
        .map(|i| ((i * 7919) % 1000) as f64 * 1.37 - 300.0)
        .collect();
    let mut bulk = QuantileSketch::new(0.01, 2048).unwrap();
    bulk.add_all(&xs).unwrap();
    let mut one = QuantileSketch::new(0.01, 2048).unwrap();
    for &v in &xs {
        one.add(v, 1.0).unwrap();
    }
    assert_eq!(bulk.positive, one.positive);
    assert_eq!(bulk.negative, one.negative);
}

fn main() {
    feature_detection_lives_in_the_dispatcher_only();
    selecting_scalar_is_what_runs();
    println!("2 passed, 0 failed");
}
