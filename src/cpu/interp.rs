//! The interpreter: fetch through the decode cache, execute one `Inst`, take
//! traps and interrupts at instruction boundaries.
use super::fetch::{Decoded, FetchWindow};
use super::{csr, Exception, Hart, Interrupt, Poll, Reservation, Step, StopReason, Trap};
use crate::isa::alu::{self, sext32};
use crate::isa::{decode, disassemble, AmoOp, Inst};
use crate::mem::{
    AccessType, Bus, FaultKind, MemFault, Privilege, RecentTranslation, Stored, UnifiedMmu,
};

/// How an instruction ended other than by retiring normally.
pub(super) enum Abort {
    Trap(Trap),
    /// WFI with nothing able to wake the hart.
    Asleep,
    /// WFI on a hart of several with no interrupt pending: the hart waits
    /// (its vCPU parks) until another hart or the timer wakes it.
    Park,
}

impl From<Trap> for Abort {
    fn from(t: Trap) -> Self {
        Abort::Trap(t)
    }
}

type Exec = Result<(), Abort>;

/// The trap a memory fault raises.
pub(crate) fn fault_trap(f: MemFault) -> Trap {
    use AccessType::*;
    use Exception::*;
    let cause = match (f.kind, f.access) {
        (FaultKind::PageFault, Fetch) => InstructionPageFault,
        (FaultKind::PageFault, Load) => LoadPageFault,
        (FaultKind::PageFault, Store) => StorePageFault,
        (FaultKind::AccessFault, Fetch) => InstructionAccessFault,
        (FaultKind::AccessFault, Load) => LoadAccessFault,
        (FaultKind::AccessFault, Store) => StoreAccessFault,
        (FaultKind::Misaligned, Fetch) => InstructionAddressMisaligned,
        (FaultKind::Misaligned, Load) => LoadAddressMisaligned,
        (FaultKind::Misaligned, Store) => StoreAddressMisaligned,
    };
    Trap::new(cause, f.addr)
}

fn access_fault(access: AccessType, addr: u64) -> Trap {
    fault_trap(MemFault::new(FaultKind::AccessFault, access, addr))
}

fn misaligned(access: AccessType, addr: u64) -> Trap {
    fault_trap(MemFault::new(FaultKind::Misaligned, access, addr))
}

impl Hart {
    /// Run until the guest clock reaches `limit`, a device asks to stop, or
    /// the hart falls asleep for good. Interrupts are checked whenever
    /// `next_event` is reached; everything that can change them resets it.
    pub fn run(&mut self, mmu: &mut UnifiedMmu, bus: &Bus, limit: u64) -> StopReason {
        if self.trace {
            self.run_loop::<true>(mmu, bus, limit)
        } else if cfg!(target_arch = "wasm32") {
            // Without tail calls in the wasm build every handler's call to
            // the next is a real call_indirect: in V8 that ran cpubench at
            // 48 MIPS against 105 for the loop (BENCHMARKS.md, "Threaded
            // dispatch").
            self.run_loop::<false>(mmu, bus, limit)
        } else {
            self.run_threaded(mmu, bus, limit)
        }
    }

    /// [`Hart::run`] through the threaded handlers (`cpu::threaded`): the
    /// same polls, fetches and traps as `run_loop`, with each instruction's
    /// handler going on to the next.
    fn run_threaded(&mut self, mmu: &mut UnifiedMmu, bus: &Bus, limit: u64) -> StopReason {
        use super::threaded::{chain_length, Flow, HANDLERS, TABLE};
        loop {
            match self.poll(bus, limit) {
                Poll::Run => {}
                Poll::Interrupted => continue,
                Poll::Stop(reason) => return reason,
            }
            if self.pc >> 12 != self.fetch.vpn {
                if let Err(t) = self.refill_fetch(mmu, bus) {
                    self.abort(mmu, bus, Abort::Trap(t));
                    continue;
                }
            }
            let index = ((self.pc & 0xfff) >> 1) as usize;
            let mut d = self.fetch.get(index);
            if d.len == 0 {
                match self.decode_at(mmu, bus, index) {
                    Ok(decoded) => d = decoded,
                    Err(t) => {
                        self.abort(mmu, bus, Abort::Trap(t));
                        continue;
                    }
                }
            }
            let left = chain_length(self.clock, self.next_event);
            match HANDLERS[d.inst.tag() as usize % TABLE](self, mmu, bus, d.inst, d.len, left) {
                Flow::Continue | Flow::BlockEnd | Flow::Trapped => {}
                Flow::Asleep => return StopReason::Asleep,
                Flow::Parked => return StopReason::Parked,
            }
        }
    }

