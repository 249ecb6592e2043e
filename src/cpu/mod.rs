//! One hart: registers, CSRs, privilege levels, traps and interrupts, and the
//! interpreter (tier 0).
//!
//! Architecture invariant: the hart owns no memory and no devices; the
//! machine lends it the `UnifiedMmu` and the `Bus` for each run slice. Guest
//! faults are values ([`Trap`]) carried back to the hart, which enters the
//! trap handler exactly as the privileged spec says.

pub mod csr;
mod fetch;
mod interp;
mod step;
mod threaded;
mod trap;

pub use csr::Csrs;
pub use step::{Entry, Poll, Step, UnitEntry};
pub use trap::{Exception, Interrupt, Trap};

use crate::mem::Bus;
use crate::mem::{Privilege, RecentTranslation, TranslationContext};
use fetch::{DecodeCache, FetchWindow};

/// Guest clock cycles per mtime tick. Guest time advances one cycle per
/// instruction, so the guest runs at a nominal 100 MHz against mtime's 10 MHz
/// (QEMU virt's timebase). Runs are reproducible: time does not depend on the
/// host.
pub const CYCLES_PER_MTIME_TICK: u64 = 10;

/// Host nanoseconds per mtime tick when mtime follows host time
/// (`runtime.host_time`): mtime's 10 MHz.
pub const HOST_NS_PER_MTIME_TICK: u64 = 100;

/// With host time, a hart whose timer is armed looks at the host clock at
/// least this often (guest instructions), since no guest clock value tells
/// when the host reaches `mtimecmp`.
pub const HOST_TIME_POLL_CYCLES: u64 = 20_000;

/// Why a run slice ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The clock reached the slice's limit.
    Limit,
    /// A device (finisher, HTIF) asked to stop; see `Bus::exit_request`.
    ExitRequested,
    /// WFI with no interrupt pending, and none enabled that could ever
    /// become pending.
    Asleep,
    /// WFI on one of several harts with no interrupt pending: the vCPU
    /// waits for an IPI or for [`Hart::park_deadline`].
    Parked,
    /// PAUSE (Zihintpause) on one of several harts: the hart is spinning
    /// until another one moves, so its quantum ends here and the host CPU
    /// goes to a hart that can (pause-loop exiting, as hypervisors do it).
    Paused,
    /// The slice ended early because it did its share of host work (JIT
    /// compiles): the run loop checks its limits and the wall clock now
    /// instead of after the slice's cycles, which could take minutes when
    /// every few instructions cost a compile.
    Yield,
}

/// Counts of traps taken, by cause.
#[derive(Clone, Debug, Default)]
pub struct TrapCounts {
    pub exceptions: [u64; 16],
    pub interrupts: [u64; 16],
    /// The first trap taken since an instruction last retired. When the
    /// guest is stuck in a trap loop this is the trap that started it (an
    /// illegal instruction, say), not the handler's own fault that repeats.
    pub streak_first: Option<TakenTrap>,
    /// `Hart::retired()` when `streak_first` was taken.
    streak_retired: u64,
}

/// A trap as the hart took it: what xcause, xepc and xtval received, and the
/// handler address it jumped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakenTrap {
    /// mcause/scause: the code, with bit 63 set for an interrupt.
    pub cause: u64,
    pub epc: u64,
    pub tval: u64,
    pub handler: u64,
}

impl TakenTrap {
    /// The cause's report name (`illegal_instruction`, ...).
    pub fn cause_name(&self) -> &'static str {
        let code = self.cause & !(1 << 63);
        if self.cause >> 63 != 0 {
            Interrupt::BY_PRIORITY
                .into_iter()
                .find(|i| i.bit() == 1 << code)
                .map_or("interrupt", |i| i.name())
        } else {
            Exception::ALL.into_iter().find(|e| e.code() == code).map_or("exception", |e| e.name())
        }
    }

    /// One line: cause, where, tval and the handler, e.g.
    /// `illegal_instruction (cause 0x2) at pc 0x80000000, tval 0x0, handler 0x0`.
    pub fn describe(&self) -> String {
        format!(
            "{} (cause {:#x}) at pc {:#x}, tval {:#x}, handler {:#x}",
            self.cause_name(),
            self.cause,
            self.epc,
            self.tval,
            self.handler
        )
    }
}

