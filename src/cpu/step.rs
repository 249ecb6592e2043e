//! The hart's interface to whoever drives it: the interpreter loop
//! ([`Hart::run`]) and the JIT's dispatcher (`jit::dispatch`) both run the
//! guest through these few calls, so neither knows the other's insides.
//!
//! - [`Hart::poll`]: at `next_event`, check devices, limits and interrupts.
//! - [`Hart::step`]: fetch, decode (through the decode cache) and execute one
//!   instruction, taking its trap if it raises one; [`Hart::step_block`]:
//!   the same up to the end of the block.
//! - [`Hart::unit_entry`]: where compiled code would start: the pc, its
//!   physical address and the translation mode, with the fetch window
//!   pointed at its page.
//! - [`Hart::compiled_regs`], [`Hart::budget`], [`Hart::retire_compiled`]:
//!   what compiled code reads and writes (registers, pc) and how much guest
//!   time it may use and did use.
use super::interp::Abort;
use super::{Hart, StopReason};
use crate::mem::{Bus, RecentTranslation, UnifiedMmu, RAM_BASE};

/// What [`Hart::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The instruction retired; `ends_block` says it was a jump, branch or
    /// system instruction (`Inst::ends_block`).
    Retired { ends_block: bool },
    /// The instruction (or its fetch) trapped; the pc is the handler's.
    Trapped,
    /// WFI with nothing able to wake the hart.
    Asleep,
    /// WFI on one of several harts: wait (see [`Hart::park_deadline`]).
    Parked,
}

/// What [`Hart::poll`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing to do before the next instruction.
    Run,
    /// An interrupt was taken: the pc is its handler's.
    Interrupted,
    /// The slice ends here.
    Stop(StopReason),
}

/// Where compiled code for the current pc would start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitEntry {
    /// Virtual pc.
    pub vpc: u64,
    /// Physical address of `vpc`.
    pub ppc: u64,
    /// RAM offset of `vpc`'s 4 KiB page.
    pub page_off: usize,
    /// Privilege (bits 0-1) and, in bit 2, whether loads and stores are
    /// untranslated: code compiled under one mode is wrong under another.
    pub mode: u8,
}

/// What [`Hart::unit_entry`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A unit may start here.
    Unit(UnitEntry),
    /// The pc is odd (only an RVC guest gets there): no compiled code.
    Odd,
    /// Fetching at the pc trapped; the pc is the handler's now.
    Trapped,
}

impl Hart {
    /// Check events if the clock has reached `next_event`: an exit request
    /// or the slice's `limit` stop the run; otherwise devices are synced and
    /// a pending, enabled interrupt is taken.
    #[inline(always)]
    pub fn poll(&mut self, bus: &Bus, limit: u64) -> Poll {
        if self.clock < self.next_event {
            return Poll::Run;
        }
        if bus.exit_pending() {
            return Poll::Stop(StopReason::ExitRequested);
        }
        if self.clock >= limit {
            return Poll::Stop(StopReason::Limit);
        }
        if self.paused {
            self.paused = false;
            self.pauses += 1;
            return Poll::Stop(StopReason::Paused);
        }
        self.sync_devices(bus);
        if let Some(interrupt) = self.pending_interrupt() {
            self.enter_trap(interrupt as u64, 0, true);
            return Poll::Interrupted;
        }
        self.next_event = self.next_event.min(limit);
        Poll::Run
    }

    /// Execute the instruction at the pc. `TRACE` writes it to stderr first.
    #[inline(always)]
    pub fn step<const TRACE: bool>(&mut self, mmu: &mut UnifiedMmu, bus: &Bus) -> Step {
        // Fetch: the fast path is one compare and one load.
        if self.pc >> 12 != self.fetch.vpn {
            if let Err(t) = self.refill_fetch(mmu, bus) {
                self.abort(mmu, bus, Abort::Trap(t));
                return Step::Trapped;
            }
        }
        let index = ((self.pc & 0xfff) >> 1) as usize;
        let mut d = self.fetch.get(index);
        if d.len == 0 {
            match self.decode_at(mmu, bus, index) {
                Ok(decoded) => d = decoded,
                Err(t) => {
                    self.abort(mmu, bus, Abort::Trap(t));
                    return Step::Trapped;
                }
            }
        }
        if TRACE {
            self.trace_inst(&d);
        }
        match self.execute(d.inst, d.len as u64, mmu, bus) {
            Ok(()) => {
                self.x[0] = 0;
                self.clock += 1;
                Step::Retired { ends_block: d.inst.ends_block() }
            }
            Err(Abort::Asleep) => Step::Asleep,
            Err(Abort::Park) => Step::Parked,
            Err(abort) => {
                self.abort(mmu, bus, abort);
                Step::Trapped
            }
        }
    }

