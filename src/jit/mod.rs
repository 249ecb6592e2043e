//! The JIT (the tuning guide's `vm_engine_jit`): counts executions per
//! translation unit, decides when and at which tier to compile
//! (`threshold`), finds the unit's guest code (`region`), generates a wasm
//! module for it (`codegen`), installs it (`backend`), keeps it in the
//! bounded `code_cache`, and drops it when its guest code changes.
//!
//! A *translation unit* is keyed by [`UnitKey`]: the virtual pc of its entry,
//! the physical address that pc translated to, and the mode its code was
//! compiled for (privilege and whether loads and stores are translated).
//! Units never leave their 4 KiB page, so a unit depends on one page's
//! contents and one page's translation; the dispatcher translates the pc
//! before every lookup, so a changed mapping (satp, sfence.vma) simply
//! finds other keys, and a store into a page with units invalidates them.
//!
//! Each hart has its own `Jit`; natively their backends share one
//! repository of compiled modules (`backend/native.rs`), keyed by
//! [`codegen::ModuleKey`] (the discovered unit's decoded guest code, the
//! codegen options, the layout), so a unit one hart compiled is
//! instantiated by the others instead of compiled again
//! (`JitStats::units_shared`).
//!
//! Time for the code cache (hotness decay every `cleanup_interval_secs`) is
//! guest time: one guest second is 100 M guest cycles (the nominal 100 MHz
//! clock of `cpu::CYCLES_PER_MTIME_TICK`), so runs are reproducible and the
//! CLI and the page agree.
pub mod backend;
mod chain;
pub mod code_cache;
pub mod codegen;
mod cost;
mod dispatch;
mod inline_tlb;
mod jump_cache;
pub mod jump_profile;
pub mod layout;
pub mod region;
pub mod threshold;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::mem::{CodeConsumer, Ram, RecentTranslation};
use crate::monitor::Histogram;
use code_cache::{CacheConfig, GroupId, Removed, UnifiedCodeCache};
use codegen::{generate, CodegenOptions};
use cost::CostModel;
use inline_tlb::InlineTlb;
use jump_cache::{Hit, JumpCache};
use layout::{StateBlock, MISS_RING};
use region::{DiscoverOptions, Region};
pub use threshold::{AdaptiveThreshold, AdaptiveThresholdConfig, Tier};

/// Nanoseconds of guest time per guest cycle (100 MHz nominal clock).
pub const GUEST_NS_PER_CYCLE: u64 = 10;

/// The `jit` config section: on/off, the tier-up count, and the guide's
/// `AdaptiveThresholdConfig` fields flattened beside them (`jit.min_threshold`...).
/// Those seven fields take their doc comments from the same
/// `threshold_field_doc!` text as [`AdaptiveThresholdConfig`]'s, and
/// [`JitConfig::adaptive`] copies them across.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitConfig {
    /// Compile hot guest code to WebAssembly. true: a unit (a block, or a region of
    /// one page) that runs often enough is compiled, first at the baseline tier and
    /// later at the optimizing one, and runs as wasm. false: the interpreter runs
    /// everything; that is the reference to measure the JIT against, and the way to
    /// rule the JIT out when a program misbehaves. Compare mips and the
    /// instructions retired per tier (tiers.interpreter.instructions,
    /// tiers.baseline.instructions, tiers.optimizing.instructions) with it on and
    /// off. For the other extreme, every unit through the JIT before its first
    /// execution, set jit.min_threshold=0, jit.max_threshold=0,
    /// jit.enable_compile_time_budget=false and jit.background_compile=false, plus
    /// jit.tier_up_threshold=0 for the optimizing tier.
    ///
    /// Default true.
    pub enabled: bool,
    /// Execution count from which a unit gets the optimizing tier. A unit is first
    /// compiled when its execution count reaches the compile threshold: below
    /// tier_up_threshold it gets the baseline tier (one basic block, guest
    /// registers kept in memory, translated plainly: quick to compile), otherwise
    /// the optimizing tier (a region of several blocks within one 4 KiB page,
    /// registers in wasm locals, loops kept inside the function, constant folding,
    /// dead-write elimination: slower to compile, faster to run). A baseline unit
    /// is recompiled optimized when its count reaches tier_up_threshold. Lower it
    /// to reach fast code sooner at the price of more compile time; raise it to
    /// stay on cheap baseline compiles. 0 sends every compile straight to the
    /// optimizing tier; 1000000000000 (the maximum) keeps every unit at the
    /// baseline tier. Watch the instructions retired per tier
    /// (tiers.baseline.instructions, tiers.optimizing.instructions), units compiled
    /// and compile time.
    ///
    /// Default 200, the guide's boundary (docs/DESIGN.md "Tiers").
    pub tier_up_threshold: u64,
    #[doc = threshold::threshold_field_doc!(min_threshold)]
    pub min_threshold: u64,
    #[doc = threshold::threshold_field_doc!(max_threshold)]
    pub max_threshold: u64,
    #[doc = threshold::threshold_field_doc!(sample_window)]
    pub sample_window: u64,
    #[doc = threshold::threshold_field_doc!(compile_time_weight)]
    pub compile_time_weight: f64,
    #[doc = threshold::threshold_field_doc!(exec_benefit_weight)]
    pub exec_benefit_weight: f64,
    #[doc = threshold::threshold_field_doc!(compile_time_budget_ns)]
    pub compile_time_budget_ns: u64,
    #[doc = threshold::threshold_field_doc!(enable_compile_time_budget)]
    pub enable_compile_time_budget: bool,
    /// Most translation units whose execution counts the JIT keeps, compiled or
    /// not. Every distinct entry point the guest reaches gets a count, so a program
    /// that jumps to millions of places would grow this table without end. When a
    /// new unit would pass the bound, the counts of units without compiled code are
    /// halved and those that reach 0 are forgotten (until a quarter of the table is
    /// free): rarely run code loses its history, hot code keeps it. Lower it to cap
    /// host memory (memory.jit_tables_bytes); raise it when jit.units_forgotten
    /// climbs and hot units take longer to reach the compile threshold. Default
    /// 65536.
    ///
    /// Range [`JitConfig::MAX_TRACKED_UNITS`]. Forgetting repeats until a quarter
    /// of the table is free, so a guest that jumps to millions of distinct entry
    /// points holds bounded host memory.
    pub max_tracked_units: u64,
    /// How many times a page's compiled code may be thrown away (the guest stored
    /// into the page, or ran fence.i), each within a guest second of the last,
    /// before the JIT stops compiling that page for a while: 0.1 guest seconds,
    /// doubling with each further invalidation up to 6.4 s. Self-modifying code and
    /// fence.i loops would otherwise be compiled again after every change, which
    /// costs far more than interpreting them. 0 never stops compiling: try it on
    /// the smc workload and compare mips, compile time and the invalidations per
    /// second in the compile chart. jit.quarantines counts the pages put aside.
    /// Default 4.
    ///
    /// Range [`JitConfig::INVALIDATION_LIMIT`].
    pub invalidation_limit: u64,
    /// Let compiled units go straight to each other. true: when an optimizing
    /// unit ends at the entry of another optimizing unit the dispatcher ran
    /// lately, it tail-calls that unit's code directly (a slot of the chain
    /// table in the hart's state block) instead of returning to the VM, which
    /// would look the pc up, copy 32 registers out and in again and call the
    /// next unit. false: every unit returns to the dispatcher. Watch jit.calls
    /// (entries from the VM) against jit.chained (entries by chaining) and
    /// mips; programs with many small functions gain most, since every return
    /// ends a unit. Guest time stays exact either way. Default true.
    ///
    /// How: `return_call_indirect` through the function table the module
    /// imports (`jit/chain.rs`); a chained unit checks the same instruction
    /// budget at its entry and loop heads.
    pub chaining: bool,
    /// Keep calls and their returns inside one compiled unit. true: an optimizing
    /// unit that calls a function in its own 4 KiB page also takes the
    /// instructions after the call, and the function's return compares its target
    /// with those return addresses and goes on inside the unit on a match (a
    /// return-address guard; any other target leaves the unit as before); a
    /// return also compares its target with the unit's own entry, so a recursion
    /// unwinds inside the unit it returns to. false: every return ends the unit,
    /// and the next unit is entered by chaining or from the dispatcher. Watch
    /// jit.calls and jit.chained (entries into compiled code: far fewer with
    /// guards on programs with many small functions in one page) and mips.
    /// Default true.
    ///
    /// How: `region::Block::guards` lists the continuations a return is
    /// compared with (docs/DESIGN.md "Calls and returns inside a unit").
    pub return_guards: bool,
    /// Run a call that leaves its unit as a nested call of compiled code. true:
    /// when an optimizing unit calls a function outside itself (in another page,
    /// or through a register) whose compiled unit is in the chain table, it calls
    /// that unit as a wasm function and, when the guest returns to the
    /// instruction after the call, goes on inside the calling unit (one more
    /// entry instead of two, and no unit of its own for the return address).
    /// false: the call ends the unit and the return enters another unit. Needs
    /// jit.chaining. Watch jit.chained, jit.units_compiled and mips: long runs
    /// with many calls between pages or through function pointers gain most;
    /// short runs can lose, since units grow by their continuations and take
    /// longer to compile. Default false.
    ///
    /// How: `region::Block::call` keeps the continuation; nesting is at most
    /// `layout::MAX_CALL_DEPTH` deep, deeper calls chain as before
    /// (docs/DESIGN.md "Nested calls").
    pub nested_calls: bool,
    /// How many targets of one indirect jump an optimizing unit may keep inside
    /// itself. The interpreter notes where each `jalr` that is not a return jumps
    /// (a switch's jump table, a call through a function pointer or vtable);
    /// when a unit holding that jump is compiled, the targets seen most often
    /// become blocks of the unit, and the jump compares its computed target with
    /// each before it goes there (any other target leaves the unit as before). 0:
    /// every such jump ends its unit, and its target is entered again by chaining
    /// or from the dispatcher. More: fewer entries into compiled code where a
    /// state machine or an interpreter loop dispatches through a table, at the
    /// price of bigger units and a compare per target kept. Watch jit.calls and
    /// jit.chained (entries into compiled code), jit.compile_ns and mips. 0 to 16.
    /// Default 16.
    ///
    /// How: `jit/jump_profile.rs` (the profile), `region::Block::guards` (the
    /// guarded targets; docs/DESIGN.md "Profiled jump targets").
    pub jump_targets: u64,
    /// How many times an optimizing unit may be compiled again because its
    /// indirect jumps keep going where it did not expect. A unit keeps the
    /// targets the interpreter saw before it was compiled (jit.jump_targets); a
    /// call through a function pointer that later goes elsewhere (a sort given
    /// another comparator, a state machine entering a new phase) leaves the unit
    /// at every such jump. The unit notes those misses; once enough of them go to
    /// a target the profile now counts among the frequent ones, the unit is
    /// compiled again with it inside. 0: a unit keeps what it was first compiled
    /// with. More: fewer entries into compiled code for programs whose indirect
    /// targets change over the run, at the price of more compiles. Needs
    /// jit.jump_targets > 0. Watch jit.recompiles, jit.chained
    /// and mips. 0 to 8. Default 2.
    ///
    /// How: generated code writes each miss into a ring in the state block
    /// (`layout::StateBlock::misses`); `Jit::drain_misses` feeds the profile
    /// and decides (docs/DESIGN.md "Recompiles on missed jump targets").
    pub miss_recompiles: u64,
    /// Check the loads and stores of a group once. true: in an optimizing unit, loads
    /// and stores off one base register in one block with no write to that register
    /// between them (a function's prologue and epilogue, the fields of one struct) are
    /// checked once, at the first, for the whole byte range they reach (inside guest
    /// RAM, and no translated code on the pages they store to); the others run without
    /// a check of their own. A failed check leaves for the interpreter before the
    /// first, which then runs each access itself. false: every load and store checks
    /// itself. Untranslated accesses only, and not with mmu.strict_align. Watch mips:
    /// call-heavy code gains most. Default true.
    ///
    /// How: `codegen::memory::AccessGroup` (docs/DESIGN.md "Access groups").
    pub access_groups: bool,
    /// Run counted loops without checks. true: in an optimizing unit, a loop of one
    /// block that goes round while a register stepped by a constant (`addi` or `addiw`)
    /// differs from, or has not yet passed, one the loop does not change or reloads from
    /// memory it does not store to (`bne`, `blt`, `bltu`, `bge` or `bgeu` on a pointer
    /// or a counter: copies, sums, matrix rows, `i < n`), whose loads and stores are off registers the loop does not change or
    /// steps by constants (or off one of those plus such a counter, zero-extended and
    /// scaled: `a[i]` with an unsigned 32-bit `i`), computes at its entry how many
    /// iterations surely go round and checks once that every access of them stays
    /// inside guest RAM, stores to no page of translated code, and fits the budget;
    /// then it runs those iterations with no check at all, and the rest with every
    /// check. false: every iteration checks each access and the budget. Untranslated
    /// accesses only, and not with mmu.strict_align. Watch mips: loop-heavy code gains
    /// most. Default true.
    ///
    /// How: `codegen::counted::CountedLoop` (docs/DESIGN.md "Counted loops").
    pub counted_loops: bool,
    /// How many 4 KiB pages of guest code one optimizing unit may span when
    /// instruction fetch is untranslated (M-mode, or satp bare; under Sv39 a unit
    /// keeps to its entry's page whatever this says). 1: a unit stops at its page's
    /// edge, so a call into a function on another page, its return, and a loop that
    /// crosses a page boundary each leave the unit and enter the next by chaining
    /// or from the dispatcher. More: the unit follows branches, jumps and calls
    /// into other pages too, up to this many, and a store into any of them throws
    /// the unit away. Watch jit.calls and jit.chained (entries into compiled code:
    /// fewer with more pages on programs whose functions call across pages), the
    /// compile time and mips: units grow, and a function is compiled again into
    /// every unit that calls it, so compiling costs more (on mixbench 4 pages
    /// enter compiled code about half as often as 1, and long runs are 1.1x
    /// faster). 1 to 16. Default 4.
    ///
    /// How: `region::discover` lists the pages beyond the entry's
    /// (`Region::extra_pages`); they are marked as code pages and their
    /// invalidation reaches the unit (docs/DESIGN.md "Units across pages").
    pub unit_pages: u64,
    /// End an optimizing unit where another one starts. true: while an optimizing unit is
    /// discovered, a branch or jump to the entry of another optimizing unit that is compiled
    /// (or compiling) becomes an exit into that unit instead of a copy of its code, unless
    /// that unit leaves to this one's entry (then the two would split a loop), so each hot
    /// instruction is compiled about once instead of into every unit that reaches it. false:
    /// a unit takes whatever code it reaches within its limits, compiled elsewhere or not.
    /// Watch jit.instructions_compiled and jit.compile_ns (on mixbench about half the
    /// instructions compiled and a third less compile time with true),
    /// tiers.interpreter.instructions (less of the run waits for its compiled code),
    /// jit.chained and mips: control crosses from unit to unit more often (on mixbench
    /// 1.3-1.9x the chained entries), and yet with true mixbench ran 1.13x faster in the page
    /// and cpubench up to 1.1x natively. Default true.
    ///
    /// How: `region::discover_avoiding`'s `other_entry` (docs/DESIGN.md
    /// "Units stop where others start").
    pub stop_at_units: bool,
    /// The most guest instructions one optimizing unit may hold (the baseline tier
    /// takes one block). Discovery takes the blocks nearest the entry first (a
    /// loop's body before a long path out of it), so a smaller limit keeps the hot
    /// loop and drops what lies further away. Smaller: each unit compiles sooner
    /// and more cheaply, so less of the run waits in the interpreter for its first
    /// optimized code, but code beyond the limit becomes another unit (more entries
    /// into compiled code). Larger: fewer, bigger units that take longer to
    /// compile. Watch jit.compile_ns (per unit and in total), the instructions run
    /// at each tier, jit.calls and jit.chained, and mips. 16 to 1024. Default 128.
    ///
    /// How: `region::DiscoverOptions::max_insns` (with the compile-time
    /// budget's own cap per unit, the smaller wins).
    pub max_unit_insns: u64,
    /// Compile off the guest's path while it runs on: natively on the
    /// machine's compile thread, in the page with WebAssembly.compile, whose
    /// promise settles between two run slices. true: a unit that reaches its
    /// threshold is code-generated at once and handed to the engine; meanwhile
    /// it runs interpreted (or at its old tier), and its code is installed at
    /// the first dispatch after the compile ends (jit.compile_latency_ns: how
    /// long that took). The guest then waits only for code generation and
    /// instantiation (jit.compile_waited_ns) instead of the whole compile
    /// (jit.compile_ns), and the compile-time budget and the adaptive
    /// threshold count what it waited. false: the guest waits for every
    /// compile, so which instructions run at which tier is reproducible from
    /// run to run (tests and exact comparisons want this). Default true
    /// natively and false in the page: in Chromium a compile took about 6 ms
    /// to settle, against about 0.6 ms for a synchronous one, and cpubench's
    /// first run in a fresh page took 13-20 % longer with it on.
    ///
    /// A unit whose guest code changes while it compiles is never installed
    /// (its page's invalidation marks the job stale). In the browser only a
    /// worker that returns to its event loop between slices compiles
    /// asynchronously (`backend::set_async_compiles`); the pool's helpers and
    /// code that runs a machine in one call compile synchronously.
    pub background_compile: bool,
    /// Entries of the JIT's inline TLB: the translations compiled loads and stores
    /// use without leaving compiled code (direct-mapped by page number, one per
    /// hart, in its state block). A compiled access whose page is not there leaves
    /// for the interpreter, which translates it through the MMU and fills the
    /// entry. Raise it when a program under Sv39 touches more pages than this in a
    /// loop: jit.calls (one per exit to the VM) and jit.inline_tlb_fills climb and
    /// mips drops; the MMU's own TLBs (mmu.multilevel_tlb_config) then see only
    /// what it misses. A power of two from 16 to 4096; each entry is 32 bytes of
    /// host memory. Default 256.
    ///
    /// A flush (the hart's translation changed) empties only the entries
    /// filled since the last one (`jit/inline_tlb.rs`).
    pub inline_tlb_entries: u64,
}

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig::from_adaptive(true, AdaptiveThresholdConfig::default())
    }
}

