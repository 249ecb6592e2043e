//! The run loop of a machine with several harts: each vCPU is a task of the
//! [`CoroutinePool`], the calling thread coordinates (console, monitor,
//! limits, timers of parked vCPUs, the end of the run).
//!
//! - **Quantum**: a vCPU task runs `runtime.quantum_insns` guest
//!   instructions (its hart's clock advances by that much), then yields: a
//!   vCPU that spins forever holds a worker for one quantum at a time.
//! - **wfi** parks the vCPU (its task waits, its worker takes another
//!   task). A store to its `msip` or `mtimecmp` (the CLINT's kicks) wakes
//!   it, and so does its timer: when the latest clock of any hart (`time`)
//!   passes the deadline, or, when every vCPU waits, at once (guest time
//!   jumps to the earliest deadline, as one hart's wfi does).
//! - **Guest time** is per hart (its clock, one cycle per instruction); a
//!   waking hart's clock moves up to `time`, so no hart ever sees mtime
//!   behind what woke it.
//! - **Reproducible** with one worker: tasks run in queue order on the
//!   calling thread and every decision depends on guest clocks only.
//!   With several workers, harts really run at once.
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use super::pool::{lock, yield_now, CoroutinePool, ParkSlot, Parked, RunQueue, TaskSlot};
use super::{
    HostSays, Machine, RunLimits, RunOutcome, RunSession, Vcpu, VcpuSnapshot, WorkerStats,
    SLICE_CYCLES,
};
use crate::cpu::StopReason;
use crate::jit::clock::now_ns;
use crate::mem::Bus;
use crate::monitor::{PerformanceMonitor, SmpSample, VcpuSample};

/// Scheduling state of a multi-hart machine that outlives one call of the
/// run loop.
pub(super) struct SmpState {
    queue: Arc<RunQueue>,
    wakers: Vec<Waker>,
    parks: Vec<Mutex<ParkSlot>>,
    /// The latest clock any hart reached.
    time: AtomicU64,
    /// Figures of every worker that ever ran (by worker index).
    workers: Vec<WorkerStats>,
    /// Workers of the last call (the pool's size as resolved).
    pub pool_size: usize,
    /// The hart whose trap loop ended the run.
    pub stuck_hart: Option<usize>,
    /// Per hart: cycles run since it last retired an instruction.
    trap_streak: Vec<AtomicU64>,
    /// Per hart: instructions retired, published at the end of each
    /// quantum (the coordinator reads them without taking the vCPU's lock).
    retired: Vec<AtomicU64>,
}

impl SmpState {
    pub fn new(harts: usize) -> SmpState {
        let queue = RunQueue::new(harts);
        SmpState {
            wakers: (0..harts).map(|i| queue.waker(i)).collect(),
            queue,
            parks: (0..harts).map(|_| Mutex::new(ParkSlot::default())).collect(),
            time: AtomicU64::new(0),
            workers: Vec::new(),
            pool_size: 0,
            stuck_hart: None,
            trap_streak: (0..harts).map(|_| AtomicU64::new(0)).collect(),
            retired: (0..harts).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The scheduling figures for a monitor sample, from the vCPUs'
    /// snapshots.
    pub fn sample(&self, snaps: &[VcpuSnapshot]) -> SmpSample {
        SmpSample {
            pool_size: self.pool_size as u64,
            vcpus: snaps
                .iter()
                .enumerate()
                .map(|(i, s)| VcpuSample { parked: lock(&self.parks[i]).parked, ..s.vcpu.clone() })
                .collect(),
            workers: self.workers.clone(),
            run_queue: self.queue.len() as u64,
        }
    }
}

/// Why a vCPU task ended the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The guest asked for an exit or a reset.
    Exit,
    /// The run's instruction budget is spent.
    MaxInsns,
    /// A hart's every instruction trapped for a whole slice.
    TrapLoop(usize),
    /// Every hart waits and nothing can wake any.
    Asleep,
    /// The coordinator ended it (timeout, stop, yield).
    Host,
}

/// What one call of the run loop shares between its tasks and the
/// coordinator.
struct RunCtx<'a> {
    bus: &'a Bus,
    vcpus: &'a [Mutex<Vcpu>],
    state: &'a SmpState,
    quantum: u64,
    /// Executed instructions left before `--max-insns`, if limited, not
    /// counting those granted to quanta still running: a quantum takes its
    /// grant out before it runs and gives back what it did not execute, so
    /// however many workers run at once the harts execute exactly the
    /// limit in all (a compiled block can overrun its grant by a few
    /// instructions, as on one hart; that overrun is taken from what is left).
    remaining: Option<AtomicU64>,
    /// Quanta running on a grant from `remaining`.
    granted: AtomicU64,
    end: Mutex<Option<End>>,
    ended: AtomicBool,
    /// Bumped by the coordinator when it wants a monitor sample: each vCPU
    /// task then leaves a fresh snapshot at the end of its next quantum.
    /// The coordinator never locks a vCPU while the run goes on (waiting
    /// for one running task's lock while holding another's could stall the
    /// machine), it reads these.
    sample_epoch: AtomicU64,
    snapshots: Vec<Mutex<(u64, VcpuSnapshot)>>,
    /// Held while deciding that every vCPU waits ([`RunCtx::all_parked`]).
    deciding: Mutex<()>,
}

