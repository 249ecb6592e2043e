//! A vCPU: one hart with the translation state and the JIT that belong to
//! it alone. The machine's vCPUs share the [`Bus`] (RAM and devices); each
//! runs on whichever worker the pool gives it, so a `Vcpu` is `Send`.
use crate::cpu::{Hart, StopReason};
use crate::jit::Jit;
use crate::mem::{Bus, UnifiedMmu};

/// One hart, its MMU (private TLBs) and its JIT (private code cache and
/// state block; compiled code of one vCPU is never run by another).
pub struct Vcpu {
    pub hart: Hart,
    /// The hart's address translation (TLBs, prefetcher).
    pub mmu: UnifiedMmu,
    /// The JIT, when `jit.enabled`.
    pub jit: Option<Jit>,
    /// How the scheduler treated this vCPU (multi-hart runs).
    pub stats: VcpuStats,
}

/// What the pool measured of one vCPU; the report's `smp.vcpus` entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VcpuStats {
    /// Host time spent running its quanta, in ns.
    pub running_ns: u64,
    /// Host time spent parked in wfi, in ns.
    pub parked_ns: u64,
    /// Quanta run (times a worker picked the vCPU up).
    pub quanta: u64,
    /// Times the vCPU left its worker before the run ended: at the end of a
    /// quantum or to park.
    pub switches: u64,
    /// Times it parked in wfi.
    pub parks: u64,
}

impl Vcpu {
    /// Run until the hart's clock reaches `limit` (or it stops earlier:
    /// exit request, wfi, a JIT yield).
    pub fn run_until(&mut self, bus: &Bus, limit: u64) -> StopReason {
        match self.jit.as_mut() {
            Some(jit) => jit.run(&mut self.hart, &mut self.mmu, bus, limit),
            None => self.hart.run(&mut self.mmu, bus, limit),
        }
    }
}
