use super::ring::{Event, Layout, Policy, Pool, Producer, STATE};
use super::*;
use std::sync::atomic::AtomicU64 as Counter;

const WINDOW: WindowOptions = WindowOptions {
    window_ms: 60_000.0,
    buckets: 60,
    relative_accuracy: 0.01,
    allowed_lateness_ms: 60_000.0,
};

/// Zeroed, 8-byte aligned memory for a pool.
fn memory(layout: Layout) -> Vec<u64> {
    vec![0u64; layout.pool_bytes().div_ceil(8)]
}

fn layout(rings: usize, capacity: usize, policy: Policy, event_time: bool) -> Layout {
    Layout {
        rings,
        capacity,
        key_log_bytes: 1024,
        event_time,
        policy,
    }
}

/// An ingestor with its memory; `ing` is declared first so it (and its threads) drop first.
struct Fixture {
    ing: Ingestor,
    mem: Vec<u64>,
}

impl std::ops::Deref for Fixture {
    type Target = Ingestor;
    fn deref(&self) -> &Ingestor {
        &self.ing
    }
}

impl std::ops::DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut Ingestor {
        &mut self.ing
    }
}

fn fixture(l: Layout, threads: usize) -> Fixture {
    let mut mem = memory(l);
    // SAFETY: `mem` holds pool_bytes() zeroed bytes, 8-aligned (u64 words); the fixture keeps it
    // and drops the ingestor (joining its threads) first; it is touched only through the pool
    // (and `garbage_in_the_memory...` writes through this same pointer, with no thread running).
    let pool = unsafe { Pool::init(mem.as_mut_ptr() as *mut u8, l) }.unwrap();
    Fixture {
        ing: Ingestor::new(pool, WINDOW, Some(threads)).unwrap(),
        mem,
    }
}

fn ev(key: u32, value: f64, time: f64) -> Event {
    Event {
        key,
        value,
        time,
        pattern: -1,
    }
}

fn check_identity(c: &Counts) {
    assert_eq!(c.accepted, c.aggregated + c.dropped + c.in_flight, "{c:?}");
}

#[test]
fn runs_give_what_one_by_one_records_give() {
    let ing = fixture(layout(2, 1 << 12, Policy::Reject, true), 0);
    let mut reference = SlidingWindow::new(WINDOW).unwrap();
    let mut p = Producer::claim(ing.pool()).unwrap();
    let keys = ["a", "b", "c"];
    for k in keys {
        ing.pool().append_key(p.ring(), k).unwrap();
        reference.key_id(k).unwrap();
    }
    let mut x = 7u64;
    for i in 0..3000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let key = (x >> 60) as u32 % 3;
        let value = ((x >> 33) % 1000) as f64 - 300.0;
        // Mostly increasing time with some disorder, across several buckets.
        let t = 1_000_000.0 + (i * 40) as f64 - ((x >> 20) % 3000) as f64;
        assert!(p.push(ev(key, value, t)));
        reference.record(key, value, t, None).unwrap();
        if i % 700 == 0 {
            p.publish();
            ing.flush();
        }
    }
    p.publish();
    ing.flush();
    let now = ing.watermark();
    assert_eq!(now, reference.watermark());
    for (id, k) in keys.iter().enumerate() {
        let got = ing.stats(k, now);
        let want = reference.stats(id as u32, now).unwrap();
        assert_eq!(
            (got.count, got.sum, got.min, got.max),
            (want.count, want.sum, want.min, want.max)
        );
        assert!(
            (got.variance - want.variance).abs() <= 1e-12 * want.variance,
            "{got:?} {want:?}"
        );
        let (a, b) = (
            ing.sketch(k, now),
            reference.sketch(id as u32, now).unwrap(),
        );
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(a.quantile(q).unwrap(), b.quantile(q).unwrap());
        }
    }
    let c = ing.counts();
    check_identity(&c);
    assert_eq!(
        (c.accepted, c.aggregated, c.late),
        (3000, 3000, reference.late())
    );
}

#[test]
fn a_full_ring_rejects_or_drops_the_oldest_and_counts_it() {
    for policy in [Policy::Reject, Policy::DropOldest, Policy::Wait] {
        let ing = fixture(layout(1, 16, policy, true), 0);
        let mut p = Producer::claim(ing.pool()).unwrap();
        ing.pool().append_key(0, "k").unwrap();
        let accepted = (0..20).filter(|&i| p.push(ev(0, i as f64, 1000.0))).count();
        p.publish();
        let c = ing.counts();
        check_identity(&c);
        let s = ing.stats("k", 1000.0);
        let c2 = ing.counts();
        check_identity(&c2);
        if policy == Policy::DropOldest {
            assert_eq!((accepted, c.dropped, c.rejected), (20, 4, 0));
            // The newest 16 survive: 4..=19.
            assert_eq!(
                (s.count, s.sum, s.min, s.max),
                (16, (4..20).sum::<i32>() as f64, 4.0, 19.0)
            );
        } else {
            assert_eq!((accepted, c.dropped, c.rejected), (16, 0, 4));
            assert_eq!((s.count, s.min, s.max), (16, 0.0, 15.0));
        }
        assert_eq!((c2.aggregated, c2.in_flight), (16, 0));
    }
}

