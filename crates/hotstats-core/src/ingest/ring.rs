//! The ingestor's shared memory: a pool of single-producer rings, one per producer thread.
//!
//! The pool is one block of shared memory (a SharedArrayBuffer on the Node side;
//! lib/ingest/ring.ts writes the same layout). All offsets are in bytes; u64 and i32 fields are
//! used atomically.
//!
//! Pool header (`POOL_HEADER` bytes): magic "HSIN" (u32), version, ring count, capacity (events
//! per ring, a power of two), key-log bytes, ring bytes, event time (0/1), full policy
//! (0 reject, 1 drop-oldest, 2 wait), closed flag (i32).
//!
//! Each ring (`ring_bytes` apart after the header):
//! - cache line 0, the producer's: `head` (u64, events ever published), `rejected` (u64),
//!   `key_count` (i32, keys published in the key log), `key_log_used` (i32), `pending` (i32: 1
//!   while the producer holds events it has not published; the close handshake reads it).
//! - cache line 1, the consumer's: `tail` (u64, events ever taken out: consumed, or dropped by a
//!   drop-oldest producer, which moves it by compare-and-swap).
//! - cache line 2: `state` (i32: 0 free, 1 owned by a producer, 2 closed by its producer).
//! - the slots: values (f64 × capacity), times (f64; NaN in processing time), key ids (u32, the
//!   producer's own numbering), patterns (i32: HyperLogLog index * 64 + value, or −1), then the
//!   key log: entries of a u32 byte length and the UTF-8 name, padded to 4 bytes; entry i names
//!   key id i.
//!
//! Index rule: event number k lives in slot k & (capacity − 1); the ring holds head − tail
//! events, at most capacity. The producer writes slots, then publishes `head` (release); the
//! consumer reads `head` (acquire), copies the slots, then moves `tail` by compare-and-swap and
//! uses the copy only if the swap succeeded (a drop-oldest producer may have reused them).
//!
//! The memory may hold anything (it is writable from JS): every access here is atomic and
//! bounds- and alignment-checked ([`Pool::at`]), and offsets read from the memory itself (the
//! key log's fill) are checked before use, so garbage gives wrong events (counted as invalid),
//! never a crash or an access outside the pool.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

pub const MAGIC: u32 = 0x4853_494e;
pub const VERSION: u32 = 1;
pub const POOL_HEADER: usize = 256;
pub const RING_HEADER: usize = 192;

// Pool header fields.
const P_MAGIC: usize = 0;
const P_VERSION: usize = 4;
const P_RINGS: usize = 8;
const P_CAPACITY: usize = 12;
const P_KEY_LOG: usize = 16;
const P_RING_BYTES: usize = 20;
const P_EVENT_TIME: usize = 24;
const P_POLICY: usize = 28;
const P_CLOSED: usize = 32;

// Ring header fields.
pub const HEAD: usize = 0;
pub const REJECTED: usize = 8;
pub const KEY_COUNT: usize = 16;
pub const KEY_LOG_USED: usize = 20;
pub const PENDING: usize = 24;
pub const TAIL: usize = 64;
pub const STATE: usize = 128;

pub const FREE: i32 = 0;
pub const OWNED: i32 = 1;
pub const CLOSED: i32 = 2;

/// The most rings and the largest capacity a pool may have.
pub const MAX_RINGS: usize = 1024;
pub const MAX_CAPACITY: usize = 1 << 24;
/// The largest key log per ring.
pub const MAX_KEY_LOG: usize = 1 << 24;

/// What a full ring does with a new event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Refuse it (counted in `rejected`): backpressure to the caller.
    Reject,
    /// Drop the oldest unconsumed event to make room (counted as dropped).
    DropOldest,
    /// Refuse it like Reject; async callers wait for room (`drain`) and retry.
    Wait,
}

/// The shape of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub rings: usize,
    pub capacity: usize,
    pub key_log_bytes: usize,
    pub event_time: bool,
    pub policy: Policy,
}

