//! `CoroutinePool`: M tasks on N workers, the tuning guide's coroutine pool.
//!
//! A task is a Rust future (a vCPU's is `smp::vcpu_task`); a worker polls
//! whichever task the shared run queue gives it. A task that yields (end of
//! its quantum) wakes itself and goes to the back of the queue; a task that
//! waits (a vCPU parked in wfi) registers its waker and is polled again only
//! when someone wakes it; a worker with nothing to poll sleeps on the
//! queue's condition variable instead of spinning.
//!
//! The queue and the wakers outlive one call of the run loop (the page runs
//! a machine a few milliseconds at a time), so they live in an `Arc`; the
//! futures themselves borrow the machine and are made afresh for each call,
//! which costs nothing because a vCPU task keeps all its state in its
//! `Vcpu` and in its [`ParkSlot`], none in the future.
//!
//! Invariant: a task id is in the queue at most once (`queued`), and a
//! woken task is polled at least once after the wake.
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// How long a ready task waits for the worker that ran it last before
/// another worker of the pool takes it (see [`RunQueue::pop`]).
pub const STEAL_AFTER_NS: u64 = 500_000;

/// Lock a mutex whose data stays consistent across a panic elsewhere.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared run queue: ids of tasks ready to be polled, first in, first
/// out (so with one worker the order is fixed and runs are reproducible).
pub struct RunQueue {
    queue: Mutex<VecDeque<usize>>,
    /// Per task: the worker that polled it last (`usize::MAX`: none yet),
    /// and when it was last made ready ([`crate::jit::clock::now_ns`]).
    last_worker: Box<[AtomicUsize]>,
    ready_at: Box<[AtomicU64]>,
    ready: Condvar,
    /// Per task: it is in `queue` now.
    queued: Box<[AtomicBool]>,
    /// Set to make the workers of the current call return.
    closed: AtomicBool,
    /// Tasks being polled right now.
    running: AtomicUsize,
}

impl RunQueue {
    /// A queue for `tasks` tasks, every one of them ready.
    pub fn new(tasks: usize) -> Arc<RunQueue> {
        Arc::new(RunQueue {
            queue: Mutex::new((0..tasks).collect()),
            last_worker: (0..tasks).map(|_| AtomicUsize::new(usize::MAX)).collect(),
            ready_at: (0..tasks).map(|_| AtomicU64::new(0)).collect(),
            ready: Condvar::new(),
            queued: (0..tasks).map(|_| AtomicBool::new(true)).collect(),
            closed: AtomicBool::new(false),
            running: AtomicUsize::new(0),
        })
    }

    /// Make task `task` ready (nothing if it is queued already).
    pub fn push(&self, task: usize) {
        if !self.queued[task].swap(true, Ordering::AcqRel) {
            self.ready_at[task].store(crate::jit::clock::now_ns(), Ordering::Relaxed);
            lock(&self.queue).push_back(task);
            // All: the task's own worker may be among the sleepers.
            self.ready.notify_all();
        }
    }