/// A model queue against the ring under random pushes, publishes and drains: wrap-around many
/// times over, both policies, and the counters' identity after every step.
#[test]
fn ring_indices_follow_a_model_queue_through_wrap_around() {
    for (seed, policy) in [
        (1u64, Policy::Reject),
        (2, Policy::DropOldest),
        (3, Policy::Reject),
        (4, Policy::DropOldest),
    ] {
        let ing = fixture(layout(1, 16, policy, true), 0);
        let mut p = Producer::claim(ing.pool()).unwrap();
        ing.pool().append_key(0, "k").unwrap();
        let mut model: std::collections::VecDeque<f64> = Default::default();
        let (mut consumed, mut consumed_sum, mut next) = (0u64, 0f64, 0f64);
        let mut x = seed;
        for _ in 0..4000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (x >> 61) % 4 {
                0 | 1 => {
                    for _ in 0..(x >> 40) % 9 {
                        let full = model.len() == 16;
                        let ok = p.push(ev(0, next, 5000.0));
                        match (full, policy) {
                            (true, Policy::DropOldest) => {
                                model.pop_front();
                                model.push_back(next);
                                assert!(ok);
                            }
                            (true, _) => assert!(!ok),
                            (false, _) => {
                                model.push_back(next);
                                assert!(ok);
                            }
                        }
                        next += 1.0;
                    }
                    p.publish();
                }
                2 => {
                    ing.flush();
                    consumed += model.len() as u64;
                    consumed_sum += model.iter().sum::<f64>();
                    model.clear();
                }
                _ => {}
            }
            let c = ing.counts();
            check_identity(&c);
            assert_eq!(c.in_flight, model.len() as u64);
            assert_eq!(c.aggregated, consumed);
        }
        // A read drains what is left.
        let s = ing.stats("k", 5000.0);
        let left = model.iter().sum::<f64>();
        assert_eq!(
            (s.count, s.sum),
            (consumed + model.len() as u64, consumed_sum + left)
        );
    }
}

#[test]
fn a_closed_ring_is_freed_and_its_keys_start_afresh() {
    let ing = fixture(layout(1, 64, Policy::Reject, true), 0);
    let mut p = Producer::claim(ing.pool()).unwrap();
    assert!(Producer::claim(ing.pool()).is_none());
    ing.pool().append_key(0, "first").unwrap();
    assert!(p.push(ev(0, 1.0, 10.0)));
    p.close();
    ing.flush();
    assert_eq!(
        ing.pool().flag(0, STATE).load(Ordering::Acquire),
        ring::FREE
    );
    let mut q = Producer::claim(ing.pool()).unwrap();
    assert_eq!(ing.pool().append_key(0, "second"), Some(0));
    assert!(q.push(ev(0, 2.0, 10.0)));
    q.publish();
    assert_eq!(ing.stats("first", 10.0).sum, 1.0);
    assert_eq!(ing.stats("second", 10.0).sum, 2.0);
}

#[test]
fn garbage_in_the_memory_is_counted_never_a_crash() {
    let mut ing = fixture(layout(2, 64, Policy::Reject, true), 0);
    // Written through the pointer the pool was made from: a `&mut` to the words (iter_mut)
    // would invalidate the pool's pointer to them.
    let (words, len) = (ing.mem.as_mut_ptr(), ing.mem.len());
    let mut x = 99u64;
    for round in 0..200 {
        // Scribble over everything after the pool header, keeping the rings claimed.
        for i in 32..len {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (x >> 58) == 0 || round % 50 == 0 {
                // SAFETY: i < len, inside the Vec (alive in the fixture until the test ends);
                // no aggregation thread (threads = 0), so nothing else accesses the memory now.
                unsafe { words.add(i).write(x) };
            }
        }
        for r in 0..2 {
            ing.pool()
                .flag(r, STATE)
                .store(ring::OWNED, Ordering::Release);
            if round % 3 == 0 {
                // A plausible head so that slots get read.
                let t = ing.pool().counter(r, TAIL).load(Ordering::Acquire);
                ing.pool()
                    .counter(r, HEAD)
                    .store(t.wrapping_add(x % 65), Ordering::Release);
                ing.pool()
                    .flag(r, KEY_COUNT)
                    .store((x % 5) as i32, Ordering::Release);
            }
        }
        ing.flush();
        let _ = ing.counts();
        for k in ing.keys() {
            let _ = ing.stats(&k, 1e9);
        }
    }
    assert!(ing.counts().invalid > 0);
}