impl RunCtx<'_> {
    /// End this call of the run loop, and close the queue at once: a task
    /// whose future already returned this call (it suspended itself and is
    /// queued for the next call) must not be popped again, or it would be
    /// neither queued, running nor parked, and lost.
    ///
    /// (Found in the page with 8 workers: about one run in three of smp-ring
    /// on 8 vCPUs ended "asleep" half way, because the queue closed only
    /// when the coordinator returned.)
    ///
    /// The first reason stays, except that the guest's own end replaces
    /// the coordinator's `Host`: a quantum running on another worker when
    /// the host asked to yield may end the run, and that end must not be
    /// lost (the next call would find the exited hart parked).
    fn finish(&self, why: End) {
        let mut end = lock(&self.end);
        if end.is_none() || matches!(*end, Some(End::Host)) {
            *end = Some(why);
        }
        self.ended.store(true, Ordering::Release);
        self.state.queue.close();
    }

    fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Run vCPU `i` for one quantum. Returns false when the run is over.
    fn run_quantum(&self, i: usize) -> Quantum {
        if self.ended() {
            return Quantum::Suspend;
        }
        let mut quantum = self.quantum;
        let mut grant = None;
        if let Some(rem) = &self.remaining {
            // Count the grant before taking it, so that "nothing left and
            // nothing granted" is never seen while a grant moves.
            self.granted.fetch_add(1, Ordering::AcqRel);
            let take = rem.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                (left > 0).then(|| left - left.min(self.quantum))
            });
            match take {
                Ok(left) => {
                    quantum = quantum.min(left);
                    grant = Some(quantum);
                }
                Err(_) => {
                    // The last grant has ended: the limit is reached.
                    // Otherwise a running quantum may give some back.
                    if self.granted.fetch_sub(1, Ordering::AcqRel) == 1 {
                        self.finish(End::MaxInsns);
                        return Quantum::Done;
                    }
                    return Quantum::Again;
                }
            }
        }
        let mut v = lock(&self.vcpus[i]);
        let v = &mut *v;
        // Woken from a park: the hart's clock catches up with the time
        // that woke it (however the wake reached this task).
        let mut slot = lock(&self.state.parks[i]);
        if slot.wake_clock != 0 {
            v.hart.advance_clock_to(slot.wake_clock);
            v.stats.parked_ns += now_ns().saturating_sub(slot.since_ns);
            slot.wake_clock = 0;
        }
        drop(slot);
        let t0 = now_ns();
        let (executed0, retired0) = (v.hart.executed(), v.hart.retired());
        let compiled0 = v.jit.as_ref().map_or(0, |j| j.compiled_retired());
        let limit = v.hart.clock().saturating_add(quantum);
        let stop = loop {
            match v.run_until(self.bus, limit) {
                // The JIT did a slice's worth of host work; the quantum goes on.
                StopReason::Yield => {}
                stop => break stop,
            }
        };
        if stop == StopReason::Paused {
            // A spinning hart gives up the rest of its quantum, and guest
            // time passes for it as if it had spun it out (skipped cycles:
            // no instruction is retired). Otherwise a hart that pauses
            // every few instructions barely moves guest time, and harts
            // napping on a timer (smp.h's ticket lock) wait for a deadline
            // that comes only after hundreds of quanta, each a host thread
            // yield: on a busy host that took smp-locks from 0.2 s to a
            // minute.
            v.hart.advance_clock_to(limit);
        }
        let elapsed = now_ns().saturating_sub(t0);
        let executed = v.hart.executed() - executed0;
        let retired = v.hart.retired() - retired0;
        if let Some(jit) = v.jit.as_mut() {
            let compiled = jit.compiled_retired() - compiled0;
            jit.account_slice(elapsed, retired - compiled, compiled);
        }
        if let (Some(rem), Some(grant)) = (&self.remaining, grant) {
            if executed < grant {
                rem.fetch_add(grant - executed, Ordering::AcqRel);
            } else if executed > grant {
                let _ = rem.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                    Some(left.saturating_sub(executed - grant))
                });
            }
            self.granted.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(gc) = self.bus.gc() {
            gc.publish_registers(i, &v.hart.x);
        }
        v.stats.running_ns += elapsed;
        v.stats.quanta += 1;
        // A quantum that ends with no task waiting for a worker does not
        // give its worker up: the next one starts at once (with one worker
        // the task returns all the same, so the coordinator gets its turn).
        let slice_over = matches!(stop, StopReason::Limit | StopReason::Paused);
        let run_on = slice_over && self.state.pool_size > 1 && self.state.queue.is_empty();
        if (slice_over && !run_on) || stop == StopReason::Parked {
            v.stats.switches += 1;
        }
        if stop == StopReason::Parked {
            v.stats.parks += 1;
        }
        self.state.retired[i].store(v.hart.retired(), Ordering::Release);
        let want = self.sample_epoch.load(Ordering::Acquire);
        let mut snap = lock(&self.snapshots[i]);
        if snap.0 < want {
            *snap = (want, VcpuSnapshot::of(v, self.bus));
        }
        drop(snap);
        let clock = v.hart.clock();
        self.state.time.fetch_max(clock, Ordering::AcqRel);
        let streak = &self.state.trap_streak[i];
        if retired > 0 {
            streak.store(0, Ordering::Relaxed);
        } else if streak.fetch_add(executed, Ordering::Relaxed) + executed >= SLICE_CYCLES {
            self.finish(End::TrapLoop(i));
            return Quantum::Done;
        }
        let outcome = match stop {
            StopReason::Limit if run_on => Quantum::RunOn,
            // A spinning hart with a worker of its own: no task waits for
            // the worker, but the hart it spins for may wait for the host
            // CPU this thread holds (more workers than host CPUs).
            StopReason::Paused if run_on => {
                #[cfg(not(target_arch = "wasm32"))]
                std::thread::yield_now();
                Quantum::RunOn
            }
            StopReason::Limit | StopReason::Paused => Quantum::Again,
            StopReason::Parked => {
                let deadline = v.hart.park_deadline();
                let mut slot = lock(&self.state.parks[i]);
                slot.parked = true;
                slot.deadline = deadline;
                slot.since_ns = now_ns();
                drop(slot);
                // The wfi saw this hart's CLINT registers as they are now
                // (the nap that set its own mtimecmp must not wake it), but
                // an IPI that came between the wfi's check and the park
                // above would be lost: look once more.
                self.bus.clint.clear_kick(i);
                if self.bus.clint.msip(i) {
                    self.wake(i, clock);
                }
                Quantum::Park
            }
            StopReason::ExitRequested => {
                self.finish(End::Exit);
                Quantum::Done
            }
            // One hart of several parks instead; a yield was handled above.
            StopReason::Asleep | StopReason::Yield => {
                self.finish(End::Asleep);
                Quantum::Done
            }
        };
        self.wake_kicked();
        self.wake_due_timers();
        outcome
    }

    /// Wake parked vCPU `i`: its hart's clock moves up to `clock`.
    fn wake(&self, i: usize, clock: u64) {
        let mut slot = lock(&self.state.parks[i]);
        if slot.parked {
            slot.wake_clock = slot.wake_clock.max(clock).max(1);
            slot.unpark();
        }
    }

    /// Wake the vCPUs whose msip or mtimecmp was written.
    fn wake_kicked(&self) {
        let mut kicks = self.bus.clint.take_kicks();
        let time = self.state.time.load(Ordering::Acquire);
        while kicks != 0 {
            let i = kicks.trailing_zeros() as usize;
            kicks &= kicks - 1;
            self.wake(i, time);
        }
    }

    /// Wake the parked vCPUs whose timer deadline guest time has passed.
    fn wake_due_timers(&self) {
        let time = self.state.time.load(Ordering::Acquire);
        for (i, slot) in self.state.parks.iter().enumerate() {
            let due = {
                let slot = lock(slot);
                slot.parked && slot.deadline <= time
            };
            if due {
                self.wake(i, time);
            }
        }
    }

    /// Every vCPU waits: wake the one whose timer comes first, moving guest
    /// time to its deadline, or end the run if no timer is set.
    ///
    /// `caller`: the vCPU task that just parked and calls this (so one task
    /// is still being polled: its own); `None` for the coordinator, when no
    /// task may be running.
    fn all_parked(&self, caller: Option<usize>) {
        // The coordinator and the last task to park must not both decide
        // at once (one could wake a vCPU the other then declares asleep).
        let _deciding = lock(&self.deciding);
        self.wake_kicked();
        let queue = &self.state.queue;
        let all_wait = match caller {
            // The caller may have been woken since it parked (by the kicks
            // just taken, or by a task that ran until a moment ago): it is
            // not waiting then, whatever the queue says.
            Some(i) => queue.only_caller_left() && lock(&self.state.parks[i]).parked,
            None => queue.idle(),
        };
        if !all_wait {
            return;
        }
        let earliest = self
            .state
            .parks
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let s = lock(s);
                (s.parked && s.deadline != u64::MAX).then_some((s.deadline, i))
            })
            .min();
        match earliest {
            Some((deadline, _)) => {
                self.state.time.fetch_max(deadline, Ordering::AcqRel);
                self.wake_due_timers();
            }
            None => self.finish(End::Asleep),
        }
    }
}

