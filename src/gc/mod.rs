//! The garbage-collected heap tunevm serves its guests (the tuning guide's
//! `UnifiedGC`): a vendor extension in the custom-0 opcode space lets a
//! guest allocate (`gc.alloc`), collect (`gc.collect`), register root
//! ranges (`gc.root`) and read figures (`gc.stats`); the collector runs on
//! the host side, where the guide's knobs act.
//!
//! The collector is conservative, in the manner of Boehm–Demers–Weiser:
//! the calling hart's registers, the registered root ranges and every
//! aligned word of a reachable object that points into (or inside) an
//! allocated object keep it alive. It marks tri-colour (white: mark bit
//! clear; grey: marked and on the `gray` stack; black: marked and scanned)
//! and sweeps lazily, block by block.
//!
//! A cycle: **start** (a pause: clear mark bits, arm the write barrier on
//! every heap page and every page of a registered root range, scan the
//! registers, and queue the root ranges as grey work in chunks of
//! [`ROOT_CHUNK`] bytes), **marking** (slices of at most
//! `mark_quota_us` at allocation safepoints, or a marker thread with
//! `concurrent_marking`), **remark** (a pause: rescan the registers and
//! every page the barrier saw written, heap or root range, then drain the
//! grey stack; the mutator is stopped, so this terminates), **sweeping** (slices of at most
//! `sweep_quota_us`, and the allocator sweeps blocks as it needs them).
//! Objects allocated while marking runs are born black.
//!
//! Correctness argument (incremental update): a white object can only be
//! missed if a pointer to it is stored into an already scanned object and
//! erased everywhere else. Such a store lands on a heap page that was armed
//! at the cycle's start (or when its block was taken during marking), so
//! the page is dirty and rescanned at remark. Root ranges are guest RAM
//! under the same barrier: each of their pages is armed before its chunks
//! are queued, so a word scanned early and overwritten later is on a dirty
//! page, rescanned at remark (a range added while marking runs is armed and
//! queued then). Registers have no barrier: they are rescanned at remark. `gc.verify` checks this after every cycle with
//! an independent trace.
//!
//! Invariants: the collector reads and writes guest RAM only through `Ram`
//! and `RamView`, both bounds-checked; the heap lies inside RAM
//! ([`UnifiedGC::place`] clamps it); the marker thread (natively) is joined
//! before the RAM it reads is dropped (`Bus` declares its GC before RAM).
//!
//! ```
//! use tunevm::gc::{UnifiedGC, UnifiedGcConfig};
//!
//! let gc_config = UnifiedGcConfig {
//!     heap_size_limit: 256 * 1024 * 1024, // 256 MB
//!     mark_quota_us: 1000,                // 1 ms mark quota
//!     sweep_quota_us: 500,                // 0.5 ms sweep quota
//!     adaptive_quota: true,
//!     concurrent_marking: true,
//!     write_barrier_shards: 8,
//!     ..Default::default()
//! };
//! let gc = UnifiedGC::new(gc_config);
//! assert_eq!(gc.config().write_barrier_shards, 8);
//! ```
mod buffers;
mod config;
mod heap;
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub mod marker_worker;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub use config::{GcConfigError, UnifiedGcConfig};
pub use heap::{BLOCK, CLASSES};

use crate::isa::GcOp;
use crate::jit::clock::now_ns;
use crate::mem::barrier::DirtyCards;
use crate::mem::{Ram, RamView, RAM_BASE};
use crate::monitor::Histogram;
use buffers::{AllocBuffers, Run};
use heap::{Heap, Kind, Obj};

/// The guide's pause target: slices aim below it, the checklist checks it.
pub const PAUSE_TARGET_NS: u64 = 1_000_000;
/// The smallest heap size a cycle sizes the heap to (unless the limit is lower).
pub const MIN_SOFT_BYTES: u64 = 4 << 20;
/// Root ranges a guest may register.
pub const MAX_ROOT_RANGES: usize = 64;
/// Byte freed objects are filled with under `gc.verify`.
pub const POISON: u8 = 0xdb;
/// `gc.alloc` flag: the object holds no pointers (never scanned).
pub const FLAG_NO_POINTERS: u64 = 1;
/// The smallest quota the adaptive controller goes down to.
const MIN_QUOTA_NS: u64 = 50_000;
/// Precleaning rounds per cycle: while more than `REMARK_PAGES` pages are
/// dirty when the grey stack empties, they are re-armed and rescanned
/// outside the remark pause, as long as each round finds fewer dirty pages
/// than the one before, and at most this many times.
const PRECLEAN_ROUNDS: u32 = 16;
const REMARK_PAGES: usize = 16;
/// Remarks a cycle may cut short (see [`Core::try_remark`]: each gets twice
/// the time of the one before); the next one runs to the end whatever it takes,
/// so a guest that dirties pages as fast as the collector rescans them
/// cannot keep a cycle from ending.
const MAX_REMARK_CUTS: u32 = 8;
/// Root ranges are marked as grey work in chunks of this many bytes (a
/// large object's worth of words), not in the cycle-start pause: a
/// 400 KiB root range took 0.16-0.39 ms of every start and remark pause
/// natively when it was scanned there.
pub const ROOT_CHUNK: u64 = 1024;
/// Pause timeline points kept (thinned by half when full).
const MAX_TIMELINE: usize = 2048;

/// `gc.stats` selectors.
pub mod stat {
    pub const HEAP_USED: u64 = 0;
    pub const HEAP_SIZE: u64 = 1;
    pub const COLLECTIONS: u64 = 2;
    pub const ALLOCATED: u64 = 3;
    pub const OBJECTS: u64 = 4;
    pub const HEAP_BASE: u64 = 5;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Marking,
    Sweeping,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Marking => "marking",
            Phase::Sweeping => "sweeping",
        }
    }
}

/// What started a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    /// Heap use reached `trigger_threshold` of the heap size.
    Threshold,
    /// An allocation found no room.
    Exhausted,
    /// The guest asked (`gc.collect`).
    Explicit,
}

/// The collector's cumulative figures, copied into each monitor sample.
#[derive(Clone, Debug, Default)]
pub struct GcSample {
    /// The guest has used the GC interface at least once.
    pub used: bool,
    pub heap_base: u64,
    pub heap_limit_bytes: u64,
    /// Why the heap is smaller than `gc.heap_size_limit`, if it is.
    pub heap_note: String,
    pub heap_used_bytes: u64,
    pub heap_committed_bytes: u64,
    /// The heap size the current trigger is computed from.
    pub heap_target_bytes: u64,
    pub objects: u64,
    pub phase: &'static str,
    pub collections: u64,
    pub cycles_started: u64,
    pub triggers_threshold: u64,
    pub triggers_exhausted: u64,
    pub triggers_explicit: u64,
    pub pauses: Histogram,
    /// (guest instructions, pause ns) per pause, thinned past 2048 points.
    pub pause_timeline: Vec<(u64, u64)>,
    pub marker_ns: u64,
    pub allocations: u64,
    /// Allocations handed out from an allocation buffer, without the lock
    /// (only while a marker runs).
    pub allocations_unlocked: u64,
    pub allocated_bytes: u64,
    pub alloc_failures: u64,
    pub marking_fell_behind: u64,
    /// Remark pauses that reached the mark quota before marking ended and
    /// gave the rest back to marking (slices or the marker thread).
    pub remark_cuts: u64,
    pub marked_objects: u64,
    pub freed_objects: u64,
    pub freed_bytes: u64,
    /// Objects marked in the current (or last) cycle, and the objects the
    /// heap held when it started: mark progress.
    pub cycle_marked: u64,
    pub cycle_objects: u64,
    pub barrier_hits: Vec<u64>,
    pub barrier_contended: u64,
    pub verify_failures: u64,
    pub verify_first: String,
    pub mark_quota_us: f64,
    pub sweep_quota_us: f64,
    pub slice_every: u64,
    /// (guest instructions, mark quota µs) whenever the controller moved it.
    pub quota_series: Vec<(u64, f64)>,
    /// Marking runs on a marker thread.
    pub concurrent: bool,
    pub concurrent_reason: String,
    pub table_bytes: u64,
}

/// Everything the collector owns, behind one lock (the mutator's
/// instructions and the marker thread take turns).
struct Core {
    cfg: UnifiedGcConfig,
    heap: Heap,
    /// Every block with a mark bit set (each once per cycle): a cycle start
    /// clears these, not all of a 256 MiB heap's 65 536 blocks (which took
    /// 0.2-0.6 ms of the cycle-start pause natively).
    marked_blocks: Vec<u32>,
    view: Option<RamView>,
    cards: Arc<DirtyCards>,
    phase: Phase,
    gray: Vec<(u64, u64)>,
    roots: Vec<(u64, u64)>,
    /// RAM pages (first, count) of the root ranges armed this cycle, to
    /// disarm when marking ends (a range removed meanwhile included).
    armed_roots: Vec<(usize, usize)>,
    /// Root-range pages (outside the heap) that precleaning found written:
    /// left disarmed and rescanned once, at remark. Re-arming them would
    /// rescan them round after round (a stack page is written again at
    /// once), which made marking late enough to fall behind twice as often
    /// (gc-graph, 8 MiB).
    dirty_roots: Vec<u32>,
    /// Bytes marked this cycle (the live data once marking ends).
    marked_bytes: u64,
    /// The heap size the trigger is a share of.
    soft_bytes: u64,
    mark_quota_ns: u64,
    sweep_quota_ns: u64,
    /// Allocations between two slices.
    slice_every: u64,
    allocs_since_slice: u64,
    sweep_queue: Vec<u32>,
    /// Dirty pages re-armed by precleaning, waiting to be rescanned.
    rescan_queue: Vec<u32>,
    preclean_rounds: u32,
    /// Remarks cut short this cycle.
    remark_cuts: u32,
    /// Dirty pages the last precleaning round found.
    preclean_last: usize,
    /// Grey objects the marker thread took to scan outside the lock: still
    /// marking work until it has marked what they point to.
    in_flight: Vec<(u64, u64)>,
    /// Moves at every cycle start and remark: the marker drops results
    /// computed under an older value.
    cycle: u64,
    fell_behind_this_cycle: bool,
    peak_used_in_cycle: u64,
    barrier_disabled: bool,
    /// The last registers each hart published (at the end of each of its
    /// quanta, on a machine of several harts on one worker), and the hart
    /// whose instruction runs now: the others' registers are roots too.
    published: Vec<Option<[u64; 32]>>,
    caller: usize,
    /// The mutator's allocation buffers' runs as they stood when it took
    /// the lock (see `buffers`): a cycle start marks them.
    reserved: Vec<Run>,
    stats: GcSample,
    now_insns: u64,
}