impl Layout {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_RINGS).contains(&self.rings) {
            return Err(format!(
                "producers must be an integer from 1 to {MAX_RINGS}, got {}",
                self.rings
            ));
        }
        if !(self.capacity.is_power_of_two() && (16..=MAX_CAPACITY).contains(&self.capacity)) {
            return Err(format!(
                "capacity must be a power of two from 16 to {MAX_CAPACITY}, got {}",
                self.capacity
            ));
        }
        if !(self.key_log_bytes.is_multiple_of(4)
            && (64..=MAX_KEY_LOG).contains(&self.key_log_bytes))
        {
            return Err(format!(
                "keyLogBytes must be a multiple of 4 from 64 to {MAX_KEY_LOG}, got {}",
                self.key_log_bytes
            ));
        }
        Ok(())
    }

    /// Bytes of one ring (a multiple of 64).
    pub fn ring_bytes(&self) -> usize {
        (RING_HEADER + 24 * self.capacity + self.key_log_bytes).div_ceil(64) * 64
    }

    /// Bytes of the whole pool.
    pub fn pool_bytes(&self) -> usize {
        POOL_HEADER + self.rings * self.ring_bytes()
    }
}

/// A view of a pool in memory the caller keeps alive, writable and 8-byte aligned for as long
/// as the view (or a copy of it) is used: what [`Pool::init`] and [`Pool::open`] require.
#[derive(Clone, Copy, Debug)]
pub struct Pool {
    base: *mut u8,
    len: usize,
    layout: Layout,
}

// SAFETY: a Pool is a pointer to memory its constructor's caller keeps alive while any copy of
// the view is used (the `init`/`open` contract), on whichever thread; nothing in it is tied to
// the thread that made it.
unsafe impl Send for Pool {}
// SAFETY: every access to the memory, through `&Pool` from any number of threads, goes through
// `u32_at`/`i32_at`/`u64_at`, i.e. atomics, so Rust threads never race non-atomically. The JS
// producers (lib/ingest/ring.ts) use Atomics for the shared fields and plain typed-array stores
// for the slots; a drop-oldest producer may store into a slot the consumer is loading, which
// gives the consumer some bits that the protocol then discards (the tail CAS fails), as with
// memory shared with another process.
unsafe impl Sync for Pool {}

/// One event copied out of a ring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub key: u32,
    pub value: f64,
    pub time: f64,
    pub pattern: i32,
}

impl Pool {
    /// Writes an empty pool's header into `mem` (every other byte must be zero).
    ///
    /// # Safety
    /// `mem` must point to `layout.pool_bytes()` writable bytes, 8-byte aligned, that stay
    /// alive while the returned view or any copy of it is used, and that nothing reads or writes
    /// other than through atomics meanwhile.
    pub unsafe fn init(mem: *mut u8, layout: Layout) -> Result<Pool, String> {
        layout.check()?;
        let pool = Pool {
            base: mem,
            len: layout.pool_bytes(),
            layout,
        };
        let policy = match layout.policy {
            Policy::Reject => 0,
            Policy::DropOldest => 1,
            Policy::Wait => 2,
        };
        for (at, v) in [
            (P_MAGIC, MAGIC),
            (P_VERSION, VERSION),
            (P_RINGS, layout.rings as u32),
            (P_CAPACITY, layout.capacity as u32),
            (P_KEY_LOG, layout.key_log_bytes as u32),
            (P_RING_BYTES, layout.ring_bytes() as u32),
            (P_EVENT_TIME, layout.event_time as u32),
            (P_POLICY, policy),
        ] {
            pool.u32_at(at).store(v, Ordering::Relaxed);
        }
        Ok(pool)
    }