impl JitConfig {
    /// Range of `tier_up_threshold`.
    pub const TIER_UP_THRESHOLD: std::ops::RangeInclusive<u64> = 0..=1_000_000_000_000;
    /// Range of `max_tracked_units`.
    pub const MAX_TRACKED_UNITS: std::ops::RangeInclusive<u64> = 256..=16_777_216;
    /// Range of `invalidation_limit`.
    pub const INVALIDATION_LIMIT: std::ops::RangeInclusive<u64> = 0..=1_000_000;
    /// Range of `max_unit_insns`.
    pub const MAX_UNIT_INSNS: std::ops::RangeInclusive<u64> = 16..=region::MAX_UNIT_INSNS as u64;
    /// Range of `jump_targets`.
    pub const JUMP_TARGETS: std::ops::RangeInclusive<u64> = 0..=region::MAX_GUARDS as u64;
    /// Range of `miss_recompiles`.
    pub const MISS_RECOMPILES: std::ops::RangeInclusive<u64> = 0..=8;
    /// Range of `unit_pages`.
    pub const UNIT_PAGES: std::ops::RangeInclusive<u64> = 1..=region::MAX_UNIT_PAGES as u64;
    /// Range of `inline_tlb_entries` (a power of two; the state block holds
    /// room for the maximum, `layout::TLB_ENTRIES`).
    pub const INLINE_TLB_ENTRIES: std::ops::RangeInclusive<u64> =
        16..=crate::jit::layout::TLB_ENTRIES as u64;

    fn from_adaptive(enabled: bool, a: AdaptiveThresholdConfig) -> Self {
        JitConfig {
            enabled,
            tier_up_threshold: threshold::DEFAULT_TIER_UP_THRESHOLD,
            min_threshold: a.min_threshold,
            max_threshold: a.max_threshold,
            sample_window: a.sample_window,
            compile_time_weight: a.compile_time_weight,
            exec_benefit_weight: a.exec_benefit_weight,
            compile_time_budget_ns: a.compile_time_budget_ns,
            enable_compile_time_budget: a.enable_compile_time_budget,
            max_tracked_units: 65_536,
            invalidation_limit: 4,
            chaining: true,
            return_guards: true,
            nested_calls: false,
            jump_targets: 16,
            miss_recompiles: 2,
            access_groups: true,
            counted_loops: true,
            unit_pages: 4,
            stop_at_units: true,
            max_unit_insns: 128,
            // Measured slower in Chromium (see the field).
            background_compile: cfg!(not(target_arch = "wasm32")),
            inline_tlb_entries: 256,
        }
    }