impl TrapCounts {
    /// (name, count) for every cause seen at least once.
    pub fn named(&self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        for e in Exception::ALL {
            let n = self.exceptions[e.code() as usize];
            if n > 0 {
                out.push((e.name(), n));
            }
        }
        for i in Interrupt::BY_PRIORITY {
            let n = self.interrupts[i as usize];
            if n > 0 {
                out.push((i.name(), n));
            }
        }
        out
    }
}

/// An LR's reservation. SC succeeds if it names the same address and the
/// word still holds `value` (checked and written in one compare-exchange):
/// any other hart's store or AMO that changed the word breaks it. One that
/// wrote back the same value (or changed it and changed it back: the ABA
/// case) does not, which RVWMO's rules for constrained LR/SC loops allow
/// in effect, since the loop's result is the same as if the SC had
/// happened before that store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub paddr: u64,
    pub value: u64,
}

/// Architectural and bookkeeping state of one hart.
pub struct Hart {
    pub x: [u64; 32],
    pub pc: u64,
    pub privilege: Privilege,
    pub csr: Csrs,
    pub hart_id: u64,
    /// Guest clock: one cycle per instruction executed (retired or trapped),
    /// moved forward by WFI. Never written by the guest; mtime derives from it.
    clock: u64,
    /// Instructions that trapped instead of retiring.
    trapped: u64,
    /// Cycles skipped by WFI while waiting for the timer.
    skipped: u64,
    mcycle_offset: u64,
    minstret_offset: u64,
    /// Copy of the CLINT's mtime offset, so reading `time` needs no device.
    mtime_offset: u64,
    /// MTIP | MSIP as last computed from the CLINT.
    hw_pending: u64,
    /// Clock value at which interrupts, devices and limits are checked next.
    /// Anything that may change pending or enabled interrupts sets it to 0.
    next_event: u64,
    /// LR/SC reservation: the address reserved and the value LR read there.
    reservation: Option<Reservation>,
    data_ctx: TranslationContext,
    /// The privilege `data_ctx` was last computed under (fetch translates
    /// under it).
    ctx_privilege: Privilege,
    /// True when loads and stores are untranslated under `data_ctx`.
    data_bare: bool,
    /// +1 at every change of `data_ctx` or sfence.vma: translations made
    /// under another epoch may be stale (the JIT's inline TLB checks it).
    translation_epoch: u64,
    /// The last data translation in a paging mode (taken by the JIT's
    /// dispatcher after each instruction, to fill its inline TLB).
    recent_translation: Option<RecentTranslation>,
    fetch: FetchWindow,
    dcache: DecodeCache,
    pub traps: TrapCounts,
    /// When set, every executed instruction is written to stderr.
    pub trace: bool,
    /// One of several harts: WFI parks instead of skipping time.
    smp: bool,
    /// See [`Hart::set_gc_one_worker`].
    gc_one_worker: bool,
    /// `runtime.host_time`: mtime follows the host's clock from this host
    /// time (ns) on, instead of the guest clock. Not reproducible.
    host_time_base: Option<u64>,
    /// Stores that set another hart's `msip`.
    ipis_sent: u64,
    /// PAUSE ends the slice on this hart (one of several, with
    /// `runtime.pause_yields`).
    pause_yields: bool,
    /// A PAUSE that ends the slice retired: the next poll ends it with
    /// [`StopReason::Paused`].
    paused: bool,
    /// PAUSE hints that ended a slice.
    pauses: u64,
    /// The pc of the last `jalr` that was not a return, until the JIT's
    /// dispatcher takes it ([`Hart::take_jump_site`]) to profile where
    /// indirect jumps go.
    jump_site: Option<u64>,
    /// After [`StopReason::Parked`]: the clock value at which the timer
    /// wakes the hart (`u64::MAX`: only another hart can).
    park_deadline: u64,
}

