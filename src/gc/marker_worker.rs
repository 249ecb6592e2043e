//! The page's marker worker (threads build only): a Web Worker on the same
//! shared memory that runs [`marker_loop`] for the collector of the machine
//! the page runs, as the marker thread does natively.
//!
//! The page starts the worker (`www/pool-worker.js` with the marker role)
//! when it loads a machine that wants concurrent marking, and keeps it for
//! every later machine; the worker's whole life is [`worker_loop`]. A
//! collector posts itself at its guest's first `gc.*` instruction
//! ([`post`]; refused when no worker runs, and the collector then marks in
//! slices on the vCPU's worker) and withdraws when it is dropped
//! ([`withdraw`]).
//!
//! A worker that traps (its JavaScript then calls [`worker_died`]) gives up
//! the collector it was marking for: that collector marks in slices on the
//! vCPU's worker from its next `gc.*` instruction on, and the page starts a
//! new marker worker for the next machine. (A trap while holding the
//! collector's lock would leave the lock taken: the machine's worker then
//! waits until the page's Stop replaces it. Nothing in the marker's loop is
//! expected to trap; the test hook traps outside the lock.)
//!
//! Invariant: a collector's RAM outlives the marker's reads of it. The
//! marker reads objects without the collector's lock, so `withdraw`
//! returns only once the worker has left that collector's loop (or the job
//! was still queued and is taken back), and `Bus` drops the collector
//! before RAM.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::{marker_loop, Shared};
use crate::jit::clock::now_ns;

/// Collectors waiting for the worker, oldest first.
static JOBS: Mutex<VecDeque<Arc<Shared>>> = Mutex::new(VecDeque::new());
static POSTED: Condvar = Condvar::new();
/// Workers inside [`worker_loop`] that have not died.
static WORKERS: AtomicUsize = AtomicUsize::new(0);
/// The collector the worker marks for now.
static CURRENT: Mutex<Option<Arc<Shared>>> = Mutex::new(None);
/// Test only: the worker traps when it takes its next collector.
static PANIC_NEXT: AtomicBool = AtomicBool::new(false);
/// Test only: the worker traps in its next marking step, holding the lock.
static PANIC_HOLDING_LOCK: AtomicBool = AtomicBool::new(false);

/// How long a dropped collector waits for the worker to leave its loop
/// (a step of `incremental_step` objects takes well under a millisecond;
/// the bound only matters if the worker died mid-step).
const WITHDRAW_NS: u64 = 2_000_000_000;

fn jobs() -> MutexGuard<'static, VecDeque<Arc<Shared>>> {
    JOBS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marker workers running (0 or 1 in the page).
pub fn workers() -> usize {
    WORKERS.load(Ordering::Acquire)
}

/// Called by the worker's JavaScript after it trapped: it no longer
/// counts, and the collector it marked for marks in slices instead.
pub fn worker_died() {
    let _ = WORKERS.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    let lost = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(shared) = lost {
        shared.marker_lost.store(true, Ordering::Release);
        let _q = jobs();
        shared.marker_running.store(false, Ordering::Release);
    }
}

/// Test only: the worker traps when it takes its next collector (outside
/// the collector's lock), as the end-to-end test of a dying marker wants.
pub fn panic_next_job() {
    PANIC_NEXT.store(true, Ordering::Release);
}

/// Test only: the worker traps in its next marking step, while it holds
/// the collector's lock (the machine's worker must then give up, loudly).
pub fn panic_holding_lock() {
    PANIC_HOLDING_LOCK.store(true, Ordering::Release);
}

/// The marker loop asks whether to trap now (see [`panic_holding_lock`]).
pub(super) fn take_panic_holding_lock() -> bool {
    PANIC_HOLDING_LOCK.load(Ordering::Relaxed) && PANIC_HOLDING_LOCK.swap(false, Ordering::AcqRel)
}

/// The worker's whole life: take the oldest posted collector, mark for it
/// until it stops, take the next.
pub fn worker_loop() -> ! {
    WORKERS.fetch_add(1, Ordering::AcqRel);
    loop {
        let shared = {
            let mut q = jobs();
            loop {
                if let Some(s) = q.pop_front() {
                    s.marker_running.store(true, Ordering::Release);
                    break s;
                }
                q = POSTED.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(shared.clone());
        if PANIC_NEXT.swap(false, Ordering::AcqRel) {
            panic!("debug_panic_marker: a deliberate panic in the GC's marker worker (test only)");
        }
        marker_loop(&shared);
        CURRENT.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _q = jobs();
        shared.marker_running.store(false, Ordering::Release);
    }
}

/// Hand `shared` to the marker worker; false when none is running.
pub(super) fn post(shared: Arc<Shared>) -> bool {
    if workers() == 0 {
        return false;
    }
    jobs().push_back(shared);
    POSTED.notify_all();
    true
}

/// The collector `shared` is going (its `stop` is set and its marker
/// woken): take it back if the worker has not started on it, else wait
/// (at most [`WITHDRAW_NS`]) until the worker has left its loop.
pub(super) fn withdraw(shared: &Arc<Shared>) {
    {
        let mut q = jobs();
        q.retain(|s| !Arc::ptr_eq(s, shared));
        if !shared.marker_running.load(Ordering::Acquire) {
            return;
        }
    }
    let t = now_ns();
    while shared.marker_running.load(Ordering::Acquire) && now_ns().saturating_sub(t) < WITHDRAW_NS
    {
        std::thread::sleep(Duration::from_micros(50));
    }
}