    /// The engine's own range checks: the adaptive threshold's, then the
    /// JIT's own bounds.
    pub fn validate(&self) -> Result<(), threshold::InvalidThresholdConfig> {
        self.adaptive().validate()?;
        let check = |key: &'static str, value: u64, range: std::ops::RangeInclusive<u64>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(threshold::InvalidThresholdConfig {
                    key,
                    value: value.to_string(),
                    allowed: format!("{}..={}", range.start(), range.end()),
                })
            }
        };
        check("jit.max_tracked_units", self.max_tracked_units, Self::MAX_TRACKED_UNITS)?;
        check("jit.invalidation_limit", self.invalidation_limit, Self::INVALIDATION_LIMIT)?;
        check("jit.inline_tlb_entries", self.inline_tlb_entries, Self::INLINE_TLB_ENTRIES)?;
        check("jit.unit_pages", self.unit_pages, Self::UNIT_PAGES)?;
        check("jit.jump_targets", self.jump_targets, Self::JUMP_TARGETS)?;
        check("jit.miss_recompiles", self.miss_recompiles, Self::MISS_RECOMPILES)?;
        check("jit.max_unit_insns", self.max_unit_insns, Self::MAX_UNIT_INSNS)?;
        if !self.inline_tlb_entries.is_power_of_two() {
            return Err(threshold::InvalidThresholdConfig {
                key: "jit.inline_tlb_entries",
                value: self.inline_tlb_entries.to_string(),
                allowed: "a power of two".into(),
            });
        }
        Ok(())
    }

    /// The guide's `AdaptiveThresholdConfig` part.
    pub fn adaptive(&self) -> AdaptiveThresholdConfig {
        AdaptiveThresholdConfig {
            min_threshold: self.min_threshold,
            max_threshold: self.max_threshold,
            sample_window: self.sample_window,
            compile_time_weight: self.compile_time_weight,
            exec_benefit_weight: self.exec_benefit_weight,
            compile_time_budget_ns: self.compile_time_budget_ns,
            enable_compile_time_budget: self.enable_compile_time_budget,
        }
    }
}

/// What a translation unit's code depends on besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnitKey {
    /// Virtual pc of the entry (auipc and jal results depend on it).
    pub vpc: u64,
    /// The physical address it translated to.
    pub ppc: u64,
    /// Privilege (bits 0-1) and "loads and stores untranslated" (bit 2).
    pub mode: u8,
}

impl UnitKey {
    fn data_bare(&self) -> bool {
        self.mode & 4 != 0
    }

    /// Instruction fetch is untranslated: M-mode, or data untranslated in
    /// S or U (there MPRV does not apply, so that means satp is bare).
    fn fetch_bare(&self) -> bool {
        self.mode & 3 == 3 || self.data_bare()
    }
}

/// A compiled unit in the cache.
pub struct CachedCode {
    pub func: backend::CompiledFn,
    pub tier: Tier,
    pub module: backend::ModuleId,
    /// Guest instructions translated.
    pub instructions: u64,
    /// The module's bytes (for the code view; shared with the other harts'
    /// units and the repository when the module is).
    pub wasm: std::sync::Arc<[u8]>,
    /// The guest code it translates, as discovered when it was compiled (the
    /// code view shows it; discovery depends on what else was compiled then).
    /// A store into any of its pages (`Region::extra_pages` besides the
    /// entry's) invalidates it.
    pub region: std::sync::Arc<Region>,
}

/// Why a compile did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// The budget has no room in this window; ask again later.
    Wait,
    /// The estimate alone exceeds a whole window's budget; a unit of at
    /// most this many instructions would fit (one of at least 2).
    Never(usize),
    /// The backend refused the module, or the cache cannot hold it.
    Failed,
    /// The module is compiling in the background.
    Pending,
}

/// Background compiles a hart keeps under way at once. Measured (mixbench,
/// cpubench natively, BENCHMARKS.md "Background compiles"): 1, 2 and 4 are
/// alike; an unbounded queue ran 30-50 % longer, compiling units that had
/// cooled by the time their turn came and leaving hot loops at the
/// baseline tier meanwhile.
#[cfg(not(target_arch = "wasm32"))]
const MAX_PENDING: usize = 2;

/// In the browser, where V8 compiles on threads of its own and a module
/// arrives only once the worker is back in its event loop (see
/// `backend::web`).
#[cfg(target_arch = "wasm32")]
const MAX_PENDING: usize = 8;

/// The most dispatches a jump-cache slot sends to the interpreter before
/// the slow path counts the unit again ([`jump_cache::Hit::Interpret`]).
/// With a fixed threshold the unit is compiled at the same dispatch as
/// without the slot; when the adaptive threshold falls below a unit's
/// count meanwhile, its compile comes at most this many dispatches later.
const INTERPRETED_LEFT: u64 = 16;

/// A unit compiling in the background (natively on the compile thread, in
/// the browser in `WebAssembly.compile`).
struct PendingCompile {
    key: UnitKey,
    tier: Tier,
    mkey: codegen::ModuleKey,
    wasm: std::sync::Arc<[u8]>,
    /// Guest instructions it translates.
    instructions: u64,
    codegen_ns: u64,
    /// `clock::now_ns()` when the discovery for it began.
    started_ns: u64,
    /// Its page's code changed after it was generated: never install it.
    stale: bool,
}

/// Per-unit execution count and where its code stands.
#[derive(Clone, Copy, Debug)]
struct UnitState {
    /// Executions so far (dispatches, interpreted or compiled).
    count: u64,
    /// The tier of its code in the cache, or Interpreter.
    tier: Tier,
    /// Instructions its unit had when last discovered for the baseline and
    /// the optimizing tier (0: not yet), for compile-time estimates without
    /// discovering it again.
    size_hint: [u32; 2],
    /// Largest unit (instructions) the compile-time budget lets it have.
    size_cap: u32,
    /// Guest clock before which its page is in quarantine (no compiles; the
    /// dispatcher need not look further).
    blocked_until: u64,
    /// Its module is compiling on the background thread.
    compiling: bool,
    /// Sampled indirect jumps that left its optimizing code since it was
    /// last compiled (`Jit::drain_misses`).
    misses: u32,
    /// Times it was compiled again for them (up to `jit.miss_recompiles`).
    recompiles: u8,
}

/// Counters for the report.
#[derive(Clone, Debug, Default)]
pub struct JitStats {
    pub units_compiled: u64,
    /// Guest instructions those compiles translated (a unit's instructions
    /// count once per compile of it, so code compiled into several units
    /// counts several times).
    pub instructions_compiled: u64,
    /// Units whose module came from the repository (another hart compiled
    /// the same guest code): instantiated, not compiled. Not in
    /// `units_compiled` nor in the compile-time figures.
    pub units_shared: u64,
    /// Compiles put off because another hart was compiling a unit with the
    /// same entry and options (the unit runs interpreted until its module
    /// is in the repository).
    pub shared_waits: u64,
    /// Whole compile (discovery, code generation, engine compile and
    /// instantiation), per unit, in nanoseconds.
    pub compile_ns: Histogram,
    /// Discovery and code generation (wasm-encoder), per unit.
    pub codegen_ns: Histogram,
    /// The engine's part: wasmtime's compile (Cranelift, eager) plus
    /// instantiation natively; `WebAssembly.Module` + `Instance` + table
    /// install in the browser, where V8 compiles lazily at the first call
    /// and optimizes in the background (not included). A background compile
    /// counts the compile thread's time natively, and in the browser only
    /// the start of `WebAssembly.compile` (V8's threads do the rest).
    pub engine_ns: Histogram,
    /// Background compiles: host time from the start of a compile to its
    /// install, per unit (the unit ran at its old tier meanwhile).
    pub compile_latency_ns: Histogram,
    /// Guest instructions retired by compiled code, per tier (baseline,
    /// optimizing).
    pub retired: [u64; 2],
    /// Calls into compiled code (from the dispatcher).
    pub calls: u64,
    /// Units entered by chaining, from another unit's exit without the
    /// dispatcher (`jit.chaining`).
    pub chained: u64,
    /// Compiles the budget made wait.
    pub waits: u64,
    /// Units invalidated because their guest code changed or fence.i ran.
    pub invalidated: u64,
    /// Compiles that failed (the unit stays interpreted).
    pub failures: u64,
    /// Times a page's code was put in quarantine (`invalidation_limit`).
    pub quarantines: u64,
    /// Compiles refused because their page was in quarantine.
    pub quarantine_refusals: u64,
    /// Uncompiled units forgotten to keep the unit table within
    /// `max_tracked_units`.
    pub units_forgotten: u64,
    /// Host nanoseconds from the JIT's creation to its first unit
    /// installed (compiled or shared).
    pub first_code_ns: Option<u64>,
    /// Host time the guest waited for compiles: code generation, the
    /// engine's compile when it is synchronous, instantiation.
    pub compile_waited_ns: u64,
    /// Background compiles whose result was dropped because the unit's
    /// guest code changed while it compiled.
    pub compiles_dropped: u64,
    /// Optimizing units compiled again for missed indirect targets
    /// (`jit.miss_recompiles`).
    pub recompiles: u64,
}

/// Sampled misses of a unit's indirect jumps (`Jit::drain_misses`) before
/// it is compiled again with their target: enough that a target taken a
/// few times does not cost a compile, few enough that a sort given a new
/// comparator (thousands of calls) gets it inside its unit early.
const RECOMPILE_AFTER_MISSES: u32 = 32;

/// How often a page's compiled code was invalidated lately.
#[derive(Clone, Copy, Debug, Default)]
struct PageChurn {
    /// Invalidations, each within [`STRIKE_MEMORY_CYCLES`] of the previous.
    strikes: u64,
    /// Guest clock of the last one.
    last: u64,
    /// No compiles on the page before this guest clock.
    until: u64,
}

/// An invalidation further apart than this from the previous one (one
/// guest second) starts the page's count again.
const STRIKE_MEMORY_CYCLES: u64 = 100_000_000;
/// First quarantine: 0.1 guest second; each further strike doubles it, up
/// to 64 times.
const QUARANTINE_CYCLES: u64 = 10_000_000;
/// Host time a run slice may spend compiling and dropping code before the
/// dispatcher ends it early (`StopReason::Yield`), so that the run loop
/// checks the wall clock, Stop and Pause at least this often.
const SLICE_WORK_NS: u64 = 20_000_000;