    /// The next ready task for `worker` (`None`: the inline pool, first in
    /// first out); with `wait`, sleep up to that long for one.
    ///
    /// Affinity: a worker of several takes the first task in line that it
    /// polled last (or that no worker polled yet); another worker's task
    /// only once it has waited [`STEAL_AFTER_NS`] (its worker is busy or
    /// asleep), or at once if its worker has taken another task since it
    /// went in line (that worker is busy for a quantum at least). So a vCPU stays on its worker while that worker keeps up:
    /// in the page every move costs installs of its compiled code on the
    /// new worker (each Web Worker has its own function table); natively,
    /// cache warmth. Each worker still takes its own tasks first in, first
    /// out, and no task waits much longer than the steal delay.
    fn pop(&self, wait: Option<Duration>, worker: Option<usize>) -> Option<usize> {
        let mut queue = lock(&self.queue);
        loop {
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            let mut pause = wait;
            let at = match worker {
                None => (!queue.is_empty()).then_some(0),
                Some(me) => {
                    let mine = queue.iter().position(|&t| {
                        let last = self.last_worker[t].load(Ordering::Relaxed);
                        last == me || last == usize::MAX
                    });
                    mine.or_else(|| {
                        let &first = queue.front()?;
                        let waited = crate::jit::clock::now_ns()
                            .saturating_sub(self.ready_at[first].load(Ordering::Relaxed));
                        if waited >= STEAL_AFTER_NS {
                            return Some(0);
                        }
                        let left = Duration::from_nanos(STEAL_AFTER_NS - waited);
                        pause = Some(pause.map_or(left, |p| p.min(left)));
                        None
                    })
                }
            };
            if let Some(task) = at.and_then(|at| queue.remove(at)) {
                if let Some(me) = worker {
                    self.last_worker[task].store(me, Ordering::Relaxed);
                    // This worker is busy with `task` for a quantum now: its
                    // other tasks in line are anyone's. Otherwise a worker
                    // that took two tasks once (its sibling late to start)
                    // alternates them for ever, each back in line well
                    // within the steal delay, while the sibling sleeps.
                    for &t in queue.iter() {
                        if self.last_worker[t].load(Ordering::Relaxed) == me {
                            self.last_worker[t].store(usize::MAX, Ordering::Relaxed);
                        }
                    }
                }
                self.queued[task].store(false, Ordering::Release);
                // Counted before the queue's lock goes, so "queue empty and
                // nothing running" is never seen while a task moves.
                self.running.fetch_add(1, Ordering::AcqRel);
                return Some(task);
            }
            let pause = pause?;
            queue = self.ready.wait_timeout(queue, pause).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Ready tasks waiting for a worker.
    pub fn len(&self) -> usize {
        lock(&self.queue).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// No task is ready and none is being polled: every task waits (or is
    /// finished).
    pub fn idle(&self) -> bool {
        let queue = lock(&self.queue);
        queue.is_empty() && self.running.load(Ordering::Acquire) == 0
    }

    /// No task is ready and the only one being polled is the caller's.
    pub fn only_caller_left(&self) -> bool {
        let queue = lock(&self.queue);
        queue.is_empty() && self.running.load(Ordering::Acquire) == 1
    }

    /// Open the queue for a call of the run loop.
    pub(crate) fn open(&self) {
        self.closed.store(false, Ordering::Release);
    }

    /// Make every worker of the current call return (tasks stay queued):
    /// no task is handed out after this until the next [`RunQueue::open`].
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let _queue = lock(&self.queue);
        self.ready.notify_all();
    }

    /// A waker that makes `task` ready.
    pub fn waker(self: &Arc<Self>, task: usize) -> Waker {
        Waker::from(Arc::new(TaskWaker { task, queue: Arc::clone(self) }))
    }
}

struct TaskWaker {
    task: usize,
    queue: Arc<RunQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.queue.push(self.task);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.push(self.task);
    }
}

/// A future that returns `Pending` once, waking itself: the task goes to
/// the back of the run queue and other tasks get the worker.
pub struct YieldNow(bool);

/// Give the worker to the next ready task.
pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Where a waiting task leaves its waker, whether it still waits, and what
/// it waits for.
pub struct ParkSlot {
    pub parked: bool,
    waker: Option<Waker>,
    /// Guest clock at which the task's timer wakes it (`u64::MAX`: none).
    pub deadline: u64,
    /// Host time it parked at, in ns.
    pub since_ns: u64,
    /// Guest clock the task's hart moves up to when it wakes.
    pub wake_clock: u64,
}

impl Default for ParkSlot {
    fn default() -> Self {
        ParkSlot { parked: false, waker: None, deadline: u64::MAX, since_ns: 0, wake_clock: 0 }
    }
}

impl ParkSlot {
    /// Stop waiting; wake the task if it registered its waker. Returns
    /// whether it was waiting.
    pub fn unpark(&mut self) -> bool {
        let was = std::mem::replace(&mut self.parked, false);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        was
    }
}

/// The future a parked task awaits: ready once its slot is unparked.
pub struct Parked<'a> {
    pub slot: &'a Mutex<ParkSlot>,
}

impl Future for Parked<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = lock(self.slot);
        if !slot.parked {
            return Poll::Ready(());
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A task as a worker polls it: `None` once it finished. Tasks move
/// between workers (OS threads natively, Web Workers in the page's threads
/// build), so they are `Send`.
pub type TaskSlot<'a> = Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>>>;

/// What one worker did; the report's `smp.workers` entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerStats {
    /// Host time spent polling tasks, in ns.
    pub busy_ns: u64,
    /// Polls (quanta run, wake-ups handled).
    pub polls: u64,
    /// Polls of a different task than the worker's previous one.
    pub task_switches: u64,
}

/// M tasks on `workers` workers.
pub struct CoroutinePool {
    workers: usize,
}