impl Hart {
    pub fn new(hart_id: u64, entry: u64) -> Self {
        let mut hart = Hart {
            x: [0; 32],
            pc: entry,
            privilege: Privilege::Machine,
            csr: Csrs::new(),
            hart_id,
            clock: 0,
            trapped: 0,
            skipped: 0,
            mcycle_offset: 0,
            minstret_offset: 0,
            mtime_offset: 0,
            hw_pending: 0,
            next_event: 0,
            reservation: None,
            data_ctx: TranslationContext {
                satp: 0,
                privilege: Privilege::Machine,
                sum: false,
                mxr: false,
            },
            data_bare: true,
            translation_epoch: 0,
            recent_translation: None,
            fetch: FetchWindow::empty(),
            dcache: DecodeCache::new(),
            traps: TrapCounts::default(),
            trace: false,
            smp: false,
            pause_yields: false,
            paused: false,
            pauses: 0,
            gc_one_worker: false,
            host_time_base: None,
            ipis_sent: 0,
            park_deadline: u64::MAX,
            jump_site: None,
            ctx_privilege: Privilege::Machine,
        };
        hart.update_translation();
        hart
    }

    /// Software interrupts this hart raised on other harts (stores of 1 to
    /// their CLINT `msip`).
    pub fn ipis_sent(&self) -> u64 {
        self.ipis_sent
    }

    /// PAUSE hints that ended this hart's slice ([`StopReason::Paused`]).
    pub fn pauses(&self) -> u64 {
        self.pauses
    }

    /// The hart's index (`mhartid`).
    #[inline(always)]
    pub fn id(&self) -> usize {
        self.hart_id as usize
    }

    /// Make WFI park the hart (it is one of several) instead of skipping
    /// guest time to the next timer interrupt.
    pub fn set_smp(&mut self, smp: bool) {
        self.smp = smp;
    }

    /// Make PAUSE end the hart's slice ([`StopReason::Paused`]; only on one
    /// of several harts: `runtime.pause_yields`).
    pub fn set_pause_yields(&mut self, on: bool) {
        self.pause_yields = on;
    }

    /// All harts of this machine run on one worker (so while this one runs,
    /// the others' published registers are their registers: `gc.*` is legal).
    pub fn set_gc_one_worker(&mut self, one: bool) {
        self.gc_one_worker = one;
    }

    /// Make mtime follow host time from now on (`runtime.host_time`), or
    /// guest time again.
    pub fn set_host_time(&mut self, on: bool) {
        self.host_time_base = on.then(crate::jit::clock::now_ns);
        self.next_event = 0;
    }

    /// After a [`StopReason::Parked`]: the clock value at which the hart's
    /// timer interrupt becomes pending, or `u64::MAX` when only an IPI (or
    /// a change of `mtimecmp` by another hart) can wake it.
    pub fn park_deadline(&self) -> u64 {
        self.park_deadline
    }

    /// Move a waking hart's clock forward to `clock` (guest time the other
    /// harts reached while it was parked), counted as skipped cycles: a
    /// hart's time never runs behind the time that woke it.
    pub fn advance_clock_to(&mut self, clock: u64) {
        if clock > self.clock {
            self.skipped += clock - self.clock;
            self.clock = clock;
            self.next_event = 0;
        }
    }

    /// Instructions retired so far (not affected by writes to minstret).
    pub fn retired(&self) -> u64 {
        self.clock - self.trapped - self.skipped
    }

    /// Instructions executed so far, retired or trapped: what `--max-insns`
    /// bounds, so a guest stuck in a storm of traps is still stopped.
    pub fn executed(&self) -> u64 {
        self.clock - self.skipped
    }

    /// Host bytes held by the decoded-instruction cache.
    pub fn decode_cache_bytes(&self) -> u64 {
        self.dcache.bytes()
    }

    /// Bound the decoded-instruction cache to `pages` RAM pages
    /// (`memory.decode_cache_pages`).
    pub fn set_decode_cache_pages(&mut self, pages: usize) {
        self.dcache.set_max_pages(pages);
    }

