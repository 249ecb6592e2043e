//! Where generated code finds the hart and guest RAM: addresses inside the
//! one linear memory it imports (the VM's own memory in the browser, the
//! embedded engine's memory natively).

/// The hart state block that generated code reads and writes. The
/// dispatcher copies the hart's registers in before a call and out after.
pub mod state {
    /// x0..x31, 8 bytes each (x0 is never written).
    pub const X: u32 = 0;
    /// The pc where execution continues after an exit.
    pub const PC: u32 = 256;
    /// Loads and stores that hit the inline TLB; generated code adds its
    /// count at every exit.
    pub const TLB_HITS: u32 = 264;
    /// The inline TLB: [`TLB_ENTRIES`] entries of [`TLB_ENTRY_BYTES`],
    /// direct-mapped by virtual page number. An entry holds the read tag
    /// (+0), the write tag (+8) and the host addend (+16): for a virtual
    /// address `va` whose page number equals the tag, `va + addend` is its
    /// offset in guest RAM. A tag is the page number `va >> 12` (below
    /// 2^52); `u64::MAX` matches nothing. Filled and flushed by the JIT
    /// (`Jit::fill_inline_tlb`), read by generated code.
    pub const TLB: u32 = 512;
    pub const TLB_ENTRIES: u32 = 256;
    pub const TLB_ENTRY_BYTES: u32 = 32;
    /// Bytes reserved for the block.
    pub const SIZE: u32 = TLB + TLB_ENTRIES * TLB_ENTRY_BYTES;
}

/// Addresses and the memory type of one backend's linear memory.
///
/// Invariants: `ram .. ram + ram_len`, `page_flags .. page_flags +
/// ram_len / 4096` and `state .. state + state::SIZE` lie inside the memory
/// and do not overlap; generated code writes only the state block and RAM,
/// and checks every RAM access against `ram_len` before making it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLayout {
    /// Address of the hart state block (8-byte aligned).
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