/// What one quantum ended with.
enum Quantum {
    /// Go to the back of the queue.
    Again,
    /// Run the next quantum on this worker now: no other task is ready.
    RunOn,
    /// Wait in wfi.
    Park,
    /// The run is over.
    Done,
    /// This call of the run loop is over: stay ready for the next one.
    Suspend,
}

/// A vCPU as a task: quanta until the run ends, yielding between them and
/// awaiting its wake-up when parked.
async fn vcpu_task(ctx: &RunCtx<'_>, i: usize) {
    loop {
        let slot = &ctx.state.parks[i];
        if lock(slot).parked {
            Parked { slot }.await;
            continue;
        }
        match ctx.run_quantum(i) {
            Quantum::Again => yield_now().await,
            Quantum::RunOn => {}
            // Woken already (an IPI that raced the park): one quantum per
            // poll all the same, so the coordinator gets its turn.
            Quantum::Park if !lock(&ctx.state.parks[i]).parked => yield_now().await,
            // The last one to park: nobody else can move time on, so wake
            // whoever's timer comes first now rather than at the
            // coordinator's next look.
            Quantum::Park if ctx.state.queue.only_caller_left() => ctx.all_parked(Some(i)),
            Quantum::Park => {}
            Quantum::Done => return,
            Quantum::Suspend => {
                ctx.state.queue.push(i);
                return;
            }
        }
    }
}