/// Count `n` dispatches of `key` served by the jump cache.
/// Mark the pages `region` takes code from (entry page at RAM offset
/// `page_off`) as code pages: a store into any of them invalidates.
fn mark_code_pages(ram: &Ram, page_off: usize, region: &Region) {
    ram.mark_code_page(page_off);
    for &p in &region.extra_pages {
        ram.mark_code_page(p as usize * 4096);
    }
}

/// RAM page number of physical address `paddr` (inside RAM).
fn ram_page(paddr: u64) -> u32 {
    ((paddr - crate::mem::RAM_BASE) / 4096) as u32
}

fn count_dispatches(
    cache: &mut UnifiedCodeCache<UnitKey, CachedCode>,
    units: &mut FxHashMap<UnitKey, UnitState>,
    key: UnitKey,
    n: u64,
) {
    cache.record_hits(key, n);
    if let Some(st) = units.get_mut(&key) {
        st.count += n;
    }
}

/// The state block of an attached `backend`.
///
/// The block is memory generated code writes, not a Rust field: the
/// returned reference must be dropped before the next call into generated
/// code. Every use here is a few statements long, between calls.
#[allow(clippy::mut_from_ref)]
fn state_block(backend: &Option<backend::Backend>) -> &mut StateBlock {
    let ptr = backend.as_ref().expect("attached").state_ptr();
    // SAFETY: the backend's state block is `StateBlock`-sized and aligned
    // and lives as long as the backend; only this hart's thread touches it,
    // and generated code runs only inside `Jit::call`, never while such a
    // reference lives.
    unsafe { &mut *ptr }
}

/// The JIT of one hart.
pub struct Jit {
    config: JitConfig,
    control: AdaptiveThreshold,
    cache: UnifiedCodeCache<UnitKey, CachedCode>,
    units: FxHashMap<UnitKey, UnitState>,
    backend: Option<backend::Backend>,
    /// RAM's code epoch last seen.
    epoch: u64,
    stats: JitStats,
    /// The interpreter's cost per instruction and what compiled code saves.
    cost: CostModel,
    /// Units compiled with their last compile's listing and wasm text, for
    /// the code view.
    last_error: Option<String>,
    /// `mmu.strict_align`, which generated loads must honour.
    strict_align: bool,
    /// Other harts share RAM: generated AMOs are atomic.
    atomic: bool,
    /// See [`Jit::set_pause_ends_unit`].
    pause_ends_unit: bool,
    /// Direct-mapped by entry pc: the dispatch fast path (see
    /// `jump_cache.rs`; its entries' units are in `cache`).
    jumps: JumpCache,
    /// Where the interpreter saw indirect jumps go (`jump_profile.rs`):
    /// discovery keeps up to `jit.jump_targets` of them inside a unit.
    jump_profile: jump_profile::JumpProfile,
    /// The state block's `miss_head` when `drain_misses` last read it.
    miss_seen: u64,
    /// The inline TLB's bookkeeping (its entries are in the state block).
    inline_tlb: InlineTlb,
    /// The chain table's bookkeeping (its slots are in the state block).
    chain: chain::ChainTable,
    /// Pages (physical page address) whose code was invalidated lately.
    /// Bounded: pruned of old entries when it passes 4096 pages.
    churn: FxHashMap<u64, PageChurn>,
    /// Host time spent compiling and releasing code since the dispatcher
    /// last ended a slice for it (see [`SLICE_WORK_NS`]).
    work_ns: u64,
    /// Buffer for the pages RAM reports invalidated (reused).
    invalidated_pages: Vec<u32>,
    /// A page just found in quarantine and until when: the dispatcher may
    /// run that page interpreted without asking again (see `take_block_hint`).
    block_hint: Option<(u64, u64)>,
    /// Where the dispatcher's last run stopped: a run that starts at that
    /// same pc and clock goes on as the last one would have (inside a
    /// block, the pc is no unit entry: slices end anywhere, and a unit at
    /// every pc a slice ends at would be compiled for nothing).
    paused: Option<dispatch::Paused>,
    /// `clock::now_ns()` when the JIT was made.
    created_ns: u64,
    /// Background compiles under way, by job id.
    pending: FxHashMap<u64, PendingCompile>,
    next_job: u64,
}

impl Jit {
    /// The tuning guide's entry point: a JIT with this adaptive threshold
    /// and defaults for everything else (tier-up at 200, default code cache).
    ///
    /// ```
    /// use tunevm::jit::{AdaptiveThresholdConfig, Jit};
    /// let jit = Jit::with_adaptive_config(AdaptiveThresholdConfig::default());
    /// assert_eq!(jit.threshold(), 50);
    /// ```
    pub fn with_adaptive_config(config: AdaptiveThresholdConfig) -> Jit {
        Jit::new(JitConfig::from_adaptive(true, config), CacheConfig::default())
    }

    /// A JIT from the `jit` and `code_cache` config sections (validated).
    pub fn new(config: JitConfig, cache: CacheConfig) -> Jit {
        let inline_tlb = InlineTlb::new(config.inline_tlb_entries as usize);
        Jit {
            control: AdaptiveThreshold::new(config.adaptive()),
            cache: UnifiedCodeCache::new(cache, Default::default()),
            config,
            units: FxHashMap::default(),
            backend: None,
            epoch: 0,
            stats: JitStats::default(),
            cost: CostModel::default(),
            last_error: None,
            strict_align: false,
            atomic: false,
            pause_ends_unit: false,
            jumps: JumpCache::default(),
            jump_profile: jump_profile::JumpProfile::default(),
            miss_seen: 0,
            inline_tlb,
            chain: chain::ChainTable::default(),
            churn: FxHashMap::default(),
            work_ns: 0,
            invalidated_pages: Vec::new(),
            block_hint: None,
            paused: None,
            created_ns: clock::now_ns(),
            pending: FxHashMap::default(),
            next_job: 0,
        }
    }

    /// True, once, when the JIT has done [`SLICE_WORK_NS`] of host work
    /// (compiles, dropping code) since the last time it said so: the
    /// dispatcher then ends the slice so the run loop can look at the clock.
    #[inline(always)]
    pub(crate) fn take_yield(&mut self) -> bool {
        if self.work_ns < SLICE_WORK_NS {
            return false;
        }
        self.work_ns = 0;
        true
    }

    /// The page (physical address) that the last `enter` found in
    /// quarantine, and the guest clock its quarantine lasts until. Until
    /// then the dispatcher runs that page's units interpreted without asking
    /// (their counts pause), which keeps a storm of self-modifying code as
    /// cheap as the interpreter alone.
    pub(crate) fn take_block_hint(&mut self) -> Option<(u64, u64)> {
        self.block_hint.take()
    }

    /// Host bytes of the JIT's own tables (unit counts, page churn, jump
    /// cache), not counting the code cache's modules.
    pub fn table_bytes(&self) -> u64 {
        let unit = std::mem::size_of::<(UnitKey, UnitState)>() + 1;
        let churn = std::mem::size_of::<(u64, PageChurn)>() + 1;
        (self.units.capacity() * unit + self.churn.capacity() * churn) as u64
            + self.jumps.bytes()
            + self.chain.bytes()
            + self.jump_profile.bytes()
    }

    /// Units whose counts the JIT tracks now.
    pub fn tracked_units(&self) -> usize {
        self.units.len()
    }

    /// Count an invalidation of the compiled code of each of `pages` at
    /// guest `clock`; a page past `invalidation_limit` strikes goes into
    /// quarantine.
    fn strike(&mut self, pages: &[u64], clock: u64) {
        let limit = self.config.invalidation_limit;
        if limit == 0 {
            return;
        }
        for &page in pages {
            let c = self.churn.entry(page).or_default();
            if c.strikes > 0 && clock.saturating_sub(c.last) > STRIKE_MEMORY_CYCLES {
                c.strikes = 0;
            }
            c.strikes += 1;
            c.last = clock;
            if c.strikes >= limit {
                let doublings = (c.strikes - limit).min(6);
                c.until = clock.saturating_add(QUARANTINE_CYCLES << doublings);
                self.stats.quarantines += 1;
            }
        }
        if self.churn.len() > 4096 {
            self.churn.retain(|_, c| {
                c.until > clock || clock.saturating_sub(c.last) <= STRIKE_MEMORY_CYCLES
            });
        }
    }

    /// Keep the unit table within `max_tracked_units`: halve the counts of
    /// units without code and forget those that reach 0, until a quarter of
    /// the table is free or only units with code are left. Units with code
    /// stay (the code cache bounds them).
    fn trim_units(&mut self) {
        self.flush_jumps();
        let cap = self.config.max_tracked_units as usize;
        let target = cap - cap / 4;
        while self.units.len() > target {
            let before = self.units.len();
            self.units.retain(|_, st| {
                if st.tier != Tier::Interpreter {
                    return true;
                }
                st.count /= 2;
                st.count > 0
            });
            self.stats.units_forgotten += (before - self.units.len()) as u64;
            if self.units.values().all(|st| st.tier != Tier::Interpreter) {
                break;
            }
        }
    }

    /// Other harts share RAM (runtime.vcpus > 1): generate atomic AMOs.
    pub fn set_atomic(&mut self, atomic: bool) {
        self.atomic = atomic;
    }

    /// PAUSE ends the hart's slice (`runtime.pause_yields` on a machine of
    /// several harts): units end before it, so the interpreter runs it.
    pub fn set_pause_ends_unit(&mut self, on: bool) {
        self.pause_ends_unit = on;
    }

    /// Apply the live `jit.*` and `code_cache.*` knobs of `jit` and `cache`
    /// (both validated) while the guest runs: the compile decisions use them
    /// from the next dispatch on, and a code cache shrunk below what it holds
    /// evicts at once. The other `jit.*` fields (enabled, chaining,
    /// background_compile) shape code already generated and are kept.
    /// `clock` and `retired` are the hart's (the code cache's cleanups run
    /// on guest time; the threshold series counts instructions retired).
    pub fn retune(&mut self, jit: &JitConfig, cache: &CacheConfig, clock: u64, retired: u64) {
        self.config.tier_up_threshold = jit.tier_up_threshold;
        self.config.max_tracked_units = jit.max_tracked_units;
        self.config.invalidation_limit = jit.invalidation_limit;
        self.config.min_threshold = jit.min_threshold;
        self.config.max_threshold = jit.max_threshold;
        self.config.sample_window = jit.sample_window;
        self.config.compile_time_weight = jit.compile_time_weight;
        self.config.exec_benefit_weight = jit.exec_benefit_weight;
        self.config.compile_time_budget_ns = jit.compile_time_budget_ns;
        self.config.enable_compile_time_budget = jit.enable_compile_time_budget;
        self.control.retune(self.config.adaptive(), retired);
        // Jump-cache slots carry dispatches left until a tier-up that the
        // old tier_up_threshold set: every unit takes the slow path once.
        self.flush_jumps();
        self.jumps.clear();
        let removed = self
            .cache
            .reconfigure(cache.clone(), clock.saturating_mul(GUEST_NS_PER_CYCLE))
            .unwrap_or_else(|e| panic!("Jit::retune: {e}"));
        self.release(removed);
    }

