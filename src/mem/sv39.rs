//! Sv39 page-table walk and permission check (RISC-V privileged spec v1.12,
//! sections 4.3 "Sv32" for the algorithm and 4.4 "Sv39" for the sizes).
//!
//! This file knows nothing about TLBs: it reads page-table entries from RAM,
//! decides faults, and (for demand walks) sets the A and D bits. The TLBs in
//! `tlb` cache what it returns; `mmu` decides when to call it.
//!
//! Architecture invariant: a walk touches memory only through [`Ram`]; a
//! page-table entry outside RAM is an access fault, never a panic.
use super::{AccessType, FaultKind, MemFault, Privilege, Ram, TranslationContext};

/// Page size in bytes (4 KiB) and its log2.
pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;

/// Sv39 has three levels of 512 entries (priv spec 4.4.1: LEVELS = 3, PTESIZE = 8).
pub const LEVELS: usize = 3;
const PTE_SIZE: u64 = 8;
/// Bits of VPN per level.
const VPN_BITS: u32 = 9;
/// The 27-bit virtual page number of an Sv39 address (bits 38:12).
pub const VPN_MASK: u64 = (1 << 27) - 1;

/// PTE bits (priv spec 4.3.1, figure 4.18; same layout in Sv39, figure 4.21).
pub const PTE_V: u8 = 1 << 0;
pub const PTE_R: u8 = 1 << 1;
pub const PTE_W: u8 = 1 << 2;
pub const PTE_X: u8 = 1 << 3;
pub const PTE_U: u8 = 1 << 4;
pub const PTE_G: u8 = 1 << 5;
pub const PTE_A: u8 = 1 << 6;
pub const PTE_D: u8 = 1 << 7;

/// PPN field of an Sv39 PTE: bits 53:10 (44 bits).
const PTE_PPN_SHIFT: u32 = 10;
const PTE_PPN_MASK: u64 = (1 << 44) - 1;
/// Bits 63:54 of an Sv39 PTE: N (Svnapot), PBMT (Svpbmt) and reserved bits.
/// tunevm implements neither extension, so any of them set is a page fault
/// (priv spec 4.4.1: "Bits 63-54 are reserved for future standard use and ...
/// must be zeroed by software"; a walk that finds them set faults, step 3).
const PTE_RESERVED_MASK: u64 = 0x3FF << 54;

/// satp fields for RV64 (priv spec 4.1.11, figure 4.12).
pub const SATP_PPN_MASK: u64 = (1 << 44) - 1;
const SATP_ASID_SHIFT: u32 = 44;

/// ASID of an RV64 satp value (bits 59:44).
#[inline(always)]
pub fn satp_asid(satp: u64) -> u16 {
    (satp >> SATP_ASID_SHIFT) as u16
}

/// Root page-table PPN of an RV64 satp value (bits 43:0).
#[inline(always)]
pub fn satp_root(satp: u64) -> u64 {
    satp & SATP_PPN_MASK
}

/// Sv39 canonical check (priv spec 4.4.1): bits 63:39 must all equal bit 38.
#[inline(always)]
pub fn is_canonical(vaddr: u64) -> bool {
    (((vaddr as i64) << 25) >> 25) as u64 == vaddr
}

/// The 27-bit VPN of a (canonical) virtual address.
#[inline(always)]
pub fn vpn_of(vaddr: u64) -> u64 {
    (vaddr >> PAGE_SHIFT) & VPN_MASK
}

/// The canonical virtual address of the first byte of page `vpn` (sign-extends
/// VPN bit 26, i.e. address bit 38).
#[inline(always)]
pub fn vaddr_of_vpn(vpn: u64) -> u64 {
    ((((vpn & VPN_MASK) << PAGE_SHIFT) as i64) << 25 >> 25) as u64
}

/// A leaf PTE found by [`walk`], reduced to what a TLB entry needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// Physical page number of the 4 KiB page holding the address (for a
    /// superpage, the leaf's PPN with its low bits taken from the VPN, step 8).
    pub ppn: u64,
    /// PTE bits 7:0 (V R W X U G A D). G is the *effective* global bit: set
    /// when the leaf or any non-leaf PTE above it has G (4.3.1: "for non-leaf
    /// PTEs, the global setting implies that all mappings in the subsequent
    /// levels of the page table are global").
    pub flags: u8,
    /// 0 = 4 KiB page, 1 = 2 MiB megapage, 2 = 1 GiB gigapage.
    pub level: u8,
    /// RAM offset of the leaf PTE (where A/D updates go).
    pte_off: usize,
    /// The leaf PTE as read.
    pte: u64,
}