/// Four producer threads hammer one ingestor with its own aggregation thread while a fifth
/// thread checks the identity; at the end the window holds exactly what was accepted.
#[test]
fn four_threads_lose_nothing_that_was_accepted() {
    let ing = fixture(layout(4, 1 << 10, Policy::Reject, false), 1);
    let accepted = Counter::new(0);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (ing_ref, done_ref) = (&ing, &done);
        s.spawn(move || {
            let mut last = 0;
            while !done_ref.load(Ordering::Acquire) {
                let c = ing_ref.counts();
                check_identity(&c);
                assert!(c.aggregated >= last);
                last = c.aggregated;
                std::thread::yield_now();
            }
        });
        let mut producers = Vec::new();
        for t in 0..4u32 {
            let (ing, accepted) = (&ing, &accepted);
            producers.push(s.spawn(move || {
                let mut p = Producer::claim(ing.pool()).unwrap();
                ing.pool()
                    .append_key(p.ring(), &format!("k{}", t % 2))
                    .unwrap();
                let mut n = 0u64;
                for i in 0..250_000u64 {
                    if p.push(ev(0, (i % 7) as f64, f64::NAN)) {
                        n += 1;
                    }
                    if i % 64 == 0 {
                        p.publish();
                    }
                }
                p.publish();
                accepted.fetch_add(n, Ordering::SeqCst);
            }));
        }
        for h in producers {
            h.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });
    let mut ing = ing;
    assert_eq!(ing.close(Duration::from_secs(1)), 0);
    let c = ing.counts();
    check_identity(&c);
    let total = accepted.load(Ordering::SeqCst);
    assert_eq!(c.accepted, total);
    assert_eq!(c.rejected + total, 1_000_000);
    let now = now_ms();
    let (a, b) = (ing.stats("k0", now), ing.stats("k1", now));
    assert_eq!(a.count + b.count + c.late, total);
    assert_eq!(c.late, 0);
}

/// close() while two threads push: whatever push accepted is in the window afterwards.
#[test]
fn close_during_pushes_loses_nothing_accepted() {
    let mut ing = fixture(layout(2, 1 << 8, Policy::Reject, false), 1);
    let accepted = Counter::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (pool, accepted) = (*ing.pool(), &accepted);
            s.spawn(move || {
                let mut p = Producer::claim(&pool).unwrap();
                pool.append_key(p.ring(), "k").unwrap();
                let (mut n, mut refused) = (0u64, 0u64);
                // Until the seal: refusals from a full ring are retried, the seal ends it.
                while pool.closed().load(Ordering::SeqCst) == 0 || refused < 1000 {
                    if p.push(ev(0, 1.0, f64::NAN)) {
                        n += 1;
                    } else {
                        refused += 1;
                    }
                    if n % 16 == 0 {
                        p.publish();
                    }
                }
                p.publish();
                accepted.fetch_add(n, Ordering::SeqCst);
            });
        }
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(ing.close(Duration::from_secs(2)), 0);
    });
    let c = ing.counts();
    check_identity(&c);
    assert_eq!(c.in_flight, 0);
    assert_eq!(c.accepted, accepted.load(Ordering::SeqCst));
    assert_eq!(ing.stats("k", now_ms()).count, c.accepted);
}

#[test]
fn the_pool_accessors_stay_inside_the_pool_whatever_they_are_given() {
    use super::ring::{HEAD, KEY_LOG_USED};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let l = layout(2, 16, Policy::Reject, false);
    let f = fixture(l, 0);
    let pool = *f.pool();
    // A field past the pool, or misaligned for its type: a panic, never an access.
    let past = pool.len();
    for field in [past, past - 4, usize::MAX - 3] {
        assert!(catch_unwind(AssertUnwindSafe(|| pool
            .counter(1, field)
            .load(Ordering::Relaxed)))
        .is_err());
    }
    assert!(catch_unwind(AssertUnwindSafe(|| pool
        .counter(0, HEAD + 4)
        .load(Ordering::Relaxed)))
    .is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| pool.flag(0, 1).load(Ordering::Relaxed))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| pool.flag(2, 0).load(Ordering::Relaxed))).is_err());
    // A key-log offset that read_keys did not return reads nothing.
    assert_eq!(pool.append_key(0, "a"), Some(0));
    assert_eq!(pool.read_keys(0, 0, 0).0, vec!["a".to_string()]);
    assert!(pool.read_keys(0, 0, 2).0.is_empty());
    assert!(pool.read_keys(0, 0, usize::MAX - 3).0.is_empty());
    // Garbage fill in the memory (negative, misaligned, past the log): the log counts as full,
    // nothing is written anywhere.
    for used in [-1000, -4, 2, l.key_log_bytes as i32 + 4, i32::MIN] {
        pool.flag(0, KEY_LOG_USED).store(used, Ordering::Relaxed);
        assert_eq!(pool.append_key(0, &"x".repeat(1000)), None, "used {used}");
        assert_eq!(pool.append_key(0, "b"), None, "used {used}");
    }
    // A fill leaving too little room.
    pool.flag(0, KEY_LOG_USED)
        .store(l.key_log_bytes as i32 - 4, Ordering::Relaxed);
    assert_eq!(pool.append_key(0, "b"), None);
    pool.flag(0, KEY_LOG_USED).store(8, Ordering::Relaxed);
    assert_eq!(pool.append_key(0, "b"), Some(1));
}
