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
/// Workers inside [`worker_loop`].
static WORKERS: AtomicUsize = AtomicUsize::new(0);
/// A marker worker trapped: no collector is posted to it any more.
static BROKEN: AtomicBool = AtomicBool::new(false);

/// How long a dropped collector waits for the worker to leave its loop
/// (a step of `incremental_step` objects takes well under a millisecond;
/// the bound only matters if the worker died mid-step).
const WITHDRAW_NS: u64 = 2_000_000_000;

fn jobs() -> MutexGuard<'static, VecDeque<Arc<Shared>>> {
    JOBS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marker workers running (0 or 1 in the page).
pub fn workers() -> usize {
    if BROKEN.load(Ordering::Acquire) {
        0
    } else {
        WORKERS.load(Ordering::Acquire)
    }
}

/// Called by the worker's JavaScript after it trapped.
pub fn worker_died() {
    BROKEN.store(true, Ordering::Release);
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
        marker_loop(&shared);
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