    /// Execute instructions from the pc up to and including the next one
    /// that ends a block, or fewer (the clock reaching `next_event`, the pc
    /// leaving the fetch window's page, a slot not decoded yet, a trap, an
    /// instruction that may move `next_event`), exactly as [`Hart::step`]
    /// would one at a time: `Retired { ends_block }` describes the last.
    /// Natively, with untranslated data accesses, through the threaded
    /// handlers (`cpu/threaded.rs`); otherwise it is one [`Hart::step`] (in
    /// a paging mode each access's translation is reported per instruction,
    /// [`Hart::take_recent_translation`]).
    #[inline(always)]
    pub fn step_block(&mut self, mmu: &mut UnifiedMmu, bus: &Bus) -> Step {
        use super::threaded::{chain_length, Flow, BLOCK_HANDLERS, TABLE};
        if cfg!(target_arch = "wasm32") || !self.data_bare {
            return self.step::<false>(mmu, bus);
        }
        if self.pc >> 12 != self.fetch.vpn {
            if let Err(t) = self.refill_fetch(mmu, bus) {
                self.abort(mmu, bus, Abort::Trap(t));
                return Step::Trapped;
            }
        }
        let index = ((self.pc & 0xfff) >> 1) as usize;
        let mut d = self.fetch.get(index);
        if d.len == 0 {
            match self.decode_at(mmu, bus, index) {
                Ok(decoded) => d = decoded,
                Err(t) => {
                    self.abort(mmu, bus, Abort::Trap(t));
                    return Step::Trapped;
                }
            }
        }
        let left = chain_length(self.clock, self.next_event);
        match BLOCK_HANDLERS[d.inst.tag() as usize % TABLE](self, mmu, bus, d.inst, d.len, left) {
            Flow::Continue => Step::Retired { ends_block: false },
            Flow::BlockEnd => Step::Retired { ends_block: true },
            Flow::Trapped => Step::Trapped,
            Flow::Asleep => Step::Asleep,
            Flow::Parked => Step::Parked,
        }
    }

    /// The unit that starts at the pc, with the fetch window pointed at its
    /// page.
    #[inline(always)]
    pub fn unit_entry(&mut self, mmu: &mut UnifiedMmu, bus: &Bus) -> Entry {
        if self.pc >> 12 != self.fetch.vpn {
            if let Err(t) = self.refill_fetch(mmu, bus) {
                self.abort(mmu, bus, Abort::Trap(t));
                return Entry::Trapped;
            }
        }
        if self.pc & 1 != 0 {
            return Entry::Odd;
        }
        let page_off = self.fetch.ram_off;
        Entry::Unit(UnitEntry {
            vpc: self.pc,
            ppc: RAM_BASE + page_off as u64 + (self.pc & 0xfff),
            page_off,
            mode: self.privilege as u8 | if self.data_bare { 4 } else { 0 },
        })
    }

    /// Guest cycles compiled code may run before the next event.
    #[inline(always)]
    pub fn budget(&self) -> u64 {
        self.next_event - self.clock
    }

    /// The registers and pc, for compiled code to read and write. x0 must
    /// read 0 again after the call ([`Hart::retire_compiled`] sees to it).
    #[inline(always)]
    pub fn compiled_regs(&mut self) -> (&mut [u64; 32], &mut u64) {
        (&mut self.x, &mut self.pc)
    }

    /// Compiled code retired `n` instructions (within [`Hart::budget`]).
    #[inline(always)]
    pub fn retire_compiled(&mut self, n: u64) {
        self.x[0] = 0;
        self.clock += n;
    }

    /// The hart's translation epoch: it moves whenever data translations
    /// made before may no longer hold (satp, privilege, mstatus, sfence.vma).
    #[inline(always)]
    pub fn translation_epoch(&self) -> u64 {
        self.translation_epoch
    }

    /// The pc of the `jalr` (not a return) that the last instruction was,
    /// if it was one; the pc is now its target. Each is reported once.
    #[inline(always)]
    pub fn take_jump_site(&mut self) -> Option<u64> {
        self.jump_site.take()
    }

    /// The data translation the last instruction made in a paging mode, if
    /// any (each is reported once).
    #[inline(always)]
    pub fn take_recent_translation(&mut self) -> Option<RecentTranslation> {
        self.recent_translation.take()
    }
}