    fn run_loop<const TRACE: bool>(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        limit: u64,
    ) -> StopReason {
        loop {
            match self.poll(bus, limit) {
                Poll::Run => {}
                Poll::Interrupted => continue,
                Poll::Stop(reason) => return reason,
            }
            match self.step::<TRACE>(mmu, bus) {
                Step::Asleep => return StopReason::Asleep,
                Step::Parked => return StopReason::Parked,
                Step::Retired { .. } | Step::Trapped => {}
            }
        }
    }

    /// The instruction at the pc did not retire: take its trap.
    #[cold]
    pub(super) fn abort(&mut self, mmu: &mut UnifiedMmu, bus: &Bus, abort: Abort) {
        if let Abort::Trap(mut t) = abort {
            if t.cause == Exception::IllegalInstruction && t.tval == 0 {
                t.tval = self.raw_at_pc(mmu, bus) as u64;
            }
            self.take_trap(t);
        }
        self.x[0] = 0;
        self.clock += 1;
        self.trapped += 1;
    }

    pub(super) fn trace_inst(&self, d: &Decoded) {
        let p = match self.privilege {
            Privilege::Machine => 'M',
            Privilege::Supervisor => 'S',
            Privilege::User => 'U',
        };
        eprintln!("{:016x} [{p}] {}", self.pc, disassemble(&d.inst, self.pc));
    }

    /// Point the fetch window at the pc's page: translate (checking execute
    /// permission) and find or create its decode-cache page.
    #[cold]
    pub(super) fn refill_fetch(&mut self, mmu: &mut UnifiedMmu, bus: &Bus) -> Result<(), Trap> {
        self.dcache.apply_invalidations(bus.ram(), self.hart_id as usize);
        let pc = self.pc;
        let paddr = self.translate_fetch(mmu, bus, pc)?;
        let off = bus
            .ram()
            .offset_of(paddr & !0xfff, 4096)
            .ok_or_else(|| access_fault(AccessType::Fetch, pc))?;
        let slot = self.dcache.slot_for(bus.ram(), (off / 4096) as u32);
        let page = self.dcache.page_ptr(slot);
        self.fetch = FetchWindow { vpn: pc >> 12, slot, ram_off: off, page };
        Ok(())
    }

    fn translate_fetch(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
    ) -> Result<u64, Trap> {
        let ctx = self.fetch_ctx();
        if UnifiedMmu::is_bare(&ctx) {
            Ok(vaddr)
        } else {
            mmu.translate(bus.ram(), vaddr, AccessType::Fetch, &ctx).map_err(fault_trap)
        }
    }

    /// Decode the instruction at the pc into the current fetch page's slot
    /// `index`. An instruction that straddles two pages is decoded every time
    /// (it depends on two translations) and not cached.
    pub(super) fn decode_at(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        index: usize,
    ) -> Result<Decoded, Trap> {
        let off = self.fetch.ram_off + index * 2;
        let lo = bus.ram().read(off, 2) as u32;
        if lo & 3 == 3 && index == 2047 {
            let hi_vaddr = self.pc.wrapping_add(2);
            let paddr = self.translate_fetch(mmu, bus, hi_vaddr)?;
            let off2 = bus
                .ram()
                .offset_of(paddr, 2)
                .ok_or_else(|| access_fault(AccessType::Fetch, hi_vaddr))?;
            let raw = lo | ((bus.ram().read(off2, 2) as u32) << 16);
            let (inst, len) = decode(raw);
            return Ok(Decoded { inst, len });
        }
        let raw = if lo & 3 == 3 { bus.ram().read(off, 4) as u32 } else { lo };
        let (inst, len) = decode(raw);
        let d = Decoded { inst, len };
        self.dcache.set(self.fetch.slot, index, d);
        Ok(d)
    }