impl Machine {
    /// [`Machine::continue_run`] for several harts: run the vCPU tasks on
    /// the pool until the run ends (returns its outcome) or the host asks
    /// to yield (`None`).
    pub(super) fn continue_smp(
        &mut self,
        session: &mut RunSession,
        limits: RunLimits,
        monitor: &mut PerformanceMonitor,
        host: &mut impl super::Host,
    ) -> Option<RunOutcome> {
        loop {
            let (end, said) = self.smp_call(session, limits, monitor, host);
            match end {
                Some(End::Exit) => match self.bus.exit_request() {
                    Some(crate::mem::devices::ExitRequest::Exit(code)) => {
                        return Some(RunOutcome::Exited(code))
                    }
                    Some(crate::mem::devices::ExitRequest::Reset) | None => {
                        if !self.guest_reset() {
                            return Some(RunOutcome::Stopped);
                        }
                        monitor.set_counter("resets", self.resets);
                    }
                },
                Some(End::MaxInsns) => return Some(RunOutcome::MaxInsns),
                Some(End::TrapLoop(i)) => {
                    if let Some(s) = self.smp.as_mut() {
                        s.stuck_hart = Some(i);
                    }
                    return Some(RunOutcome::TrapLoop);
                }
                Some(End::Asleep) => return Some(RunOutcome::Asleep),
                Some(End::Host) | None => match said {
                    HostSays::End(outcome) => return Some(outcome),
                    HostSays::Yield => return None,
                    HostSays::Go => {}
                },
            }
        }
    }

