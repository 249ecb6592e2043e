//! The dispatch loop with the JIT: at every unit entry (a pc reached by a
//! jump, a taken or not-taken branch, a trap, or an exit from compiled code)
//! ask the JIT for compiled code; run it if there is some, otherwise
//! interpret up to the next unit entry.
//!
//! The hart is driven only through its small interface (`cpu/step.rs`:
//! poll, step, unit entry, registers, budget); the JIT owns its state
//! block and copies the registers in and out of it here.
//!
//! Guest time stays exact: compiled code gets a budget of instructions that
//! ends at the next event (timer deadline, slice end), leaves at its entry or
//! a loop head when the budget cannot pay for the longest path to its next
//! check, and the interpreter runs the rest up to the event, so
//! interrupts are taken at the same instruction boundaries with and without
//! the JIT.
use super::{Jit, UnitKey};
use crate::cpu::{Entry, Hart, Poll, Step, StopReason, UnitEntry};
use crate::mem::{Bus, UnifiedMmu, RAM_BASE};

impl Jit {
    /// Run `hart` until the clock reaches `limit` (or it stops otherwise,
    /// as [`Hart::run`]), with compiled code where the JIT has it.
    pub fn run(
        &mut self,
        hart: &mut Hart,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        limit: u64,
    ) -> StopReason {
        if hart.trace {
            self.run_loop::<true>(hart, mmu, bus, limit)
        } else {
            self.run_loop::<false>(hart, mmu, bus, limit)
        }
    }

    fn run_loop<const TRACE: bool>(
        &mut self,
        hart: &mut Hart,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        limit: u64,
    ) -> StopReason {
        // Where the last run stopped, if it stopped in the middle of
        // something this run goes on with (same pc, same clock).
        let carried = self.paused.take().filter(|p| (p.pc, p.clock) == (hart.pc, hart.clock()));
        let mut at_entry = carried.is_none_or(|p| p.at_entry);
        // The interpreter runs one instruction for compiled code (a side
        // exit): the pc after it is a unit entry too, so compiled code
        // resumes at once instead of after the next jump or branch.
        let mut resume = carried.is_some_and(|p| p.resume);
        // A unit left because the budget could not pay for its first block
        // (a slice or quantum ends in a few instructions): the interpreter
        // runs without entering compiled code until the pc is back at that
        // unit's entry (a loop's next pass), a trap or interrupt, or
        // QUIET_MAX_INSNS. Entering at each block end on the way would make
        // a call per block and, since slices end anywhere, a unit of every
        // block of the loop (docs/DESIGN.md "Budget checks at the entry and
        // loop heads").
        let mut quiet = carried.and_then(|p| p.quiet);
        // A page in quarantine (code that keeps changing) and the clock it
        // lasts until: its units run interpreted without asking the JIT.
        let mut blocked: (u64, u64) = (u64::MAX, 0);
        loop {
            match hart.poll(bus, limit) {
                Poll::Run => {}
                Poll::Interrupted => {
                    (at_entry, quiet) = (true, None);
                    continue;
                }
                Poll::Stop(reason) => {
                    let (pc, clock) = (hart.pc, hart.clock());
                    self.paused = Some(Paused { pc, clock, at_entry, resume, quiet });
                    return reason;
                }
            }
            if at_entry {
                if let Some((entry_pc, until)) = quiet {
                    if hart.pc == entry_pc || hart.clock() >= until {
                        quiet = None;
                    }
                }
            }
            if at_entry && quiet.is_none() {
                if self.take_yield() {
                    return StopReason::Yield;
                }
                let entry = hart.unit_entry(mmu, bus);
                if entry == Entry::Trapped {
                    continue;
                }
                self.apply_invalidations(bus.ram(), hart.id(), hart.clock());
                match entry {
                    Entry::Trapped | Entry::Odd => {}
                    Entry::Unit(entry) => {
                        let page = RAM_BASE + entry.page_off as u64;
                        if page != blocked.0 || hart.clock() >= blocked.1 {
                            match self.run_compiled(hart, bus, entry) {
                                Some(Exit::Entry) => continue,
                                Some(Exit::Side) => {
                                    (at_entry, resume) = (false, true);
                                    continue;
                                }
                                Some(Exit::ShortBudget) => {
                                    quiet = Some((entry.vpc, hart.clock() + QUIET_MAX_INSNS));
                                    (at_entry, resume) = (false, false);
                                    continue;
                                }
                                None => {}
                            }
                            if let Some(hint) = self.take_block_hint() {
                                blocked = hint;
                            }
                        }
                    }
                }
            }
            // After a side exit exactly one instruction is the
            // interpreter's; otherwise it may run up to the block's end.
            let step = if TRACE || resume {
                hart.step::<TRACE>(mmu, bus)
            } else {
                hart.step_block(mmu, bus)
            };
            if let Some(fill) = hart.take_recent_translation() {
                self.fill_inline_tlb(fill, hart.translation_epoch(), bus.ram());
            }
            match step {
                Step::Retired { ends_block } => {
                    if ends_block {
                        if let Some(site) = hart.take_jump_site() {
                            self.jump_profile.record(site, hart.pc);
                        }
                    }
                    at_entry = resume || ends_block;
                    resume = false;
                }
                Step::Trapped => (at_entry, quiet) = (true, None),
                Step::Asleep => return StopReason::Asleep,
                Step::Parked => return StopReason::Parked,
            }
        }
    }