/// `T` on cache lines of its own (two 64-byte lines: neighbours are
/// prefetched in pairs).
#[repr(align(128))]
struct CacheLines<T>(T);

impl<T> std::ops::Deref for CacheLines<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for CacheLines<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// What the mutator and the marker share. The lock's word has its cache
/// lines to itself, apart from the data it guards and from the atomics:
/// a thread spinning for the lock writes that line at every try, and when
/// the lock holder's hot fields sat on it, where they sat depended on
/// earlier heap allocations (even on the length of the program's path),
/// and gc-binary-trees-large ran 5 s or 8.5 s by that alone.
struct Shared {
    core: Mutex<CacheLines<Core>>,
    /// Wakes the marker thread (cycle started, or stop).
    wake: Condvar,
    stop: AtomicBool,
    /// The marker thread waits for the lock. The mutator takes the lock
    /// at every `gc.*` instruction, often enough that an unfair lock could
    /// starve the marker for ever; so after such an instruction the
    /// mutator yields until the marker has the lock (a handoff).
    marker_waiting: AtomicBool,
    /// When the mutator began waiting for the lock (`now_ns`; 0: it is not
    /// waiting). The marker drops the lock after each step and takes it
    /// again at once; without a handoff that way too it could win the lock
    /// step after step while an allocation waits (measured: pauses of 1-4
    /// ms natively, all of them spent waiting for the lock, none of the
    /// marker's steps longer than 0.3 ms). See [`let_mutator_in`].
    mutator_waiting: AtomicU64,
    /// The marker has run out of work in a marking cycle: the next
    /// `gc.alloc` takes the lock (rather than an allocation buffer's slot)
    /// to remark, so the cycle ends without waiting for a buffer to empty.
    marker_idle: AtomicBool,
    /// The page's marker worker runs [`marker_loop`] for this collector
    /// (set and cleared under `marker_worker`'s queue lock).
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    marker_running: AtomicBool,
    /// The marker worker died while it marked for this collector.
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    marker_lost: AtomicBool,
}

impl Shared {
    /// Wake the marker (work arrived) and hand it the lock after this
    /// instruction.
    fn wake_marker(&self) {
        self.marker_waiting.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }
}

/// Longest the mutator yields to the marker after one instruction.
const HANDOFF_NS: u64 = 200_000;

/// How long the mutator and the marker spin for the lock before they sleep
/// on it. A step holds the lock for about a microsecond natively and a few
/// in the page, far less than waking a sleeper costs (natively
/// gc-binary-trees-large's allocations waited 4.6 µs on average for steps
/// of 0.7 µs; in the page a Web Worker is woken through
/// `memory.atomic.notify`, 20-30 µs measured), so both spin first.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
const LOCK_SPIN_NS: u64 = 500_000;

/// `m`'s lock, taken by spinning on `try_lock` for up to `spin_ns`, then by
/// sleeping on it.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
fn spin_lock<T>(m: &Mutex<T>, spin_ns: u64) -> MutexGuard<'_, T> {
    let start = now_ns();
    let mut tries = 0u32;
    loop {
        match m.try_lock() {
            Ok(g) => return g,
            Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        tries += 1;
        // In the page the clock is a call into JavaScript: read it seldom.
        if tries.is_multiple_of(64) && now_ns().saturating_sub(start) >= spin_ns {
            return m.lock().unwrap_or_else(|e| e.into_inner());
        }
        std::hint::spin_loop();
    }
}

