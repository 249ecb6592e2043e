//! Sv39 translation: permissions, A/D bits, superpages, faults (privileged
//! spec v1.12, 4.3-4.4). Every case runs on both TLB organisations, and
//! every translation is done twice so that the second one goes through the
//! TLB hit path (which must decide exactly as the walk did).
use crate::mmu_common;

use mmu_common::*;
use tunevm::mem::sv39::{PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use tunevm::mem::{AccessType, FaultKind, MemFault, Privilege, TranslationContext, RAM_BASE};

use AccessType::{Fetch, Load, Store};
use Privilege::{Supervisor, User};

const VA: u64 = 0x4000_1000;
const PA: u64 = RAM_BASE + 0x5000;

/// One permission case: a 4 KiB page with leaf `flags`, accessed by `access`
/// at `privilege` with SUM/MXR; `ok` says whether it translates.
struct Case {
    flags: u8,
    privilege: Privilege,
    sum: bool,
    mxr: bool,
    access: AccessType,
    ok: bool,
}

const fn case(flags: u8, privilege: Privilege, access: AccessType, ok: bool) -> Case {
    Case { flags, privilege, sum: false, mxr: false, access, ok }
}

const AD: u8 = PTE_V | PTE_A | PTE_D;

fn check(c: &Case) {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        vm.map(root, VA, PA, c.flags, 0);
        let ctx = TranslationContext { sum: c.sum, mxr: c.mxr, ..ctx(root, 1, c.privilege) };
        let expect = if c.ok {
            Ok(PA + 0x123)
        } else {
            Err(MemFault::new(FaultKind::PageFault, c.access, VA + 0x123))
        };
        for attempt in 0..2 {
            assert_eq!(
                vm.translate(&ctx, VA + 0x123, c.access),
                expect,
                "{strategy:?}, attempt {attempt}: flags {:#04x} {:?} sum={} mxr={} {:?}",
                c.flags,
                c.privilege,
                c.sum,
                c.mxr,
                c.access
            );
        }
    }
}

#[test]
fn permissions_by_access_type() {
    for c in [
        case(AD | PTE_R, Supervisor, Load, true),
        case(AD | PTE_R, Supervisor, Store, false),
        case(AD | PTE_R, Supervisor, Fetch, false),
        case(AD | PTE_R | PTE_W, Supervisor, Store, true),
        case(AD | PTE_R | PTE_W, Supervisor, Fetch, false),
        case(AD | PTE_X, Supervisor, Fetch, true),
        case(AD | PTE_X, Supervisor, Load, false),
        case(AD | PTE_X, Supervisor, Store, false),
        case(AD | PTE_R | PTE_X, Supervisor, Load, true),
    ] {
        check(&c);
    }
}

#[test]
fn mxr_makes_executable_pages_readable() {
    for c in [
        Case { mxr: true, ..case(AD | PTE_X, Supervisor, Load, true) },
        Case { mxr: true, ..case(AD | PTE_X, Supervisor, Store, false) },
        Case { mxr: true, ..case(AD | PTE_U | PTE_X, User, Load, true) },
        Case { mxr: true, ..case(AD | PTE_W | PTE_R, Supervisor, Load, true) },
    ] {
        check(&c);
    }
}

#[test]
fn user_pages_and_privilege() {
    let u = AD | PTE_U | PTE_R | PTE_W | PTE_X;
    let s = AD | PTE_R | PTE_W | PTE_X;
    for c in [
        case(u, User, Load, true),
        case(u, User, Store, true),
        case(u, User, Fetch, true),
        case(s, User, Load, false),
        case(s, User, Store, false),
        case(s, User, Fetch, false),
        // S-mode on a U page: only with SUM, and never a fetch.
        case(u, Supervisor, Load, false),
        case(u, Supervisor, Store, false),
        case(u, Supervisor, Fetch, false),
        Case { sum: true, ..case(u, Supervisor, Load, true) },
        Case { sum: true, ..case(u, Supervisor, Store, true) },
        Case { sum: true, ..case(u, Supervisor, Fetch, false) },
        // SUM does not give U-mode anything.
        Case { sum: true, ..case(s, User, Load, false) },
    ] {
        check(&c);
    }
}