    /// The raw bits of the instruction at the pc, for mtval on illegal
    /// instructions (0 if it cannot be fetched).
    fn raw_at_pc(&mut self, mmu: &mut UnifiedMmu, bus: &Bus) -> u32 {
        let pc = self.pc;
        let mut half = |vaddr: u64| -> Option<u32> {
            let paddr = self.translate_fetch(mmu, bus, vaddr).ok()?;
            let off = bus.ram().offset_of(paddr, 2)?;
            Some(bus.ram().read(off, 2) as u32)
        };
        let Some(lo) = half(pc) else { return 0 };
        if lo & 3 != 3 {
            return lo;
        }
        lo | (half(pc.wrapping_add(2)).unwrap_or(0) << 16)
    }

    // ---------------------------------------------------------------- memory

    #[inline(always)]
    fn translate_data(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        access: AccessType,
    ) -> Result<u64, Trap> {
        if self.data_bare {
            Ok(vaddr)
        } else {
            let paddr =
                mmu.translate(bus.ram(), vaddr, access, &self.data_ctx).map_err(fault_trap)?;
            self.recent_translation = Some(RecentTranslation {
                vaddr,
                paddr,
                store: access != AccessType::Load,
                epoch: self.translation_epoch,
            });
            Ok(paddr)
        }
    }

    /// Load `size` bytes (zero-extended).
    #[inline(always)]
    fn load(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        size: u64,
    ) -> Result<u64, Trap> {
        if vaddr & (size - 1) != 0 {
            return self.load_misaligned(mmu, bus, vaddr, size);
        }
        let paddr = self.translate_data(mmu, bus, vaddr, AccessType::Load)?;
        bus.load(paddr, size, || self.now()).map_err(|_| access_fault(AccessType::Load, vaddr))
    }

    #[cold]
    fn load_misaligned(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        size: u64,
    ) -> Result<u64, Trap> {
        if mmu.config().strict_align {
            return Err(misaligned(AccessType::Load, vaddr));
        }
        // Carried out byte by byte, each byte translated: correct across pages.
        // Misaligned accesses to devices are refused. A fault reports the
        // address of the byte that faulted (priv spec 3.1.16: "the portion of
        // the access that caused the fault").
        let mut value = 0u64;
        for i in 0..size {
            let va = vaddr.wrapping_add(i);
            let paddr = self.translate_data(mmu, bus, va, AccessType::Load)?;
            let off =
                bus.ram().offset_of(paddr, 1).ok_or_else(|| access_fault(AccessType::Load, va))?;
            value |= bus.ram().read(off, 1) << (8 * i);
        }
        Ok(value)
    }

    /// Store the low `size` bytes of `val`.
    #[inline(always)]
    fn store(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        size: u64,
        val: u64,
    ) -> Result<(), Trap> {
        if vaddr & (size - 1) != 0 {
            return self.store_misaligned(mmu, bus, vaddr, size, val);
        }
        let paddr = self.translate_data(mmu, bus, vaddr, AccessType::Store)?;
        match bus.store(paddr, size, val, || self.now()) {
            Ok(stored) => {
                if stored.devices_changed {
                    self.count_ipi(paddr, val);
                }
                self.after_store(stored);
                Ok(())
            }
            Err(_) => {
                // A refused device store may still have changed device state.
                self.next_event = 0;
                Err(access_fault(AccessType::Store, vaddr))
            }
        }
    }

    #[cold]
    fn store_misaligned(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        size: u64,
        val: u64,
    ) -> Result<(), Trap> {
        if mmu.config().strict_align {
            return Err(misaligned(AccessType::Store, vaddr));
        }
        // Translate every byte first so a fault leaves memory unchanged.
        let mut offs = [0usize; 8];
        for i in 0..size {
            let va = vaddr.wrapping_add(i);
            let paddr = self.translate_data(mmu, bus, va, AccessType::Store)?;
            offs[i as usize] =
                bus.ram().offset_of(paddr, 1).ok_or_else(|| access_fault(AccessType::Store, va))?;
        }
        let stored = bus.store_bytes(&offs[..size as usize], val);
        self.after_store(stored);
        Ok(())
    }