    /// Generated code must trap misaligned loads too (`mmu.strict_align`).
    pub fn set_strict_align(&mut self, strict: bool) {
        self.strict_align = strict;
    }

    pub fn config(&self) -> &JitConfig {
        &self.config
    }

    /// The compile threshold now.
    pub fn threshold(&self) -> u64 {
        self.control.threshold()
    }

    pub fn controller(&self) -> &AdaptiveThreshold {
        &self.control
    }

    pub fn cache(&self) -> &UnifiedCodeCache<UnitKey, CachedCode> {
        &self.cache
    }

    pub fn stats(&self) -> &JitStats {
        &self.stats
    }

    /// The last compile failure, if any (a JIT bug; the unit stays interpreted).
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Give the JIT the backend whose memory holds RAM.
    pub fn attach(&mut self, backend: backend::Backend) {
        self.backend = Some(backend);
    }

    pub fn backend(&self) -> Option<&backend::Backend> {
        self.backend.as_ref()
    }

    /// Modules alive in the backend.
    pub fn live_modules(&self) -> usize {
        self.backend.as_ref().map_or(0, |b| b.live_modules())
    }

    /// The hart state block in the backend's memory.
    pub(crate) fn state_block(&mut self) -> &mut StateBlock {
        state_block(&self.backend)
    }

    /// Empty the inline TLB unless its entries belong to the hart's current
    /// translation `epoch`. Call before running compiled code.
    #[inline(always)]
    pub(crate) fn sync_inline_tlb(&mut self, epoch: u64) {
        self.inline_tlb.sync(state_block(&self.backend), epoch);
        if self.chain.stale(epoch) {
            self.clear_chain();
        }
    }

    /// Empty the chain table (its hits counted first).
    #[cold]
    fn clear_chain(&mut self) {
        let (cache, units) = (&mut self.cache, &mut self.units);
        let slots = &mut state_block(&self.backend).chain;
        self.chain.clear(slots, |key, n| count_dispatches(cache, units, key, n));
    }

    /// Before a call into compiled code for a unit of mode `mode`: units
    /// chain only into units of the same mode.
    #[inline(always)]
    pub(crate) fn set_chain_mode(&mut self, mode: u8) {
        state_block(&self.backend).chain_mode = mode as u32;
    }

    /// After a call into compiled code: count the units it entered by
    /// chaining as executions (the adaptive threshold's windows count every
    /// unit entry; `retired` is the hart's count now).
    #[inline(always)]
    pub(crate) fn count_chained(&mut self, retired: u64) {
        let n = self.chain.take_chained(state_block(&self.backend).chained);
        if n > 0 {
            self.stats.chained += n;
            self.control.record_executions(n, retired);
        }
    }

    /// Teach the inline TLB a translation the interpreter made.
    pub(crate) fn fill_inline_tlb(&mut self, t: RecentTranslation, epoch: u64, ram: &Ram) {
        self.inline_tlb.fill(state_block(&self.backend), t, epoch, ram);
    }

    /// Loads and stores generated code translated through the inline TLB.
    pub fn inline_tlb_hits(&self) -> u64 {
        match &self.backend {
            // SAFETY: the state block lives as long as the backend.
            Some(b) => unsafe { (*b.state_ptr()).tlb_hits },
            None => 0,
        }
    }

    /// Drop units whose guest code changed (stores into their pages,
    /// fence.i) at guest `clock`, and count the invalidation against their
    /// pages (see [`JitConfig::invalidation_limit`]).
    #[inline(always)]
    pub(crate) fn apply_invalidations(&mut self, ram: &Ram, hart: usize, clock: u64) {
        if ram.code_epoch() != self.epoch {
            self.drop_invalidated(ram, hart, clock);
        }
    }

    #[cold]
    fn drop_invalidated(&mut self, ram: &Ram, hart: usize, clock: u64) {
        self.epoch = ram.code_epoch();
        let mut pages = std::mem::take(&mut self.invalidated_pages);
        ram.drain_invalidated(CodeConsumer::jit(hart), &mut pages);
        for p in self.pending.values_mut() {
            let page = ((p.key.ppc - crate::mem::RAM_BASE) / 4096) as u32;
            if pages.contains(&u32::MAX)
                || pages.contains(&page)
                || p.mkey.region.extra_pages.iter().any(|x| pages.contains(x))
            {
                p.stale = true;
            }
        }
        let removed = if pages.is_empty() || self.cache.is_empty() {
            None
        } else {
            self.flush_jumps();
            Some(if pages.contains(&u32::MAX) {
                self.cache.clear()
            } else {
                self.cache.invalidate_where(|k, code| {
                    pages.contains(&ram_page(k.ppc))
                        || code.region.extra_pages.iter().any(|p| pages.contains(p))
                })
            })
        };
        let Some(removed) = removed.filter(|r| !r.units.is_empty()) else {
            self.invalidated_pages = pages;
            return;
        };
        self.stats.invalidated += removed.units.len() as u64;
        // Count the invalidation against the pages whose code changed (a
        // unit that reached into a changed page does not strike its own).
        let all = pages.contains(&u32::MAX);
        let mut struck: Vec<u64> = removed
            .units
            .iter()
            .flat_map(|u| {
                let entry = ram_page(u.key.ppc);
                let extra = if all { &[][..] } else { &u.value.region.extra_pages[..] };
                std::iter::once(entry).chain(extra.iter().copied())
            })
            .filter(|p| all || pages.contains(p))
            .map(|p| crate::mem::RAM_BASE + p as u64 * 4096)
            .collect();
        self.invalidated_pages = pages;
        struck.sort_unstable();
        struck.dedup();
        self.strike(&struck, clock);
        let t0 = clock::now_ns();
        self.release(removed);
        self.work_ns += clock::now_ns() - t0;
    }

    /// Give the jump cache's batched hits to the code cache and the units'
    /// counts.
    fn flush_jumps(&mut self) {
        let (cache, units) = (&mut self.cache, &mut self.units);
        self.jumps.drain(|key, n| count_dispatches(cache, units, key, n));
        if self.backend.is_some() {
            let slots = &mut state_block(&self.backend).chain;
            self.chain.drain(slots, |key, n| count_dispatches(cache, units, key, n));
        }
    }

    /// Drop the jump-cache entry of each removed unit (after a flush), and
    /// release modules whose last unit went.
    fn release(&mut self, removed: Removed<UnitKey, CachedCode>) {
        for unit in &removed.units {
            self.jumps.forget(unit.key);
            if self.backend.is_some() {
                let (cache, units) = (&mut self.cache, &mut self.units);
                let slots = &mut state_block(&self.backend).chain;
                self.chain.forget(slots, unit.key, |key, n| count_dispatches(cache, units, key, n));
            }
            if let Some(st) = self.units.get_mut(&unit.key) {
                if removed.emptied_groups.contains(&GroupId(unit.value.module.0))
                    || unit.reason != code_cache::RemovalReason::Replaced
                {
                    st.tier = Tier::Interpreter;
                }
            }
        }
        if let Some(b) = self.backend.as_mut() {
            for g in removed.emptied_groups {
                b.release(backend::ModuleId(g.0));
            }
        }
    }

    /// One dispatch of the unit `key` whose entry page lies at RAM offset
    /// `page_off`: count it, compile it if it is due, and return its code if
    /// there is any. `retired` and `clock` are the hart's.
    pub(crate) fn enter(
        &mut self,
        key: UnitKey,
        ram: &Ram,
        page_off: usize,
        retired: u64,
        clock: u64,
    ) -> Option<(backend::CompiledFn, Tier)> {
        if !self.pending.is_empty() && self.backend.as_ref().is_some_and(|b| b.compile_finished()) {
            self.poll_compiles(clock);
        }
        match self.jumps.hit(key) {
            Some(Hit::Code(func, tier)) => {
                self.control.record_executions(1, retired);
                return Some((func, tier));
            }
            Some(Hit::Interpret) => {
                self.control.record_executions(1, retired);
                return None;
            }
            None => {}
        }
        // The slot's unit (this one, or the one it is about to lose the
        // slot to) must be up to date for the slow path.
        let (cache, units) = (&mut self.cache, &mut self.units);
        self.jumps.drain_slot_of(key, |key, n| count_dispatches(cache, units, key, n));
        let found = self.enter_slow(key, ram, page_off, retired, clock);
        if let Some((func, tier)) = found {
            let st = self.units.get(&key);
            let count = st.map_or(0, |s| s.count);
            let left = match tier {
                // Its optimizing code is compiling: nothing for the slow
                // path to do until it is installed, which empties the slot
                // (or, if the compile is dropped, `forget_pending` does).
                Tier::Baseline if st.is_some_and(|s| s.compiling) => u64::MAX,
                Tier::Baseline => self.config.tier_up_threshold.saturating_sub(count),
                _ => u64::MAX,
            };
            self.jumps.set(key, func, tier, left);
            if tier == Tier::Optimizing && self.config.chaining {
                let b = self.backend.as_ref().expect("compiled code has a backend");
                let (tag, index) = b.chain_ref(func);
                let (cache, units) = (&mut self.cache, &mut self.units);
                let slots = &mut state_block(&self.backend).chain;
                let tag = tag | key.mode as u32;
                self.chain.set(slots, key, tag, index, |k, n| count_dispatches(cache, units, k, n));
            }
        } else if !self.atomic {
            // Interpreted, and below the threshold or refused a place in a
            // full compile queue: its next dispatches (at most
            // INTERPRETED_LEFT, and below the threshold only those that
            // stay below it) skip the unit table, until a place in the
            // queue comes free (`end_interpreted`). Not on a machine of
            // several harts, where counts at powers of two look for another
            // hart's module (`adopt_shared`).
            if let Some(st) = self.units.get(&key) {
                if st.tier == Tier::Interpreter && !st.compiling {
                    let left = if self.pending.len() >= MAX_PENDING {
                        INTERPRETED_LEFT
                    } else {
                        self.control.threshold().saturating_sub(st.count)
                    };
                    self.jumps.set_interpreted(key, left.min(INTERPRETED_LEFT));
                }
            }
        }
        found
    }