    /// Pages the decoded-instruction cache dropped to make room.
    pub fn decode_cache_evictions(&self) -> u64 {
        self.dcache.evictions()
    }

    /// The guest clock in cycles.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    pub fn mcycle(&self) -> u64 {
        self.clock.wrapping_add(self.mcycle_offset)
    }

    pub fn minstret(&self) -> u64 {
        self.retired().wrapping_add(self.minstret_offset)
    }

    /// Time in mtime ticks before the CLINT's offset: guest time (the
    /// clock), or with `runtime.host_time` the host time since the machine
    /// was built.
    #[inline(always)]
    pub fn now(&self) -> u64 {
        match self.host_time_base {
            None => self.clock / CYCLES_PER_MTIME_TICK,
            Some(base) => crate::jit::clock::now_ns().saturating_sub(base) / HOST_NS_PER_MTIME_TICK,
        }
    }

    pub fn mtime(&self) -> u64 {
        self.now().wrapping_add(self.mtime_offset)
    }

    /// Recompute the data translation context after a change of privilege,
    /// satp or mstatus (priv spec 3.1.6.3: MPRV makes M-mode loads and stores
    /// use MPP's privilege). The translation epoch moves only if the
    /// context (data, or fetch's privilege) changed: a trap or `mret` that
    /// stays in M-mode, or a write of mstatus's interrupt bits, leaves the
    /// JIT's chain table and inline TLB as they are.
    fn update_translation(&mut self) {
        self.retranslate(false);
    }

    /// [`Hart::update_translation`]; `always` moves the epoch even when the
    /// context is the same (sfence.vma: the page tables may have changed).
    fn retranslate(&mut self, always: bool) {
        let ms = self.csr.mstatus;
        let old = self.data_ctx;
        let privilege = if self.privilege == Privilege::Machine && ms & csr::MSTATUS_MPRV != 0 {
            privilege_from_bits((ms & csr::MSTATUS_MPP) >> csr::MSTATUS_MPP_SHIFT)
        } else {
            self.privilege
        };
        self.data_ctx = TranslationContext {
            satp: self.csr.satp,
            privilege,
            sum: ms & csr::MSTATUS_SUM != 0,
            mxr: ms & csr::MSTATUS_MXR != 0,
        };
        self.data_bare = crate::mem::UnifiedMmu::is_bare(&self.data_ctx);
        if always || self.data_ctx != old || self.privilege != self.ctx_privilege {
            self.translation_epoch += 1;
        }
        self.ctx_privilege = self.privilege;
        self.fetch = FetchWindow::empty();
        self.next_event = 0;
    }

    fn fetch_ctx(&self) -> TranslationContext {
        TranslationContext { privilege: self.privilege, ..self.data_ctx }
    }

    /// Refresh MTIP/MSIP from the CLINT and compute when the timer fires next.
    fn sync_devices(&mut self, bus: &Bus) {
        let h = self.hart_id as usize;
        self.mtime_offset = bus.clint.mtime_offset();
        let mtimecmp = bus.clint.mtimecmp(h);
        let mut pending = 0;
        if bus.clint.msip(h) {
            pending |= Interrupt::MachineSoftware.bit();
        }
        let mut next = u64::MAX;
        let mtime = self.mtime();
        if mtime >= mtimecmp {
            pending |= Interrupt::MachineTimer.bit();
        } else if self.host_time_base.is_some() {
            // Host time: look again after about the ticks left at 100 MHz,
            // and at least every HOST_TIME_POLL_CYCLES (only an armed timer
            // makes the hart look: mtimecmp = u64::MAX is never reached).
            let left = (mtimecmp - mtime).saturating_mul(CYCLES_PER_MTIME_TICK);
            if mtimecmp != u64::MAX {
                next = self.clock.saturating_add(left.clamp(1, HOST_TIME_POLL_CYCLES));
            }
        } else {
            // First clock value whose mtime reaches mtimecmp.
            let ticks = mtimecmp.wrapping_sub(self.mtime_offset);
            next = ticks.saturating_mul(CYCLES_PER_MTIME_TICK);
        }
        self.hw_pending = pending;
        self.next_event = next;
    }

    /// The interrupt to take now, if any (priv spec 3.1.9).
    fn pending_interrupt(&self) -> Option<Interrupt> {
        let pending = self.mip() & self.csr.mie;
        if pending == 0 {
            return None;
        }
        let ms = self.csr.mstatus;
        let m_enabled = self.privilege < Privilege::Machine || ms & csr::MSTATUS_MIE != 0;
        let s_enabled = self.privilege < Privilege::Supervisor
            || (self.privilege == Privilege::Supervisor && ms & csr::MSTATUS_SIE != 0);
        let to_m = pending & !self.csr.mideleg;
        let to_s = pending & self.csr.mideleg;
        let takeable = (if m_enabled { to_m } else { 0 }) | (if s_enabled { to_s } else { 0 });
        Interrupt::BY_PRIORITY.into_iter().find(|i| takeable & i.bit() != 0)
    }

    /// Enter the trap handler for an exception (`interrupt == None`) or an
    /// interrupt (priv spec 3.1.7, 3.1.8, 4.1.x).
    fn enter_trap(&mut self, cause: u64, tval: u64, interrupt: bool) {
        let bit = 1u64 << cause;
        let deleg = if interrupt { self.csr.mideleg } else { self.csr.medeleg };
        let to_s = self.privilege <= Privilege::Supervisor && deleg & bit != 0;
        let mcause = cause | if interrupt { 1 << 63 } else { 0 };
        let (epc, retired) = (self.pc, self.retired());
        let c = &mut self.csr;
        if to_s {
            c.sepc = self.pc;
            c.scause = mcause;
            c.stval = tval;
            let sie = c.mstatus & csr::MSTATUS_SIE != 0;
            c.mstatus &= !(csr::MSTATUS_SPIE | csr::MSTATUS_SIE | csr::MSTATUS_SPP);
            if sie {
                c.mstatus |= csr::MSTATUS_SPIE;
            }
            if self.privilege == Privilege::Supervisor {
                c.mstatus |= csr::MSTATUS_SPP;
            }
            self.pc = trap_vector(c.stvec, cause, interrupt);
            self.privilege = Privilege::Supervisor;
        } else {
            c.mepc = self.pc;
            c.mcause = mcause;
            c.mtval = tval;
            let mie = c.mstatus & csr::MSTATUS_MIE != 0;
            c.mstatus &= !(csr::MSTATUS_MPIE | csr::MSTATUS_MIE | csr::MSTATUS_MPP);
            if mie {
                c.mstatus |= csr::MSTATUS_MPIE;
            }
            c.mstatus |= (self.privilege as u64) << csr::MSTATUS_MPP_SHIFT;
            self.pc = trap_vector(c.mtvec, cause, interrupt);
            self.privilege = Privilege::Machine;
        }
        let streak = &mut self.traps;
        if streak.streak_first.is_none() || streak.streak_retired != retired {
            streak.streak_first = Some(TakenTrap { cause: mcause, epc, tval, handler: self.pc });
            streak.streak_retired = retired;
        }
        if interrupt {
            self.traps.interrupts[cause as usize] += 1;
        } else {
            self.traps.exceptions[cause as usize] += 1;
        }
        self.update_translation();
    }

    /// Take a synchronous trap raised by the instruction at `self.pc`.
    pub(crate) fn take_trap(&mut self, trap: Trap) {
        self.enter_trap(trap.cause.code(), trap.tval, false);
    }
}

fn trap_vector(tvec: u64, cause: u64, interrupt: bool) -> u64 {
    let base = tvec & !3;
    if interrupt && tvec & 3 == 1 {
        base.wrapping_add(4 * cause)
    } else {
        base
    }
}

fn privilege_from_bits(bits: u64) -> Privilege {
    match bits {
        0 => Privilege::User,
        1 => Privilege::Supervisor,
        _ => Privilege::Machine,
    }
}
