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

/// Entries of the inline TLB (a power of two; direct-mapped by page number).
pub const TLB_ENTRIES: usize = 256;

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
    _reserved: [u64; 30],
    /// The inline TLB, direct-mapped by virtual page number: filled and
    /// flushed by the JIT (`jit/inline_tlb.rs`), read by generated code.
    pub tlb: [TlbEntry; TLB_ENTRIES],
}

impl StateBlock {
    /// Index of `vpn`'s entry in [`StateBlock::tlb`].
    pub fn tlb_index(vpn: u64) -> usize {
        (vpn & (TLB_ENTRIES as u64 - 1)) as usize
    }
}

/// Byte offsets inside the [`StateBlock`], for generated code (taken from
/// the struct, so they cannot drift from it).
pub mod state {
    use super::{StateBlock, TlbEntry};
    use std::mem::{offset_of, size_of};

    pub const X: u32 = offset_of!(StateBlock, x) as u32;
    pub const PC: u32 = offset_of!(StateBlock, pc) as u32;
    pub const TLB_HITS: u32 = offset_of!(StateBlock, tlb_hits) as u32;
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
}