    /// A view of a pool written by [`init`](Self::init) or by lib/ingest/ring.ts; checks the
    /// header.
    ///
    /// # Safety
    /// `mem` must point to `len` writable bytes that stay alive while the returned view or any
    /// copy of it is used, and that nothing reads or writes other than through atomics (or
    /// JS `Atomics`/typed-array accesses on a SharedArrayBuffer) meanwhile. The alignment and
    /// the header are checked here.
    pub unsafe fn open(mem: *mut u8, len: usize) -> Result<Pool, String> {
        if !(mem as usize).is_multiple_of(8) || len < POOL_HEADER {
            return Err("an ingest pool is 8-byte aligned and at least its header long".into());
        }
        let mut pool = Pool {
            base: mem,
            len,
            layout: Layout {
                rings: 1,
                capacity: 16,
                key_log_bytes: 64,
                event_time: false,
                policy: Policy::Reject,
            },
        };
        let get = |at: usize| pool.u32_at(at).load(Ordering::Relaxed);
        if get(P_MAGIC) != MAGIC || get(P_VERSION) != VERSION {
            return Err("not an ingest pool (magic or version)".into());
        }
        let layout = Layout {
            rings: get(P_RINGS) as usize,
            capacity: get(P_CAPACITY) as usize,
            key_log_bytes: get(P_KEY_LOG) as usize,
            event_time: get(P_EVENT_TIME) != 0,
            policy: match get(P_POLICY) {
                0 => Policy::Reject,
                1 => Policy::DropOldest,
                2 => Policy::Wait,
                p => return Err(format!("unknown full policy {p}")),
            },
        };
        layout.check()?;
        if get(P_RING_BYTES) as usize != layout.ring_bytes() || len < layout.pool_bytes() {
            return Err("the ingest pool's sizes do not add up".into());
        }
        pool.layout = layout;
        Ok(pool)
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The field of type `T` at byte `offset`: inside the pool's `len` bytes and aligned for
    /// `T`, or a panic. Every offset the consumer computes passes (the layout was checked against
    /// `len` by the constructor); the check makes the public accessors (`counter`, `flag` with
    /// any field, `read_keys` with any offset) sound whatever they are given.
    fn at<T>(&self, offset: usize) -> *const T {
        let size = core::mem::size_of::<T>();
        assert!(
            offset <= self.len && size <= self.len - offset,
            "pool offset {offset} out of bounds"
        );
        // SAFETY: offset + size <= len (checked just above), and the constructor's caller
        // promised `len` bytes at `base`: the result stays inside that allocation.
        let p = unsafe { self.base.add(offset) };
        assert!(
            (p as usize).is_multiple_of(core::mem::align_of::<T>()),
            "pool offset {offset} misaligned"
        );
        p as *const T
    }

    fn u32_at(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: `at` checked that the 4 bytes are inside the pool and aligned; the memory is
        // alive and writable while `self` is used (constructor contract), any bits are a valid
        // u32, and it is only accessed atomically (see `unsafe impl Sync`).
        unsafe { &*self.at::<AtomicU32>(offset) }
    }

    fn i32_at(&self, offset: usize) -> &AtomicI32 {
        // SAFETY: as in `u32_at` (4 bytes, checked by `at`; any bits are a valid i32).
        unsafe { &*self.at::<AtomicI32>(offset) }
    }

    fn u64_at(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: as in `u32_at` (8 bytes, in bounds and 8-aligned, checked by `at`).
        unsafe { &*self.at::<AtomicU64>(offset) }
    }

    fn ring(&self, r: usize) -> usize {
        assert!(r < self.layout.rings, "ring {r} out of range");
        POOL_HEADER + r * self.layout.ring_bytes()
    }

    /// A ring's u64 field (HEAD, REJECTED, TAIL).
    pub fn counter(&self, r: usize, field: usize) -> &AtomicU64 {
        self.u64_at(self.ring(r) + field)
    }

    /// A ring's i32 field (KEY_COUNT, KEY_LOG_USED, PENDING, STATE).
    pub fn flag(&self, r: usize, field: usize) -> &AtomicI32 {
        self.i32_at(self.ring(r) + field)
    }

    /// The pool's closed flag (producers refuse events once it is set).
    pub fn closed(&self) -> &AtomicI32 {
        self.i32_at(P_CLOSED)
    }

    fn slot_offsets(&self, r: usize, slot: usize) -> [usize; 4] {
        let c = self.layout.capacity;
        let data = self.ring(r) + RING_HEADER;
        [
            data + 8 * slot,
            data + 8 * c + 8 * slot,
            data + 16 * c + 4 * slot,
            data + 20 * c + 4 * slot,
        ]
    }

    /// Reads the event in `slot` (any bits: the caller validates).
    pub fn read(&self, r: usize, slot: usize) -> Event {
        let [v, t, k, p] = self.slot_offsets(r, slot & (self.layout.capacity - 1));
        Event {
            value: f64::from_bits(self.u64_at(v).load(Ordering::Relaxed)),
            time: f64::from_bits(self.u64_at(t).load(Ordering::Relaxed)),
            key: self.u32_at(k).load(Ordering::Relaxed),
            pattern: self.u32_at(p).load(Ordering::Relaxed) as i32,
        }
    }

    /// Writes `e` into `slot` (the Rust producer's half of the protocol, for tests and tools).
    pub fn write(&self, r: usize, slot: usize, e: Event) {
        let [v, t, k, p] = self.slot_offsets(r, slot & (self.layout.capacity - 1));
        self.u64_at(v).store(e.value.to_bits(), Ordering::Relaxed);
        self.u64_at(t).store(e.time.to_bits(), Ordering::Relaxed);
        self.u32_at(k).store(e.key, Ordering::Relaxed);
        self.u32_at(p).store(e.pattern as u32, Ordering::Relaxed);
    }

    /// The key log's names from entry `from` on: at most the published `key_count`, stopping at
    /// the first entry that does not fit. Returns the names and the byte offset after them.
    /// `offset` is one this function returned (0 at first); any other (not a multiple of 4, past
    /// the log) reads nothing.
    pub fn read_keys(&self, r: usize, from: usize, mut offset: usize) -> (Vec<String>, usize) {
        let published = self.flag(r, KEY_COUNT).load(Ordering::Acquire).max(0) as usize;
        let log = self.ring(r) + RING_HEADER + 24 * self.layout.capacity;
        let size = self.layout.key_log_bytes;
        let mut names = Vec::new();
        if !offset.is_multiple_of(4) {
            return (names, offset);
        }
        for _ in from..published {
            if offset > size - 4 {
                break;
            }
            let n = self.u32_at(log + offset).load(Ordering::Relaxed) as usize;
            if n > size - offset - 4 {
                break;
            }
            let bytes: Vec<u8> = (0..n)
                .map(|i| {
                    let word = self
                        .u32_at(log + ((offset + 4 + i) & !3))
                        .load(Ordering::Relaxed);
                    word.to_le_bytes()[(offset + 4 + i) & 3]
                })
                .collect();
            names.push(String::from_utf8_lossy(&bytes).into_owned());
            offset += 4 + n.div_ceil(4) * 4;
        }
        (names, offset)
    }

    /// Appends `name` to ring r's key log and publishes it (the producer's half; tests and tools).
    /// Returns its key id, or None if the log is full.
    /// The fill (`key_log_used`) is read from the memory: if it is not a multiple of 4 inside
    /// the log (garbage), the log counts as full.
    pub fn append_key(&self, r: usize, name: &str) -> Option<u32> {
        let used = self.flag(r, KEY_LOG_USED).load(Ordering::Relaxed);
        let size = self.layout.key_log_bytes;
        let used = usize::try_from(used)
            .ok()
            .filter(|&u| u % 4 == 0 && u <= size)?;
        let bytes = name.as_bytes();
        let need = bytes.len().div_ceil(4).checked_mul(4)?.checked_add(4)?;
        if need > size - used {
            return None;
        }
        let log = self.ring(r) + RING_HEADER + 24 * self.layout.capacity;
        self.u32_at(log + used)
            .store(bytes.len() as u32, Ordering::Relaxed);
        for (w, chunk) in bytes.chunks(4).enumerate() {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.u32_at(log + used + 4 + 4 * w)
                .store(u32::from_le_bytes(word), Ordering::Relaxed);
        }
        self.flag(r, KEY_LOG_USED)
            .store((used + need) as i32, Ordering::Relaxed);
        let id = self.flag(r, KEY_COUNT).load(Ordering::Relaxed);
        self.flag(r, KEY_COUNT).store(id + 1, Ordering::Release);
        Some(id as u32)
    }
}

/// The producer's half of the protocol in Rust (lib/ingest/ring.ts is the one Node uses): the
/// tests' and tools' way to fill a ring.
pub struct Producer<'a> {
    pool: &'a Pool,
    ring: usize,
    head: u64,
    published: u64,
    tail: u64,
}

