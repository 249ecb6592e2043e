//! Where generated code finds the hart and guest RAM: addresses inside the
//! one linear memory it imports (the VM's own memory in the browser, the
//! embedded engine's memory natively).

/// One inline-TLB entry (see [`StateBlock::tlb`]). For a virtual address
/// `va` whose page number `va >> 12` equals `read_tag` (loads) or
/// `write_tag` (stores), `va + addend` is its offset in guest RAM. A tag is
/// a page number (below 2^52); `u64::MAX` matches nothing.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    pub read_tag: u64,
    pub write_tag: u64,
    pub addend: u64,
    _pad: u64,
}

impl TlbEntry {
    /// An entry that matches no address.
    pub const EMPTY: TlbEntry =
        TlbEntry { read_tag: u64::MAX, write_tag: u64::MAX, addend: 0, _pad: 0 };
}

/// Room for inline-TLB entries in the state block: the most
/// `jit.inline_tlb_entries` allows (a power of two). The entries in use are
/// the first `jit.inline_tlb_entries`, direct-mapped by page number.
pub const TLB_ENTRIES: usize = 4096;

/// One slot of the chain table (see [`StateBlock::chain`]): compiled code
/// that ends at pc `vpc` may go straight to the unit in function-table slot
/// `func` if `tag` equals its own instance's chain tag or'ed with the
/// state block's `chain_mode`. A `tag` of 0 matches nothing (every real tag
/// has bit 31 set).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainSlot {
    pub vpc: u64,
    pub tag: u32,
    pub func: u32,
    /// Entries through this slot since the JIT last read it.
    pub hits: u64,
    _pad: u64,
}

impl ChainSlot {
    /// A slot that matches no pc.
    pub const EMPTY: ChainSlot = ChainSlot { vpc: 0, tag: 0, func: 0, hits: 0, _pad: 0 };

    /// A slot for the unit at `vpc` in function-table slot `func`.
    pub fn new(vpc: u64, tag: u32, func: u32) -> ChainSlot {
        ChainSlot { vpc, tag, func, hits: 0, _pad: 0 }
    }
}

/// One indirect jump that left its unit (see [`StateBlock::misses`]): the
/// unit's entry pc, the `jalr`'s pc, and where it went.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissSample {
    pub unit: u64,
    pub site: u64,
    pub target: u64,
}

/// Places in the state block's ring of missed indirect jumps (a power of
/// two). Samples, not a log: the JIT reads the ring after each call into
/// compiled code, and a chain of units that misses more often than this
/// between two calls overwrites the older ones.
pub const MISS_RING: usize = 8;

/// Slots of the chain table (a power of two; direct-mapped by
/// [`chain_slot_of`], the jump cache's own hash).
pub const CHAIN_SLOTS: usize = 1024;

/// The chain-table slot of entry pc `vpc` (generated code computes the same).
pub fn chain_slot_of(vpc: u64) -> usize {
    ((vpc >> 1) ^ (vpc >> 11)) as usize & (CHAIN_SLOTS - 1)
}

/// At most this many nested calls of compiled code run inside each other
/// (`jit.nested_calls`); a deeper call chains as any exit does. Bounds the
/// engine's stack that generated code uses (a few hundred bytes a frame).
pub const MAX_CALL_DEPTH: u32 = 32;

/// Bit 31 of every valid chain tag.
pub const CHAIN_TAG_VALID: u32 = 1 << 31;

/// The hart state block: the one place where generated code meets the hart.
/// It lives in the backend's linear memory at [`MemoryLayout::state`];
/// generated code receives that address as its `state` parameter (never as
/// a constant, so one module serves every hart) and addresses the fields by
/// the offsets in [`state`]; the JIT reaches it as this struct
/// (`Jit::state_block`).
///
/// The dispatcher copies the hart's registers into `x` before a call and
/// out after, with the pc where execution continues in `pc`.
#[repr(C)]
pub struct StateBlock {
    /// x0..x31 (x0 is never written by generated code).
    pub x: [u64; 32],
    /// The pc where execution continues after an exit.
    pub pc: u64,
    /// Loads and stores that hit the inline TLB; generated code adds its
    /// count at every exit.
    pub tlb_hits: u64,
    /// The mode bits of the unit the dispatcher entered (`UnitKey::mode`):
    /// part of the tag a chained unit must carry.
    pub chain_mode: u32,
    /// Nested calls of compiled code now running (`jit.nested_calls`):
    /// generated code adds one around each and calls no deeper than
    /// [`MAX_CALL_DEPTH`]. 0 whenever the dispatcher runs.
    pub call_depth: u32,
    /// Units entered by chaining (one compiled unit going straight to the
    /// next); generated code adds one at every chained entry.
    pub chained: u64,
    /// The return address the innermost nested call waits for (0: none,
    /// whenever the dispatcher runs): an exit to it returns from the nested
    /// call instead of chaining, so the caller goes on. Saved and restored
    /// by generated code around each nested call.
    pub ret_expect: u64,
    /// Guarded indirect jumps that missed every guard, counted by the
    /// optimizing units that record them (`CodegenOptions::record_misses`):
    /// the latest are in `misses`, at `miss_head % MISS_RING`.
    pub miss_head: u64,
    /// The latest [`MISS_RING`] of those misses, written by generated code
    /// and read by the JIT after each call (`Jit::drain_misses`).
    pub misses: [MissSample; MISS_RING],
    _reserved: [u64; 1],
    /// The inline TLB, direct-mapped by virtual page number: filled and
    /// flushed by the JIT (`jit/inline_tlb.rs`), read by generated code.
    pub tlb: [TlbEntry; TLB_ENTRIES],
    /// The chain table: entry pcs of compiled units that compiled code may
    /// tail-call directly (`return_call_indirect`) instead of returning to
    /// the dispatcher. Written only by the JIT (`jit/chain.rs`), which keeps
    /// it a subset of the jump cache; generated code reads it and counts
    /// `hits`.
    pub chain: [ChainSlot; CHAIN_SLOTS],
}