/// Walk the Sv39 tables rooted at satp.PPN for `vaddr`: priv spec 4.3.2 steps
/// 1-4 and 6, plus the canonical-address check of 4.4.1. Permissions (step 5)
/// and A/D (step 7) are separate ([`permits`], [`update_ad`]) so a prefetch
/// walk can skip them.
///
/// Faults carry `vaddr` and `access`: a page fault for anything the page
/// tables refuse, an access fault when a PTE lies outside RAM (step 2: "If
/// accessing pte violates a PMA or PMP check, raise an access-fault exception
/// corresponding to the original access type").
pub(crate) fn walk(ram: &Ram, satp: u64, vaddr: u64, access: AccessType) -> Result<Leaf, MemFault> {
    let page_fault = MemFault::new(FaultKind::PageFault, access, vaddr);
    if !is_canonical(vaddr) {
        return Err(page_fault);
    }
    // Step 1: a = satp.ppn * PAGESIZE, i = LEVELS - 1.
    let mut table = (satp & SATP_PPN_MASK) << PAGE_SHIFT;
    let mut global = false;
    for level in (0..LEVELS).rev() {
        // Step 2: pte = memory[a + va.vpn[i] * PTESIZE].
        let index = (vaddr >> (PAGE_SHIFT + VPN_BITS * level as u32)) & 0x1FF;
        let pte_addr = table + index * PTE_SIZE;
        let Some(pte_off) = ram.offset_of(pte_addr, PTE_SIZE) else {
            return Err(MemFault::new(FaultKind::AccessFault, access, vaddr));
        };
        let pte = ram.read(pte_off, PTE_SIZE);
        let flags = pte as u8;
        // Step 3: V = 0, or R = 0 and W = 1, or reserved bits set: page fault.
        if flags & PTE_V == 0
            || (flags & PTE_R == 0 && flags & PTE_W != 0)
            || pte & PTE_RESERVED_MASK != 0
        {
            return Err(page_fault);
        }
        global |= flags & PTE_G != 0;
        let ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        // Step 4: R = 0 and X = 0 means a pointer to the next level; at
        // level 0 there is none, so that is a page fault.
        if flags & (PTE_R | PTE_X) == 0 {
            if level == 0 {
                return Err(page_fault);
            }
            table = ppn << PAGE_SHIFT;
            continue;
        }
        // Step 6: a superpage's PPN must be aligned to its size
        // ("if i > 0 and pte.ppn[i-1:0] != 0, this is a misaligned superpage").
        let low_bits = VPN_BITS * level as u32;
        let low_mask = (1u64 << low_bits) - 1;
        if ppn & low_mask != 0 {
            return Err(page_fault);
        }
        // Step 8: pa.ppn[i-1:0] = va.vpn[i-1:0] for a superpage.
        let ppn = ppn | (vpn_of(vaddr) & low_mask);
        let flags = if global { flags | PTE_G } else { flags };
        return Ok(Leaf { ppn, flags, level: level as u8, pte_off, pte });
    }
    unreachable!("the level-0 iteration always returns")
}

/// Step 5 of priv spec 4.3.2, with the rules of 4.3.1 and 3.1.6.3 (SUM, MXR):
/// may an access of type `access` under `ctx` use a leaf with PTE bits `flags`?
///
/// - fetch needs X; load needs R, or X when MXR=1; store needs W;
/// - U-mode needs U=1;
/// - S-mode on a U=1 page: loads and stores only when SUM=1, fetches never
///   ("supervisor mode may never execute code on a user page").
///
/// A and D are not permissions: see [`update_ad`].
#[inline(always)]
pub fn permits(flags: u8, access: AccessType, ctx: &TranslationContext) -> bool {
    let kind_ok = match access {
        AccessType::Fetch => flags & PTE_X != 0,
        AccessType::Load => flags & PTE_R != 0 || (ctx.mxr && flags & PTE_X != 0),
        AccessType::Store => flags & PTE_W != 0,
    };
    let user_page = flags & PTE_U != 0;
    let mode_ok = match ctx.privilege {
        Privilege::User => user_page,
        Privilege::Supervisor => !user_page || (ctx.sum && access != AccessType::Fetch),
        // M-mode accesses are never translated (UnifiedMmu::is_bare).
        Privilege::Machine => true,
    };
    kind_ok && mode_ok
}

/// Step 7 of priv spec 4.3.2, hardware-managed variant: "If pte.a = 0, or if
/// the original memory access is a store and pte.d = 0, ... set pte.a to 1 and,
/// if the original memory access is a store, also set pte.d to 1." Writes the
/// PTE back only when it changes. Returns the leaf with its updated flags.
///
/// The update is atomic with the check, as the spec asks: a compare-exchange
/// against the PTE the walk read. If another hart changed the PTE meanwhile
/// the bits are still set (on the PTE as it now is); the leaf returned is the
/// one this walk checked, which is what the access was allowed by.
pub(crate) fn update_ad(ram: &Ram, mut leaf: Leaf, access: AccessType) -> Leaf {
    let mut set = PTE_A;
    if access == AccessType::Store {
        set |= PTE_D;
    }
    if leaf.pte as u8 & set != set {
        ram.fetch_update(leaf.pte_off, PTE_SIZE, |pte| pte | set as u64);
        leaf.pte |= set as u64;
    }
    leaf.flags |= set;
    leaf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_addresses() {
        assert!(is_canonical(0));
        assert!(is_canonical(0x3F_FFFF_FFFF));
        assert!(is_canonical(0xFFFF_FFC0_0000_0000));
        assert!(!is_canonical(0x40_0000_0000));
        assert!(!is_canonical(0x8000_0000_0000_0000));
    }

    #[test]
    fn vpn_round_trip() {
        for vaddr in [0u64, 0x1000, 0x3F_FFFF_F000, 0xFFFF_FFC0_0000_0000, 0xFFFF_FFFF_FFFF_F000] {
            assert_eq!(vaddr_of_vpn(vpn_of(vaddr)), vaddr);
        }
    }
}