    /// Count a device store that raised another hart's software interrupt.
    #[cold]
    fn count_ipi(&mut self, paddr: u64, val: u64) {
        use crate::mem::devices::clint;
        let off = paddr.wrapping_sub(clint::RANGE.start);
        if off < 4 * crate::mem::devices::MAX_HARTS as u64
            && val & 1 != 0
            && off / 4 != self.hart_id
        {
            self.ipis_sent += 1;
        }
    }

    /// A store that hit cached code empties the fetch window (the next fetch
    /// drops the stale decoded page); one that changed a device makes the
    /// next instruction check interrupts and exit requests.
    #[inline(always)]
    fn after_store(&mut self, stored: Stored) {
        if stored.code_written {
            self.fetch = FetchWindow::empty();
        }
        if stored.devices_changed {
            self.next_event = 0;
        }
    }

    /// Physical RAM offset for an atomic access (LR/SC/AMO): always aligned,
    /// always RAM.
    fn atomic_target(
        &mut self,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
        vaddr: u64,
        size: u64,
        access: AccessType,
    ) -> Result<(u64, usize), Trap> {
        if vaddr & (size - 1) != 0 {
            return Err(misaligned(access, vaddr));
        }
        let paddr = self.translate_data(mmu, bus, vaddr, access)?;
        let off = bus.ram().offset_of(paddr, size).ok_or_else(|| access_fault(access, vaddr))?;
        Ok((paddr, off))
    }

    // -------------------------------------------------------------- execute

