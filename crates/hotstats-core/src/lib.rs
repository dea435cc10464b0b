//! hotstats-core: the pure-Rust core of hotstats (no napi, no JS).
//!
//! [`hll`] is HyperLogLog with Redis's parameters and dense format.
//! [`kernels`] holds the float64 summary kernels: compensated, SIMD-accelerated and
//! bit-reproducible across every backend (AVX2, NEON, scalar Rust and the TypeScript port).
//!
//! Every `unsafe` block and impl says on a `// SAFETY:` line where its invariant was set up.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod hll;
pub mod inference;
pub mod ingest;
pub mod kernels;
pub mod metrics;
pub mod moments;
pub mod quantile;
pub mod spc;
pub mod window;

pub use kernels::{Backend, BackendError, Kernels, Summary};
