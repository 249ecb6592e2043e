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
        let mut at_entry = true;
        // The interpreter runs one instruction for compiled code (a side
        // exit): the pc after it is a unit entry too, so compiled code
        // resumes at once instead of after the next jump or branch.
        let mut resume = false;
        // A page in quarantine (code that keeps changing) and the clock it
        // lasts until: its units run interpreted without asking the JIT.
        let mut blocked: (u64, u64) = (u64::MAX, 0);
        loop {
            match hart.poll(bus, limit) {
                Poll::Run => {}
                Poll::Interrupted => {
                    at_entry = true;
                    continue;
                }
                Poll::Stop(reason) => return reason,
            }
            if at_entry {
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
                            if let Some(next_is_entry) = self.run_compiled(hart, bus, entry) {
                                at_entry = next_is_entry;
                                resume = !next_is_entry;
                                continue;
                            }
                            if let Some(hint) = self.take_block_hint() {
                                blocked = hint;
                            }
                        }
                    }
                }
            }
            let step = hart.step::<TRACE>(mmu, bus);
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
                Step::Trapped => at_entry = true,
                Step::Asleep => return StopReason::Asleep,
                Step::Parked => return StopReason::Parked,
            }
        }
    }

    /// Run compiled code for the unit at `entry` if the JIT has (or now
    /// compiles) some. Returns `None`, changing nothing, if not; otherwise
    /// whether the new pc is a unit entry (false after a side exit, whose
    /// instruction the interpreter must run, and when the budget was too
    /// small for the unit's first block).
    fn run_compiled(&mut self, hart: &mut Hart, bus: &Bus, entry: UnitEntry) -> Option<bool> {
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
        let left = (result >> 1) as u64;
        let done = budget - left;
        hart.retire_compiled(done);
        self.count_retired(tier, done);
        let side_exit = result & 1 != 0;
        Some(!side_exit && done > 0)
    }
}