#[test]
fn reserved_and_invalid_encodings_fault() {
    for flags in [
        PTE_A | PTE_D | PTE_R | PTE_W, // V = 0
        AD | PTE_W,                    // W without R: reserved
        AD | PTE_W | PTE_X,            // W without R: reserved
    ] {
        for access in [Load, Store, Fetch] {
            check(&case(flags, Supervisor, access, false));
        }
    }
}

#[test]
fn pte_bits_63_54_fault() {
    for bit in 54..64 {
        let mut vm = Vm::with_strategy(STRATEGIES[0]);
        let root = vm.new_table();
        let pte = vm.map(root, VA, PA, RW, 0);
        vm.write_pte(pte, vm.read_pte(pte) | 1 << bit);
        let ctx = ctx(root, 0, Supervisor);
        assert_eq!(
            vm.translate(&ctx, VA, Load),
            Err(MemFault::new(FaultKind::PageFault, Load, VA)),
            "bit {bit}"
        );
    }
}

#[test]
fn pointer_at_level_zero_faults() {
    let mut vm = Vm::with_strategy(STRATEGIES[0]);
    let root = vm.new_table();
    let pte = vm.map(root, VA, PA, RW, 0);
    let table = vm.new_table();
    vm.write_pte(pte, (table >> 12) << 10 | PTE_V as u64); // R = W = X = 0 at level 0
    let ctx = ctx(root, 0, Supervisor);
    assert_eq!(vm.translate(&ctx, VA, Load), Err(MemFault::new(FaultKind::PageFault, Load, VA)));
}

#[test]
fn accessed_bit_set_on_first_access_dirty_on_first_store() {
    for strategy in STRATEGIES {
        for first in [Load, Fetch] {
            let mut vm = Vm::with_strategy(strategy);
            let root = vm.new_table();
            let pte = vm.map(root, VA, PA, PTE_V | PTE_R | PTE_W | PTE_X, 0);
            let ctx = ctx(root, 0, Supervisor);
            vm.translate(&ctx, VA, first).unwrap();
            let flags = vm.read_pte(pte) as u8;
            assert!(flags & PTE_A != 0 && flags & PTE_D == 0, "{strategy:?} {first:?}: {flags:#x}");
            vm.translate(&ctx, VA + 8, Store).unwrap();
            assert!(vm.read_pte(pte) as u8 & PTE_D != 0, "{strategy:?}: D set by the store");
            assert_eq!(vm.read_pte(pte) >> 10, PA >> 12, "PPN untouched");
        }
    }
}

#[test]
fn store_hitting_a_clean_entry_walks_again() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let pte = vm.map(root, VA, PA, PTE_V | PTE_R | PTE_W | PTE_A, 0);
        let ctx = ctx(root, 0, Supervisor);
        vm.translate(&ctx, VA, Load).unwrap();
        vm.translate(&ctx, VA, Load).unwrap();
        assert_eq!(vm.mmu.stats().walks, 1, "{strategy:?}: the second load hits");
        vm.translate(&ctx, VA, Store).unwrap();
        assert_eq!(vm.mmu.stats().walks, 2, "{strategy:?}: the store re-walks");
        assert!(vm.read_pte(pte) as u8 & PTE_D != 0);
        vm.translate(&ctx, VA, Store).unwrap();
        assert_eq!(vm.mmu.stats().walks, 2, "{strategy:?}: the refreshed entry has D");
    }
}

#[test]
fn faulting_access_sets_no_bits() {
    let mut vm = Vm::with_strategy(STRATEGIES[0]);
    let root = vm.new_table();
    let pte = vm.map(root, VA, PA, PTE_V | PTE_R, 0);
    let ctx = ctx(root, 0, Supervisor);
    assert!(vm.translate(&ctx, VA, Store).is_err());
    assert_eq!(vm.read_pte(pte) as u8, PTE_V | PTE_R);
}

#[test]
fn superpages_translate_every_offset() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let ctx = ctx(root, 0, Supervisor);
        // 2 MiB megapage.
        let mega_va = 0x4020_0000;
        let mega_pa = RAM_BASE + 0x40_0000;
        let pte = vm.map(root, mega_va, mega_pa, PTE_V | PTE_R | PTE_W, 1);
        for off in [0, 0x1234, 0x1F_FFFF] {
            assert_eq!(vm.translate(&ctx, mega_va + off, Load), Ok(mega_pa + off));
        }
        assert!(vm.read_pte(pte) as u8 & PTE_A != 0, "A set in the level-1 leaf");
        // 1 GiB gigapage (RAM_BASE is 1 GiB aligned).
        let giga_va = 0xC000_0000;
        vm.map(root, giga_va, RAM_BASE, RW, 2);
        for off in [0, 0x123_4567, 0x3FFF_FFFF] {
            assert_eq!(vm.translate(&ctx, giga_va + off, Store), Ok(RAM_BASE + off));
        }
        // High half of the address space.
        let high = 0xFFFF_FFC0_0000_0000;
        vm.map(root, high, RAM_BASE, RW, 2);
        assert_eq!(vm.translate(&ctx, high + 0x10, Load), Ok(RAM_BASE + 0x10));
    }
}

