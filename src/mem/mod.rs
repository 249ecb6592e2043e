//! Guest memory (the tuning guide's `vm_mem`): physical RAM, the devices on the
//! bus, and the `UnifiedMmu` that translates guest virtual addresses through
//! Sv39 page tables and TLBs.
//!
//! Architecture invariant: `mem` knows nothing about harts or the interpreter.
//! Faults are values ([`MemFault`]) that `cpu` turns into traps.

pub mod barrier;
mod bus;
pub mod devices;
mod mmu;
mod prefetch;
mod ram;
pub mod sv39;
mod tlb;
mod zeroed;

pub use bus::{Bus, Stored};
pub use mmu::{
    ConcurrentTlbConfig, MmuConfigError, MmuOptimizationStrategy, MultiLevelTlbConfig,
    TlbLevelStats, TlbStats, UnifiedMmu, UnifiedMmuConfig, HYBRID_MAX_CONTENDED, HYBRID_WINDOW,
};
pub use ram::{
    CodeConsumer, ExternalRam, Ram, RamView, PAGE_BARRIER, PAGE_CODE, PAGE_DEVICE, RAM_BASE,
};
pub use zeroed::ZeroedRegion;

/// A data translation a hart just made under Sv39, reported so that a cache
/// of translations outside the MMU (the JIT's inline TLB) can be filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecentTranslation {
    pub vaddr: u64,
    pub paddr: u64,
    /// The access was a store (so the page is writable and dirty).
    pub store: bool,
    /// The hart's translation epoch when it was made.
    pub epoch: u64,
}

/// Why memory is being accessed; decides which fault is raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessType {
    Fetch,
    Load,
    Store,
}

/// Privilege level as far as translation cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    User = 0,
    Supervisor = 1,
    Machine = 3,
}

/// Everything a translation depends on besides the address.
///
/// `privilege` is the *effective* privilege for this access (for loads and
/// stores the cpu applies mstatus.MPRV/MPP before calling the MMU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranslationContext {
    /// The satp CSR (MODE in bits 63:60, ASID in 59:44, PPN in 43:0).
    pub satp: u64,
    pub privilege: Privilege,
    /// mstatus.SUM: S-mode may access U pages (not execute them).
    pub sum: bool,
    /// mstatus.MXR: loads from executable-only pages succeed.
    pub mxr: bool,
}

/// What went wrong with one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Sv39 said no: invalid PTE, permission, non-canonical address.
    PageFault,
    /// Nothing at that physical address, or the device refused the access.
    AccessFault,
    /// Misaligned access that the configuration does not carry out.
    Misaligned,
}

/// A failed memory access; `addr` is the faulting *virtual* address that goes
/// into mtval/stval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    pub kind: FaultKind,
    pub access: AccessType,
    pub addr: u64,
}

impl MemFault {
    pub fn new(kind: FaultKind, access: AccessType, addr: u64) -> Self {
        MemFault { kind, access, addr }
    }
}