impl CoroutinePool {
    /// The guide's `CoroutinePool::new(num_cpus * 2)`.
    pub fn new(workers: usize) -> Self {
        CoroutinePool { workers: workers.max(1) }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Poll ready tasks on the calling thread until the queue is empty or
    /// `keep_going` says stop (it is asked after every poll); returns true
    /// if the queue ran empty. One worker, a fixed order: reproducible.
    pub fn run_inline<'a>(
        queue: &Arc<RunQueue>,
        tasks: &[TaskSlot<'a>],
        wakers: &[Waker],
        stats: &mut WorkerStats,
        now_ns: &mut dyn FnMut() -> u64,
        mut keep_going: impl FnMut() -> bool,
    ) -> bool {
        queue.open();
        let mut last = usize::MAX;
        loop {
            let Some(task) = queue.pop(None, None) else { return true };
            poll_task(queue, tasks, wakers, task, &mut last, stats, now_ns);
            if !keep_going() {
                return false;
            }
        }
    }

    /// Poll tasks on `self.workers()` threads until the queue is closed
    /// ([`RunQueue::close`]); `coordinate` runs on the calling thread
    /// meanwhile and closes the queue when the run must end. Returns each
    /// worker's figures. Natively the workers are scoped OS threads; in the
    /// page's threads build they are the helper Web Workers of
    /// [`web_workers`] (at most as many as have started).
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    pub fn run_threads<'a>(
        &self,
        queue: &Arc<RunQueue>,
        tasks: &[TaskSlot<'a>],
        wakers: &[Waker],
        coordinate: impl FnOnce(),
    ) -> Vec<WorkerStats> {
        queue.open();
        let work = |worker: usize| {
            let start = crate::jit::clock::now_ns();
            let mut now = || crate::jit::clock::now_ns().saturating_sub(start);
            let mut stats = WorkerStats::default();
            let mut last = usize::MAX;
            while let Some(task) = queue.pop(Some(Duration::from_millis(50)), Some(worker)) {
                poll_task(queue, tasks, wakers, task, &mut last, &mut stats, &mut now);
            }
            stats
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            let work = &work;
            std::thread::scope(|scope| {
                let handles: Vec<_> =
                    (0..self.workers).map(|i| scope.spawn(move || work(i))).collect();
                coordinate();
                queue.close();
                handles.into_iter().map(|h| h.join().expect("a pool worker panicked")).collect()
            })
        }
        #[cfg(target_arch = "wasm32")]
        {
            web_workers::run(self.workers, &work, || {
                coordinate();
                queue.close();
            })
        }
    }
}

fn poll_task(
    queue: &RunQueue,
    tasks: &[TaskSlot<'_>],
    wakers: &[Waker],
    task: usize,
    last: &mut usize,
    stats: &mut WorkerStats,
    now_ns: &mut dyn FnMut() -> u64,
) {
    let t0 = now_ns();
    {
        let mut slot = lock(&tasks[task]);
        if let Some(fut) = slot.as_mut() {
            let mut cx = Context::from_waker(&wakers[task]);
            if fut.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
            }
        }
    }
    queue.running.fetch_sub(1, Ordering::AcqRel);
    stats.busy_ns += now_ns().saturating_sub(t0);
    stats.polls += 1;
    if *last != task {
        stats.task_switches += 1;
        *last = task;
    }
}

/// The page's worker pool (threads build): helper Web Workers that share
/// the VM's memory and poll the pool's tasks.
///
/// A helper is started by the page's VM worker (`www/pool-worker.js`): it
/// instantiates the same module on the same shared memory and calls
/// [`web_workers::helper_loop`], which never returns: the helper sleeps on
/// a condition variable (`memory.atomic.wait32`) until a call of the run
/// loop posts a job, polls tasks until the job's queue closes, and sleeps
/// again. Helpers outlive machines; the VM worker starts them once, up to
/// the most any machine asked for.
///
/// Invariant: [`web_workers::run`] returns only after every helper that
/// took part in its job has finished it, so the job may borrow the
/// caller's stack (the tasks, the queue, the machine), as
/// `std::thread::scope` lets the native workers do.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub mod web_workers {
    use super::{lock, WorkerStats};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    /// A job's work, its lifetime erased (see the module's invariant).
    type Work = *const (dyn Fn(usize) -> WorkerStats + Sync + 'static);

    struct Job {
        work: Work,
        /// Helpers the job wants: those numbered below it take part (a
        /// helper keeps its number, so worker `i` of every job is the same
        /// Web Worker: the run queue's affinity and the per-worker figures
        /// rely on it). `taken` of them have started it, `done` finished it.
        wanted: usize,
        taken: Vec<bool>,
        done: usize,
        stats: Vec<WorkerStats>,
    }

    struct Board {
        job: Option<Job>,
    }

    // SAFETY: `work` points at a `Sync` closure that outlives the job (the
    // module's invariant); the board is only touched under its lock.
    unsafe impl Send for Board {}

    static BOARD: Mutex<Board> = Mutex::new(Board { job: None });
    static CHANGED: Condvar = Condvar::new();
    /// Helpers that entered [`helper_loop`].
    static HELPERS: AtomicUsize = AtomicUsize::new(0);
    /// A helper died (trapped): the pool, and the machine whose job it was
    /// running, cannot go on.
    static BROKEN: AtomicBool = AtomicBool::new(false);
    /// Test only: the next helper to take a job panics.
    static PANIC_NEXT_JOB: AtomicBool = AtomicBool::new(false);

    /// Called by a helper's JavaScript after it trapped (`pool_helper_died`).
    pub fn helper_died() {
        BROKEN.store(true, Ordering::Release);
        CHANGED.notify_all();
    }

    /// Test only: make the next helper to take a job panic.
    pub fn panic_next_job() {
        PANIC_NEXT_JOB.store(true, Ordering::Release);
    }

    /// Helpers running (started and waiting for, or doing, work).
    pub fn helpers() -> usize {
        HELPERS.load(Ordering::Acquire)
    }

    /// A helper worker's whole life: take a share of each job, run it,
    /// report, wait for the next.
    pub fn helper_loop() -> ! {
        let index = HELPERS.fetch_add(1, Ordering::AcqRel);
        loop {
            let work = {
                let mut board = lock(&BOARD);
                loop {
                    if let Some(job) = board.job.as_mut() {
                        if index < job.wanted && !job.taken[index] {
                            job.taken[index] = true;
                            break job.work;
                        }
                    }
                    board = CHANGED.wait(board).unwrap_or_else(|e| e.into_inner());
                }
            };
            if PANIC_NEXT_JOB.swap(false, Ordering::AcqRel) {
                panic!("debug_panic_pool: a deliberate panic in a pool worker (test only)");
            }
            // SAFETY: the job stays posted, and its closure alive, until
            // `done` reaches `wanted` (see `run`).
            let stats = unsafe { (*work)(index) };
            let mut board = lock(&BOARD);
            let job = board.job.as_mut().expect("a job stays posted until it is done");
            job.stats[index] = stats;
            job.done += 1;
            CHANGED.notify_all();
        }
    }

    /// Run `work(i)` on `workers` helpers (at most as many as are running;
    /// at least one must be), `coordinate` on the calling worker meanwhile;
    /// `coordinate` must make every `work` return. Returns each helper's
    /// figures once all have finished.
    pub fn run(
        workers: usize,
        work: &(dyn Fn(usize) -> WorkerStats + Sync),
        coordinate: impl FnOnce(),
    ) -> Vec<WorkerStats> {
        let wanted = workers.min(helpers()).max(1);
        // SAFETY: only the lifetime is erased; this function does not
        // return before every helper that took the job finished it.
        let work: Work = unsafe {
            std::mem::transmute::<*const (dyn Fn(usize) -> WorkerStats + Sync + '_), Work>(
                work as *const _,
            )
        };
        {
            let mut board = lock(&BOARD);
            assert!(
                !BROKEN.load(Ordering::Acquire),
                "a pool worker (Web Worker) died earlier; the machine cannot go on"
            );
            assert!(board.job.is_none(), "one pool job at a time");
            board.job = Some(Job {
                work,
                wanted,
                taken: vec![false; wanted],
                done: 0,
                stats: vec![WorkerStats::default(); wanted],
            });
            CHANGED.notify_all();
        }
        coordinate();
        let mut board = lock(&BOARD);
        while board.job.as_ref().is_some_and(|j| j.done < j.wanted) {
            // A dead helper never finishes its share (and the vCPU it was
            // running may be half way through an instruction): the borrow
            // cannot end cleanly, so the machine's worker gives up, loudly.
            assert!(
                !BROKEN.load(Ordering::Acquire),
                "a pool worker (Web Worker) died during a run slice; the machine cannot go on"
            );
            board = CHANGED
                .wait_timeout(board, Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        board.job.take().map(|j| j.stats).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that takes another task gives up its claim on its tasks
    /// still in line, so a sibling takes them at once instead of after the
    /// steal delay (which a worker alternating two short quanta would
    /// never let pass); a task whose worker took nothing else since keeps
    /// its claim.
    #[test]
    fn a_busy_workers_tasks_in_line_go_to_an_idle_one() {
        let q = RunQueue::new(3);
        q.open();
        let owner = |t: usize| q.last_worker[t].load(Ordering::Relaxed);
        assert_eq!(q.pop(None, Some(0)), Some(0));
        q.push(0);
        assert_eq!(owner(0), 0);
        // Worker 0 takes task 1 (nobody's yet) while its task 0 waits.
        assert_eq!(q.pop(None, Some(0)), Some(1));
        assert_eq!(owner(0), usize::MAX, "task 0 is anyone's now");
        assert_eq!(q.pop(None, Some(1)), Some(2));
        q.push(2);
        assert_eq!(q.pop(None, Some(1)), Some(0));
        assert_eq!(owner(2), usize::MAX, "worker 1 took task 0 while task 2 waited");
        q.push(1);
        assert_eq!(owner(1), 0, "worker 0 took nothing since task 1");
    }
}