/// The page's side of the lock: as [`spin_lock`] (spinning up to `spin_ns`),
/// then polling, never sleeping on the lock for good. A marker worker that
/// traps while it holds the lock never releases it (a trap aborts: no
/// unwinding, no poisoning); its dying words set `marker_lost`
/// (`marker_worker::worker_died`). Then no one can ever hold the lock but
/// the dead worker, so once `marker_lost` has stood for
/// [`ORPHAN_GRACE_NS`] with the lock still taken, the machine's worker
/// stops with a panic that says so (the page reports it and starts a new
/// worker) instead of waiting until the user presses Stop.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
fn lock_unless_orphaned(shared: &Shared, spin_ns: u64) -> MutexGuard<'_, CacheLines<Core>> {
    let start = now_ns();
    let mut lost_since = None;
    let mut tries = 0u32;
    loop {
        match shared.core.try_lock() {
            Ok(g) => return g,
            Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        tries += 1;
        if !tries.is_multiple_of(64) {
            std::hint::spin_loop();
            continue;
        }
        let now = now_ns();
        if shared.marker_lost.load(Ordering::Acquire) {
            let since = *lost_since.get_or_insert(now);
            assert!(
                now.saturating_sub(since) < ORPHAN_GRACE_NS,
                "the GC's marker worker died while it held the collector's lock; the machine \
                 cannot go on"
            );
        }
        if now.saturating_sub(start) >= spin_ns {
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// How long the lock may stay taken after the marker worker died before
/// the machine's worker gives up on it.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
const ORPHAN_GRACE_NS: u64 = 100_000_000;

/// A mutator that has waited this long for the lock gets it before the
/// marker's next step.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
const MUTATOR_WAIT_NS: u64 = 100_000;

/// The marker's side of the handoff: before it takes the lock again, let a
/// mutator that has waited [`MUTATOR_WAIT_NS`] have it (waiting for at
/// most [`HANDOFF_NS`]). A shorter wait is left to the lock: handing over
/// to every waiting allocation slowed marking so much that gc-graph-large
/// ran 2.3x longer.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
fn let_mutator_in(shared: &Shared) {
    let since = shared.mutator_waiting.load(Ordering::SeqCst);
    if since == 0 || now_ns().saturating_sub(since) < MUTATOR_WAIT_NS {
        return;
    }
    let t = now_ns();
    while shared.mutator_waiting.load(Ordering::SeqCst) == since
        && now_ns().saturating_sub(t) < HANDOFF_NS
    {
        // Spin, not yield: yielding let other threads (the JIT's compile
        // thread) take this core for milliseconds, and marking stalled.
        std::hint::spin_loop();
    }
}

/// The collector: its state, and natively its marker thread.
pub struct UnifiedGC {
    shared: Arc<Shared>,
    /// Set by `place` when marking should run on a marker thread: the
    /// thread starts at the guest's first `gc.*` instruction, so a machine
    /// whose guest never uses the GC heap starts none.
    marker_wanted: AtomicBool,
    marker: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The mutator's allocation buffers: taken before `shared.core`, and
    /// only by the thread that runs `gc.*` instructions.
    buffers: Mutex<AllocBuffers>,
    /// A marker runs, so allocations use the buffers. Off, `gc.*`
    /// instructions do not touch them (their lock alone cost the
    /// stop-the-world collector 27 % of gc-binary-trees-large's run time
    /// natively: 30 M allocations).
    buffered: AtomicBool,
}

impl UnifiedGC {
    /// A collector with `cfg` and no heap yet ([`UnifiedGC::place`] gives
    /// it one).
    pub fn new(cfg: UnifiedGcConfig) -> Self {
        let shards = cfg.write_barrier_shards as usize;
        let core = Core {
            heap: Heap::new(0, 0),
            marked_blocks: Vec::new(),
            view: None,
            cards: Arc::new(DirtyCards::new(shards)),
            phase: Phase::Idle,
            gray: Vec::new(),
            armed_roots: Vec::new(),
            dirty_roots: Vec::new(),
            roots: Vec::new(),
            marked_bytes: 0,
            soft_bytes: 0,
            mark_quota_ns: cfg.mark_quota_us * 1000,
            sweep_quota_ns: cfg.sweep_quota_us * 1000,
            slice_every: cfg.incremental_step,
            allocs_since_slice: 0,
            sweep_queue: Vec::new(),
            rescan_queue: Vec::new(),
            preclean_rounds: 0,
            remark_cuts: 0,
            preclean_last: usize::MAX,
            in_flight: Vec::new(),
            cycle: 0,
            fell_behind_this_cycle: false,
            peak_used_in_cycle: 0,
            barrier_disabled: false,
            published: Vec::new(),
            caller: 0,
            reserved: Vec::new(),
            stats: GcSample::default(),
            now_insns: 0,
            cfg,
        };
        let shared = Arc::new(Shared {
            core: Mutex::new(CacheLines(core)),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            marker_waiting: AtomicBool::new(false),
            mutator_waiting: AtomicU64::new(0),
            marker_idle: AtomicBool::new(false),
            #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
            marker_running: AtomicBool::new(false),
            #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
            marker_lost: AtomicBool::new(false),
        });
        UnifiedGC {
            shared,
            marker_wanted: AtomicBool::new(false),
            marker: Mutex::new(None),
            buffers: Mutex::new(AllocBuffers::new()),
            buffered: AtomicBool::new(false),
        }
    }

    fn core(&self) -> MutexGuard<'_, CacheLines<Core>> {
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        return lock_unless_orphaned(&self.shared, 0);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
        self.shared.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn buffers(&self) -> MutexGuard<'_, AllocBuffers> {
        self.buffers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lock for a `gc.*` instruction that found it taken by the marker
    /// (see [`spin_lock`]; the plain wasm build has no marker).
    fn lock_spinning(&self) -> MutexGuard<'_, CacheLines<Core>> {
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        return lock_unless_orphaned(&self.shared, LOCK_SPIN_NS);
        #[cfg(not(target_arch = "wasm32"))]
        return spin_lock(&self.shared.core, LOCK_SPIN_NS);
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        self.core()
    }

    pub fn config(&self) -> UnifiedGcConfig {
        self.core().cfg.clone()
    }

    /// Apply the live `gc.*` knobs of `cfg` (validated: the quotas, adaptive
    /// quotas, the trigger, the target occupancy, the incremental step) from
    /// the next safepoint on. The quotas start again from the new values
    /// (adaptive quotas adapt from there). The heap's size, the marker and
    /// the barrier's shards were set when the machine was built and stay.
    pub fn retune(&self, cfg: &UnifiedGcConfig) {
        let mut c = self.core();
        c.cfg.mark_quota_us = cfg.mark_quota_us;
        c.cfg.sweep_quota_us = cfg.sweep_quota_us;
        c.cfg.adaptive_quota = cfg.adaptive_quota;
        c.cfg.trigger_threshold = cfg.trigger_threshold;
        c.cfg.target_occupancy = cfg.target_occupancy;
        c.cfg.incremental_step = cfg.incremental_step;
        c.mark_quota_ns = cfg.mark_quota_us * 1000;
        c.sweep_quota_ns = cfg.sweep_quota_us * 1000;
        c.slice_every = cfg.incremental_step;
    }

    /// Give the collector its heap: `len` bytes of `ram` from physical
    /// `base` (clamped to RAM; `note` says why it is smaller than the
    /// limit, if it is). With concurrent marking on, the marker thread
    /// starts at the first `gc.*` instruction (natively).
    pub fn place(&mut self, ram: &Ram, base: u64, len: u64, note: String) {
        let ram_end = RAM_BASE + ram.len() as u64;
        let base = base.clamp(RAM_BASE, ram_end).next_multiple_of(BLOCK).min(ram_end);
        let len = len.min(ram_end - base) / BLOCK * BLOCK;
        ram.set_barrier_cards(self.core().cards.clone());
        self.buffers().base = base;
        let concurrent;
        {
            let mut c = self.core();
            c.heap = Heap::new(base, (len / BLOCK) as usize);
            c.view = Some(ram.view());
            // The first cycle starts at trigger_threshold of the whole heap.
            c.soft_bytes = len;
            c.stats.heap_base = base;
            c.stats.heap_limit_bytes = len;
            c.stats.heap_note = note;
            concurrent = c.cfg.concurrent_marking && c.cfg.incremental;
            c.stats.concurrent = false;
            c.stats.concurrent_reason = if !c.cfg.incremental {
                "stop-the-world (gc.incremental=false)".into()
            } else if !c.cfg.concurrent_marking {
                "incremental slices on the vCPU (gc.concurrent_marking=false)".into()
            } else {
                String::new()
            };
        }
        if concurrent {
            self.want_marker();
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn want_marker(&mut self) {
        self.marker_wanted.store(true, Ordering::Release);
        self.core().stats.concurrent_reason =
            "a marker thread starts at the guest's first gc.* instruction".into();
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn start_marker(&self) {
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("tunevm-gc-marker".into())
            .spawn(move || marker_loop(&shared));
        let (ok, reason) = match spawned {
            Ok(handle) => {
                *self.marker.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
                (true, "a marker thread marks while the guest runs".to_string())
            }
            Err(e) => (false, format!("no marker thread ({e}): incremental slices on the vCPU")),
        };
        let mut c = self.core();
        c.stats.concurrent = ok;
        self.buffered.store(ok, Ordering::Relaxed);
        c.stats.concurrent_reason = reason;
    }

    /// The threads build: the marker is the page's marker worker
    /// (`marker_worker`), asked for at the first `gc.*` instruction as the
    /// thread is natively.
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    fn want_marker(&mut self) {
        self.marker_wanted.store(true, Ordering::Release);
        self.core().stats.concurrent_reason =
            "the marker worker takes over at the guest's first gc.* instruction".into();
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    fn start_marker(&self) {
        let (ok, reason) = if marker_worker::post(self.shared.clone()) {
            (true, "a marker worker marks while the guest runs")
        } else {
            (false, "no marker worker is running: incremental slices on the vCPU's worker")
        };
        let mut c = self.core();
        c.stats.concurrent = ok;
        self.buffered.store(ok, Ordering::Relaxed);
        c.stats.concurrent_reason = reason.into();
    }

    /// The plain build has no shared memory, so no worker can mark.
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    fn want_marker(&mut self) {
        self.core().stats.concurrent_reason = "the plain build has no shared memory for a marker \
                                               worker: incremental slices on the vCPU's worker"
            .into();
    }

    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    fn start_marker(&self) {}

    /// Run one `gc.*` instruction for the hart whose registers are `regs`
    /// at guest instruction `insns`; returns the value for `rd`.
    pub fn execute(
        &self,
        ram: &Ram,
        op: GcOp,
        a: u64,
        b: u64,
        regs: &[u64; 32],
        insns: u64,
    ) -> u64 {
        self.execute_for(0, ram, op, a, b, regs, insns)
    }

    /// [`UnifiedGC::execute`] for hart `hart` of a machine whose other harts
    /// published their registers ([`UnifiedGC::publish_registers`]) and do
    /// not run meanwhile (several harts on one worker).
    #[allow(clippy::too_many_arguments)]
    pub fn execute_for(
        &self,
        hart: usize,
        ram: &Ram,
        op: GcOp,
        a: u64,
        b: u64,
        regs: &[u64; 32],
        insns: u64,
    ) -> u64 {
        if self.marker_wanted.load(Ordering::Relaxed)
            && self.marker_wanted.swap(false, Ordering::AcqRel)
        {
            self.start_marker();
        }
        let mut bufs = self.buffered.load(Ordering::Relaxed).then(|| self.buffers());
        if let Some(bufs) = bufs.as_mut() {
            if op == GcOp::Alloc && !self.shared.marker_idle.load(Ordering::Relaxed) {
                if let Some(addr) = bufs.take(a, b) {
                    return addr;
                }
            }
        }
        let start = now_ns();
        let mut waited = false;
        let mut c = match self.shared.core.try_lock() {
            Ok(c) => c,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                self.shared.mutator_waiting.store(start.max(1), Ordering::SeqCst);
                let c = self.lock_spinning();
                self.shared.mutator_waiting.store(0, Ordering::SeqCst);
                waited = true;
                c
            }
        };
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        if c.stats.concurrent && self.shared.marker_lost.load(Ordering::Acquire) {
            // Its batch in flight goes back to the grey stack (scanning an
            // object twice is harmless), and the slices take over.
            let batch = std::mem::take(&mut c.in_flight);
            c.gray.extend(batch);
            c.stats.concurrent = false;
            c.stats.concurrent_reason =
                "the marker worker died: incremental slices on the vCPU's worker".into();
        }
        self.shared.marker_idle.store(false, Ordering::Relaxed);
        c.caller = hart;
        c.stats.used = true;
        c.now_insns = insns;
        if let Some(bufs) = bufs.as_mut() {
            let (allocs, bytes) = bufs.take_pending();
            c.stats.allocations += allocs;
            c.stats.allocations_unlocked += allocs;
            c.stats.allocated_bytes += bytes;
            c.allocs_since_slice += allocs;
            c.reserved.clear();
            c.reserved.extend(bufs.reservations());
        }
        // Waiting for the marker's step to end stops the guest too. (Only a
        // failed try_lock is a wait: in the page the clock ticks in steps
        // of 5 µs, so timing every instruction would count ticks.)
        let mut worked = waited && now_ns().saturating_sub(start) > 2_000;
        let value = match op {
            GcOp::Alloc => c.alloc(ram, a, b, regs, &mut worked, &self.shared),
            GcOp::Collect => {
                worked = true;
                c.collect(ram, regs);
                c.heap.used_bytes
            }
            GcOp::RootAdd => c.root_add(ram, a, b),
            GcOp::RootRemove => c.root_remove(a),
            GcOp::Stats => c.stat(a),
        };
        if let Some(bufs) = bufs.as_mut() {
            if !c.stats.concurrent {
                // The marker is gone (the page's marker worker died): the
                // runs go back to the heap, and buffering stops.
                for (class, run) in bufs.drain() {
                    c.heap.unreserve(run.block, class, run.word, run.mask);
                }
                c.reserved.clear();
                self.buffered.store(false, Ordering::Relaxed);
            } else if op == GcOp::Alloc && value != 0 {
                c.refill(ram, bufs, a, b, value);
            }
        }
        if worked {
            let ns = now_ns().saturating_sub(start);
            c.record_pause(ns);
        }
        drop(c);
        drop(bufs);
        if self.shared.marker_waiting.load(Ordering::SeqCst) {
            let t = now_ns();
            while self.shared.marker_waiting.load(Ordering::SeqCst)
                && now_ns().saturating_sub(t) < HANDOFF_NS
            {
                std::thread::yield_now();
            }
        }
        value
    }

    /// Hart `hart`'s registers as they stand between two of its quanta:
    /// roots while another hart of the same worker collects (one lock per
    /// quantum of 100 000 instructions by default).
    pub fn publish_registers(&self, hart: usize, regs: &[u64; 32]) {
        let mut c = self.core();
        if c.published.len() <= hart {
            c.published.resize(hart + 1, None);
        }
        c.published[hart] = Some(*regs);
    }

    /// A copy of the collector's figures.
    pub fn sample(&self) -> GcSample {
        let bufs = self.buffers();
        let (reserved_objects, reserved_bytes) = bufs.outstanding();
        let c = self.core();
        let mut s = c.stats.clone();
        s.allocations += bufs.pending_allocs;
        s.allocations_unlocked += bufs.pending_allocs;
        s.allocated_bytes += bufs.pending_bytes;
        drop(bufs);
        s.heap_used_bytes = c.heap.used_bytes - reserved_bytes;
        s.heap_committed_bytes = c.heap.committed_bytes();
        s.heap_target_bytes = c.soft_bytes;
        s.objects = c.heap.objects - reserved_objects;
        s.phase = c.phase.name();
        s.barrier_hits = c.cards.hits();
        s.barrier_contended = c.cards.contended();
        s.mark_quota_us = c.mark_quota_ns as f64 / 1e3;
        s.sweep_quota_us = c.sweep_quota_ns as f64 / 1e3;
        s.slice_every = c.slice_every;
        s.table_bytes = c.heap.table_bytes() + (c.gray.capacity() * 16) as u64;
        s
    }

    /// Tests only: do not arm the write barrier (the verifier and the
    /// workloads' checksums must then catch lost objects).
    #[doc(hidden)]
    pub fn disable_barrier_for_tests(&self) {
        self.core().barrier_disabled = true;
    }
}

impl Drop for UnifiedGC {
    fn drop(&mut self) {
        // Under the lock: the marker checks `stop` and starts waiting while
        // holding it, so the notification cannot fall between the two (it
        // did, once in a while, and the join below waited for ever).
        {
            let _core = self.core();
            self.shared.stop.store(true, Ordering::SeqCst);
        }
        self.shared.wake.notify_all();
        if let Some(h) = self.marker.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
        // The marker worker reads RAM without the lock: RAM goes only once
        // it has left this collector's loop.
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        marker_worker::withdraw(&self.shared);
    }
}

/// The marker (a thread natively, a Web Worker in the page's threads
/// build): while a cycle marks, take the lock for one step of
/// `incremental_step` objects at a time, letting the mutator in between.
/// Returns once `stop` is set.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
fn marker_loop(shared: &Shared) {
    let mut c = shared.core.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        if c.phase == Phase::Marking && marker_worker::take_panic_holding_lock() {
            panic!(
                "debug_panic_marker: a deliberate panic in the GC's marker worker while it holds \
                 the collector's lock (test only)"
            );
        }
        if c.phase == Phase::Marking && c.in_flight.is_empty() && !c.gray.is_empty() {
            // Take a batch of grey objects and read their words without the
            // lock (the mutator goes on meanwhile; its stores into them are
            // caught by the barrier as always), keeping only words inside the
            // heap's range; then mark those under the lock.
            let t = now_ns();
            let step = c.cfg.incremental_step.max(1) as usize;
            let at = c.gray.len().saturating_sub(step);
            let batch = c.gray.split_off(at);
            c.in_flight.clone_from(&batch);
            let (epoch, view) = (c.cycle, c.view());
            let (lo, span) = (c.heap.base, c.heap.size_bytes());
            drop(c);
            let mut found = Vec::new();
            for &(a, size) in &batch {
                let mut w = a;
                while w < a + size {
                    match view.word(w.wrapping_sub(RAM_BASE)) {
                        Some(v) if v.wrapping_sub(lo) < span => found.push(v),
                        Some(_) => {}
                        None => break,
                    }
                    w += 8;
                }
            }
            let_mutator_in(shared);
            shared.marker_waiting.store(true, Ordering::SeqCst);
            c = spin_lock(&shared.core, LOCK_SPIN_NS);
            shared.marker_waiting.store(false, Ordering::SeqCst);
            if c.cycle == epoch && c.phase == Phase::Marking {
                for v in found {
                    c.consider(v);
                }
                c.in_flight.clear();
            }
            c.stats.marker_ns += now_ns().saturating_sub(t);
        } else if c.phase == Phase::Marking
            && c.in_flight.is_empty()
            && (c.has_mark_work() || c.preclean())
        {
            let t = now_ns();
            let step = c.cfg.incremental_step;
            c.mark_work(step);
            c.stats.marker_ns += now_ns().saturating_sub(t);
            drop(c);
            let_mutator_in(shared);
            shared.marker_waiting.store(true, Ordering::SeqCst);
            c = spin_lock(&shared.core, LOCK_SPIN_NS);
            shared.marker_waiting.store(false, Ordering::SeqCst);
        } else {
            if c.phase == Phase::Marking {
                shared.marker_idle.store(true, Ordering::Relaxed);
            }
            // (The mutator sets `marker_waiting` when it wakes us.)
            c = shared.wake.wait(c).unwrap_or_else(|e| e.into_inner());
            shared.marker_waiting.store(false, Ordering::SeqCst);
        }
    }
}

impl Core {
    fn view(&self) -> RamView {
        self.view.expect("the GC has a heap before the guest runs")
    }

    fn record_pause(&mut self, ns: u64) {
        self.stats.pauses.record(ns);
        if self.stats.pause_timeline.len() >= MAX_TIMELINE {
            let mut i = 0;
            self.stats.pause_timeline.retain(|_| {
                i += 1;
                i % 2 == 0
            });
        }
        self.stats.pause_timeline.push((self.now_insns, ns));
    }

    fn heap_pages(&self) -> (usize, usize) {
        (((self.heap.base - RAM_BASE) / BLOCK) as usize, self.heap.blocks.len())
    }

    // ---- the guest interface ----

    fn alloc(
        &mut self,
        ram: &Ram,
        size: u64,
        flags: u64,
        regs: &[u64; 32],
        worked: &mut bool,
        shared: &Shared,
    ) -> u64 {
        self.stats.allocations += 1;
        if flags & !FLAG_NO_POINTERS != 0 || size > self.heap.size_bytes() {
            self.stats.alloc_failures += 1;
            return 0;
        }
        let atomic = flags & FLAG_NO_POINTERS != 0;
        // The safepoint: collector work paced by allocations.
        self.allocs_since_slice += 1;
        if self.phase == Phase::Marking && !self.has_mark_work() {
            *worked = true;
            if (self.preclean() || !self.try_remark(ram, regs)) && self.stats.concurrent {
                shared.wake_marker();
            }
        } else if self.allocs_since_slice >= self.slice_every {
            self.allocs_since_slice = 0;
            match self.phase {
                Phase::Marking if !self.stats.concurrent => {
                    *worked = true;
                    self.mark_slice(ram, regs);
                }
                Phase::Sweeping => {
                    *worked = true;
                    self.sweep_slice(ram);
                }
                _ => {}
            }
        }
        let rounded = heap::class_of(size)
            .map_or(size.div_ceil(BLOCK) * BLOCK, |c| CLASSES[c as usize] as u64);
        if self.phase == Phase::Idle
            && (self.heap.used_bytes + rounded) as f64
                > self.cfg.trigger_threshold * self.soft_bytes as f64
        {
            *worked = true;
            self.start_cycle(ram, regs, Trigger::Threshold);
            if self.stats.concurrent {
                shared.wake_marker();
            }
        }
        if self.phase == Phase::Marking {
            self.peak_used_in_cycle = self.peak_used_in_cycle.max(self.heap.used_bytes);
        }
        let addr = match self.try_alloc(ram, size, atomic) {
            Some(a) => a,
            None => {
                *worked = true;
                match self.phase {
                    Phase::Marking => {
                        self.stats.marking_fell_behind += 1;
                        self.fell_behind_this_cycle = true;
                        self.finish_marking(ram, regs);
                        self.finish_sweep(ram);
                    }
                    Phase::Sweeping => self.finish_sweep(ram),
                    Phase::Idle => {
                        self.start_cycle(ram, regs, Trigger::Exhausted);
                        self.finish_marking(ram, regs);
                        self.finish_sweep(ram);
                    }
                }
                match self.try_alloc(ram, size, atomic) {
                    Some(a) => a,
                    None => {
                        self.stats.alloc_failures += 1;
                        return 0;
                    }
                }
            }
        };
        self.stats.allocated_bytes += rounded;
        addr
    }

    /// Allocate without collecting: zeroed, born black while marking runs.
    fn try_alloc(&mut self, ram: &Ram, size: u64, atomic: bool) -> Option<u64> {
        let marking = self.phase == Phase::Marking;
        let (addr, len, first_block, blocks, fresh) = match heap::class_of(size) {
            Some(class) => {
                if self.phase == Phase::Sweeping {
                    self.sweep_for(ram, class, atomic);
                }
                let (b, slot, fresh) = self.heap.alloc_small(class, atomic)?;
                let sz = CLASSES[class as usize] as u64;
                if marking {
                    self.set_mark(b, slot);
                }
                (self.heap.block_addr(b) + slot as u64 * sz, sz, b, 1, fresh)
            }
            None => {
                let n = size.div_ceil(BLOCK) as usize;
                let b = match self.heap.alloc_large(n, atomic) {
                    Some(b) => b,
                    None if self.phase == Phase::Sweeping => {
                        self.finish_sweep(ram);
                        self.heap.alloc_large(n, atomic)?
                    }
                    None => return None,
                };
                if marking {
                    self.set_mark(b, 0);
                }
                (self.heap.block_addr(b), n as u64 * BLOCK, b, n, true)
            }
        };
        if fresh && marking && !self.barrier_disabled {
            let first = ((self.heap.block_addr(first_block) - RAM_BASE) / BLOCK) as usize;
            ram.set_barrier(first, blocks, true);
        }
        ram.fill((addr - RAM_BASE) as usize, len as usize, 0);
        Some(addr)
    }

    fn collect(&mut self, ram: &Ram, regs: &[u64; 32]) {
        match self.phase {
            Phase::Marking => {}
            Phase::Sweeping | Phase::Idle => self.start_cycle(ram, regs, Trigger::Explicit),
        }
        if self.phase == Phase::Marking {
            self.finish_marking(ram, regs);
        }
        self.finish_sweep(ram);
    }

    fn root_add(&mut self, ram: &Ram, base: u64, len: u64) -> u64 {
        let ram_end = RAM_BASE + ram.len() as u64;
        let Some(end) = base.checked_add(len) else { return 1 };
        if self.roots.len() >= MAX_ROOT_RANGES || base < RAM_BASE || end > ram_end {
            return 1;
        }
        self.roots.push((base, len));
        if self.phase == Phase::Marking {
            // Scanned this cycle like the others: armed, then queued.
            self.queue_root_range(ram, base, len);
        }
        0
    }

    fn root_remove(&mut self, base: u64) -> u64 {
        match self.roots.iter().position(|&(b, _)| b == base) {
            Some(i) => {
                self.roots.remove(i);
                0
            }
            None => 1,
        }
    }

    fn stat(&self, which: u64) -> u64 {
        // Slots reserved in allocation buffers are not the guest's yet.
        let (mut reserved_objects, mut reserved_bytes) = (0, 0);
        for r in &self.reserved {
            let k = r.mask.count_ones() as u64;
            reserved_objects += k;
            reserved_bytes += k * self.heap.object_size(r.block);
        }
        match which {
            stat::HEAP_USED => self.heap.used_bytes - reserved_bytes,
            stat::HEAP_SIZE => self.heap.size_bytes(),
            stat::COLLECTIONS => self.stats.collections,
            stat::ALLOCATED => self.stats.allocated_bytes,
            stat::OBJECTS => self.heap.objects - reserved_objects,
            stat::HEAP_BASE => self.heap.base,
            _ => u64::MAX,
        }
    }

    /// After an allocation of `size` bytes with `flags` at `addr` that took
    /// the lock: if its class has no run, reserve one from its block.
    fn refill(&mut self, ram: &Ram, bufs: &mut AllocBuffers, size: u64, flags: u64, addr: u64) {
        let Some(class) = heap::class_of(size) else { return };
        let atomic = flags & FLAG_NO_POINTERS != 0;
        if !bufs.has_run(class, atomic) {
            let block = ((addr - self.heap.base) / BLOCK) as u32;
            if let Some(run) = self.reserve_run(ram, block, class) {
                bufs.put(class, atomic, run);
            }
        }
    }

    /// Reserve a run of free slots of small block `block` (of `class`) for
    /// the allocation buffers: zeroed now (a rescan of their page while they
    /// wait must find no stale pointers in them: it kept dead objects alive
    /// and doubled the marker's work on gc-graph-large), and born black
    /// while marking runs, as every allocation then is.
    fn reserve_run(&mut self, ram: &Ram, block: u32, class: u8) -> Option<Run> {
        let (word, mask) = self.heap.reserve(block, class, buffers::run_slots(class))?;
        let run = Run { block, word, mask };
        let size = CLASSES[class as usize] as u64;
        let mut m = mask;
        while m != 0 {
            let slot = (word * 64 + m.trailing_zeros() as usize) as u64;
            m &= m - 1;
            let addr = self.heap.block_addr(block) + slot * size;
            ram.fill((addr - RAM_BASE) as usize, size as usize, 0);
        }
        if self.phase == Phase::Marking {
            self.mark_run(run);
        }
        Some(run)
    }

    fn mark_run(&mut self, run: Run) {
        let blk = &mut self.heap.blocks[run.block as usize];
        if blk.mark == [0; heap::WORDS] {
            self.marked_blocks.push(run.block);
        }
        blk.mark[run.word] |= run.mask;
    }

    // ---- marking ----

    /// Set the mark bit of `slot` in block `b`, listing the block in
    /// `marked_blocks` if it had none.
    #[inline]
    fn set_mark(&mut self, b: u32, slot: usize) {
        let blk = &mut self.heap.blocks[b as usize];
        if blk.mark == [0; heap::WORDS] {
            self.marked_blocks.push(b);
        }
        heap::set(&mut blk.mark, slot);
    }

    /// Mark `o`; grey it unless it holds no pointers.
    #[inline]
    fn mark(&mut self, o: Obj) {
        if heap::get(&self.heap.blocks[o.block as usize].mark, o.slot as usize) {
            return;
        }
        self.set_mark(o.block, o.slot as usize);
        self.marked_bytes += o.size;
        self.stats.marked_objects += 1;
        self.stats.cycle_marked += 1;
        if !o.atomic {
            self.gray.push((o.addr, o.size));
        }
    }

    #[inline]
    fn consider(&mut self, word: u64) {
        if word.wrapping_sub(self.heap.base) < self.heap.committed_bytes() {
            if let Some(o) = self.heap.find(word) {
                self.mark(o);
            }
        }
    }

    /// Consider every aligned word of physical `[from, to)` inside RAM.
    fn scan_range(&mut self, from: u64, to: u64) {
        let view = self.view();
        let mut a = from.next_multiple_of(8);
        while a + 8 <= to {
            match view.word(a.wrapping_sub(RAM_BASE)) {
                Some(w) => self.consider(w),
                None => return,
            }
            a += 8;
        }
    }

    /// The registers: the calling hart's and those other harts published.
    /// (Root ranges are grey work: [`Core::queue_root_range`].)
    fn scan_registers(&mut self, regs: &[u64; 32]) {
        for &r in &regs[1..] {
            self.consider(r);
        }
        for h in 0..self.published.len() {
            if h != self.caller {
                if let Some(other) = self.published[h] {
                    for &r in &other[1..] {
                        self.consider(r);
                    }
                }
            }
        }
    }

    /// Arm the barrier on the pages of root range `[base, base + len)` and
    /// queue its words as grey work, [`ROOT_CHUNK`] bytes per entry. Arming
    /// comes first, so a store after a chunk is scanned is caught.
    fn queue_root_range(&mut self, ram: &Ram, base: u64, len: u64) {
        if len == 0 {
            return;
        }
        let first = ((base - RAM_BASE) / BLOCK) as usize;
        let count = ((base + len - 1 - RAM_BASE) / BLOCK) as usize + 1 - first;
        if !self.barrier_disabled {
            ram.set_barrier(first, count, true);
        }
        self.armed_roots.push((first, count));
        let mut a = base;
        while a < base + len {
            let n = ROOT_CHUNK.min(base + len - a);
            self.gray.push((a, n));
            a += n;
        }
    }

    /// Rescan the parts of root ranges on RAM page `page` (written while
    /// marking).
    fn rescan_root_page(&mut self, page: u32) {
        let lo = RAM_BASE + page as u64 * BLOCK;
        let hi = lo + BLOCK;
        for i in 0..self.roots.len() {
            let (b, l) = self.roots[i];
            let (from, to) = (b.max(lo), (b + l).min(hi));
            if from < to {
                self.scan_range(from, to);
            }
        }
    }

    /// Grey objects to scan or re-armed pages to rescan are left.
    fn has_mark_work(&self) -> bool {
        !self.gray.is_empty() || !self.rescan_queue.is_empty() || !self.in_flight.is_empty()
    }

    /// One step of marking: `objects` grey objects, or when none are left,
    /// a few of the pages precleaning re-armed.
    fn mark_work(&mut self, objects: u64) {
        if !self.gray.is_empty() {
            self.mark_step(objects);
        } else {
            for _ in 0..8 {
                let Some(page) = self.rescan_queue.pop() else { break };
                self.rescan_page(page);
            }
        }
    }

    /// The grey stack is empty: if many pages were written since they were
    /// scanned, re-arm their barrier and queue them for rescanning outside
    /// the remark pause (returns true), so that the remark finds few;
    /// otherwise (few pages, or enough rounds) it is time to remark.
    fn preclean(&mut self) -> bool {
        let dirty = self.cards.len();
        if self.preclean_rounds >= PRECLEAN_ROUNDS
            || dirty <= REMARK_PAGES
            || dirty >= self.preclean_last
        {
            return false;
        }
        self.preclean_rounds += 1;
        self.preclean_last = dirty;
        let view = self.view();
        let (heap_first, heap_count) = self.heap_pages();
        let (pages, roots): (Vec<u32>, Vec<u32>) = self
            .cards
            .take()
            .into_iter()
            .partition(|&p| (p as usize).wrapping_sub(heap_first) < heap_count);
        self.dirty_roots.extend(roots);
        // Arm first, then rescan: a store after the rescan is caught again.
        for &p in &pages {
            if !self.barrier_disabled {
                view.arm_barrier(p as usize);
            }
        }
        self.rescan_queue.extend(pages);
        true
    }

    /// Scan up to `objects` grey objects; returns how many.
    fn mark_step(&mut self, objects: u64) -> u64 {
        let mut n = 0;
        while n < objects {
            let Some((a, s)) = self.gray.pop() else { break };
            self.scan_range(a, a + s);
            n += 1;
        }
        n
    }

    fn start_cycle(&mut self, ram: &Ram, regs: &[u64; 32], trigger: Trigger) {
        if self.phase == Phase::Sweeping {
            self.finish_sweep(ram);
        }
        self.cycle += 1;
        self.in_flight.clear();
        for b in std::mem::take(&mut self.marked_blocks) {
            if let Some(blk) = self.heap.blocks.get_mut(b as usize) {
                blk.mark = [0; heap::WORDS];
            }
        }
        debug_assert!(self.heap.blocks.iter().all(|b| b.mark == [0; heap::WORDS]));
        // Slots reserved before the cycle and handed out during it are
        // allocations during marking: black.
        for i in 0..self.reserved.len() {
            self.mark_run(self.reserved[i]);
        }
        let (first, count) = self.heap_pages();
        if !self.barrier_disabled {
            ram.set_barrier(first, count, true);
        }
        self.cards.take();
        self.gray.clear();
        self.rescan_queue.clear();
        self.dirty_roots.clear();
        self.preclean_rounds = 0;
        self.remark_cuts = 0;
        self.preclean_last = usize::MAX;
        self.marked_bytes = 0;
        self.fell_behind_this_cycle = false;
        self.peak_used_in_cycle = self.heap.used_bytes;
        self.stats.cycles_started += 1;
        self.stats.cycle_marked = 0;
        self.stats.cycle_objects = self.heap.objects;
        match trigger {
            Trigger::Threshold => self.stats.triggers_threshold += 1,
            Trigger::Exhausted => self.stats.triggers_exhausted += 1,
            Trigger::Explicit => self.stats.triggers_explicit += 1,
        }
        self.phase = Phase::Marking;
        self.scan_registers(regs);
        for i in 0..self.roots.len() {
            let (b, l) = self.roots[i];
            self.queue_root_range(ram, b, l);
        }
        if !self.cfg.incremental {
            self.finish_marking(ram, regs);
            self.finish_sweep(ram);
        }
    }

    /// One incremental slice: grey objects in steps of `incremental_step`
    /// until the stack is empty or the quota is spent.
    fn mark_slice(&mut self, _ram: &Ram, _regs: &[u64; 32]) {
        let start = now_ns();
        loop {
            self.mark_work(self.cfg.incremental_step);
            let spent = now_ns().saturating_sub(start);
            if !self.has_mark_work() || spent >= self.mark_quota_ns {
                if self.cfg.adaptive_quota {
                    self.mark_quota_ns = adapt_down(self.mark_quota_ns, spent);
                    self.note_quota();
                }
                return;
            }
        }
    }

    /// The stop-the-world end of marking, whatever it takes: rescan what
    /// the barrier saw written and the roots, drain, then start sweeping
    /// (for a collector that is not incremental, an explicit collection,
    /// and an allocation that found no room).
    fn finish_marking(&mut self, ram: &Ram, regs: &[u64; 32]) {
        let pages = self.remark_pages();
        for page in pages {
            self.rescan_page(page);
        }
        self.scan_registers(regs);
        self.mark_step(u64::MAX);
        self.end_marking(ram, regs);
    }

    /// The remark pause at a safepoint, bounded by the mark quota (doubled
    /// for each remark of the cycle cut before it): rescan
    /// the pages the barrier saw written, then the roots, then drain the
    /// grey stack. Marking ends (returns true) only if all three finish in
    /// this one pause. Past the quota it stops (returns false): the pages
    /// it did not reach go back to the rescan queue and the grey objects
    /// stay, so marking goes on in slices or on the marker thread and a
    /// later remark tries again, with the roots rescanned then. Every page
    /// it takes is re-armed first, so a store after the pause is caught
    /// again. After [`MAX_REMARK_CUTS`] cuts in a cycle it runs to the end.
    fn try_remark(&mut self, ram: &Ram, regs: &[u64; 32]) -> bool {
        if self.remark_cuts >= MAX_REMARK_CUTS {
            self.finish_marking(ram, regs);
            return true;
        }
        let start = now_ns();
        // Each cut doubles the next remark's allowance, so a remark that
        // needs a few quotas gets them soon instead of the rest piling up.
        let quota = self.mark_quota_ns << self.remark_cuts;
        let over = |start: u64| now_ns().saturating_sub(start) >= quota;
        let mut pages = self.remark_pages();
        if !self.barrier_disabled {
            let view = self.view();
            for &p in &pages {
                view.arm_barrier(p as usize);
            }
        }
        while let Some(page) = pages.pop() {
            self.rescan_page(page);
            if !pages.is_empty() && over(start) {
                self.rescan_queue = pages;
                return self.cut_remark();
            }
        }
        self.scan_registers(regs);
        let step = self.cfg.incremental_step.max(1);
        while self.mark_step(step) == step {
            if over(start) {
                return self.cut_remark();
            }
        }
        self.end_marking(ram, regs);
        true
    }

    /// A remark stops at its quota with marking work left.
    fn cut_remark(&mut self) -> bool {
        self.remark_cuts += 1;
        self.stats.remark_cuts += 1;
        false
    }

    /// The pages a remark must rescan: those precleaning or a cut remark
    /// queued and those the barrier saw written. Objects the marker thread
    /// is scanning outside the lock go back on the grey stack (its results
    /// for them will be dropped: `cycle` moves).
    fn remark_pages(&mut self) -> Vec<u32> {
        let in_flight = std::mem::take(&mut self.in_flight);
        self.gray.extend(in_flight);
        self.cycle += 1;
        let mut pages = std::mem::take(&mut self.rescan_queue);
        pages.append(&mut self.dirty_roots);
        pages.extend(self.cards.take());
        pages
    }

    /// Marking has ended (the roots, every written page and the grey stack
    /// done in one pause): verify, disarm the barrier, size the heap, and
    /// start sweeping.
    fn end_marking(&mut self, ram: &Ram, regs: &[u64; 32]) {
        if self.cfg.verify {
            self.verify(regs);
        }
        let (first, count) = self.heap_pages();
        ram.set_barrier(first, count, false);
        for (first, count) in std::mem::take(&mut self.armed_roots) {
            ram.set_barrier(first, count, false);
        }
        let limit = self.heap.size_bytes();
        self.soft_bytes = ((self.marked_bytes as f64 / self.cfg.target_occupancy) as u64)
            .max(MIN_SOFT_BYTES.min(limit))
            .min(limit);
        self.stats.collections += 1;
        if self.cfg.adaptive_quota && self.cfg.incremental {
            self.adapt_at_cycle_end();
        }
        self.phase = Phase::Sweeping;
        self.heap.forget_lists();
        self.sweep_queue.clear();
        for (i, b) in self.heap.blocks.iter_mut().enumerate() {
            if matches!(b.kind, Kind::Small { .. } | Kind::Large { .. }) {
                b.unswept = true;
                self.sweep_queue.push(i as u32);
            }
        }
        // Sweep from low addresses first (the queue pops from its end).
        self.sweep_queue.reverse();
    }

    /// Rescan what page `page` (RAM offset / 4096, written while marking)
    /// holds of root ranges and of marked heap objects.
    fn rescan_page(&mut self, page: u32) {
        self.rescan_root_page(page);
        let addr = RAM_BASE + page as u64 * BLOCK;
        let Some(b) = addr.checked_sub(self.heap.base).map(|o| (o / BLOCK) as usize) else {
            return;
        };
        if b >= self.heap.blocks.len() {
            return;
        }
        match self.heap.blocks[b].kind {
            Kind::Free => {}
            Kind::Small { class, atomic } => {
                if atomic {
                    return;
                }
                let size = CLASSES[class as usize] as u64;
                for slot in 0..heap::slots(class) {
                    if heap::get(&self.heap.blocks[b].mark, slot) {
                        let a = addr + slot as u64 * size;
                        self.scan_range(a, a + size);
                    }
                }
            }
            Kind::Large { atomic, .. } => {
                if !atomic && heap::get(&self.heap.blocks[b].mark, 0) {
                    self.scan_range(addr, addr + BLOCK);
                }
            }
            Kind::Tail { head } => {
                let h = &self.heap.blocks[head as usize];
                if matches!(h.kind, Kind::Large { atomic: false, .. }) && heap::get(&h.mark, 0) {
                    self.scan_range(addr, addr + BLOCK);
                }
            }
        }
    }

    /// `gc.verify`: trace everything reachable from the roots again,
    /// independently of the mark bits, and count reachable objects that
    /// marking missed (they would be freed).
    fn verify(&mut self, regs: &[u64; 32]) {
        let view = self.view();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<u64> = regs[1..].to_vec();
        for (h, other) in self.published.iter().enumerate() {
            if let (true, Some(other)) = (h != self.caller, other) {
                stack.extend_from_slice(&other[1..]);
            }
        }
        for &(b, l) in &self.roots {
            let mut a = b.next_multiple_of(8);
            while a + 8 <= b + l {
                stack.extend(view.word(a - RAM_BASE));
                a += 8;
            }
        }
        while let Some(w) = stack.pop() {
            let Some(o) = self.heap.find(w) else { continue };
            if !seen.insert(o.addr) {
                continue;
            }
            if !heap::get(&self.heap.blocks[o.block as usize].mark, o.slot as usize) {
                self.stats.verify_failures += 1;
                if self.stats.verify_first.is_empty() {
                    self.stats.verify_first = format!(
                        "cycle {}: object {:#x} ({} bytes) is reachable but was not marked",
                        self.stats.collections + 1,
                        o.addr,
                        o.size
                    );
                }
            }
            if !o.atomic {
                let mut a = o.addr;
                while a < o.addr + o.size {
                    stack.extend(view.word(a - RAM_BASE));
                    a += 8;
                }
            }
        }
    }

    // ---- sweeping ----

    fn sweep_block(&mut self, ram: &Ram, b: u32) {
        let blk = &mut self.heap.blocks[b as usize];
        if !blk.unswept {
            return;
        }
        blk.unswept = false;
        let block_addr = self.heap.base + b as u64 * BLOCK;
        match blk.kind {
            Kind::Small { class, .. } => {
                let n = heap::slots(class);
                let size = CLASSES[class as usize] as u64;
                let mut freed = 0u64;
                for w in 0..n.div_ceil(64) {
                    let valid = if (w + 1) * 64 <= n { u64::MAX } else { (1u64 << (n % 64)) - 1 };
                    let dead = blk.alloc[w] & !blk.mark[w] & valid;
                    if dead == 0 {
                        continue;
                    }
                    blk.alloc[w] &= !dead;
                    freed += dead.count_ones() as u64;
                    if self.cfg.verify {
                        let mut d = dead;
                        while d != 0 {
                            let slot = w * 64 + d.trailing_zeros() as usize;
                            d &= d - 1;
                            let off = block_addr + slot as u64 * size - RAM_BASE;
                            ram.fill(off as usize, size as usize, POISON);
                        }
                    }
                }
                let empty = blk.alloc.iter().all(|&w| w == 0);
                let has_room = (0..n).any(|s| !heap::get(&blk.alloc, s));
                self.heap.used_bytes -= freed * size;
                self.heap.objects -= freed;
                self.stats.freed_objects += freed;
                self.stats.freed_bytes += freed * size;
                if empty {
                    self.heap.release(b);
                } else if has_room {
                    self.heap.file_partial(b);
                }
            }
            Kind::Large { blocks, .. } => {
                if heap::get(&blk.mark, 0) {
                    return;
                }
                if self.cfg.verify {
                    ram.fill(
                        (block_addr - RAM_BASE) as usize,
                        (blocks as u64 * BLOCK) as usize,
                        POISON,
                    );
                }
                self.heap.used_bytes -= blocks as u64 * BLOCK;
                self.heap.objects -= 1;
                self.stats.freed_objects += 1;
                self.stats.freed_bytes += blocks as u64 * BLOCK;
                for i in 0..blocks {
                    self.heap.release(b + i);
                }
            }
            Kind::Free | Kind::Tail { .. } => {}
        }
    }

    fn end_sweep_if_done(&mut self) {
        if self.sweep_queue.is_empty() && self.phase == Phase::Sweeping {
            self.phase = Phase::Idle;
        }
    }

    /// Before taking a fresh block for `class`, sweep queued blocks (up to
    /// a few) so that freed slots are found first.
    fn sweep_for(&mut self, ram: &Ram, class: u8, atomic: bool) {
        let li = class as usize * 2 + atomic as usize;
        let mut budget = 16;
        while budget > 0 && self.heap.current[li].is_none() && self.heap.partial[li].is_empty() {
            let Some(b) = self.sweep_queue.pop() else { break };
            self.sweep_block(ram, b);
            budget -= 1;
        }
        self.end_sweep_if_done();
    }

    fn sweep_slice(&mut self, ram: &Ram) {
        let start = now_ns();
        loop {
            for _ in 0..16 {
                let Some(b) = self.sweep_queue.pop() else { break };
                self.sweep_block(ram, b);
            }
            let spent = now_ns().saturating_sub(start);
            if self.sweep_queue.is_empty() || spent >= self.sweep_quota_ns {
                if self.cfg.adaptive_quota {
                    self.sweep_quota_ns = adapt_down(self.sweep_quota_ns, spent);
                }
                break;
            }
        }
        self.end_sweep_if_done();
    }

    fn finish_sweep(&mut self, ram: &Ram) {
        while let Some(b) = self.sweep_queue.pop() {
            self.sweep_block(ram, b);
        }
        self.end_sweep_if_done();
    }

    // ---- the adaptive controller ----

    /// At the end of marking: a cycle in which the heap came close to full
    /// (or ran out) before marking ended needs more marking per
    /// allocation: a larger quota while it stays under the pause target,
    /// else slices more often. A comfortable cycle relaxes the frequency.
    fn adapt_at_cycle_end(&mut self) {
        let limit = self.heap.size_bytes().max(1);
        let close = self.peak_used_in_cycle as f64 / limit as f64 > 0.95;
        let ceiling = PAUSE_TARGET_NS * 8 / 10;
        if self.fell_behind_this_cycle || close {
            if self.mark_quota_ns < ceiling {
                self.mark_quota_ns = (self.mark_quota_ns * 3 / 2).min(ceiling);
            } else {
                self.slice_every = (self.slice_every / 2).max(1);
            }
        } else if self.slice_every < self.cfg.incremental_step {
            self.slice_every = (self.slice_every * 2).min(self.cfg.incremental_step);
        }
        self.note_quota();
    }

    /// Add a point to `quota_series` when the mark quota moved.
    fn note_quota(&mut self) {
        let point = (self.now_insns, self.mark_quota_ns as f64 / 1e3);
        if self.stats.quota_series.last().map(|p| p.1) != Some(point.1)
            && self.stats.quota_series.len() < MAX_TIMELINE
        {
            self.stats.quota_series.push(point);
        }
    }
}

/// A quota after a slice that took `spent` ns: past 90 % of the pause
/// target it shrinks by a fifth (gradually: one slice descheduled by the
/// host must not collapse it), not below 50 µs (nor below a quota the
/// user set lower).
fn adapt_down(quota: u64, spent: u64) -> u64 {
    if spent > PAUSE_TARGET_NS * 9 / 10 {
        (quota * 4 / 5).max(MIN_QUOTA_NS.min(quota))
    } else {
        quota
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// 8 MiB of RAM with the heap in its upper half.
    fn setup(cfg: UnifiedGcConfig) -> (Ram, UnifiedGC) {
        let ram = Ram::new(8 * MIB as usize);
        let mut gc = UnifiedGC::new(UnifiedGcConfig { concurrent_marking: false, ..cfg });
        gc.place(&ram, RAM_BASE + 4 * MIB, 4 * MIB, String::new());
        (ram, gc)
    }

    fn alloc(gc: &UnifiedGC, ram: &Ram, size: u64, regs: &[u64; 32]) -> u64 {
        gc.execute(ram, GcOp::Alloc, size, 0, regs, 0)
    }

    fn store(ram: &Ram, addr: u64, v: u64) {
        ram.write((addr - RAM_BASE) as usize, 8, v);
    }

    /// With a marker running, allocations come from buffered runs. A run
    /// reserved before a cycle must survive its sweep: its slots handed out
    /// after the collection are the guest's, so they must not be handed out
    /// again. (Without the cycle start marking the runs, the sweep frees them
    /// and the next run reuses them: duplicate addresses.)
    #[test]
    fn slots_reserved_before_a_collection_are_not_handed_out_twice() {
        let ram = Ram::new(8 * MIB as usize);
        let mut gc = UnifiedGC::new(UnifiedGcConfig::default());
        gc.place(&ram, RAM_BASE + 4 * MIB, 4 * MIB, String::new());
        let regs = [0; 32];
        let table = RAM_BASE + 0x1000;
        assert_eq!(gc.execute(&ram, GcOp::RootAdd, table, 8 * 200, &regs, 0), 0);
        let mut seen = std::collections::HashSet::new();
        for i in 0..200u64 {
            let a = alloc(&gc, &ram, 16, &regs);
            assert!(seen.insert(a), "allocation {i} got {a:#x} twice");
            store(&ram, table + 8 * i, a);
            if i % 10 == 0 {
                gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
            }
        }
        let s = gc.sample();
        assert!(s.concurrent, "{}", s.concurrent_reason);
        assert_eq!((s.objects, s.allocations, s.freed_objects), (200, 200, 0));
        // 16-byte objects: runs of 32, one refilled at each collection here.
        assert!(
            s.allocations_unlocked >= 150,
            "{} of 200 without the lock",
            s.allocations_unlocked
        );
        // gc.stats counts what the guest has, not the slots a run holds.
        assert_eq!(gc.execute(&ram, GcOp::Stats, stat::OBJECTS, 0, &regs, 0), 200);
        assert_eq!(gc.execute(&ram, GcOp::Stats, stat::HEAP_USED, 0, &regs, 0), 200 * 16);
    }

    #[test]
    fn registers_another_hart_published_are_roots() {
        for publish in [false, true] {
            let (ram, gc) = setup(UnifiedGcConfig::default());
            let regs = [0; 32];
            let a = alloc(&gc, &ram, 32, &regs);
            let mut other = [0; 32];
            other[10] = a;
            if publish {
                gc.publish_registers(1, &other);
            }
            gc.execute_for(0, &ram, GcOp::Collect, 0, 0, &regs, 0);
            assert_eq!(gc.sample().objects, publish as u64, "published {publish}");
            // The publishing hart's own stale copy is not a root of its own
            // instruction: its live registers are.
            if publish {
                gc.execute_for(1, &ram, GcOp::Collect, 0, 0, &regs, 0);
                assert_eq!(gc.sample().objects, 0);
            }
        }
    }

    /// A cycle start clears the marks of the last cycle (only the blocks
    /// that have some are visited): an object a register held then is
    /// garbage once no register does.
    #[test]
    fn marks_of_the_last_cycle_do_not_keep_objects() {
        let (ram, gc) = setup(UnifiedGcConfig::default());
        let mut regs = [0; 32];
        let small = alloc(&gc, &ram, 32, &regs);
        let large = alloc(&gc, &ram, 3 * BLOCK, &regs);
        regs[10] = small;
        regs[11] = large;
        gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
        assert_eq!(gc.sample().objects, 2);
        regs[10] = 0;
        gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
        assert_eq!(gc.sample().objects, 1, "the small object's mark was left set");
        regs[11] = 0;
        gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
        assert_eq!(gc.sample().objects, 0, "the large object's mark was left set");
    }

    #[test]
    fn verify_poisons_freed_objects_and_only_then() {
        for verify in [false, true] {
            let (ram, gc) = setup(UnifiedGcConfig { verify, ..Default::default() });
            let regs = [0; 32];
            let a = alloc(&gc, &ram, 32, &regs);
            store(&ram, a + 8, 42);
            gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
            let word = ram.read((a + 8 - RAM_BASE) as usize, 8);
            let want = if verify { u64::from_ne_bytes([POISON; 8]) } else { 42 };
            assert_eq!(word, want, "verify {verify}");
            assert_eq!(gc.sample().freed_objects, 1);
        }
    }

    #[test]
    fn objects_are_zeroed_aligned_and_distinct() {
        let (ram, gc) = setup(UnifiedGcConfig::default());
        let regs = [0; 32];
        let a = alloc(&gc, &ram, 24, &regs);
        store(&ram, a, 0x1234);
        let b = alloc(&gc, &ram, 24, &regs);
        assert!(a >= RAM_BASE + 4 * MIB && a.is_multiple_of(16) && b != a);
        assert_eq!(ram.read((b - RAM_BASE) as usize, 8), 0);
        assert_eq!(gc.execute(&ram, GcOp::Stats, stat::OBJECTS, 0, &regs, 0), 2);
        assert_eq!(gc.execute(&ram, GcOp::Stats, stat::HEAP_USED, 0, &regs, 0), 64);
        assert_eq!(gc.execute(&ram, GcOp::Stats, 99, 0, &regs, 0), u64::MAX);
    }

    #[test]
    fn collect_frees_exactly_the_unreachable() {
        let (ram, gc) = setup(UnifiedGcConfig { verify: true, ..Default::default() });
        let mut regs = [0; 32];
        // A list of 100 nodes held by a root range word, one object held by
        // a register through an interior pointer, and 50 garbage objects.
        let root = RAM_BASE + 0x1000;
        assert_eq!(gc.execute(&ram, GcOp::RootAdd, root, 8, &regs, 0), 0);
        let mut head = 0;
        for i in 0..100 {
            let n = alloc(&gc, &ram, 32, &regs);
            store(&ram, n, head);
            store(&ram, n + 8, i);
            head = n;
        }
        store(&ram, root, head);
        let kept = alloc(&gc, &ram, 200, &regs);
        regs[10] = kept + 100;
        for _ in 0..50 {
            alloc(&gc, &ram, 48, &regs);
        }
        gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
        let s = gc.sample();
        assert_eq!(s.objects, 101);
        assert_eq!(s.freed_objects, 50);
        assert_eq!(s.verify_failures, 0);
        // Freed memory is poisoned; the list is intact.
        let mut n = ram.read((root - RAM_BASE) as usize, 8);
        for i in (0..100).rev() {
            assert_eq!(ram.read((n + 8 - RAM_BASE) as usize, 8), i);
            n = ram.read((n - RAM_BASE) as usize, 8);
        }
        // Dropping the root frees the list.
        assert_eq!(gc.execute(&ram, GcOp::RootRemove, root, 0, &regs, 0), 0);
        gc.execute(&ram, GcOp::Collect, 0, 0, &regs, 0);
        assert_eq!(gc.sample().objects, 1);
    }

    /// The barrier scenario: an object scanned early (black) gets the only
    /// pointer to a white object while marking runs, and the register that
    /// held it is cleared. Without the barrier the white object is lost.
    fn hidden_store(barrier: bool) -> GcSample {
        let (ram, gc) = setup(UnifiedGcConfig { verify: true, ..Default::default() });
        if !barrier {
            gc.disable_barrier_for_tests();
        }
        let mut regs = [0; 32];
        let black = alloc(&gc, &ram, 16, &regs);
        let white = alloc(&gc, &ram, 16, &regs);
        store(&ram, white + 8, 77);
        regs[5] = black;
        regs[6] = white;
        {
            let mut c = gc.core();
            c.start_cycle(&ram, &regs, Trigger::Explicit);
            // Scan `black` only (the stack pops `white` first: push order).
            let w = c.gray.remove(0);
            c.mark_step(u64::MAX);
            assert_eq!(w.0, black);
        }
        store(&ram, black, white); // the guest's store, through the barrier
        regs[6] = 0;
        {
            let mut c = gc.core();
            // Unmark `white` as if marking had not reached it yet.
            let o = c.heap.find(white).unwrap();
            let blk = &mut c.heap.blocks[o.block as usize];
            blk.mark[o.slot as usize / 64] &= !(1 << (o.slot % 64));
            c.finish_marking(&ram, &regs);
            c.finish_sweep(&ram);
        }
        gc.sample()
    }

    #[test]
    fn the_barrier_keeps_objects_stored_into_scanned_ones() {
        let s = hidden_store(true);
        assert_eq!((s.verify_failures, s.freed_objects), (0, 0));
        assert_eq!(s.barrier_hits.iter().sum::<u64>(), 1);
        let broken = hidden_store(false);
        assert_eq!(broken.verify_failures, 1, "{}", broken.verify_first);
        assert_eq!(broken.freed_objects, 1);
    }

    /// A root range is grey work under the barrier: its words are scanned
    /// after the cycle starts, and a store into a scanned part (the only
    /// pointer to a white object left) dirties its page, rescanned at
    /// remark. With `added_late` the range is registered while marking runs
    /// (it must be armed and queued then); with `precleaned` more pages
    /// than a remark takes are written and precleaning runs first (it sets
    /// root pages aside for the remark). Without the barrier the object
    /// is lost.
    fn hidden_root_store(barrier: bool, added_late: bool, precleaned: bool) -> (GcSample, usize) {
        let (ram, gc) = setup(UnifiedGcConfig { verify: true, ..Default::default() });
        if !barrier {
            gc.disable_barrier_for_tests();
        }
        let root = RAM_BASE + 0x1000;
        let len = (REMARK_PAGES as u64 + 4) * BLOCK;
        let mut regs = [0; 32];
        if !added_late {
            assert_eq!(gc.execute(&ram, GcOp::RootAdd, root, len, &regs, 0), 0);
        }
        let white = alloc(&gc, &ram, 16, &regs);
        regs[6] = white;
        {
            let mut c = gc.core();
            c.start_cycle(&ram, &regs, Trigger::Explicit);
            if added_late {
                c.root_add(&ram, root, len);
            }
            c.mark_step(u64::MAX); // every chunk scanned: the range is black
        }
        store(&ram, root + ROOT_CHUNK + 8, white); // the guest's store
        regs[6] = 0;
        let mut c = gc.core();
        unmark(&mut c, white); // as if marking had not reached it yet
        if precleaned {
            drop(c);
            for page in 1..REMARK_PAGES as u64 + 4 {
                store(&ram, root + page * BLOCK, 0);
            }
            c = gc.core();
            assert!(c.preclean(), "more written pages than a remark takes");
            assert_eq!(c.dirty_roots.is_empty(), !barrier, "root pages set aside");
            c.mark_work(u64::MAX);
        }
        c.finish_marking(&ram, &regs);
        c.finish_sweep(&ram);
        drop(c);
        let page = ((root - RAM_BASE) / BLOCK) as usize;
        (gc.sample(), ram.barrier_pages(page, 1))
    }

    #[test]
    fn the_barrier_keeps_objects_stored_into_scanned_root_ranges() {
        for (added_late, precleaned) in [(false, false), (true, false), (false, true)] {
            let (s, armed) = hidden_root_store(true, added_late, precleaned);
            assert_eq!((s.verify_failures, s.freed_objects), (0, 0), "{}", s.verify_first);
            assert_eq!(armed, 0, "the root range's page is disarmed when marking ends");
            if !precleaned {
                let (broken, _) = hidden_root_store(false, added_late, precleaned);
                assert_eq!(broken.verify_failures, 1, "added late: {added_late}");
                assert_eq!(broken.freed_objects, 1);
            }
        }
    }

    fn unmark(c: &mut Core, addr: u64) {
        let o = c.heap.find(addr).unwrap();
        let blk = &mut c.heap.blocks[o.block as usize];
        blk.mark[o.slot as usize / 64] &= !(1 << (o.slot % 64));
    }

    /// A remark cut at its quota re-arms the page it rescanned, so a store
    /// after the cut (the only pointer to a white object, into a black
    /// one on that page) is caught and the next remark rescans it. Without
    /// the re-arm the white object is lost.
    #[test]
    fn a_remark_cut_at_its_quota_rearms_what_it_rescanned() {
        let cfg = UnifiedGcConfig { verify: true, incremental_step: 1, ..Default::default() };
        let (ram, gc) = setup(cfg);
        let mut regs = [0; 32];
        let [black, white, a, b] = [0; 4].map(|_| alloc(&gc, &ram, 16, &regs));
        regs[5..9].copy_from_slice(&[black, white, a, b]);
        {
            let mut c = gc.core();
            c.start_cycle(&ram, &regs, Trigger::Explicit);
            c.mark_step(u64::MAX);
        }
        store(&ram, black + 8, 1); // dirties the page of all four
        {
            let mut c = gc.core();
            // Two grey objects for the remark's drain: it stops after one.
            unmark(&mut c, a);
            unmark(&mut c, b);
            c.mark_quota_ns = 0;
            assert!(!c.try_remark(&ram, &regs), "the remark is cut");
            assert_eq!(c.phase, Phase::Marking);
        }
        store(&ram, black, white);
        regs[6] = 0;
        {
            let mut c = gc.core();
            unmark(&mut c, white);
            c.mark_quota_ns = u64::MAX;
            assert!(c.try_remark(&ram, &regs), "marking ends");
            c.finish_sweep(&ram);
        }
        let s = gc.sample();
        assert_eq!((s.remark_cuts, s.collections), (1, 1));
        assert_eq!((s.verify_failures, s.freed_objects), (0, 0), "{}", s.verify_first);
    }

    #[test]
    fn a_cycle_starts_at_the_trigger_and_exhaustion_returns_zero() {
        let (ram, gc) = setup(UnifiedGcConfig { incremental: false, ..Default::default() });
        let regs = [0; 32];
        // 4 MiB heap, trigger at 80 %: garbage only, so cycles keep it small.
        for _ in 0..(8 * MIB / 1024) {
            assert_ne!(alloc(&gc, &ram, 1000, &regs), 0);
        }
        let s = gc.sample();
        assert!(s.triggers_threshold >= 2, "{s:?}");
        assert!(s.heap_committed_bytes <= 4 * MIB);
        // Keep everything: the heap runs out, cleanly.
        let root = RAM_BASE + 0x2000;
        gc.execute(&ram, GcOp::RootAdd, root, 8, &regs, 0);
        let mut head = 0;
        let mut got = 0;
        loop {
            let n = alloc(&gc, &ram, 64 << 10, &regs);
            if n == 0 {
                break;
            }
            store(&ram, n, head);
            head = n;
            store(&ram, root, head);
            got += 1;
        }
        assert_eq!(got, 64, "64 KiB objects take 16 whole blocks: 64 fit in 4 MiB");
        assert!(gc.sample().alloc_failures >= 1);
        assert_eq!(alloc(&gc, &ram, 8 * MIB, &regs), 0, "larger than the heap");
    }

    #[test]
    fn incremental_marking_pauses_in_slices_and_stop_the_world_in_one() {
        let run = |incremental: bool| {
            let (ram, gc) = setup(UnifiedGcConfig {
                incremental,
                incremental_step: 10,
                mark_quota_us: 10,
                adaptive_quota: false,
                ..Default::default()
            });
            let mut regs = [0; 32];
            // A 20 000-node list (640 KiB) kept by a register, then garbage.
            let mut head = 0;
            for _ in 0..20_000 {
                let n = alloc(&gc, &ram, 32, &regs);
                store(&ram, n, head);
                head = n;
                regs[8] = head;
            }
            for _ in 0..200_000 {
                alloc(&gc, &ram, 64, &regs);
            }
            gc.sample()
        };
        let inc = run(true);
        let stw = run(false);
        assert_eq!(
            (inc.allocations_unlocked, stw.allocations_unlocked),
            (0, 0),
            "no marker, no buffers"
        );
        assert!(inc.collections >= 1 && stw.collections >= 1);
        assert!(
            inc.pauses.count() > 5 * stw.pauses.count(),
            "incremental {} pauses, stop-the-world {}",
            inc.pauses.count(),
            stw.pauses.count()
        );
        assert_eq!(inc.objects, stw.objects);
    }
}
