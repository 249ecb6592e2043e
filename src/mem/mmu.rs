//! `UnifiedMmu`: owns guest RAM and translates virtual addresses (Sv39) through
//! the TLB organisation chosen by [`MmuOptimizationStrategy`], with an optional
//! stride prefetcher.
use serde::{Deserialize, Serialize};

use super::{AccessType, FaultKind, MemFault, Privilege, Ram, TranslationContext};

/// How TLBs are organised (the tuning guide's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MmuOptimizationStrategy {
    /// A small L1 backed by a larger set-associative L2, private to one hart.
    MultiLevel,
    /// One sharded TLB that several harts can share (a lock per shard).
    Concurrent,
    /// Chooses between the two when the MMU is built and reports its choice.
    #[default]
    Hybrid,
}

/// Sizes of the MultiLevel TLB.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiLevelTlbConfig {
    /// L1 entries (fully associative). Default 16.
    pub l1_entries: usize,
    /// L2 entries in total. Default 512.
    pub l2_entries: usize,
    /// L2 associativity (ways per set). Default 4.
    pub l2_ways: usize,
}

impl Default for MultiLevelTlbConfig {
    fn default() -> Self {
        MultiLevelTlbConfig { l1_entries: 16, l2_entries: 512, l2_ways: 4 }
    }
}

/// Sizes of the Concurrent (sharded) TLB.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcurrentTlbConfig {
    /// Entries in total over all shards. Default 512.
    pub entries: usize,
    /// Number of independently locked shards. Default 8.
    pub shards: usize,
}

impl Default for ConcurrentTlbConfig {
    fn default() -> Self {
        ConcurrentTlbConfig { entries: 512, shards: 8 }
    }
}

/// The tuning guide's MMU configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnifiedMmuConfig {
    pub strategy: MmuOptimizationStrategy,
    pub multilevel_tlb_config: MultiLevelTlbConfig,
    pub concurrent_tlb_config: ConcurrentTlbConfig,
    /// Walk ahead of a detected stride of TLB misses. Default true.
    pub enable_prefetch: bool,
    /// How many recent miss pages the stride detector looks at. Default 100.
    pub prefetch_history_window: usize,
    /// How many pages ahead of the stride to walk. Default 4.
    pub prefetch_distance: usize,
    /// Misaligned loads/stores trap (true) or are carried out (false). Default false.
    pub strict_align: bool,
}

impl Default for UnifiedMmuConfig {
    fn default() -> Self {
        UnifiedMmuConfig {
            strategy: MmuOptimizationStrategy::Hybrid,
            multilevel_tlb_config: MultiLevelTlbConfig::default(),
            concurrent_tlb_config: ConcurrentTlbConfig::default(),
            enable_prefetch: true,
            prefetch_history_window: 100,
            prefetch_distance: 4,
            strict_align: false,
        }
    }
}

/// Counters of one TLB level.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TlbLevelStats {
    /// "l1", "l2" or "shared".
    pub name: String,
    pub lookups: u64,
    pub hits: u64,
}

/// Counters of the whole MMU since it was built (or last reset).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TlbStats {
    /// Translations performed in a paging mode (bare-mode accesses are not lookups).
    pub lookups: u64,
    /// Lookups served by some TLB level without a walk.
    pub hits: u64,
    pub levels: Vec<TlbLevelStats>,
    /// Page-table walks done for misses (prefetch walks are not counted here).
    pub walks: u64,
    pub prefetch_issued: u64,
    /// Prefetched entries that served at least one lookup.
    pub prefetch_used: u64,
}

/// Guest RAM plus address translation.
pub struct UnifiedMmu {
    ram: Ram,
    config: UnifiedMmuConfig,
    chosen: MmuOptimizationStrategy,
    stats: TlbStats,
}

const SATP_MODE_SV39: u64 = 8;

impl UnifiedMmu {
    /// `ram_bytes` of guest RAM; `shared_by_harts` says whether several harts
    /// will translate through this MMU (Hybrid picks Concurrent then).
    pub fn new(ram_bytes: usize, shared_by_harts: bool, config: UnifiedMmuConfig) -> Self {
        let chosen = match config.strategy {
            MmuOptimizationStrategy::Hybrid if shared_by_harts => {
                MmuOptimizationStrategy::Concurrent
            }
            MmuOptimizationStrategy::Hybrid => MmuOptimizationStrategy::MultiLevel,
            s => s,
        };
        UnifiedMmu { ram: Ram::new(ram_bytes), config, chosen, stats: TlbStats::default() }
    }

    pub fn config(&self) -> &UnifiedMmuConfig {
        &self.config
    }

    /// The concrete organisation in use (never `Hybrid`).
    pub fn strategy_chosen(&self) -> MmuOptimizationStrategy {
        self.chosen
    }

    pub fn ram(&self) -> &Ram {
        &self.ram
    }

    pub fn ram_mut(&mut self) -> &mut Ram {
        &mut self.ram
    }

    /// True when accesses under `ctx` are untranslated (bare mode or M-mode).
    #[inline(always)]
    pub fn is_bare(ctx: &TranslationContext) -> bool {
        ctx.privilege == Privilege::Machine || (ctx.satp >> 60) != SATP_MODE_SV39
    }

    /// Translate `vaddr` for `access`, returning the physical address.
    /// Page-table entries are read from (and A/D bits written to) RAM; a PTE
    /// outside RAM gives an access fault.
    pub fn translate(
        &mut self,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        if Self::is_bare(ctx) {
            return Ok(vaddr);
        }
        let _ = FaultKind::PageFault;
        todo!("Sv39 translation")
    }

    /// SFENCE.VMA: `vaddr` None = all addresses, `asid` None = all address spaces.
    pub fn sfence_vma(&mut self, vaddr: Option<u64>, asid: Option<u16>) {
        let _ = (vaddr, asid);
    }

    pub fn stats(&self) -> TlbStats {
        self.stats.clone()
    }
}
