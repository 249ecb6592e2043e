//! Shared helper of the `mmu_*` tests: an MMU plus a bump allocator that
//! builds Sv39 page tables in its RAM.
#![allow(dead_code)] // each test file uses a different part

use tunevm::mem::sv39::{PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use tunevm::mem::{
    AccessType, MemFault, MmuOptimizationStrategy, Privilege, Ram, TranslationContext, UnifiedMmu,
    UnifiedMmuConfig, RAM_BASE,
};

pub const RAM_BYTES: usize = 64 << 20;
/// Page tables are allocated from here up; data pages live below.
const TABLES_START: u64 = RAM_BASE + (48 << 20);

/// Common leaf flag sets.
pub const RWX: u8 = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
pub const RW: u8 = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
pub const URW: u8 = RW | PTE_U;

pub struct Vm {
    pub mmu: UnifiedMmu,
    pub ram: Ram,
    next_table: u64,
}

impl Vm {
    pub fn new(config: UnifiedMmuConfig) -> Vm {
        Vm {
            mmu: UnifiedMmu::new(RAM_BYTES, false, config),
            ram: Ram::new(RAM_BYTES),
            next_table: TABLES_START,
        }
    }

    /// An MMU of `strategy` with prefetch off (so tests see demand behaviour only).
    pub fn with_strategy(strategy: MmuOptimizationStrategy) -> Vm {
        Vm::new(UnifiedMmuConfig { strategy, enable_prefetch: false, ..Default::default() })
    }

    /// A zeroed page for a page table.
    pub fn new_table(&mut self) -> u64 {
        let t = self.next_table;
        self.next_table += 4096;
        assert!(t + 4096 <= RAM_BASE + RAM_BYTES as u64, "test ran out of page-table space");
        t
    }

    pub fn read_pte(&self, addr: u64) -> u64 {
        self.ram.read(self.ram.offset_of(addr, 8).unwrap(), 8)
    }

    pub fn write_pte(&mut self, addr: u64, pte: u64) {
        let off = self.ram.offset_of(addr, 8).unwrap();
        self.ram.write(off, 8, pte);
    }

    /// Address of the PTE for `vaddr` at `level` under `root`, creating the
    /// intermediate tables on the way.
    pub fn pte_addr(&mut self, root: u64, vaddr: u64, level: usize) -> u64 {
        let mut table = root;
        for l in (level + 1..3).rev() {
            let addr = table + ((vaddr >> (12 + 9 * l)) & 0x1FF) * 8;
            let pte = self.read_pte(addr);
            if pte & PTE_V as u64 == 0 {
                let next = self.new_table();
                self.write_pte(addr, (next >> 12) << 10 | PTE_V as u64);
                table = next;
            } else {
                table = (pte >> 10) << 12;
            }
        }
        table + ((vaddr >> (12 + 9 * level)) & 0x1FF) * 8
    }

    /// Map the page of `vaddr` (4 KiB at level 0, 2 MiB at 1, 1 GiB at 2) to
    /// `paddr` with leaf `flags`; returns the leaf PTE's address.
    pub fn map(&mut self, root: u64, vaddr: u64, paddr: u64, flags: u8, level: usize) -> u64 {
        let addr = self.pte_addr(root, vaddr, level);
        self.write_pte(addr, (paddr >> 12) << 10 | flags as u64);
        addr
    }

    pub fn translate(
        &mut self,
        ctx: &TranslationContext,
        vaddr: u64,
        access: AccessType,
    ) -> Result<u64, MemFault> {
        self.mmu.translate(&self.ram, vaddr, access, ctx)
    }
}

/// satp for Sv39 with `root` and `asid`.
pub fn satp(root: u64, asid: u16) -> u64 {
    8 << 60 | (asid as u64) << 44 | root >> 12
}

pub fn ctx(root: u64, asid: u16, privilege: Privilege) -> TranslationContext {
    TranslationContext { satp: satp(root, asid), privilege, sum: false, mxr: false }
}

pub const STRATEGIES: [MmuOptimizationStrategy; 2] =
    [MmuOptimizationStrategy::MultiLevel, MmuOptimizationStrategy::Concurrent];
