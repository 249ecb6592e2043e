//! The `Machine` (the tuning guide's `vm_runtime`): a hart, memory and
//! devices, and the loop that runs them in slices, feeds the console, samples
//! the monitor and enforces run limits.
//!
//! Architecture invariant: the run loop never blocks on the host; console
//! output and input pass through callbacks, so the same loop serves the CLI
//! and (later) a Web Worker.

mod pool;
mod smp;
mod vcpu;

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub use pool::web_workers;
pub use pool::{CoroutinePool, RunQueue, WorkerStats};
pub use vcpu::{Vcpu, VcpuStats};

use crate::config::{ConfigError, KnobSpec, VmConfig};
use crate::cpu::{Hart, StopReason};
use crate::jit::backend::Backend;
use crate::jit::Jit;
use crate::loader::{load_elf, LoadError, LoadedProgram};
use crate::mem::devices::{Devices, ExitRequest, Htif};
use crate::mem::{Bus, Ram, UnifiedMmu, RAM_BASE};
use crate::monitor::{PerformanceMonitor, Report, Sample};
use serde_json::Value;

/// Guest clock cycles per run slice: the granularity of limit checks,
/// console flushing and monitor sampling (about a millisecond of host time).
pub const SLICE_CYCLES: u64 = 1 << 18;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The guest exited through the finisher or HTIF with this code.
    Exited(u64),
    /// `max_insns` instructions executed (retired or trapped) without an exit.
    MaxInsns,
    /// The wall-clock timeout passed without an exit.
    Timeout,
    /// The hart executed WFI with no interrupt able to wake it.
    Asleep,
    /// Every instruction of a whole slice trapped (a trap handler that traps
    /// itself, e.g. mtvec pointing at no memory): the guest makes no progress.
    TrapLoop,
    /// The embedder's `should_stop` said so.
    Stopped,
}

impl RunOutcome {
    /// The report's `stop_reason`.
    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Exited(_) => "exit",
            RunOutcome::MaxInsns => "max_insns",
            RunOutcome::Timeout => "timeout",
            RunOutcome::Asleep => "asleep",
            RunOutcome::TrapLoop => "trap_loop",
            RunOutcome::Stopped => "stopped",
        }
    }
}

/// Limits for one run; `None` means unlimited.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunLimits {
    pub max_insns: Option<u64>,
    pub timeout_ns: Option<u64>,
}

/// Host services the run loop needs: time, console and a stop flag.
pub trait Host {
    /// Monotonic host time in nanoseconds.
    fn now_ns(&mut self) -> u64;
    /// Guest console output.
    fn console_out(&mut self, bytes: &[u8]);
    /// Bytes typed for the guest since the last call.
    fn console_in(&mut self) -> Vec<u8> {
        Vec::new()
    }
    /// Checked between slices: end the run as [`RunOutcome::Stopped`].
    fn should_stop(&mut self) -> bool {
        false
    }
    /// Checked between slices: return from [`Machine::continue_run`] with
    /// the run still going (the embedder resumes it later).
    fn should_yield(&mut self) -> bool {
        false
    }
}

/// A knob change for [`Machine::run_with_retunes`]: the whole config to
/// switch to once `at_instructions` guest instructions have run.
#[derive(Clone, Debug)]
pub struct PlannedRetune {
    pub at_instructions: u64,
    pub config: VmConfig,
}

/// A host that also yields at every slice end while `yield_now` holds (so
/// that [`Machine::run_with_retunes`] looks at the instruction count).
struct YieldingHost<'a, H: Host> {
    inner: &'a mut H,
    yield_now: bool,
}

impl<H: Host> Host for YieldingHost<'_, H> {
    fn now_ns(&mut self) -> u64 {
        self.inner.now_ns()
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.inner.console_out(bytes)
    }
    fn console_in(&mut self) -> Vec<u8> {
        self.inner.console_in()
    }
    fn should_stop(&mut self) -> bool {
        self.inner.should_stop()
    }
    fn should_yield(&mut self) -> bool {
        self.yield_now || self.inner.should_yield()
    }
}