    /// One call of the pool: tasks for every vCPU, run until something
    /// ends the call. Returns why, and what the host said last.
    fn smp_call(
        &mut self,
        session: &mut RunSession,
        limits: RunLimits,
        monitor: &mut PerformanceMonitor,
        host: &mut impl super::Host,
    ) -> (Option<End>, HostSays) {
        let pool_size = self.pool_size();
        // The GC's roots: every hart's registers between its quanta (see
        // `Hart::set_gc_one_worker`).
        for v in &mut self.vcpus {
            v.hart.set_gc_one_worker(pool_size == 1);
            if let Some(gc) = self.bus.gc() {
                gc.publish_registers(v.hart.hart_id as usize, &v.hart.x);
            }
        }
        let state = self.smp.as_mut().expect("a multi-hart machine has SMP state");
        state.pool_size = pool_size;
        let state = &*state;
        let slots: Vec<Mutex<Vcpu>> =
            std::mem::take(&mut self.vcpus).into_iter().map(Mutex::new).collect();
        let executed_before = self.executed_before_reset;
        let remaining = limits.max_insns.map(|max| {
            let done: u64 = slots.iter().map(|v| lock(v).hart.executed()).sum::<u64>()
                + executed_before
                - session.start_insns;
            AtomicU64::new(max.saturating_sub(done))
        });
        let snapshots =
            slots.iter().map(|v| Mutex::new((0, VcpuSnapshot::of(&lock(v), &self.bus)))).collect();
        let ctx = RunCtx {
            bus: &self.bus,
            vcpus: &slots,
            state,
            quantum: self.config.runtime.quantum_insns,
            remaining,
            granted: AtomicU64::new(0),
            end: Mutex::new(None),
            ended: AtomicBool::new(false),
            sample_epoch: AtomicU64::new(0),
            snapshots,
            deciding: Mutex::new(()),
        };
        let ctx = &ctx;
        let tasks: Vec<TaskSlot<'_>> = (0..slots.len())
            .map(|i| {
                let fut = Box::pin(vcpu_task(ctx, i));
                Mutex::new(Some(fut as Pin<Box<_>>))
            })
            .collect();
        let retired_before = self.retired_before_reset;
        let mut said = HostSays::Go;
        let mut coordinate = || -> bool {
            // Console both ways.
            let input = host.console_in();
            let mut devices = ctx.bus.devices();
            if !input.is_empty() {
                devices.uart.push_input(&input);
            }
            let out = devices.uart.take_output();
            drop(devices);
            if !out.is_empty() {
                host.console_out(&out);
            }
            if ctx.state.queue.idle() && !ctx.ended() {
                ctx.all_parked(None);
            }
            let retired = retired_before
                + ctx.state.retired.iter().map(|r| r.load(Ordering::Acquire)).sum::<u64>();
            if monitor.wants_sample(retired) {
                // The latest snapshots (at most a tick old; a parked
                // vCPU's is current), and fresh ones asked for next time.
                let snaps: Vec<VcpuSnapshot> =
                    ctx.snapshots.iter().map(|s| lock(s).1.clone()).collect();
                ctx.sample_epoch.fetch_add(1, Ordering::AcqRel);
                let elapsed = host.now_ns().saturating_sub(session.start_ns);
                let smp = ctx.state.sample(&snaps);
                monitor.record(super::sample_of(
                    &snaps,
                    ctx.bus,
                    retired_before,
                    elapsed,
                    Some(smp),
                ));
            }
            if ctx.ended() {
                return false;
            }
            said = Machine::host_says(session, limits, host);
            if !matches!(said, HostSays::Go) {
                ctx.finish(End::Host);
                return false;
            }
            true
        };
        let mut worker_stats = Vec::new();
        if pool_size <= 1 {
            let mut stats = WorkerStats::default();
            loop {
                let emptied = CoroutinePool::run_inline(
                    &state.queue,
                    &tasks,
                    &state.wakers,
                    &mut stats,
                    &mut now_ns,
                    || !ctx.ended() && coordinate(),
                );
                if ctx.ended() {
                    break;
                }
                if emptied {
                    // Every vCPU waits.
                    ctx.all_parked(None);
                    if ctx.ended() || !coordinate() {
                        break;
                    }
                }
            }
            worker_stats.push(stats);
        } else {
            #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
            {
                let pool = CoroutinePool::new(pool_size);
                worker_stats = pool.run_threads(&state.queue, &tasks, &state.wakers, || {
                    while coordinate() {
                        std::thread::sleep(std::time::Duration::from_micros(500));
                    }
                });
            }
        }
        drop(tasks);
        let end = *lock(&ctx.end);
        self.vcpus =
            slots.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect();
        let state = self.smp.as_mut().expect("SMP state");
        for (i, w) in worker_stats.into_iter().enumerate() {
            if state.workers.len() <= i {
                state.workers.push(WorkerStats::default());
            }
            let total = &mut state.workers[i];
            total.busy_ns += w.busy_ns;
            total.polls += w.polls;
            total.task_switches += w.task_switches;
        }
        (end, said)
    }

