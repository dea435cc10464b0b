//! The ingestor: producers (JS threads) write events into their own single-producer rings in
//! shared memory ([`ring`]); aggregation threads drain the rings into sliding windows.
//!
//! Each aggregation thread owns a shard: the rings r with r mod shards = its index, and its own
//! [`SlidingWindow`]. A shard is a mutex that is only contended when a read (or `flush`) drains
//! it from the caller's thread; reads merge the shards' live buckets ([`stats_across`]). With
//! `threads = 0` there is one shard and nothing drains but `flush` and reads (deterministic).
//!
//! A drained batch is applied in runs: its events are admitted in arrival order (the watermark
//! rule; in processing time the whole batch has the drain's clock), grouped by key keeping
//! their order, cut where the bucket changes, and each run goes in with
//! [`SlidingWindow::record_admitted_run`] (kernels, a few ns per value).
//!
//! Accounting per ring: `head` = events accepted, `tail` = taken out, `aggregated` = taken out
//! by the consumer (the rest of `tail` was dropped by a drop-oldest producer). So at every
//! instant accepted = aggregated + dropped + in flight (head − tail); of the aggregated, the
//! window counts the late ones and the invalid ones (bad bytes in the ring) apart.

pub mod cpu;
pub mod ring;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::quantile::QuantileSketch;
use crate::window::{
    pattern_ok, sketch_across, stats_across, SlidingWindow, WindowOptions, WindowStats,
};
use cpu::CpuBudget;
use ring::{Pool, CLOSED, FREE, HEAD, KEY_COUNT, KEY_LOG_USED, PENDING, REJECTED, STATE, TAIL};

/// Events copied out of a ring per step.
const BATCH: usize = 4096;

/// Totals over every ring (see the module doc for the identity they satisfy).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub accepted: u64,
    pub aggregated: u64,
    pub in_flight: u64,
    pub dropped: u64,
    pub rejected: u64,
    /// Aggregated events the window refused for being late.
    pub late: u64,
    /// Aggregated events with bad bytes (unknown key, non-finite value or time, bad pattern).
    pub invalid: u64,
}

/// What the consumer knows of one ring.
#[derive(Default)]
struct RingState {
    /// Producer key id → window key id.
    keys: Vec<u32>,
    /// Where the next key-log entry starts.
    key_log_at: usize,
    aggregated: u64,
}

struct Shard {
    window: SlidingWindow,
    rings: Vec<(usize, RingState)>,
    invalid: u64,
    // Scratch, reused: the copied batch, then its admitted events grouped by key.
    batch: Vec<ring::Event>,
    ids: Vec<u32>,
    order: Vec<u32>,
    starts: Vec<u32>,
    values: Vec<f64>,
    patterns: Vec<i32>,
}

struct Shared {
    pool: Pool,
    shards: Vec<Mutex<Shard>>,
    stop: AtomicBool,
    /// The newest event time over all shards (f64 bits), so lateness is judged globally.
    watermark: AtomicU64,
}

pub struct Ingestor {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    budget: CpuBudget,
}