/// A run in progress, driven by [`Machine::continue_run`].
#[derive(Clone, Debug)]
pub struct RunSession {
    /// Host time at the start; wall time in samples counts from here.
    start_ns: u64,
    start_insns: u64,
    slice_start_ns: u64,
    /// The slice the JIT interrupted with [`StopReason::Yield`], to be
    /// finished before the next one starts.
    open_slice: Option<OpenSlice>,
    /// Set once the run has ended.
    pub outcome: Option<RunOutcome>,
}

/// What [`Machine::host_says`] found between two slices.
enum HostSays {
    Go,
    End(RunOutcome),
    Yield,
}

/// A run slice in progress: its clock limit and the counts at its start.
/// A slice the JIT interrupts (after much compiling) goes on to the same
/// limit once the loop has looked at the clock and the host, so slice ends,
/// and with them everything the JIT batches per slice, stay where guest
/// time puts them: runs remain reproducible.
#[derive(Clone, Copy, Debug)]
struct OpenSlice {
    limit: u64,
    cycles: u64,
    retired_before: u64,
    compiled_before: u64,
}

/// A host that keeps the console output in memory and reads the wall clock:
/// for tests, benchmarks and sweeps.
#[cfg(not(target_arch = "wasm32"))]
pub struct CaptureHost {
    start: std::time::Instant,
    pub output: Vec<u8>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Default for CaptureHost {
    fn default() -> Self {
        CaptureHost { start: std::time::Instant::now(), output: Vec::new() }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Host for CaptureHost {
    fn now_ns(&mut self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

/// What [`run_captured`] gives back.
#[cfg(not(target_arch = "wasm32"))]
pub struct CapturedRun {
    pub outcome: RunOutcome,
    pub report: Report,
    /// Everything the guest printed.
    pub console: Vec<u8>,
}

/// Load `elf` into a fresh machine built from `config`, run it under
/// `limits` with a monitor collecting, and return the outcome, the report and
/// the console output: the whole of a batch run (benchmarks, sweeps, tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn run_captured(
    config: VmConfig,
    elf: &[u8],
    limits: RunLimits,
) -> Result<CapturedRun, LoadError> {
    let mut machine = Machine::new(config, elf)?;
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let mut host = CaptureHost::default();
    let outcome = machine.run(limits, &mut monitor, &mut host);
    let report = machine.report(&monitor, outcome);
    Ok(CapturedRun { outcome, report, console: host.output })
}

/// A machine with a program loaded: `runtime.vcpus` harts on one bus.
pub struct Machine {
    /// The harts, each with its MMU and JIT; `vcpus[i].hart` has mhartid i.
    /// With the JIT on, vCPU 0's backend memory holds RAM.
    pub vcpus: Vec<Vcpu>,
    /// RAM and the devices, shared by the harts.
    pub bus: Bus,
    /// Scheduling state that outlives one call of the run loop (several
    /// vCPUs only).
    smp: Option<smp::SmpState>,
    config: VmConfig,
    elf: Vec<u8>,
    program: LoadedProgram,
    resets: u64,
    /// Instructions executed by the machines this one replaced through
    /// resets: run limits count across resets, so a guest that resets
    /// itself in a loop is still stopped by `--max-insns`.
    executed_before_reset: u64,
    /// Likewise for retired instructions: the monitor's series stay
    /// monotonic across resets.
    retired_before_reset: u64,
}

impl Machine {
    /// The specifics of an end the guest itself caused, in one line: for
    /// `trap_loop` the trap that began the loop and the one that repeats, for
    /// `asleep` the wfi's pc; `None` for other ends. The CLI prints it after
    /// its reason and the page shows it beside the state.
    pub fn stuck_detail(&self, outcome: RunOutcome) -> Option<String> {
        let h = match outcome {
            // The hart whose trap loop ended the run.
            RunOutcome::TrapLoop => self.smp.as_ref().and_then(|s| s.stuck_hart).unwrap_or(0),
            _ => 0,
        };
        let h = &self.vcpus[h].hart;
        match outcome {
            RunOutcome::TrapLoop => {
                let first =
                    h.traps.streak_first.map_or_else(|| "an unknown trap".into(), |t| t.describe());
                let c = &h.csr;
                Some(format!(
                    "began with {first}; now mcause {:#x} at mepc {:#x}, mtval {:#x}, mtvec {:#x}",
                    c.mcause, c.mepc, c.mtval, c.mtvec
                ))
            }
            RunOutcome::Asleep if self.vcpus.len() > 1 => Some(
                self.vcpus
                    .iter()
                    .map(|v| format!("hart {} wfi at pc {:#x}", v.hart.id(), v.hart.pc))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            RunOutcome::Asleep => Some(format!("wfi at pc {:#x}", h.pc)),
            _ => None,
        }
    }

    /// Build a machine from a validated config and load `elf` into it.
    pub fn new(config: VmConfig, elf: &[u8]) -> Result<Machine, LoadError> {
        let (mut ram, jits) = Self::memory_and_jits(&config);
        let program = load_elf(elf, &mut ram)?;
        let mut machine = Self::assemble(config, ram, jits, program);
        if let Some(tohost) = machine.program.tohost {
            machine.bus.attach_htif(Htif::new(tohost, machine.program.fromhost));
        }
        machine.elf = elf.to_vec();
        Ok(machine)
    }

    /// The bus over `ram` and one vCPU per JIT (per hart), each starting
    /// at the program's entry.
    fn assemble(
        config: VmConfig,
        ram: Ram,
        jits: Vec<Option<Jit>>,
        program: LoadedProgram,
    ) -> Machine {
        let harts = jits.len();
        let mut bus = Bus::new(ram, Devices::new(), harts);
        bus.attach_gc(Self::gc_heap(&config, bus.ram(), &program));
        // Hart 0's MMU decides the TLB organisation; the others are its
        // siblings (sharing its TLB when the strategy shares one).
        let first_mmu = UnifiedMmu::for_harts(bus.ram().len(), harts, config.mmu.clone());
        let mut mmus: Vec<UnifiedMmu> = (1..harts).map(|_| first_mmu.sibling()).collect();
        mmus.insert(0, first_mmu);
        let vcpus = jits
            .into_iter()
            .zip(mmus)
            .enumerate()
            .map(|(i, (jit, mmu))| {
                let mut hart = Hart::new(i as u64, program.entry);
                hart.set_decode_cache_pages(config.memory.decode_cache_pages as usize);
                hart.set_smp(harts > 1);
                hart.set_pause_yields(harts > 1 && config.runtime.pause_yields);
                hart.set_host_time(config.runtime.host_time);
                Vcpu { hart, mmu, jit, stats: VcpuStats::default() }
            })
            .collect();
        let smp = (harts > 1).then(|| smp::SmpState::new(harts));
        Machine {
            vcpus,
            bus,
            smp,
            config,
            elf: Vec::new(),
            program,
            resets: 0,
            executed_before_reset: 0,
            retired_before_reset: 0,
        }
    }

    /// The GC heap: from the first page after the program's image to the
    /// end of RAM, at most `gc.heap_size_limit` bytes.
    fn gc_heap(config: &VmConfig, ram: &Ram, program: &LoadedProgram) -> crate::gc::UnifiedGC {
        let image_end = program.segments.iter().map(|&(a, n)| a + n).max().unwrap_or(RAM_BASE);
        let base = image_end.max(RAM_BASE).next_multiple_of(crate::gc::BLOCK);
        let room = (RAM_BASE + ram.len() as u64).saturating_sub(base);
        let limit = config.gc.heap_size_limit;
        let note = if room < limit {
            format!(
                "gc.heap_size_limit is {} KiB but only {} KiB of RAM follow the program's image: \
                 the heap has {} KiB (raise memory.ram_bytes for more)",
                limit >> 10,
                room >> 10,
                room >> 10
            )
        } else {
            String::new()
        };
        let mut gc = crate::gc::UnifiedGC::new(config.gc.clone());
        gc.place(ram, base, limit.min(room), note);
        gc
    }

    /// Guest RAM, and one JIT per hart when it is enabled (then RAM lives
    /// inside the JIT backend's memory; every hart's backend shares it and
    /// has a state block of its own).
    fn memory_and_jits(config: &VmConfig) -> (Ram, Vec<Option<Jit>>) {
        let ram_bytes = config.memory.ram_bytes as usize;
        let harts = config.runtime.vcpus as usize;
        if config.jit.enabled {
            match Self::backends(ram_bytes, harts) {
                Ok((backends, ext)) => {
                    // SAFETY: `Backend::new` hands out zeroed memory of the
                    // right sizes that its owner keeps in place.
                    let ram = unsafe { Ram::from_external(ram_bytes, ext) };
                    let jits = backends
                        .into_iter()
                        .map(|backend| {
                            let mut jit = Jit::new(config.jit.clone(), config.code_cache.clone());
                            jit.set_strict_align(config.mmu.strict_align);
                            jit.set_atomic(harts > 1);
                            jit.set_pause_ends_unit(harts > 1 && config.runtime.pause_yields);
                            jit.attach(backend);
                            Some(jit)
                        })
                        .collect();
                    return (ram, jits);
                }
                Err(e) => eprintln!("tunevm: JIT unavailable, interpreting: {e}"),
            }
        }
        (Ram::new(ram_bytes), (0..harts).map(|_| None).collect())
    }

    /// One backend per hart over one memory.
    fn backends(
        ram_bytes: usize,
        harts: usize,
    ) -> Result<(Vec<Backend>, crate::mem::ExternalRam), String> {
        let (first, ext) = Backend::new(ram_bytes, harts)?;
        let mut backends = Vec::with_capacity(harts);
        for hart in 1..harts {
            backends.push(first.sibling(hart)?);
        }
        backends.insert(0, first);
        Ok((backends, ext))
    }

    /// Build a machine whose RAM starts with `image` (raw code and data at
    /// 0x8000_0000) and whose hart starts there. For tests and tools that have
    /// no ELF.
    pub fn from_image(config: VmConfig, image: &[u8]) -> Machine {
        let (ram, jits) = Self::memory_and_jits(&config);
        assert!(image.len() <= ram.len(), "image larger than RAM");
        ram.write_bytes(0, image);
        let program = LoadedProgram {
            entry: crate::mem::RAM_BASE,
            tohost: None,
            fromhost: None,
            segments: vec![(crate::mem::RAM_BASE, image.len() as u64)],
        };
        Self::assemble(config, ram, jits, program)
    }

    /// Hart 0 (the boot hart; the only one unless `runtime.vcpus` > 1).
    pub fn hart(&self) -> &Hart {
        &self.vcpus[0].hart
    }

    pub fn hart_mut(&mut self) -> &mut Hart {
        &mut self.vcpus[0].hart
    }

    /// Hart 0's JIT, when the JIT is on.
    pub fn jit(&self) -> Option<&Jit> {
        self.vcpus[0].jit.as_ref()
    }

    pub fn jit_mut(&mut self) -> Option<&mut Jit> {
        self.vcpus[0].jit.as_mut()
    }

    /// Hart 0's MMU.
    pub fn mmu(&self) -> &UnifiedMmu {
        &self.vcpus[0].mmu
    }

    pub fn mmu_mut(&mut self) -> &mut UnifiedMmu {
        &mut self.vcpus[0].mmu
    }

    pub fn config(&self) -> &VmConfig {
        &self.config
    }

    pub fn program(&self) -> &LoadedProgram {
        &self.program
    }

    /// Put the machine back in its power-on state with the program reloaded,
    /// every count at zero (the embedder's Reset).
    ///
    /// Returns false, changing nothing, for a machine built with
    /// [`Machine::from_image`] (it keeps no image to reload).
    pub fn reset(&mut self) -> bool {
        if self.elf.is_empty() {
            return false;
        }
        let elf = std::mem::take(&mut self.elf);
        *self = Machine::new(self.config.clone(), &elf).expect("the ELF loaded once already");
        true
    }

    /// Change knobs while the guest runs: `config` (validated here) may
    /// differ from the machine's only in knobs marked live (see
    /// `config/knobs.rs` `LIVE_KNOBS`); call it between slices. The JITs'
    /// compile decisions and code caches take the new values at their next
    /// dispatch (a smaller cache evicts now), each hart's MMU is rebuilt
    /// with the new TLBs (empty: a flush) and prefetcher and counts on
    /// where the old one stopped, and the GC paces itself by the new
    /// values. Returns the knobs that changed with their new values (empty:
    /// nothing changed, nothing done); on an error nothing changes.
    pub fn retune(
        &mut self,
        config: VmConfig,
    ) -> Result<Vec<(&'static KnobSpec, Value)>, ConfigError> {
        config.validate()?;
        let changes = self.config.changes_to(&config);
        let frozen: Vec<&str> =
            changes.iter().filter(|(k, _)| !k.live).map(|(k, _)| k.key).collect();
        if !frozen.is_empty() {
            return Err(ConfigError::NotLive { keys: frozen.join(", ") });
        }
        if changes.is_empty() {
            return Ok(changes);
        }
        if config.mmu != self.config.mmu {
            let harts = self.vcpus.len();
            let first = UnifiedMmu::for_harts(self.bus.ram().len(), harts, config.mmu.clone());
            let mut mmus: Vec<UnifiedMmu> = (1..harts).map(|_| first.sibling()).collect();
            mmus.insert(0, first);
            for (vcpu, mut mmu) in self.vcpus.iter_mut().zip(mmus) {
                mmu.continue_counting_from(&vcpu.mmu);
                vcpu.mmu = mmu;
            }
        }
        for vcpu in &mut self.vcpus {
            let (clock, retired) = (vcpu.hart.clock(), vcpu.hart.retired());
            if let Some(jit) = vcpu.jit.as_mut() {
                jit.retune(&config.jit, &config.code_cache, clock, retired);
            }
        }
        if let Some(gc) = self.bus.gc() {
            gc.retune(&config.gc);
        }
        self.config = config;
        Ok(changes)
    }

    /// The guest reset the machine (the finisher's reset value): power-on
    /// state with the program reloaded, while the run's counts go on, so
    /// run limits and the monitor see one run across resets.
    pub fn guest_reset(&mut self) -> bool {
        let (resets, executed, retired) =
            (self.resets + 1, self.executed_total(), self.retired_total());
        if !self.reset() {
            return false;
        }
        self.resets = resets;
        self.executed_before_reset = executed;
        self.retired_before_reset = retired;
        true
    }

    /// Instructions executed (retired or trapped) since the machine was
    /// built, across resets: what `--max-insns` bounds.
    pub fn executed_total(&self) -> u64 {
        self.executed_before_reset + self.vcpus.iter().map(|v| v.hart.executed()).sum::<u64>()
    }

    /// Instructions retired since the machine was built, across resets.
    pub fn retired_total(&self) -> u64 {
        self.retired_before_reset + self.vcpus.iter().map(|v| v.hart.retired()).sum::<u64>()
    }

    /// Times the guest reset the machine (finisher reset value).
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// Run at most `cycles` guest cycles (never ends with
    /// [`StopReason::Yield`]: it goes on after one). With several harts,
    /// each runs up to `cycles` of its own in turn (a parked hart stays
    /// where it is); the result is hart 0's unless a hart asked to exit.
    pub fn run_slice(&mut self, cycles: u64) -> StopReason {
        let mut first = None;
        for v in &mut self.vcpus {
            let limit = v.hart.clock().saturating_add(cycles);
            let stop = loop {
                match v.run_until(&self.bus, limit) {
                    StopReason::Yield => {}
                    // A spinning hart's turn ends: the others run first,
                    // and its time moves on as if it had spun the turn out
                    // (as on the worker pool, `runtime::smp`).
                    StopReason::Paused => {
                        v.hart.advance_clock_to(limit);
                        break StopReason::Limit;
                    }
                    stop => break stop,
                }
            };
            if stop == StopReason::ExitRequested {
                return stop;
            }
            first.get_or_insert(stop);
        }
        first.expect("a machine has a hart")
    }

    /// Run until the guest clock reaches `limit`, or earlier with
    /// [`StopReason::Yield`] when the JIT did a slice's share of host work.
    /// Run hart 0 (the machine's only vCPU) until its clock reaches `limit`.
    fn run_until(&mut self, limit: u64) -> StopReason {
        self.vcpus[0].run_until(&self.bus, limit)
    }

    /// Cumulative counters for the monitor.
    pub fn sample(&self, wall_ns: u64) -> Sample {
        let snaps: Vec<VcpuSnapshot> =
            self.vcpus.iter().map(|v| VcpuSnapshot::of(v, &self.bus)).collect();
        let smp = self.smp.as_ref().map(|s| s.sample(&snaps));
        sample_of(&snaps, &self.bus, self.retired_before_reset, wall_ns, smp)
    }

    /// Run until the guest exits or a limit is reached, feeding the console
    /// and the monitor.
    pub fn run(
        &mut self,
        limits: RunLimits,
        monitor: &mut PerformanceMonitor,
        host: &mut impl Host,
    ) -> RunOutcome {
        let mut session = self.begin_run(host);
        loop {
            if let Some(outcome) = self.continue_run(&mut session, limits, monitor, host) {
                return outcome;
            }
        }
    }

    /// [`Machine::run`] with knob changes on the way: each of `plan` is
    /// applied by [`Machine::retune`] at the first slice end after
    /// `at_instructions` guest instructions executed (in the plan's order),
    /// and marked in the monitor (the report's `retunes`). The whole plan
    /// is checked first (each config validated, and differing from the one
    /// before it only in live knobs): an error there runs nothing.
    pub fn run_with_retunes(
        &mut self,
        limits: RunLimits,
        monitor: &mut PerformanceMonitor,
        host: &mut impl Host,
        plan: Vec<PlannedRetune>,
    ) -> Result<RunOutcome, ConfigError> {
        let mut before = self.config.clone();
        for step in &plan {
            step.config.validate()?;
            let frozen: Vec<&str> = before
                .changes_to(&step.config)
                .iter()
                .filter(|(k, _)| !k.live)
                .map(|(k, _)| k.key)
                .collect();
            if !frozen.is_empty() {
                return Err(ConfigError::NotLive { keys: frozen.join(", ") });
            }
            before = step.config.clone();
        }
        let mut plan = plan.into_iter().peekable();
        let mut host = YieldingHost { inner: host, yield_now: plan.peek().is_some() };
        let mut session = self.begin_run(&mut host);
        loop {
            if let Some(outcome) = self.continue_run(&mut session, limits, monitor, &mut host) {
                return Ok(outcome);
            }
            while let Some(step) = plan.next_if(|s| self.executed_total() >= s.at_instructions) {
                let changes = self.retune(step.config)?;
                let wall_ns = host.now_ns().saturating_sub(session.start_ns);
                monitor.mark_retune(wall_ns, self.retired_total(), &changes);
            }
            host.yield_now = plan.peek().is_some();
        }
    }

    /// Start a run that an embedder drives piecewise with
    /// [`Machine::continue_run`] (the page's worker runs a few milliseconds
    /// at a time so that it can see Pause and Stop).
    pub fn begin_run(&self, host: &mut impl Host) -> RunSession {
        let now = host.now_ns();
        RunSession {
            start_ns: now,
            start_insns: self.executed_total(),
            slice_start_ns: now,
            open_slice: None,
            outcome: None,
        }
    }

    /// Run slices until the run ends (returns its outcome, which the session
    /// keeps: later calls return it again at once) or the host asks to yield
    /// (returns `None`; call again to go on where it stopped).
    pub fn continue_run(
        &mut self,
        session: &mut RunSession,
        limits: RunLimits,
        monitor: &mut PerformanceMonitor,
        host: &mut impl Host,
    ) -> Option<RunOutcome> {
        if session.outcome.is_some() {
            return session.outcome;
        }
        if self.vcpus.len() > 1 {
            let outcome = self.continue_smp(session, limits, monitor, host)?;
            self.end_run(session, outcome, monitor, host);
            return Some(outcome);
        }
        let outcome = loop {
            let input = host.console_in();
            if !input.is_empty() {
                self.bus.devices().uart.push_input(&input);
            }
            let slice = match session.open_slice.take() {
                Some(slice) => slice,
                None => {
                    let mut cycles = SLICE_CYCLES;
                    if let Some(max) = limits.max_insns {
                        let done = self.executed_total() - session.start_insns;
                        if done >= max {
                            break RunOutcome::MaxInsns;
                        }
                        cycles = cycles.min(max - done);
                    }
                    OpenSlice {
                        limit: self.hart().clock().saturating_add(cycles),
                        cycles,
                        retired_before: self.hart().retired(),
                        compiled_before: self.jit().map_or(0, Jit::compiled_retired),
                    }
                }
            };
            let (cycles, retired_before) = (slice.cycles, slice.retired_before);
            let stop = self.run_until(slice.limit);
            if stop == StopReason::Yield {
                // The JIT worked long: look at the clock and the host, then
                // finish the same slice.
                session.open_slice = Some(slice);
                match Self::host_says(session, limits, host) {
                    HostSays::Go => continue,
                    HostSays::End(outcome) => break outcome,
                    HostSays::Yield => return None,
                }
            }
            let retired = self.hart().retired();
            if let Some(jit) = self.jit_mut() {
                let now = host.now_ns();
                let compiled = jit.compiled_retired() - slice.compiled_before;
                let all = retired - retired_before;
                jit.account_slice(
                    now.saturating_sub(session.slice_start_ns),
                    all - compiled,
                    compiled,
                );
                session.slice_start_ns = now;
            }
            let out = self.bus.devices().uart.take_output();
            if !out.is_empty() {
                host.console_out(&out);
            }
            let elapsed = host.now_ns().saturating_sub(session.start_ns);
            if monitor.wants_sample(self.retired_total()) {
                monitor.record(self.sample(elapsed));
            }
            match stop {
                StopReason::ExitRequested => match self.bus.exit_request() {
                    Some(ExitRequest::Exit(code)) => break RunOutcome::Exited(code),
                    // The new machine runs on in the next slice, after the
                    // limit, stop and yield checks below: a guest that
                    // resets itself in a loop is still stopped by them.
                    Some(ExitRequest::Reset) | None => {
                        if !self.guest_reset() {
                            break RunOutcome::Stopped;
                        }
                        monitor.set_counter("resets", self.resets);
                    }
                },
                StopReason::Asleep => break RunOutcome::Asleep,
                StopReason::Yield => unreachable!("handled above"),
                StopReason::Parked => unreachable!("one hart never parks"),
                StopReason::Paused => unreachable!("one hart never pauses"),
                StopReason::Limit
                    if self.hart().retired() == retired_before && cycles == SLICE_CYCLES =>
                {
                    break RunOutcome::TrapLoop;
                }
                StopReason::Limit => {}
            }
            match Self::host_says(session, limits, host) {
                HostSays::Go => {}
                HostSays::End(outcome) => break outcome,
                HostSays::Yield => return None,
            }
        };
        self.end_run(session, outcome, monitor, host);
        Some(outcome)
    }

    /// Between slices: has the run's time run out, does the host want it
    /// stopped, or does it want control back for now?
    fn host_says(session: &RunSession, limits: RunLimits, host: &mut impl Host) -> HostSays {
        let elapsed = host.now_ns().saturating_sub(session.start_ns);
        if limits.timeout_ns.is_some_and(|t| elapsed >= t) {
            HostSays::End(RunOutcome::Timeout)
        } else if host.should_stop() {
            HostSays::End(RunOutcome::Stopped)
        } else if host.should_yield() {
            HostSays::Yield
        } else {
            HostSays::Go
        }
    }

    /// End a run with `outcome` (an embedder's Stop, or the end that
    /// [`Machine::continue_run`] found): flush the console and record the
    /// final sample. Does nothing if the run has ended already.
    pub fn end_run(
        &mut self,
        session: &mut RunSession,
        outcome: RunOutcome,
        monitor: &mut PerformanceMonitor,
        host: &mut impl Host,
    ) {
        if session.outcome.is_some() {
            return;
        }
        session.outcome = Some(outcome);
        let out = self.bus.devices().uart.take_output();
        if !out.is_empty() {
            host.console_out(&out);
        }
        let elapsed = host.now_ns().saturating_sub(session.start_ns);
        monitor.record(self.sample(elapsed));
    }

    /// The monitor's report with this run's metadata filled in.
    pub fn report(&self, monitor: &PerformanceMonitor, outcome: RunOutcome) -> Report {
        self.with_metadata(monitor.generate_report(), outcome)
    }

    /// [`Machine::report`] for a live view: only the series `keep_series`
    /// keeps, no `jit.threshold_series`
    /// ([`PerformanceMonitor::generate_live_report`]).
    pub fn live_report(
        &self,
        monitor: &PerformanceMonitor,
        outcome: RunOutcome,
        keep_series: fn(&str) -> bool,
    ) -> Report {
        self.with_metadata(monitor.generate_live_report(keep_series), outcome)
    }

    fn with_metadata(&self, mut report: Report, outcome: RunOutcome) -> Report {
        report.config = self.config.to_json();
        report.exit_code = match outcome {
            RunOutcome::Exited(code) => Some(code as i64),
            _ => None,
        };
        report.stop_reason = outcome.name().to_string();
        report
    }
}

/// One vCPU's cumulative counters, taken while nothing runs it (by its own
/// task at the end of a quantum, or by the machine between runs): what
/// [`sample_of`] merges into a [`Sample`].
#[derive(Clone, Debug, Default)]
pub(crate) struct VcpuSnapshot {
    jit: crate::monitor::JitSample,
    tlb: crate::mem::TlbStats,
    traps: Vec<(&'static str, u64)>,
    retired: u64,
    decode_cache_bytes: u64,
    decode_cache_evictions: u64,
    strategy: &'static str,
    /// The vCPU's scheduling figures (its `parked` flag is the scheduler's
    /// to fill).
    pub vcpu: crate::monitor::VcpuSample,
}

impl VcpuSnapshot {
    pub(crate) fn of(v: &Vcpu, bus: &Bus) -> VcpuSnapshot {
        let jit = v.jit.as_ref().map(Jit::sample).unwrap_or_default();
        VcpuSnapshot {
            tlb: with_inline_tlb(v.mmu.stats(), &jit),
            jit,
            traps: v.hart.traps.named(),
            retired: v.hart.retired(),
            decode_cache_bytes: v.hart.decode_cache_bytes(),
            decode_cache_evictions: v.hart.decode_cache_evictions(),
            strategy: match v.mmu.strategy_chosen() {
                crate::mem::MmuOptimizationStrategy::MultiLevel => "multi_level",
                crate::mem::MmuOptimizationStrategy::Concurrent => "concurrent",
                crate::mem::MmuOptimizationStrategy::Hybrid => "hybrid",
            },
            vcpu: crate::monitor::VcpuSample {
                instructions: v.hart.retired(),
                running_ns: v.stats.running_ns,
                parked_ns: v.stats.parked_ns,
                quanta: v.stats.quanta,
                switches: v.stats.switches,
                parks: v.stats.parks,
                pauses: v.hart.pauses(),
                ipis_sent: v.hart.ipis_sent(),
                ipis_received: bus.clint.ipis_received(v.hart.id()),
                parked: false,
            },
        }
    }
}

/// Cumulative counters of the vCPUs (`snaps`) for the monitor: counts
/// summed over the harts, histograms merged.
fn sample_of(
    snaps: &[VcpuSnapshot],
    bus: &Bus,
    retired_before_reset: u64,
    wall_ns: u64,
    smp: Option<crate::monitor::SmpSample>,
) -> Sample {
    let mut jit = snaps[0].jit.clone();
    let mut tlb = snaps[0].tlb.clone();
    let mut traps: Vec<(&'static str, u64)> = Vec::new();
    for (i, s) in snaps.iter().enumerate() {
        if i > 0 {
            jit.merge(&s.jit);
            tlb.merge(&s.tlb);
        }
        for &(name, n) in &s.traps {
            match traps.iter_mut().find(|(t, _)| *t == name) {
                Some((_, total)) => *total += n,
                None => traps.push((name, n)),
            }
        }
    }
    Sample {
        instructions: retired_before_reset + snaps.iter().map(|s| s.retired).sum::<u64>(),
        wall_ns,
        traps,
        tlb,
        tlb_strategy: snaps[0].strategy,
        guest_ram_bytes: bus.ram().len() as u64,
        decode_cache_bytes: snaps.iter().map(|s| s.decode_cache_bytes).sum(),
        decode_cache_evictions: snaps.iter().map(|s| s.decode_cache_evictions).sum(),
        other_bytes: bus.ram().bookkeeping_bytes(),
        jit,
        smp,
        gc: bus.gc().map(|g| g.sample()).unwrap_or_default(),
    }
}

/// The MMU's TLB figures with the JIT's inline TLB in front as level
/// `inline`: generated code's loads and stores that hit it are lookups and
/// hits of the whole TLB; its misses (counted as the entries filled after
/// the interpreter redid the access) go on to the MMU's levels, which count
/// them again there. So `lookups == hits + walks` still holds.
fn with_inline_tlb(
    mut tlb: crate::mem::TlbStats,
    jit: &crate::monitor::JitSample,
) -> crate::mem::TlbStats {
    let hits = jit.inline_tlb_hits;
    if hits == 0 && jit.inline_tlb_fills == 0 {
        return tlb;
    }
    tlb.lookups += hits;
    tlb.hits += hits;
    tlb.levels.insert(
        0,
        crate::mem::TlbLevelStats {
            name: "inline".into(),
            lookups: hits + jit.inline_tlb_fills,
            hits,
        },
    );
    tlb
}