    /// `enter` without the jump cache.
    fn enter_slow(
        &mut self,
        key: UnitKey,
        ram: &Ram,
        page_off: usize,
        retired: u64,
        clock: u64,
    ) -> Option<(backend::CompiledFn, Tier)> {
        let threshold = self.control.threshold();
        if self.units.len() >= self.config.max_tracked_units as usize
            && !self.units.contains_key(&key)
        {
            self.trim_units();
        }
        let st = self.units.entry(key).or_insert(UnitState {
            count: 0,
            tier: Tier::Interpreter,
            size_hint: [0; 2],
            size_cap: u32::MAX,
            blocked_until: 0,
            compiling: false,
            misses: 0,
            recompiles: 0,
        });
        let count = st.count;
        st.count += 1;
        let tier_now = st.tier;
        let blocked_until = st.blocked_until;
        self.control.record_executions(1, retired);
        if tier_now == Tier::Interpreter && count < threshold {
            if self.atomic && (count + 1).is_power_of_two() {
                let now = clock.saturating_mul(GUEST_NS_PER_CYCLE);
                return self.adopt_shared(key, ram, page_off, now);
            }
            return None;
        }
        if tier_now == Tier::Interpreter && clock < blocked_until {
            self.block_hint = Some((key.ppc & !0xfff, blocked_until));
            return None;
        }
        // No code yet and the compile queue is full: the compile below
        // would be refused (the unit asks again at a later dispatch), so
        // skip the lookups on the way there. While the compile thread is
        // behind, hot uncompiled units come here at every dispatch.
        if tier_now == Tier::Interpreter && self.pending.len() >= MAX_PENDING {
            return None;
        }
        let now = clock.saturating_mul(GUEST_NS_PER_CYCLE);
        let hit = self.cache.lookup(key, now).map(|c| (c.func, c.tier));
        let current = match hit {
            Some((_, t)) => t,
            None => {
                if let Some(st) = self.units.get_mut(&key) {
                    st.tier = Tier::Interpreter;
                }
                Tier::Interpreter
            }
        };
        let Some(tier) =
            threshold::tier_for(count, threshold, self.config.tier_up_threshold, current)
        else {
            return hit;
        };
        if let Some(until) = self.churn.get(&(key.ppc & !0xfff)).map(|c| c.until) {
            if until > clock {
                self.stats.quarantine_refusals += 1;
                if let Some(st) = self.units.get_mut(&key) {
                    st.blocked_until = until;
                }
                self.block_hint = Some((key.ppc & !0xfff, until));
                return hit;
            }
        }
        if self.units.get(&key).is_some_and(|s| s.compiling) {
            return hit;
        }
        // A short queue: a unit that finds it full asks again at a later
        // dispatch, so the thread compiles what is hot now, not a backlog.
        if self.pending.len() >= MAX_PENDING {
            return hit;
        }
        match self.compile(key, ram, page_off, tier, now, true) {
            Ok(f) => Some((f, tier)),
            // A region whose estimate exceeds a whole window's budget can
            // never be admitted: compile a smaller region that fits.
            Err(Refusal::Never(max_insns)) if tier == Tier::Optimizing => {
                if let Some(st) = self.units.get_mut(&key) {
                    st.size_cap = max_insns as u32;
                    st.size_hint[1] = 0;
                }
                self.compile(key, ram, page_off, tier, now, true).ok().map(|f| (f, tier)).or(hit)
            }
            Err(_) => hit,
        }
    }

    /// Ask the budget whether a compile of `size` instructions to `tier`
    /// may start now.
    fn admit(&mut self, tier: Tier, size: u64) -> Result<(), Refusal> {
        let estimate = self.control.estimate_compile_ns(tier, size);
        if self.control.admit(estimate) == threshold::Admission::Compile {
            return Ok(());
        }
        self.stats.waits += 1;
        let budget = self.control.config().compile_time_budget_ns;
        // The largest size whose estimate fits a whole window, with room.
        let fit = self.control.max_size_within(tier, budget / 4 * 3).min(size - 1);
        if estimate > budget && fit > 1 {
            Err(Refusal::Never(fit as usize))
        } else {
            // It fits a later window; or even one instruction would not fit
            // any (the fixed cost per module alone is over budget): then it
            // waits, at full size, for a window with no compile yet.
            Err(Refusal::Wait)
        }
    }

    fn compile(
        &mut self,
        key: UnitKey,
        ram: &Ram,
        page_off: usize,
        tier: Tier,
        now: u64,
        shared: bool,
    ) -> Result<backend::CompiledFn, Refusal> {
        let Some(backend) = self.backend.as_ref() else { return Err(Refusal::Failed) };
        let opts = self.codegen_options(key, tier);
        let t = (tier == Tier::Optimizing) as usize;
        let dopts = self.discover_options(key, tier);
        // Another hart's module for the same guest code first: no compile,
        // no budget (see `backend::native`'s repository). Not when the
        // unit is compiled again for a newer profile (`shared` false): the
        // repository would hand back the code it replaces.
        let probe =
            if shared { backend.probe_shared(key.vpc, opts) } else { backend::Shared::Nothing };
        match probe {
            backend::Shared::Nothing => {}
            backend::Shared::Compiling => {
                self.stats.shared_waits += 1;
                return Err(Refusal::Wait);
            }
            backend::Shared::Ready => {
                if let Some(installed) = self.install_shared(key, ram, page_off, tier, now) {
                    return installed;
                }
            }
        }
        let hint = self.units.get(&key).map_or(0, |s| s.size_hint[t]);
        if hint > 0 {
            self.admit(tier, hint as u64)?;
        }
        let t0 = clock::now_ns();
        let region = self.discover(key, ram, page_off, dopts);
        let size = region.instructions().max(1);
        if let Some(st) = self.units.get_mut(&key) {
            st.size_hint[t] = size as u32;
        }
        if hint == 0 {
            self.admit(tier, size)?;
        }
        let backend = self.backend.as_mut().ok_or(Refusal::Failed)?;
        let generated = generate(&region, backend.layout(), opts);
        #[cfg(debug_assertions)]
        if let Err(e) = wasmparser::validate(&generated.wasm) {
            panic!("generated module for {key:x?} does not validate: {e}");
        }
        let mkey = codegen::ModuleKey::new(region, backend.layout(), opts);
        let wasm: std::sync::Arc<[u8]> = generated.wasm.into();
        let t1 = clock::now_ns();
        if self.config.background_compile {
            let id = self.next_job;
            if backend.submit(id, &mkey, wasm.clone()).is_ok() {
                self.next_job += 1;
                let codegen_ns = t1 - t0;
                // The guest waited for the generation and for the submit
                // (in the browser, the bytes' copy and the compile's start).
                let waited = clock::now_ns() - t0;
                self.stats.codegen_ns.record(codegen_ns);
                self.stats.compile_waited_ns += waited;
                self.cost.add_compile_ns(waited);
                self.work_ns += waited;
                // Stores into its pages from now on invalidate: the job
                // goes stale instead of installing old code.
                mark_code_pages(ram, page_off, &mkey.region);
                if let Some(st) = self.units.get_mut(&key) {
                    st.compiling = true;
                }
                let instructions = generated.instructions;
                let pending = PendingCompile {
                    key,
                    tier,
                    mkey,
                    wasm,
                    instructions,
                    codegen_ns,
                    started_ns: t0,
                    stale: false,
                };
                self.pending.insert(id, pending);
                return Err(Refusal::Pending);
            }
        }
        let region = mkey.region.clone();
        mark_code_pages(ram, page_off, &mkey.region);
        let installed = backend.install_keyed(mkey, wasm.clone());
        let t2 = clock::now_ns();
        let (module, func) = match installed {
            Ok(x) => x,
            Err(e) => {
                self.stats.failures += 1;
                self.last_error = Some(e);
                return Err(Refusal::Failed);
            }
        };
        let (codegen_ns, engine_ns) = (t1 - t0, t2 - t1);
        self.stats.codegen_ns.record(codegen_ns);
        self.stats.engine_ns.record(engine_ns);
        self.stats.compile_ns.record(codegen_ns + engine_ns);
        self.stats.units_compiled += 1;
        self.stats.instructions_compiled += generated.instructions;
        self.stats.compile_waited_ns += codegen_ns + engine_ns;
        self.cost.add_compile_ns(codegen_ns + engine_ns);
        self.work_ns += codegen_ns + engine_ns;
        self.control.record_compile(tier, generated.instructions.max(1), codegen_ns + engine_ns);
        let code =
            CachedCode { func, tier, module, instructions: generated.instructions, wasm, region };
        self.cache_code(key, code, now)
    }

    /// Install the background compiles that have finished (those whose
    /// guest code changed meanwhile are dropped). The guest waited only for
    /// the instantiation: that is what the budget and the threshold see.
    #[cold]
    fn poll_compiles(&mut self, clock: u64) {
        let now = clock.saturating_mul(GUEST_NS_PER_CYCLE);
        loop {
            let Some(backend) = self.backend.as_mut() else { return };
            let Some((id, module, engine_ns)) = backend.take_compiled() else { return };
            let Some(p) = self.pending.remove(&id) else { continue };
            self.jumps.end_interpreted();
            if let Some(st) = self.units.get_mut(&p.key) {
                st.compiling = false;
            }
            if p.stale {
                backend.abandon(&p.mkey);
                self.stats.compiles_dropped += 1;
                self.forget_pending(p.key);
                continue;
            }
            let t0 = clock::now_ns();
            let region = p.mkey.region.clone();
            let installed = backend.finish_keyed(p.mkey, p.wasm.clone(), module);
            let waited = clock::now_ns() - t0;
            let (module, func) = match installed {
                Ok(x) => x,
                Err(e) => {
                    self.stats.failures += 1;
                    self.last_error = Some(e);
                    self.forget_pending(p.key);
                    continue;
                }
            };
            self.stats.engine_ns.record(engine_ns);
            self.stats.compile_ns.record(p.codegen_ns + engine_ns);
            self.stats.compile_latency_ns.record(clock::now_ns() - p.started_ns);
            self.stats.units_compiled += 1;
            self.stats.instructions_compiled += p.instructions;
            self.stats.compile_waited_ns += waited;
            self.cost.add_compile_ns(waited);
            self.work_ns += waited;
            self.control.record_compile(p.tier, p.instructions.max(1), p.codegen_ns + waited);
            let code = CachedCode {
                func,
                tier: p.tier,
                module,
                instructions: p.instructions,
                wasm: p.wasm,
                region,
            };
            let _ = self.cache_code(p.key, code, now);
        }
    }