    /// Workers for this machine: `runtime.pool_size`, or twice the host's
    /// hardware threads. In the page: the threads build's helper workers
    /// that have started (see [`Machine::pool_workers_wanted`]), at most
    /// that; the plain build has none, so one (every vCPU on the page's
    /// worker).
    fn pool_size(&self) -> usize {
        #[cfg(target_arch = "wasm32")]
        {
            #[cfg(target_feature = "atomics")]
            return self.pool_workers_wanted().min(super::pool::web_workers::helpers()).max(1);
            #[cfg(not(target_feature = "atomics"))]
            return 1;
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            self.config.runtime.workers(threads)
        }
    }

    /// Helper workers the page should start for this machine (threads build,
    /// several harts): `runtime.pool_size` as resolved with the host's
    /// `navigator.hardwareConcurrency`, at most [`MAX_PAGE_WORKERS`]; 1
    /// means none (every vCPU on the page's worker, in a fixed order).
    #[cfg(target_arch = "wasm32")]
    pub fn pool_workers_wanted(&self) -> usize {
        if self.smp.is_none() || !cfg!(target_feature = "atomics") {
            return 1;
        }
        let threads = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
            .and_then(|n| js_sys::Reflect::get(&n, &"hardwareConcurrency".into()))
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(1, |n| n.max(1.0) as usize);
        self.config.runtime.workers(threads).min(MAX_PAGE_WORKERS)
    }
}

/// Most helper workers the page starts for one machine: each is a Web
/// Worker with its own instance of the VM (its own wasm stack in the shared
/// memory, its own engine state), so `runtime.pool_size` above this is
/// clamped in the page (the report's `smp.pool_size` says what ran).
#[cfg(target_arch = "wasm32")]
pub const MAX_PAGE_WORKERS: usize = 16;