/// Milliseconds since the Unix epoch (processing time).
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding a shard cannot leave it half-updated in a way reads mind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Ingestor {
    /// An ingestor over `pool` with windows of `window`, started with `threads` aggregation
    /// threads (None: sized from the CPU budget; 0: none, only `flush` and reads drain).
    pub fn new(
        pool: Pool,
        window: WindowOptions,
        threads: Option<usize>,
    ) -> Result<Ingestor, String> {
        let budget = cpu::detect();
        let n = threads.unwrap_or_else(|| cpu::aggregation_threads(&budget));
        if n > 64 {
            return Err(format!("threads must be at most 64, got {n}"));
        }
        let shards = n.max(1);
        let mut list = Vec::with_capacity(shards);
        for s in 0..shards {
            list.push(Mutex::new(Shard {
                window: SlidingWindow::new(window).map_err(|e| e.0)?,
                rings: (s..pool.layout().rings)
                    .step_by(shards)
                    .map(|r| (r, RingState::default()))
                    .collect(),
                invalid: 0,
                batch: Vec::with_capacity(BATCH),
                ids: Vec::with_capacity(BATCH),
                order: Vec::with_capacity(BATCH),
                starts: Vec::new(),
                values: Vec::with_capacity(BATCH),
                patterns: Vec::with_capacity(BATCH),
            }));
        }
        let shared = Arc::new(Shared {
            pool,
            shards: list,
            stop: AtomicBool::new(false),
            watermark: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
        });
        let mut handles = Vec::with_capacity(n);
        for s in 0..n {
            let shared = shared.clone();
            let h = std::thread::Builder::new()
                .name(format!("hotstats-ingest-{s}"))
                .spawn(move || run(&shared, s))
                .map_err(|e| format!("cannot start an aggregation thread: {e}"))?;
            handles.push(h);
        }
        Ok(Ingestor {
            shared,
            threads: handles,
            budget,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    pub fn budget(&self) -> CpuBudget {
        self.budget
    }

    pub fn pool(&self) -> &Pool {
        &self.shared.pool
    }

    /// Aggregates every published event now, on the caller's thread.
    pub fn flush(&self) {
        for s in &self.shared.shards {
            drain_shard(&self.shared, &mut lock(s));
        }
    }

    fn drained(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shared
            .shards
            .iter()
            .map(|s| {
                let mut g = lock(s);
                drain_shard(&self.shared, &mut g);
                g
            })
            .collect()
    }

    /// The watermark (newest event time; −∞ before any).
    pub fn watermark(&self) -> f64 {
        f64::from_bits(self.shared.watermark.load(Ordering::Acquire))
    }

    /// Drains, then the statistics of `key` over the window ending at `now`.
    pub fn stats(&self, key: &str, now: f64) -> WindowStats {
        let guards = self.drained();
        let windows: Vec<&SlidingWindow> = guards.iter().map(|g| &g.window).collect();
        // Never None: there is at least one shard.
        stats_across(&windows, key, now).unwrap_or_else(|| unreachable!())
    }

    /// Drains, then the merged sketch of `key` over the window ending at `now`.
    pub fn sketch(&self, key: &str, now: f64) -> QuantileSketch {
        let guards = self.drained();
        let windows: Vec<&SlidingWindow> = guards.iter().map(|g| &g.window).collect();
        sketch_across(&windows, key, now).unwrap_or_else(|| unreachable!())
    }

    /// Keys seen by any shard (each once, in shard then first-seen order).
    pub fn keys(&self) -> Vec<String> {
        let guards = self.drained();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for g in &guards {
            for k in g.window.keys() {
                if seen.insert(k.clone()) {
                    out.push(k.clone());
                }
            }
        }
        out
    }

    /// The totals, read while every shard is held (consistent with each other).
    pub fn counts(&self) -> Counts {
        let guards: Vec<_> = self.shared.shards.iter().map(|s| lock(s)).collect();
        let pool = &self.shared.pool;
        let mut c = Counts::default();
        for g in &guards {
            c.late += g.window.late();
            c.invalid += g.invalid;
            for (r, st) in &g.rings {
                let tail = pool.counter(*r, TAIL).load(Ordering::Acquire);
                let head = pool.counter(*r, HEAD).load(Ordering::Acquire);
                c.accepted += head;
                c.aggregated += st.aggregated;
                c.dropped += tail.saturating_sub(st.aggregated);
                c.in_flight += head.saturating_sub(tail);
                c.rejected += pool.counter(*r, REJECTED).load(Ordering::Acquire);
            }
        }
        c
    }

    /// Rings a producer holds with events it has not published yet.
    pub fn pending(&self) -> usize {
        let pool = &self.shared.pool;
        (0..pool.layout().rings)
            .filter(|&r| pool.flag(r, PENDING).load(Ordering::SeqCst) != 0)
            .count()
    }

    /// Marks the pool closed: producers accept nothing more (see [`close`](Self::close)).
    pub fn seal(&self) {
        self.shared.pool.closed().store(1, Ordering::SeqCst);
    }

    /// Seals, waits up to `timeout` for producers to publish what they accepted, stops the
    /// threads and drains everything. Returns the rings still pending at the deadline (their
    /// unpublished events could not be seen).
    pub fn close(&mut self, timeout: Duration) -> usize {
        self.seal();
        let deadline = std::time::Instant::now() + timeout;
        let mut left = self.pending();
        while left > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
            left = self.pending();
        }
        self.stop();
        self.flush();
        // Counted at the wait's end, not again now: a producer refusing a push after the seal
        // raises its pending flag for an instant, which is not a held event.
        left
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for h in self.threads.drain(..) {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

impl Drop for Ingestor {
    fn drop(&mut self) {
        // The pool's memory may go away after this: the threads must be gone first.
        self.stop();
    }
}

/// An aggregation thread: drains its shard; after a thin pass it naps so that the next pass
/// finds a batch worth the fixed costs (at most 50 µs behind while busy, 2 ms when idle).
fn run(shared: &Shared, s: usize) {
    let mut idle = Duration::from_micros(50);
    while !shared.stop.load(Ordering::Acquire) {
        let moved = drain_shard(shared, &mut lock(&shared.shards[s]));
        if moved >= BATCH / 2 {
            idle = Duration::from_micros(50);
            continue;
        }
        std::thread::park_timeout(idle);
        if moved == 0 {
            idle = (idle * 2).min(Duration::from_millis(2));
        } else {
            idle = Duration::from_micros(50);
        }
    }
}

/// Drains every ring of the shard; returns the events taken.
fn drain_shard(shared: &Shared, shard: &mut Shard) -> usize {
    let pool = &shared.pool;
    let mut moved = 0;
    for i in 0..shard.rings.len() {
        let r = shard.rings[i].0;
        let state = pool.flag(r, STATE).load(Ordering::Acquire);
        if state == FREE {
            continue;
        }
        loop {
            let n = take(pool, r, &mut shard.batch);
            if n == 0 {
                break;
            }
            shard.rings[i].1.aggregated += n as u64;
            moved += n;
            apply(shared, shard, i);
        }
        if state == CLOSED
            && pool.counter(r, TAIL).load(Ordering::Acquire)
                == pool.counter(r, HEAD).load(Ordering::Acquire)
        {
            // Drained after its producer let go: free it for the next producer.
            let st = &mut shard.rings[i].1;
            st.keys.clear();
            st.key_log_at = 0;
            pool.flag(r, KEY_COUNT).store(0, Ordering::Relaxed);
            pool.flag(r, KEY_LOG_USED).store(0, Ordering::Relaxed);
            pool.flag(r, STATE).store(FREE, Ordering::Release);
        }
    }
    moved
}

/// Copies up to BATCH published events of ring r into `out` and moves the tail past them.
fn take(pool: &Pool, r: usize, out: &mut Vec<ring::Event>) -> usize {
    let capacity = pool.layout().capacity as u64;
    let tail = pool.counter(r, TAIL);
    loop {
        out.clear();
        let t = tail.load(Ordering::Acquire);
        let h = pool.counter(r, HEAD).load(Ordering::Acquire);
        // A sane ring holds 0..=capacity; anything else is garbage in the memory: take nothing.
        let n = h.wrapping_sub(t);
        if n == 0 || n > capacity {
            return 0;
        }
        let n = n.min(BATCH as u64);
        out.extend((0..n).map(|k| pool.read(r, (t + k) as usize)));
        if tail
            .compare_exchange(t, t + n, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return n as usize;
        }
        // A drop-oldest producer moved the tail (and may reuse the slots): copy again.
    }
}

/// The window key id of ring-local key `k`, reading new key-log entries when needed.
fn window_key(
    pool: &Pool,
    r: usize,
    st: &mut RingState,
    w: &mut SlidingWindow,
    k: u32,
) -> Option<u32> {
    if k as usize >= st.keys.len() {
        let (names, at) = pool.read_keys(r, st.keys.len(), st.key_log_at);
        st.key_log_at = at;
        for name in names {
            // Past the window's key limit the ring's later keys stay unknown (invalid events).
            match w.key_id(&name) {
                Ok(id) => st.keys.push(id),
                Err(_) => break,
            }
        }
    }
    st.keys.get(k as usize).copied()
}

/// Admits the batch in arrival order, groups it by key and adds it in runs.
fn apply(shared: &Shared, shard: &mut Shard, ring_index: usize) {
    let pool = &shared.pool;
    let event_time = pool.layout().event_time;
    let Shard {
        window,
        rings,
        invalid,
        batch,
        ids,
        order,
        starts,
        values,
        patterns,
    } = shard;
    let (r, st) = &mut rings[ring_index];
    window.advance_watermark(f64::from_bits(shared.watermark.load(Ordering::Acquire)));
    let now = now_ms();
    if !event_time && !window.admit(now, 0) {
        // The clock stepped back by more than the lateness: the whole batch is late.
        window.admit(now, batch.len() as u64);
        return;
    }
    // Validate, resolve keys, admit (event time: one by one, in arrival order).
    ids.clear();
    for e in batch.iter() {
        let t = if event_time { e.time } else { now };
        let id = window_key(pool, *r, st, window, e.key);
        let ok = id.is_some() && e.value.is_finite() && t.is_finite() && pattern_ok(e.pattern);
        if !ok {
            *invalid += 1;
            ids.push(u32::MAX);
        } else if event_time && !window.admit(t, 1) {
            ids.push(u32::MAX);
        } else {
            ids.push(id.unwrap_or(u32::MAX));
        }
    }
    shared.watermark.fetch_max_f64(window.watermark());
    // Counting sort by window key id, stable: order lists batch positions key by key.
    let keys = window.id_bound();
    starts.clear();
    starts.resize(keys + 1, 0);
    for &id in ids.iter().filter(|&&id| id != u32::MAX) {
        starts[id as usize + 1] += 1;
    }
    for k in 0..keys {
        starts[k + 1] += starts[k];
    }
    order.clear();
    order.resize(starts[keys] as usize, 0);
    // starts[k] becomes the end of key k's group, then shifts back to its start below.
    for (i, &id) in ids.iter().enumerate() {
        if id != u32::MAX {
            order[starts[id as usize] as usize] = i as u32;
            starts[id as usize] += 1;
        }
    }
    // Runs: consecutive events of one key in one bucket.
    let mut i = 0;
    while i < order.len() {
        let first = batch[order[i] as usize];
        let id = ids[order[i] as usize];
        let t = if event_time { first.time } else { now };
        let epoch = window.epoch_of(t);
        values.clear();
        patterns.clear();
        while i < order.len() {
            let e = batch[order[i] as usize];
            if ids[order[i] as usize] != id || (event_time && window.epoch_of(e.time) != epoch) {
                break;
            }
            values.push(e.value);
            patterns.push(e.pattern);
            i += 1;
        }
        let p: &[i32] = if patterns.iter().all(|&p| p < 0) {
            &[]
        } else {
            patterns
        };
        window.record_admitted_run(id, t, values, p);
    }
}

trait FetchMaxF64 {
    fn fetch_max_f64(&self, v: f64);
}

impl FetchMaxF64 for AtomicU64 {
    /// Raises the f64 stored as bits to `v` if `v` is larger.
    fn fetch_max_f64(&self, v: f64) {
        let mut cur = self.load(Ordering::Acquire);
        while v > f64::from_bits(cur) {
            match self.compare_exchange_weak(cur, v.to_bits(), Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(c) => cur = c,
            }
        }
    }
}

#[cfg(test)]
mod tests;