    /// A background compile of `key` ended without code: drop its
    /// jump-cache entry, which skipped the slow path while it compiled
    /// (`enter`), so that the next dispatch sees the unit's tier again.
    fn forget_pending(&mut self, key: UnitKey) {
        let (cache, units) = (&mut self.cache, &mut self.units);
        self.jumps.drain_slot_of(key, |key, n| count_dispatches(cache, units, key, n));
        self.jumps.forget(key);
    }

    /// Instantiate another hart's module for `key` at `tier` from the
    /// backend's repository (natively; see `backend::native`): no compile,
    /// no budget. `None` when the repository holds no module whose guest
    /// code is still in RAM ([`Region::matches_ram`]).
    fn install_shared(
        &mut self,
        key: UnitKey,
        ram: &Ram,
        page_off: usize,
        tier: Tier,
        now: u64,
    ) -> Option<Result<backend::CompiledFn, Refusal>> {
        let opts = self.codegen_options(key, tier);
        let t0 = clock::now_ns();
        let backend = self.backend.as_mut().expect("attached");
        let layout = *backend.layout();
        let entry_off = page_off + (key.vpc & 0xfff) as usize;
        let backend::SharedModule { module, func, wasm, region } =
            backend.install_shared(key.vpc, opts, &layout, |r| r.matches_ram(ram, entry_off))?;
        let ns = clock::now_ns() - t0;
        self.stats.units_shared += 1;
        self.cost.add_compile_ns(ns);
        self.work_ns += ns;
        let instructions = region.instructions();
        if let Some(st) = self.units.get_mut(&key) {
            st.size_hint[(tier == Tier::Optimizing) as usize] = instructions.max(1) as u32;
        }
        mark_code_pages(ram, page_off, &region);
        let code = CachedCode { func, tier, module, instructions, wasm, region };
        Some(self.cache_code(key, code, now))
    }

    /// A unit still below its threshold on this hart that another hart has
    /// compiled already: take that hart's module (optimizing first) instead
    /// of interpreting up to the threshold on every hart. Asked at the
    /// unit's 1st, 2nd, 4th, 8th, ... execution, so a unit no hart compiled
    /// costs a few cheap probes (one lock and one lookup each).
    fn adopt_shared(
        &mut self,
        key: UnitKey,
        ram: &Ram,
        page_off: usize,
        now: u64,
    ) -> Option<(backend::CompiledFn, Tier)> {
        for tier in [Tier::Optimizing, Tier::Baseline] {
            let opts = self.codegen_options(key, tier);
            let ready = self.backend.as_ref()?.probe_shared(key.vpc, opts);
            if ready == backend::Shared::Ready {
                if let Some(Ok(f)) = self.install_shared(key, ram, page_off, tier, now) {
                    return Some((f, tier));
                }
            }
        }
        None
    }

    /// Put a freshly installed unit in the code cache (counted by its wasm
    /// bytes, shared or not) and the jump cache's bookkeeping.
    fn cache_code(
        &mut self,
        key: UnitKey,
        code: CachedCode,
        now: u64,
    ) -> Result<backend::CompiledFn, Refusal> {
        let (func, tier, module) = (code.func, code.tier, code.module);
        let bytes = code.wasm.len() as u64;
        if self.stats.first_code_ns.is_none() {
            self.stats.first_code_ns = Some(clock::now_ns().saturating_sub(self.created_ns));
        }
        self.flush_jumps();
        // An interpreted entry must not outlive the unit's first code.
        self.jumps.forget(key);
        match self.cache.insert(key, code, bytes, Some(GroupId(module.0)), now) {
            Ok(removed) => self.release(removed),
            Err(_) => {
                // Larger than the whole cache: run it interpreted.
                if let Some(b) = self.backend.as_mut() {
                    b.release(module);
                }
                return Err(Refusal::Failed);
            }
        }
        if let Some(st) = self.units.get_mut(&key) {
            st.tier = tier;
        }
        Ok(func)
    }

    /// Take the indirect-jump misses compiled code wrote into the state
    /// block's ring since the last call (`StateBlock::misses`; `entered`
    /// is the unit the dispatcher called). Each goes into the jump profile,
    /// where compiled code's jumps would otherwise never be seen, and counts
    /// against its unit: a unit with [`RECOMPILE_AFTER_MISSES`] sampled
    /// misses whose latest target the profile now keeps is compiled again
    /// (`jit.miss_recompiles` times at most), that target inside it.
    pub(crate) fn drain_misses(&mut self, entered: UnitKey, ram: &Ram, clock: u64) {
        let head = state_block(&self.backend).miss_head;
        if head == self.miss_seen {
            return;
        }
        let from = self.miss_seen.clamp(head.saturating_sub(MISS_RING as u64), head);
        self.miss_seen = head;
        for i in from..head {
            let m = state_block(&self.backend).misses[(i % MISS_RING as u64) as usize];
            self.jump_profile.record(m.site, m.target);
            let key = self.chain.key_of(m.unit).or((entered.vpc == m.unit).then_some(entered));
            let Some(key) = key else { continue };
            let Some(st) = self.units.get_mut(&key) else { continue };
            if st.tier != Tier::Optimizing
                || st.compiling
                || st.recompiles as u64 >= self.config.miss_recompiles
            {
                continue;
            }
            st.misses = st.misses.saturating_add(1);
            if st.misses < RECOMPILE_AFTER_MISSES
                || self.pending.len() >= MAX_PENDING
                || !self
                    .jump_profile
                    .targets(m.site, self.config.jump_targets as usize)
                    .contains(&m.target)
            {
                continue;
            }
            st.misses = 0;
            st.recompiles += 1;
            let Some(page_off) = ram.offset_of(key.ppc & !0xfff, 4096) else { continue };
            let now = clock.saturating_mul(GUEST_NS_PER_CYCLE);
            match self.compile(key, ram, page_off, Tier::Optimizing, now, false) {
                Ok(_) | Err(Refusal::Pending) => self.stats.recompiles += 1,
                Err(_) => {}
            }
        }
    }

