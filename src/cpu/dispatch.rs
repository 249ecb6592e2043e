//! The dispatch loop with the JIT: at every unit entry (a pc reached by a
//! jump, a taken or not-taken branch, a trap, or an exit from compiled code)
//! ask the JIT for compiled code; run it if there is some, otherwise
//! interpret up to the next unit entry.
//!
//! Guest time stays exact: compiled code gets a budget of instructions that
//! ends at the next event (timer deadline, slice end), leaves before a block
//! that does not fit, and the interpreter runs the rest up to the event, so
//! interrupts are taken at the same instruction boundaries with and without
//! the JIT.
use super::interp::Abort;
use super::{Hart, StopReason};
use crate::jit::layout::state;
use crate::jit::{Jit, UnitKey};
use crate::mem::devices::Devices;
use crate::mem::{UnifiedMmu, RAM_BASE};

impl Hart {
    /// As [`Hart::run`], with compiled code where the JIT has it.
    pub fn run_with_jit(
        &mut self,
        mmu: &mut UnifiedMmu,
        dev: &mut Devices,
        limit: u64,
        jit: &mut Jit,
    ) -> StopReason {
        if self.trace {
            self.jit_loop::<true>(mmu, dev, limit, jit)
        } else {
            self.jit_loop::<false>(mmu, dev, limit, jit)
        }
    }

    fn jit_loop<const TRACE: bool>(
        &mut self,
        mmu: &mut UnifiedMmu,
        dev: &mut Devices,
        limit: u64,
        jit: &mut Jit,
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
            if self.clock >= self.next_event {
                if dev.exit_request().is_some() {
                    return StopReason::ExitRequested;
                }
                if self.clock >= limit {
                    return StopReason::Limit;
                }
                self.sync_devices(dev);
                if let Some(interrupt) = self.pending_interrupt() {
                    self.enter_trap(interrupt as u64, 0, true);
                    at_entry = true;
                    continue;
                }
                self.next_event = self.next_event.min(limit);
            }
            if self.pc >> 12 != self.fetch.vpn {
                if let Err(t) = self.refill_fetch(mmu) {
                    self.abort(mmu, Abort::Trap(t));
                    at_entry = true;
                    continue;
                }
            }
            if at_entry {
                if jit.take_yield() {
                    return StopReason::Yield;
                }
                jit.apply_invalidations(mmu.ram_mut(), self.clock);
                let page = RAM_BASE + self.fetch.ram_off as u64;
                if self.pc & 1 == 0 && (page != blocked.0 || self.clock >= blocked.1) {
                    if let Some(next_is_entry) = self.try_compiled(mmu, jit) {
                        at_entry = next_is_entry;
                        resume = !next_is_entry;
                        continue;
                    }
                    if let Some(hint) = jit.take_block_hint() {
                        blocked = hint;
                    }
                }
            }
            let index = ((self.pc & 0xfff) >> 1) as usize;
            let mut d = self.fetch.get(index);
            if d.len == 0 {
                match self.decode_at(mmu, index) {
                    Ok(decoded) => d = decoded,
                    Err(t) => {
                        self.abort(mmu, Abort::Trap(t));
                        at_entry = true;
                        continue;
                    }
                }
            }
            if TRACE {
                self.trace_inst(&d);
            }
            let result = self.execute(d.inst, d.len as u64, mmu, dev);
            if self.data_fill.is_some() {
                if let Some(fill) = self.data_fill.take() {
                    jit.fill_inline_tlb(fill, self.translation_epoch, mmu.ram());
                }
            }
            match result {
                Ok(()) => {
                    self.x[0] = 0;
                    self.clock += 1;
                    at_entry = resume || d.inst.ends_block();
                    resume = false;
                }
                Err(Abort::Asleep) => return StopReason::Asleep,
                Err(abort) => {
                    self.abort(mmu, abort);
                    at_entry = true;
                }
            }
        }
    }

    /// Run compiled code for the unit at the pc if the JIT has (or now
    /// compiles) some. Returns `None`, changing nothing, if not; otherwise
    /// whether the new pc is a unit entry (false after a side exit, whose
    /// instruction the interpreter must run, and when the budget was too
    /// small for the unit's first block).
    fn try_compiled(&mut self, mmu: &mut UnifiedMmu, jit: &mut Jit) -> Option<bool> {
        let page_off = self.fetch.ram_off;
        let key = UnitKey {
            vpc: self.pc,
            ppc: RAM_BASE + page_off as u64 + (self.pc & 0xfff),
            mode: self.privilege as u8 | if self.data_bare { 4 } else { 0 },
        };
        let retired = self.retired();
        let (func, tier) = jit.enter(key, mmu.ram_mut(), page_off, retired, self.clock)?;
        let budget = self.next_event - self.clock;
        jit.sync_inline_tlb(self.translation_epoch);
        let st = jit.state_ptr();
        // SAFETY: the state block holds 32 registers and the pc (layout
        // invariant); nothing else accesses it during the call.
        unsafe {
            std::ptr::copy_nonoverlapping(self.x.as_ptr(), st.add(state::X as usize / 8), 32);
        }
        let result = jit.call(func, budget as i64);
        // SAFETY: as above.
        unsafe {
            std::ptr::copy_nonoverlapping(st.add(state::X as usize / 8), self.x.as_mut_ptr(), 32);
            self.pc = *st.add(state::PC as usize / 8);
        }
        self.x[0] = 0;
        let left = (result >> 1) as u64;
        let done = budget - left;
        self.clock += done;
        jit.count_retired(tier, done);
        let side_exit = result & 1 != 0;
        Some(!side_exit && done > 0)
    }
}