impl<'a> Producer<'a> {
    /// Claims a free ring, or None if every ring is owned.
    pub fn claim(pool: &'a Pool) -> Option<Producer<'a>> {
        (0..pool.layout.rings).find_map(|r| {
            pool.flag(r, STATE)
                .compare_exchange(FREE, OWNED, Ordering::SeqCst, Ordering::SeqCst)
                .ok()?;
            let head = pool.counter(r, HEAD).load(Ordering::Acquire);
            Some(Producer {
                pool,
                ring: r,
                head,
                published: head,
                tail: pool.counter(r, TAIL).load(Ordering::Acquire),
            })
        })
    }

    pub fn ring(&self) -> usize {
        self.ring
    }

    /// Adds one event unless the ring is full (policy reject/wait) or the pool is closed;
    /// drop-oldest makes room instead. Returns whether it was accepted.
    pub fn push(&mut self, e: Event) -> bool {
        let pool = self.pool;
        if self.head == self.published {
            // The close handshake: announce pending events, then look at the flag.
            pool.flag(self.ring, PENDING).store(1, Ordering::SeqCst);
            if pool.closed().load(Ordering::SeqCst) != 0 {
                pool.flag(self.ring, PENDING).store(0, Ordering::SeqCst);
                self.reject();
                return false;
            }
        }
        let capacity = pool.layout.capacity as u64;
        if self.head - self.tail >= capacity {
            self.tail = pool.counter(self.ring, TAIL).load(Ordering::Acquire);
        }
        if self.head - self.tail >= capacity {
            if pool.layout.policy != Policy::DropOldest {
                if self.head == self.published {
                    pool.flag(self.ring, PENDING).store(0, Ordering::SeqCst);
                }
                self.reject();
                return false;
            }
            self.publish();
            pool.flag(self.ring, PENDING).store(1, Ordering::SeqCst);
            let tail = pool.counter(self.ring, TAIL);
            loop {
                let t = tail.load(Ordering::Acquire);
                if self.head - t < capacity {
                    self.tail = t;
                    break;
                }
                if tail
                    .compare_exchange(t, t + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    self.tail = t + 1;
                    break;
                }
            }
        }
        pool.write(self.ring, self.head as usize, e);
        self.head += 1;
        true
    }

    fn reject(&self) {
        let c = self.pool.counter(self.ring, REJECTED);
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Release);
    }

    /// Makes the events pushed so far visible to the consumer.
    pub fn publish(&mut self) {
        self.pool
            .counter(self.ring, HEAD)
            .store(self.head, Ordering::SeqCst);
        self.published = self.head;
        self.pool
            .flag(self.ring, PENDING)
            .store(0, Ordering::SeqCst);
    }

    /// Publishes and hands the ring back (the consumer frees it once drained).
    pub fn close(mut self) {
        self.publish();
        self.pool
            .flag(self.ring, STATE)
            .store(CLOSED, Ordering::SeqCst);
    }
}