    /// Execute one decoded instruction of `len` bytes at `self.pc`. On
    /// success the pc points at the next instruction; on a trap nothing
    /// architectural has changed.
    #[inline(always)]
    pub(super) fn execute(
        &mut self,
        inst: Inst,
        len: u64,
        mmu: &mut UnifiedMmu,
        bus: &Bus,
    ) -> Exec {
        use Inst::*;
        let pc = self.pc;
        let mut next = pc.wrapping_add(len);
        macro_rules! x {
            // The mask lets the compiler drop the bounds check (decoded
            // register numbers are < 32 anyway).
            ($r:expr) => {
                self.x[($r & 31) as usize]
            };
        }
        macro_rules! addr {
            ($rs1:expr, $imm:expr) => {
                x!($rs1).wrapping_add($imm as i64 as u64)
            };
        }
        macro_rules! branch {
            ($cond:expr, $imm:expr) => {
                if $cond {
                    next = pc.wrapping_add($imm as i64 as u64);
                }
            };
        }
        let imm = |i: i32| i as i64 as u64;
        match inst {
            Lui { rd, imm: i } => x!(rd) = imm(i),
            Auipc { rd, imm: i } => x!(rd) = alu::add(pc, imm(i)),
            Jal { rd, imm } => {
                x!(rd) = next;
                next = pc.wrapping_add(imm as i64 as u64);
            }
            Jalr { rd, rs1, imm } => {
                let target = addr!(rs1, imm) & !1;
                x!(rd) = next;
                next = target;
                if !crate::jit::jump_profile::is_return(rd, rs1) {
                    self.jump_site = Some(pc);
                }
            }
            Beq { rs1, rs2, imm } => branch!(x!(rs1) == x!(rs2), imm),
            Bne { rs1, rs2, imm } => branch!(x!(rs1) != x!(rs2), imm),
            Blt { rs1, rs2, imm } => branch!(alu::lt(x!(rs1), x!(rs2)), imm),
            Bge { rs1, rs2, imm } => branch!(!alu::lt(x!(rs1), x!(rs2)), imm),
            Bltu { rs1, rs2, imm } => branch!(alu::ltu(x!(rs1), x!(rs2)), imm),
            Bgeu { rs1, rs2, imm } => branch!(!alu::ltu(x!(rs1), x!(rs2)), imm),
            Lb { rd, rs1, imm } => x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 1)? as i8 as u64,
            Lh { rd, rs1, imm } => {
                x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 2)? as i16 as u64;
            }
            Lw { rd, rs1, imm } => x!(rd) = sext32(self.load(mmu, bus, addr!(rs1, imm), 4)?),
            Ld { rd, rs1, imm } => x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 8)?,
            Lbu { rd, rs1, imm } => x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 1)?,
            Lhu { rd, rs1, imm } => x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 2)?,
            Lwu { rd, rs1, imm } => x!(rd) = self.load(mmu, bus, addr!(rs1, imm), 4)?,
            Sb { rs1, rs2, imm } => self.store(mmu, bus, addr!(rs1, imm), 1, x!(rs2))?,
            Sh { rs1, rs2, imm } => self.store(mmu, bus, addr!(rs1, imm), 2, x!(rs2))?,
            Sw { rs1, rs2, imm } => self.store(mmu, bus, addr!(rs1, imm), 4, x!(rs2))?,
            Sd { rs1, rs2, imm } => self.store(mmu, bus, addr!(rs1, imm), 8, x!(rs2))?,
            Addi { rd, rs1, imm: i } => x!(rd) = alu::add(x!(rs1), imm(i)),
            Slti { rd, rs1, imm: i } => x!(rd) = alu::slt(x!(rs1), imm(i)),
            Sltiu { rd, rs1, imm: i } => x!(rd) = alu::sltu(x!(rs1), imm(i)),
            Slli { rd, rs1, imm: i } => x!(rd) = alu::sll(x!(rs1), imm(i)),
            Srli { rd, rs1, imm: i } => x!(rd) = alu::srl(x!(rs1), imm(i)),
            Srai { rd, rs1, imm: i } => x!(rd) = alu::sra(x!(rs1), imm(i)),
            Addiw { rd, rs1, imm: i } => x!(rd) = alu::addw(x!(rs1), imm(i)),
            Slliw { rd, rs1, imm: i } => x!(rd) = alu::sllw(x!(rs1), imm(i)),
            Srliw { rd, rs1, imm: i } => x!(rd) = alu::srlw(x!(rs1), imm(i)),
            Sraiw { rd, rs1, imm: i } => x!(rd) = alu::sraw(x!(rs1), imm(i)),
            Xori { rd, rs1, imm: i } => x!(rd) = x!(rs1) ^ imm(i),
            Ori { rd, rs1, imm: i } => x!(rd) = x!(rs1) | imm(i),
            Andi { rd, rs1, imm: i } => x!(rd) = x!(rs1) & imm(i),
            Add { rd, rs1, rs2 } => x!(rd) = alu::add(x!(rs1), x!(rs2)),
            Sub { rd, rs1, rs2 } => x!(rd) = alu::sub(x!(rs1), x!(rs2)),
            Sll { rd, rs1, rs2 } => x!(rd) = alu::sll(x!(rs1), x!(rs2)),
            Slt { rd, rs1, rs2 } => x!(rd) = alu::slt(x!(rs1), x!(rs2)),
            Sltu { rd, rs1, rs2 } => x!(rd) = alu::sltu(x!(rs1), x!(rs2)),
            Srl { rd, rs1, rs2 } => x!(rd) = alu::srl(x!(rs1), x!(rs2)),
            Sra { rd, rs1, rs2 } => x!(rd) = alu::sra(x!(rs1), x!(rs2)),
            Addw { rd, rs1, rs2 } => x!(rd) = alu::addw(x!(rs1), x!(rs2)),
            Subw { rd, rs1, rs2 } => x!(rd) = alu::subw(x!(rs1), x!(rs2)),
            Sllw { rd, rs1, rs2 } => x!(rd) = alu::sllw(x!(rs1), x!(rs2)),
            Srlw { rd, rs1, rs2 } => x!(rd) = alu::srlw(x!(rs1), x!(rs2)),
            Sraw { rd, rs1, rs2 } => x!(rd) = alu::sraw(x!(rs1), x!(rs2)),
            Xor { rd, rs1, rs2 } => x!(rd) = x!(rs1) ^ x!(rs2),
            Or { rd, rs1, rs2 } => x!(rd) = x!(rs1) | x!(rs2),
            And { rd, rs1, rs2 } => x!(rd) = x!(rs1) & x!(rs2),
            Mul { rd, rs1, rs2 } => x!(rd) = alu::mul(x!(rs1), x!(rs2)),
            Mulh { rd, rs1, rs2 } => x!(rd) = alu::mulh(x!(rs1), x!(rs2)),
            Mulhsu { rd, rs1, rs2 } => x!(rd) = alu::mulhsu(x!(rs1), x!(rs2)),
            Mulhu { rd, rs1, rs2 } => x!(rd) = alu::mulhu(x!(rs1), x!(rs2)),
            Div { rd, rs1, rs2 } => x!(rd) = alu::div(x!(rs1), x!(rs2)),
            Divu { rd, rs1, rs2 } => x!(rd) = alu::divu(x!(rs1), x!(rs2)),
            Rem { rd, rs1, rs2 } => x!(rd) = alu::rem(x!(rs1), x!(rs2)),
            Remu { rd, rs1, rs2 } => x!(rd) = alu::remu(x!(rs1), x!(rs2)),
            Mulw { rd, rs1, rs2 } => x!(rd) = alu::mulw(x!(rs1), x!(rs2)),
            Divw { rd, rs1, rs2 } => x!(rd) = alu::divw(x!(rs1), x!(rs2)),
            Divuw { rd, rs1, rs2 } => x!(rd) = alu::divuw(x!(rs1), x!(rs2)),
            Remw { rd, rs1, rs2 } => x!(rd) = alu::remw(x!(rs1), x!(rs2)),
            Remuw { rd, rs1, rs2 } => x!(rd) = alu::remuw(x!(rs1), x!(rs2)),
            // With other harts (on other threads) a fence orders this
            // hart's loads and stores for them. RAM's accesses are relaxed
            // atomics, so this takes a host fence (the one that keeps a
            // store from passing a later load, which TSO hosts allow).
            // PAUSE may also end the slice at the next poll: a spinning
            // hart gives its worker (or host CPU) to the hart it waits for.
            Fence { .. } if self.smp => {
                std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
                if self.pause_yields && inst.is_pause() {
                    self.paused = true;
                    self.next_event = 0;
                }
            }
            Fence { .. } => {}
            FenceI => {
                bus.ram().invalidate_code();
                self.fetch = FetchWindow::empty();
            }
            Ecall => {
                let cause = match self.privilege {
                    Privilege::User => Exception::EcallFromU,
                    Privilege::Supervisor => Exception::EcallFromS,
                    Privilege::Machine => Exception::EcallFromM,
                };
                return Err(Trap::new(cause, 0).into());
            }
            Ebreak => return Err(Trap::new(Exception::Breakpoint, pc).into()),
            Mret => {
                if self.privilege != Privilege::Machine {
                    return Err(Trap::illegal(0).into());
                }
                next = self.csr.mepc;
                self.mret();
            }
            Sret => {
                let tsr = self.csr.mstatus & csr::MSTATUS_TSR != 0;
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && tsr)
                {
                    return Err(Trap::illegal(0).into());
                }
                next = self.csr.sepc;
                self.sret();
            }
            Wfi => {
                let tw = self.csr.mstatus & csr::MSTATUS_TW != 0;
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && tw)
                {
                    return Err(Trap::illegal(0).into());
                }
                self.wait_for_interrupt(bus)?;
            }
            // The GC extension works on untranslated addresses, so it is
            // illegal under translation. Every hart's registers are roots:
            // the other harts' as they published them at their last
            // quantum end, which holds only while they do not run, so on
            // a machine of several harts it is illegal unless they all
            // share one worker.
            Gc { op, rd, rs1, rs2 } => {
                let legal = self.data_bare && (!self.smp || self.gc_one_worker);
                let Some(gc) = bus.gc().filter(|_| legal) else {
                    return Err(Trap::illegal(0).into());
                };
                let (a, b) = (x!(rs1), x!(rs2));
                let hart = self.hart_id as usize;
                let v = gc.execute_for(hart, bus.ram(), op, a, b, &self.x, self.retired());
                x!(rd) = v;
                // The collector wrote RAM (zeroed objects; with gc.verify
                // poisoned freed ones): fetch through a fresh window.
                self.fetch = FetchWindow::empty();
            }
            SfenceVma { rs1, rs2 } => {
                let tvm = self.csr.mstatus & csr::MSTATUS_TVM != 0;
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && tvm)
                {
                    return Err(Trap::illegal(0).into());
                }
                let vaddr = (rs1 != 0).then(|| x!(rs1));
                let asid = (rs2 != 0).then(|| x!(rs2) as u16);
                mmu.sfence_vma(vaddr, asid);
                self.retranslate(true);
            }
            Csrrw { rd, rs1, csr } => self.csr_op(csr, rd, Some(x!(rs1)), |_, v| v)?,
            Csrrs { rd, rs1, csr } => {
                self.csr_op(csr, rd, (rs1 != 0).then(|| x!(rs1)), |old, v| old | v)?
            }
            Csrrc { rd, rs1, csr } => {
                self.csr_op(csr, rd, (rs1 != 0).then(|| x!(rs1)), |old, v| old & !v)?
            }
            Csrrwi { rd, uimm, csr } => self.csr_op(csr, rd, Some(uimm as u64), |_, v| v)?,
            Csrrsi { rd, uimm, csr } => {
                self.csr_op(csr, rd, (uimm != 0).then_some(uimm as u64), |old, v| old | v)?
            }
            Csrrci { rd, uimm, csr } => {
                self.csr_op(csr, rd, (uimm != 0).then_some(uimm as u64), |old, v| old & !v)?
            }
            Lr { rd, rs1, double, .. } => {
                let size = if double { 8 } else { 4 };
                let (paddr, off) = self.atomic_target(mmu, bus, x!(rs1), size, AccessType::Load)?;
                let v = bus.ram().read(off, size);
                x!(rd) = if double { v } else { sext32(v) };
                self.reservation = Some(Reservation { paddr, value: v });
            }
            Sc { rd, rs1, rs2, double, .. } => {
                let size = if double { 8 } else { 4 };
                let (paddr, off) =
                    self.atomic_target(mmu, bus, x!(rs1), size, AccessType::Store)?;
                // The reservation holds if the word still has the value LR
                // read: a compare-exchange against it, atomic between harts.
                let ok = match self.reservation.take() {
                    Some(r) if r.paddr == paddr => {
                        let new = if double { x!(rs2) } else { x!(rs2) & 0xffff_ffff };
                        let (stored, code) = bus.ram().compare_exchange(off, size, r.value, new);
                        self.after_store(Stored { code_written: code, devices_changed: false });
                        stored
                    }
                    _ => false,
                };
                x!(rd) = (!ok) as u64;
            }
            Amo { op, rd, rs1, rs2, double, .. } => {
                let size = if double { 8 } else { 4 };
                let (_, off) = self.atomic_target(mmu, bus, x!(rs1), size, AccessType::Store)?;
                let src = if double { x!(rs2) } else { sext32(x!(rs2)) };
                // One atomic read-modify-write (a compare-exchange loop): the
                // operation happens at once for every other hart.
                let (raw, code) = bus.ram().fetch_update(off, size, |raw| {
                    let old = if double { raw } else { sext32(raw) };
                    let new = match op {
                        AmoOp::Swap => src,
                        AmoOp::Add => old.wrapping_add(src),
                        AmoOp::Xor => old ^ src,
                        AmoOp::And => old & src,
                        AmoOp::Or => old | src,
                        AmoOp::Min => (old as i64).min(src as i64) as u64,
                        AmoOp::Max => (old as i64).max(src as i64) as u64,
                        // Sign-extended 32-bit values compare as unsigned
                        // 64-bit values the way their low halves compare as u32.
                        AmoOp::Minu => old.min(src),
                        AmoOp::Maxu => old.max(src),
                    };
                    if double {
                        new
                    } else {
                        new & 0xffff_ffff
                    }
                });
                self.after_store(Stored { code_written: code, devices_changed: false });
                x!(rd) = if double { raw } else { sext32(raw) };
            }
            Illegal { raw } => return Err(Trap::illegal(raw).into()),
        }
        self.pc = next;
        Ok(())
    }

    /// Zicsr read-modify-write. `src` is None when the instruction must not
    /// write (CSRRS/CSRRC with x0 or a zero immediate).
    fn csr_op(
        &mut self,
        csr: u16,
        rd: u8,
        src: Option<u64>,
        combine: impl Fn(u64, u64) -> u64,
    ) -> Result<(), Trap> {
        let old = self.csr_read(csr).ok_or(Trap::illegal(0))?;
        if let Some(v) = src {
            match self.csr_write(csr, combine(old, v)).ok_or(Trap::illegal(0))? {
                csr::CsrEffect::None => {}
                csr::CsrEffect::Interrupts => self.next_event = 0,
                csr::CsrEffect::Translation => self.update_translation(),
            }
        }
        self.x[rd as usize] = old;
        Ok(())
    }

    /// MRET (priv spec 3.3.2).
    fn mret(&mut self) {
        let ms = self.csr.mstatus;
        let mpp = super::privilege_from_bits((ms & csr::MSTATUS_MPP) >> csr::MSTATUS_MPP_SHIFT);
        let mut v = ms & !(csr::MSTATUS_MIE | csr::MSTATUS_MPP);
        if ms & csr::MSTATUS_MPIE != 0 {
            v |= csr::MSTATUS_MIE;
        }
        v |= csr::MSTATUS_MPIE;
        if mpp != Privilege::Machine {
            v &= !csr::MSTATUS_MPRV;
        }
        self.csr.mstatus = v;
        self.privilege = mpp;
        self.update_translation();
    }

    /// SRET (priv spec 3.3.2).
    fn sret(&mut self) {
        let ms = self.csr.mstatus;
        let spp = if ms & csr::MSTATUS_SPP != 0 { Privilege::Supervisor } else { Privilege::User };
        let mut v = ms & !(csr::MSTATUS_SIE | csr::MSTATUS_SPP | csr::MSTATUS_MPRV);
        if ms & csr::MSTATUS_SPIE != 0 {
            v |= csr::MSTATUS_SIE;
        }
        v |= csr::MSTATUS_SPIE;
        self.csr.mstatus = v;
        self.privilege = spp;
        self.update_translation();
    }

    /// WFI: return at once if an enabled interrupt is pending (whatever the
    /// global enables say); otherwise move guest time forward to the next
    /// timer interrupt. With no enabled source that could ever fire, return
    /// at once if some interrupt is pending all the same (priv spec 3.3.3 lets
    /// WFI resume for any reason, and Spike resumes here); with nothing
    /// pending either, the hart can never wake.
    fn wait_for_interrupt(&mut self, bus: &Bus) -> Result<(), Abort> {
        self.sync_devices(bus);
        let timer_at = self.next_event;
        self.next_event = 0;
        if self.mip() & self.csr.mie != 0 {
            return Ok(());
        }
        // With host time a parked hart's deadline (in guest cycles) would
        // mean nothing: a hart waiting for its timer keeps looking instead.
        let timer_armed = self.csr.mie & Interrupt::MachineTimer.bit() != 0 && timer_at != u64::MAX;
        if self.smp && self.mip() == 0 && !(self.host_time_base.is_some() && timer_armed) {
            // Other harts run on: wait for them (an IPI) or for the timer,
            // whose deadline the scheduler watches. The wfi executes again
            // when the vCPU wakes, and retires if an interrupt is pending.
            // (Pending but disabled resumes at once, as below for one hart:
            // parking would be woken at once by the pending msip, forever.)
            let timer = self.csr.mie & Interrupt::MachineTimer.bit() != 0 && timer_at != u64::MAX;
            self.park_deadline = if timer { timer_at } else { u64::MAX };
            return Err(Abort::Park);
        }
        if self.csr.mie & Interrupt::MachineTimer.bit() != 0 && timer_at != u64::MAX {
            // The loop adds one cycle after this instruction.
            let wake = timer_at.saturating_sub(1);
            if wake > self.clock {
                self.skipped += wake - self.clock;
                self.clock = wake;
            }
            return Ok(());
        }
        if self.mip() != 0 {
            return Ok(());
        }
        Err(Abort::Asleep)
    }
}