#[test]
fn misaligned_superpage_faults() {
    for (level, pa) in [(1, RAM_BASE + 0x1000), (2, RAM_BASE + 0x20_0000), (2, RAM_BASE + 0x1000)] {
        let mut vm = Vm::with_strategy(STRATEGIES[0]);
        let root = vm.new_table();
        let va = 0x4000_0000;
        vm.map(root, va, pa, RW, level);
        let ctx = ctx(root, 0, Supervisor);
        assert_eq!(
            vm.translate(&ctx, va + 0x10, Load),
            Err(MemFault::new(FaultKind::PageFault, Load, va + 0x10)),
            "level {level} pa {pa:#x}"
        );
    }
}

#[test]
fn non_canonical_addresses_fault() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        vm.map(root, 0x1000, PA, RWX, 0);
        let ctx = ctx(root, 0, Supervisor);
        assert_eq!(vm.translate(&ctx, 0x1000, Load), Ok(PA));
        // Same low 39 bits as the cached page, but bits 63:39 differ from bit 38.
        for bad in
            [0x1000 | 1 << 63, 0x1000 | 1 << 39, 0x40_0000_1000, 0xFFFF_FF80_0000_1000 ^ 1 << 40]
        {
            for access in [Load, Store, Fetch] {
                assert_eq!(
                    vm.translate(&ctx, bad, access),
                    Err(MemFault::new(FaultKind::PageFault, access, bad)),
                    "{strategy:?} {bad:#x}"
                );
            }
        }
    }
}

#[test]
fn page_table_outside_ram_is_an_access_fault() {
    for access in [Load, Store, Fetch] {
        let mut vm = Vm::with_strategy(STRATEGIES[0]);
        // Root table on the UART, not in RAM.
        let on_uart = ctx(0x1000_0000, 0, Supervisor);
        assert_eq!(
            vm.translate(&on_uart, VA, access),
            Err(MemFault::new(FaultKind::AccessFault, access, VA))
        );
        // A level-1 table beyond the end of RAM.
        let root = vm.new_table();
        let beyond = RAM_BASE + RAM_BYTES as u64;
        vm.write_pte(root + ((VA >> 30) & 0x1FF) * 8, (beyond >> 12) << 10 | PTE_V as u64);
        let ctx = ctx(root, 0, Supervisor);
        assert_eq!(
            vm.translate(&ctx, VA, access),
            Err(MemFault::new(FaultKind::AccessFault, access, VA))
        );
    }
}

#[test]
fn bare_and_machine_mode_are_untranslated_and_uncounted() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let bare = TranslationContext { satp: 0, ..ctx(root, 0, Supervisor) };
        let machine = ctx(root, 0, Privilege::Machine);
        assert_eq!(vm.translate(&bare, 0x8000_1234, Load), Ok(0x8000_1234));
        assert_eq!(vm.translate(&machine, 0x1234, Store), Ok(0x1234));
        assert_eq!(vm.mmu.stats().lookups, 0);
    }
}

#[test]
fn global_bit_of_a_pointer_makes_leaves_global() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let pte = vm.map(root, VA, PA, RW, 0);
        // Set G on the root's pointer to the level-1 table (4.3.1).
        let pointer = root + ((VA >> 30) & 0x1FF) * 8;
        vm.write_pte(pointer, vm.read_pte(pointer) | PTE_G as u64);
        vm.translate(&ctx(root, 1, Supervisor), VA, Load).unwrap();
        vm.write_pte(pte, ((PA + 0x1000) >> 12) << 10 | RW as u64);
        vm.mmu.sfence_vma(None, Some(1));
        // The entry was global: it survives the ASID flush and serves ASID 2.
        assert_eq!(vm.translate(&ctx(root, 2, Supervisor), VA, Load), Ok(PA));
    }
}