impl StateBlock {
    /// Index of `vpn`'s entry in [`StateBlock::tlb`] when `entries` (a
    /// power of two, at most [`TLB_ENTRIES`]) are in use.
    pub fn tlb_index(vpn: u64, entries: usize) -> usize {
        debug_assert!(entries.is_power_of_two() && entries <= TLB_ENTRIES);
        (vpn & (entries as u64 - 1)) as usize
    }
}

/// Byte offsets inside the [`StateBlock`], for generated code (taken from
/// the struct, so they cannot drift from it).
pub mod state {
    use super::{ChainSlot, MissSample, StateBlock, TlbEntry};
    use std::mem::{offset_of, size_of};

    pub const X: u32 = offset_of!(StateBlock, x) as u32;
    pub const PC: u32 = offset_of!(StateBlock, pc) as u32;
    pub const TLB_HITS: u32 = offset_of!(StateBlock, tlb_hits) as u32;
    pub const CHAIN_MODE: u32 = offset_of!(StateBlock, chain_mode) as u32;
    pub const CHAINED: u32 = offset_of!(StateBlock, chained) as u32;
    pub const CALL_DEPTH: u32 = offset_of!(StateBlock, call_depth) as u32;
    pub const RET_EXPECT: u32 = offset_of!(StateBlock, ret_expect) as u32;
    pub const CHAIN: u32 = offset_of!(StateBlock, chain) as u32;
    pub const MISS_HEAD: u32 = offset_of!(StateBlock, miss_head) as u32;
    pub const MISSES: u32 = offset_of!(StateBlock, misses) as u32;
    pub const MISS_RING: u32 = super::MISS_RING as u32;
    pub const MISS_BYTES: u32 = size_of::<MissSample>() as u32;
    /// Offsets inside one sample.
    pub const MISS_UNIT: u32 = offset_of!(MissSample, unit) as u32;
    pub const MISS_SITE: u32 = offset_of!(MissSample, site) as u32;
    pub const MISS_TARGET: u32 = offset_of!(MissSample, target) as u32;
    pub const CHAIN_SLOTS: u32 = super::CHAIN_SLOTS as u32;
    pub const CHAIN_SLOT_BYTES: u32 = size_of::<ChainSlot>() as u32;
    /// Offsets inside one chain slot.
    pub const CHAIN_VPC: u32 = offset_of!(ChainSlot, vpc) as u32;
    pub const CHAIN_TAG: u32 = offset_of!(ChainSlot, tag) as u32;
    pub const CHAIN_FUNC: u32 = offset_of!(ChainSlot, func) as u32;
    pub const CHAIN_HITS: u32 = offset_of!(ChainSlot, hits) as u32;
    pub const TLB: u32 = offset_of!(StateBlock, tlb) as u32;
    pub const TLB_ENTRIES: u32 = super::TLB_ENTRIES as u32;
    pub const TLB_ENTRY_BYTES: u32 = size_of::<TlbEntry>() as u32;
    /// Offsets inside one entry.
    pub const TLB_READ_TAG: u32 = offset_of!(TlbEntry, read_tag) as u32;
    pub const TLB_WRITE_TAG: u32 = offset_of!(TlbEntry, write_tag) as u32;
    pub const TLB_ADDEND: u32 = offset_of!(TlbEntry, addend) as u32;
    /// Bytes reserved for the block.
    pub const SIZE: u32 = size_of::<StateBlock>() as u32;

    // Generated code shifts by log2 of the entry size and masks the index.
    const _: () = assert!(TLB_ENTRY_BYTES.is_power_of_two() && TLB_ENTRIES.is_power_of_two());
    const _: () = assert!(CHAIN_SLOT_BYTES.is_power_of_two() && CHAIN_SLOTS.is_power_of_two());
    const _: () = assert!(MISS_RING.is_power_of_two());
}

/// Addresses and the memory type of one backend's linear memory.
///
/// Invariants: `ram .. ram + ram_len`, `page_flags .. page_flags +
/// ram_len / 4096` and `state .. state + state::SIZE` lie inside the memory
/// and do not overlap; generated code writes only the state block and RAM,
/// and checks every RAM access against `ram_len` before making it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryLayout {
    /// Address of the hart state block (8-byte aligned). The backend passes
    /// it to every call; the code generator does not read it.
    pub state: u32,
    /// Address of guest physical `RAM_BASE`.
    pub ram: u32,
    /// Bytes of guest RAM (a multiple of 4096).
    pub ram_len: u32,
    /// Address of RAM's page-flag bytes (one per 4 KiB page).
    pub page_flags: u32,
    /// The imported memory is shared (threads build, native engine).
    pub shared: bool,
    /// Its minimum and maximum size in 64 KiB pages, as the import declares.
    pub min_pages: u64,
    pub max_pages: Option<u64>,
    /// The imported function table holds `(ref null $run)` (type 0 of every
    /// generated module) instead of any `funcref`. Natively the VM makes the
    /// tables and types them: a `call_indirect` or `return_call_indirect`
    /// through a typed table skips the callee's signature check, a chain of
    /// dependent loads on every chained exit (BENCHMARKS.md "A typed
    /// function table natively"). In the page the table is the VM's own
    /// `funcref` table, which JavaScript cannot type.
    pub typed_table: bool,
}