    /// Call compiled code with `budget` instructions of room.
    pub(crate) fn call(&mut self, f: backend::CompiledFn, budget: i64) -> i64 {
        self.stats.calls += 1;
        match self.backend.as_mut().expect("attached").call(f, budget) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    pub(crate) fn count_retired(&mut self, tier: Tier, n: u64) {
        match tier {
            Tier::Baseline => self.stats.retired[0] += n,
            Tier::Optimizing => self.stats.retired[1] += n,
            Tier::Interpreter => {}
        }
    }

    /// Guest instructions retired by compiled code so far.
    pub fn compiled_retired(&self) -> u64 {
        self.stats.retired[0] + self.stats.retired[1]
    }

    /// After a run slice of `slice_ns` host nanoseconds in which `interpreted`
    /// and `compiled` guest instructions retired: tell the threshold
    /// controller what compiled code saved (see `cost.rs`).
    pub fn account_slice(&mut self, slice_ns: u64, interpreted: u64, compiled: u64) {
        self.flush_jumps();
        if let Some(saved) = self.cost.slice_benefit(slice_ns, interpreted, compiled) {
            self.control.record_benefit(saved);
        }
    }

    /// The interpreter's estimated cost per guest instruction (host ns), if
    /// learnt yet (see [`Jit::account_slice`]).
    pub fn interp_ns_per_insn(&self) -> Option<f64> {
        self.cost.interp_ns_per_insn()
    }

    /// The JIT's figures for the monitor.
    pub fn sample(&self) -> crate::monitor::JitSample {
        let c = self.cache.stats();
        crate::monitor::JitSample {
            enabled: true,
            engine: self.backend.as_ref().map_or("interpreter", |b| b.engine_name()),
            retired_baseline: self.stats.retired[0],
            retired_optimizing: self.stats.retired[1],
            units_compiled: self.stats.units_compiled,
            instructions_compiled: self.stats.instructions_compiled,
            units_shared: self.stats.units_shared,
            shared_waits: self.stats.shared_waits,
            compile_ns: self.stats.compile_ns.clone(),
            codegen_ns: self.stats.codegen_ns.clone(),
            engine_ns: self.stats.engine_ns.clone(),
            compile_latency_ns: self.stats.compile_latency_ns.clone(),
            compile_waits: self.stats.waits,
            invalidated: self.stats.invalidated,
            threshold: self.control.threshold(),
            threshold_series: self.control.series().to_vec(),
            cache_lookups: c.lookups,
            cache_hits: c.hits,
            cache_entries: c.entries as u64,
            cache_bytes: c.bytes,
            cache_evictions: c.evictions,
            live_instances: self.live_modules() as u64,
            calls: self.stats.calls,
            chained: self.stats.chained,
            first_code_ns: self.stats.first_code_ns,
            compile_waited_ns: self.stats.compile_waited_ns,
            compiles_dropped: self.stats.compiles_dropped,
            recompiles: self.stats.recompiles,
            inline_tlb_hits: self.inline_tlb_hits(),
            inline_tlb_fills: self.inline_tlb.fills,
            inline_tlb_flushes: self.inline_tlb.flushes,
            quarantines: self.stats.quarantines,
            quarantine_refusals: self.stats.quarantine_refusals,
            tracked_units: self.units.len() as u64,
            units_forgotten: self.stats.units_forgotten,
            worker_installs: self.backend.as_ref().map_or(0, |b| b.worker_installs()),
            table_bytes: self.table_bytes(),
        }
    }

    /// The options `compile` generates unit `key`'s code at `tier` with.
    fn codegen_options(&self, key: UnitKey, tier: Tier) -> CodegenOptions {
        CodegenOptions {
            tier,
            strict_align: self.strict_align,
            data_bare: key.data_bare(),
            atomic: self.atomic,
            chain: tier == Tier::Optimizing && self.config.chaining,
            inline_tlb_entries: self.config.inline_tlb_entries as u32,
            access_groups: self.config.access_groups,
            counted_loops: self.config.counted_loops,
            nested_calls: tier == Tier::Optimizing
                && self.config.chaining
                && self.config.nested_calls,
            // Not once the unit was compiled again as often as it may be:
            // its misses would only cost the ring's stores and a lookup.
            record_misses: tier == Tier::Optimizing
                && self.config.jump_targets > 0
                && self.units.get(&key).map_or(0, |s| s.recompiles as u64)
                    < self.config.miss_recompiles,
        }
    }

    /// How `compile` discovers `key`'s unit at `tier`: under its size cap,
    /// across pages only when fetch is untranslated.
    fn discover_options(&self, key: UnitKey, tier: Tier) -> DiscoverOptions {
        let cap = self.units.get(&key).map_or(u32::MAX, |s| s.size_cap);
        let optimizing = tier == Tier::Optimizing;
        DiscoverOptions {
            multi_block: optimizing,
            max_insns: (cap as u64).min(self.config.max_unit_insns) as usize,
            return_guards: self.config.return_guards,
            nested_calls: optimizing && self.config.chaining && self.config.nested_calls,
            jump_targets: self.config.jump_targets as usize,
            prioritize_targets: true,
            max_pages: if optimizing && key.fetch_bare() {
                self.config.unit_pages as usize
            } else {
                1
            },
            pause_ends_unit: self.pause_ends_unit,
        }
    }

    /// Discover `key`'s unit (entry page at RAM offset `page_off`), taking
    /// no code from other pages whose code changed lately (see
    /// [`JitConfig::invalidation_limit`]): a page that keeps changing would
    /// throw away every unit that reaches into it.
    fn discover(&self, key: UnitKey, ram: &Ram, page_off: usize, opts: DiscoverOptions) -> Region {
        let churn = &self.churn;
        let profile = &self.jump_profile;
        region::discover_avoiding(
            ram,
            page_off,
            key.vpc,
            opts,
            |page| churn.contains_key(&(crate::mem::RAM_BASE + page as u64 * 4096)),
            |site| profile.targets(site, opts.jump_targets),
            |pc| opts.multi_block && self.config.stop_at_units && self.optimizing_entry(key, pc),
        )
    }

    /// Whether discovery of `key`'s unit should stop at `pc` (in the unit's
    /// pages) and leave the code from there to the optimizing unit entered
    /// at `pc`, in the cache or compiling. Not when that unit leaves to
    /// `key`'s entry: then the two would split one loop between them, and
    /// every pass would chain twice (a loop longer than a unit's limit, or
    /// one whose head became a unit after a part of it did).
    fn optimizing_entry(&self, key: UnitKey, pc: u64) -> bool {
        let ppc = if key.fetch_bare() { pc } else { (key.ppc & !0xfff) | (pc & 0xfff) };
        let other = UnitKey { vpc: pc, ppc, mode: key.mode };
        if other == key {
            return false;
        }
        let cached = self.cache.unit(other).filter(|u| u.value.tier == Tier::Optimizing);
        match cached.map(|u| &u.value.region).or_else(|| self.compiling_optimizing(other)) {
            Some(region) => !region.exits_to(key.vpc),
            None => false,
        }
    }

    /// The unit of a background compile of `key` to the optimizing tier
    /// under way, if one is.
    fn compiling_optimizing(&self, key: UnitKey) -> Option<&std::sync::Arc<Region>> {
        self.pending
            .values()
            .find(|p| p.key == key && p.tier == Tier::Optimizing)
            .map(|p| &p.mkey.region)
    }

    /// Code view of a cached unit: its guest disassembly and wasm text, and
    /// which wasm lines translate each guest instruction ([`Link`]). The
    /// links come from generating the unit again, with marks on
    /// ([`codegen::generate_marked`]), from the inputs `compile` used (the
    /// region it discovered, kept with the unit; the backend's layout;
    /// [`Jit::codegen_options`]); if that does not give the cached module's
    /// bytes (an option changed since), the view has no links rather than
    /// wrong ones.
    pub fn code_view(&self, key: UnitKey, ram: &Ram) -> Option<CodeView> {
        let unit = self.cache.unit(key)?;
        let tier = unit.value.tier;
        let page_off = ram.offset_of(key.ppc & !0xfff, 4096)?;
        let region = &unit.value.region;
        let listing =
            region.keyed_listing(ram, page_off, |pc, inst| crate::isa::disassemble(inst, pc));
        let wasm = &unit.value.wasm;
        let mut wat = String::new();
        let printed = wasmprinter::Config::new()
            .offsets_and_lines(wasm, &mut wat)
            .map(|lines| lines.map(|(offset, _)| offset).collect::<Vec<_>>());
        let line_offsets = match printed {
            Ok(offsets) => offsets,
            Err(e) => {
                wat = e.to_string();
                Vec::new()
            }
        };
        let links = self
            .backend
            .as_ref()
            .map(|b| codegen::generate_marked(region, b.layout(), self.codegen_options(key, tier)))
            .filter(|(regenerated, _)| regenerated.wasm[..] == wasm[..])
            .filter(|_| wat.lines().count() == line_offsets.len())
            .and_then(|(_, marks)| link_lines(wasm, &marks, &listing, &line_offsets))
            .unwrap_or_default();
        let guest = listing.into_iter().map(|(line, _)| line).collect();
        Some(CodeView { key, tier, guest, wat, links })
    }

    /// The tier of the cached unit `key`, if it is cached.
    pub fn unit_tier(&self, key: UnitKey) -> Option<Tier> {
        self.cache.unit(key).map(|u| u.value.tier)
    }

    /// Cached units, hottest first (by execution count).
    pub fn hottest_units(&self, n: usize) -> Vec<(UnitKey, u64)> {
        let mut v: Vec<(UnitKey, u64)> = self
            .cache
            .units()
            .map(|u| (u.key, self.units.get(&u.key).map_or(0, |s| s.count)))
            .collect();
        v.sort_by_key(|&(k, c)| (std::cmp::Reverse(c), k.vpc));
        v.truncate(n);
        v
    }
}

/// For the code view: one [`Link`] per instruction line of `listing`
/// (`(line, (block, pc))` as [`region::Region::keyed_listing`] gives them),
/// from the marks of generating `wasm` and the module offset of each line
/// of its text (`line_offsets`, `None` for lines of no offset). `None` if
/// `wasm` has no code section.
fn link_lines(
    wasm: &[u8],
    marks: &[codegen::Mark],
    listing: &[(String, Option<(usize, u64)>)],
    line_offsets: &[Option<usize>],
) -> Option<Vec<Link>> {
    // Function 0 (`run`) is the first entry of the code section.
    let body = wasmparser::Parser::new(0).parse_all(wasm).find_map(|p| match p {
        Ok(wasmparser::Payload::CodeSectionEntry(body)) => Some(body.range()),
        _ => None,
    })?;
    // The lines printed for `run`'s body, by module offset.
    let mut lines: Vec<(usize, usize)> = line_offsets
        .iter()
        .enumerate()
        .filter_map(|(line, o)| o.filter(|o| body.contains(o)).map(|o| (o, line)))
        .collect();
    lines.sort_unstable();
    let spans: FxHashMap<(usize, u64), std::ops::Range<usize>> =
        codegen::instruction_spans(marks).into_iter().collect();
    let links = listing
        .iter()
        .enumerate()
        .filter_map(|(guest_line, (_, inst))| {
            let span = spans.get(&(*inst)?);
            let wat_lines = span.and_then(|r| {
                let first = lines.partition_point(|&(o, _)| o < body.start + r.start);
                let end = lines.partition_point(|&(o, _)| o < body.start + r.end);
                (first < end).then(|| (lines[first].1, lines[end - 1].1))
            });
            Some(Link { guest_line, wat_lines })
        })
        .collect();
    Some(links)
}

/// One guest instruction of a [`CodeView`] and the wasm text that
/// translates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Index of the instruction's line in [`CodeView::guest`].
    pub guest_line: usize,
    /// The first and last line (0-based, inclusive) of [`CodeView::wat`]
    /// holding its translation: from where its code starts to where the
    /// next instruction's (or code of no instruction: a block's budget
    /// check, the structure, the exit sequence) starts. `None` (JSON
    /// `null`) when it generated no wasm of its own (a write dropped as
    /// dead, an ALU instruction writing x0, a `j` whose target block's code
    /// follows it, a block never reached).
    pub wat_lines: Option<(usize, usize)>,
}

/// One unit's code, for the page's code view and `tunevm run --show-code`.
#[derive(Clone, Debug, Serialize)]
pub struct CodeView {
    #[serde(skip)]
    pub key: UnitKey,
    pub tier: Tier,
    /// Guest instructions, objdump style, block by block from the entry,
    /// with `;` lines naming each block (entry, loop heads) and where it
    /// goes ([`region::Region::annotated_listing`]).
    pub guest: Vec<String>,
    /// The generated module as wasm text.
    pub wat: String,
    /// One per instruction line of `guest`, in `guest`'s order: the lines
    /// of `wat` that translate it. Empty when the unit could not be
    /// generated again byte for byte (see [`Jit::code_view`]).
    pub links: Vec<Link>,
}

/// Host time for compile measurements (`Instant` natively, `performance.now`
/// in the browser).
pub mod clock {
    #[cfg(not(target_arch = "wasm32"))]
    pub fn now_ns() -> u64 {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    /// On wasm32: `performance.now()`, moved onto one time line for every
    /// worker. Each Web Worker's `performance.now()` counts from its own
    /// `timeOrigin`, so a worker adds how much later its origin is than the
    /// first caller's (times taken on one worker and compared on another,
    /// as the worker pool's are, then agree).
    #[cfg(target_arch = "wasm32")]
    pub fn now_ns() -> u64 {
        use std::cell::Cell;
        use std::sync::OnceLock;
        static ORIGIN_MS: OnceLock<f64> = OnceLock::new();
        thread_local! {
            static PERF: Performance = performance();
            static SHIFT_MS: Cell<Option<f64>> = const { Cell::new(None) };
        }
        PERF.with(|perf| {
            let shift = SHIFT_MS.get().unwrap_or_else(|| {
                let origin = perf.time_origin();
                let shift = origin - *ORIGIN_MS.get_or_init(|| origin);
                SHIFT_MS.set(Some(shift));
                shift
            });
            ((perf.now() + shift).max(0.0) * 1e6) as u64
        })
    }

    #[cfg(target_arch = "wasm32")]
    fn performance() -> Performance {
        use wasm_bindgen::JsCast;
        js_sys::Reflect::get(&js_sys::global(), &"performance".into())
            .expect("performance is on every window and worker")
            .unchecked_into()
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        type Performance;
        #[wasm_bindgen(method)]
        fn now(this: &Performance) -> f64;
        #[wasm_bindgen(method, getter, js_name = timeOrigin)]
        fn time_origin(this: &Performance) -> f64;
    }
}