    /// Run compiled code for the unit at `entry` if the JIT has (or now
    /// compiles) some. Returns `None`, changing nothing, if not; otherwise
    /// how it left.
    fn run_compiled(&mut self, hart: &mut Hart, bus: &Bus, entry: UnitEntry) -> Option<Exit> {
        let key = UnitKey { vpc: entry.vpc, ppc: entry.ppc, mode: entry.mode };
        let (func, tier) =
            self.enter(key, bus.ram(), entry.page_off, hart.retired(), hart.clock())?;
        let budget = hart.budget();
        self.sync_inline_tlb(hart.translation_epoch());
        self.set_chain_mode(key.mode);
        let (x, _) = hart.compiled_regs();
        self.state_block().x = *x;
        let result = self.call(func, budget as i64);
        self.count_chained(hart.retired());
        let (x, pc) = hart.compiled_regs();
        let block = self.state_block();
        *x = block.x;
        *pc = block.pc;
        if self.config.miss_recompiles > 0 {
            self.drain_misses(key, bus.ram(), hart.clock());
        }
        let left = (result >> 1) as u64;
        let done = budget - left;
        hart.retire_compiled(done);
        self.count_retired(tier, done);
        Some(if result & 1 != 0 {
            Exit::Side
        } else if done == 0 {
            Exit::ShortBudget
        } else {
            Exit::Entry
        })
    }
}

/// The longest a hart runs interpreted after a unit found the budget too
/// short, waiting for the pc to come back to that unit's entry (a slice
/// end costs at most this many interpreted instructions; a loop's next
/// pass usually comes back far sooner).
const QUIET_MAX_INSNS: u64 = 512;

/// Where a run of the dispatcher stopped (`Jit::paused`), so that the next
/// run, if it starts there, goes on as this one would have.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paused {
    pc: u64,
    clock: u64,
    at_entry: bool,
    resume: bool,
    /// The entry of the unit that found the budget short, and the clock at
    /// which the hart stops waiting for it.
    quiet: Option<(u64, u64)>,
}

/// How compiled code left.
enum Exit {
    /// At a pc that starts a unit.
    Entry,
    /// A side exit: the instruction at the pc is for the interpreter, and
    /// the pc after it is a unit entry.
    Side,
    /// Nothing retired: the budget cannot pay for the unit's first block
    /// (its entry's budget check), so the interpreter runs up to the event.
    ShortBudget,
}
