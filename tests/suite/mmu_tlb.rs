//! TLB behaviour seen through `UnifiedMmu`: stale entries until SFENCE.VMA,
//! ASID tagging, global entries, re-checked permissions, statistics, and the
//! prefetcher's promise not to fault or write.
use crate::mmu_common;

use mmu_common::*;
use tunevm::mem::sv39::{PTE_A, PTE_G, PTE_R, PTE_V, PTE_W};
use tunevm::mem::{
    AccessType, FaultKind, MmuOptimizationStrategy, Privilege, TranslationContext,
    UnifiedMmuConfig, RAM_BASE,
};

use AccessType::{Load, Store};

use Privilege::{Supervisor, User};

const VA: u64 = 0x4000_0000;
const OLD: u64 = RAM_BASE + 0x10_0000;
const NEW: u64 = RAM_BASE + 0x20_0000;

fn leaf(pa: u64, flags: u8) -> u64 {
    (pa >> 12) << 10 | flags as u64
}

/// The four SFENCE.VMA forms of priv spec 4.2.1 on one remapped page:
/// the old translation is used until a fence that covers the page.
#[test]
fn stale_translation_until_sfence() {
    let fences: [(Option<u64>, Option<u16>); 4] =
        [(None, None), (None, Some(3)), (Some(VA + 0x800), None), (Some(VA), Some(3))];
    for strategy in STRATEGIES {
        for (vaddr, asid) in fences {
            let mut vm = Vm::with_strategy(strategy);
            let root = vm.new_table();
            let pte = vm.map(root, VA, OLD, RW, 0);
            let ctx = ctx(root, 3, Supervisor);
            assert_eq!(vm.translate(&ctx, VA, Load), Ok(OLD));
            vm.write_pte(pte, leaf(NEW, RW));
            assert_eq!(vm.translate(&ctx, VA, Load), Ok(OLD), "{strategy:?}: stale before fence");
            // A fence for another page or another ASID changes nothing.
            vm.mmu.sfence_vma(Some(VA + 0x1000), None);
            vm.mmu.sfence_vma(None, Some(4));
            assert_eq!(vm.translate(&ctx, VA, Load), Ok(OLD), "{strategy:?}: unrelated fences");
            vm.mmu.sfence_vma(vaddr, asid);
            assert_eq!(
                vm.translate(&ctx, VA, Load),
                Ok(NEW),
                "{strategy:?}: after sfence.vma {vaddr:x?}, {asid:?}"
            );
        }
    }
}

/// Two address spaces map the same page differently; a global page is shared.
/// An ASID-specific fence drops only that ASID's non-global entries.
#[test]
fn asid_flush_keeps_globals_and_other_asids() {
    const GLOBAL_VA: u64 = 0x4010_0000;
    for strategy in STRATEGIES {
        for vaddr in [None, Some(VA)] {
            let mut vm = Vm::with_strategy(strategy);
            let (root1, root2) = (vm.new_table(), vm.new_table());
            let pte1 = vm.map(root1, VA, OLD, RW, 0);
            let pte2 = vm.map(root2, VA, OLD + 0x1000, RW, 0);
            let g1 = vm.map(root1, GLOBAL_VA, OLD + 0x2000, RW | PTE_G, 0);
            let g2 = vm.map(root2, GLOBAL_VA, OLD + 0x2000, RW | PTE_G, 0);
            let (ctx1, ctx2) = (ctx(root1, 1, Supervisor), ctx(root2, 2, Supervisor));
            for (ctx, va) in [(&ctx1, VA), (&ctx2, VA), (&ctx1, GLOBAL_VA), (&ctx2, GLOBAL_VA)] {
                vm.translate(ctx, va, Load).unwrap();
            }
            for (pte, pa) in [(pte1, NEW), (pte2, NEW + 0x1000)] {
                vm.write_pte(pte, leaf(pa, RW));
            }
            for pte in [g1, g2] {
                vm.write_pte(pte, leaf(NEW + 0x2000, RW | PTE_G));
            }
            // Flush ASID 1 (everything, or the page at VA).
            vm.mmu.sfence_vma(vaddr.map(|v| v + 0x10), Some(1));
            let msg = format!("{strategy:?}, fence {vaddr:x?}");
            assert_eq!(vm.translate(&ctx1, VA, Load), Ok(NEW), "{msg}: ASID 1 re-walked");
            assert_eq!(vm.translate(&ctx2, VA, Load), Ok(OLD + 0x1000), "{msg}: ASID 2 kept");
            assert_eq!(
                vm.translate(&ctx1, GLOBAL_VA, Load),
                Ok(OLD + 0x2000),
                "{msg}: global kept"
            );
            // A fence without ASID removes global entries too.
            vm.mmu.sfence_vma(Some(GLOBAL_VA), None);
            assert_eq!(vm.translate(&ctx2, GLOBAL_VA, Load), Ok(NEW + 0x2000), "{msg}");
        }
    }
}

#[test]
fn asid_tags_keep_address_spaces_apart() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let (root1, root2) = (vm.new_table(), vm.new_table());
        vm.map(root1, VA, OLD, RW, 0);
        vm.map(root2, VA, NEW, RW, 0);
        let (ctx1, ctx2) = (ctx(root1, 1, Supervisor), ctx(root2, 2, Supervisor));
        for round in 0..3 {
            assert_eq!(vm.translate(&ctx1, VA + 4, Load), Ok(OLD + 4), "{strategy:?} {round}");
            assert_eq!(vm.translate(&ctx2, VA + 4, Load), Ok(NEW + 4), "{strategy:?} {round}");
        }
        let stats = vm.mmu.stats();
        assert_eq!((stats.lookups, stats.walks), (6, 2), "{strategy:?}: one walk per ASID");
    }
}

/// A superpage is cached per 4 KiB piece; a fence naming any address of the
/// superpage removes every piece.
#[test]
fn sfence_inside_a_superpage_drops_all_its_pieces() {
    const MEGA: u64 = RAM_BASE + 0x20_0000; // 2 MiB aligned
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let pte = vm.map(root, VA, MEGA, RW, 1);
        let ctx = ctx(root, 0, Supervisor);
        for piece in [0, 5] {
            assert_eq!(vm.translate(&ctx, VA + piece * 0x1000, Load), Ok(MEGA + piece * 0x1000));
        }
        vm.write_pte(pte, leaf(RAM_BASE + 0x40_0000, RW));
        vm.mmu.sfence_vma(Some(VA + 0x7_0000), None);
        for piece in [0, 5] {
            assert_eq!(
                vm.translate(&ctx, VA + piece * 0x1000, Load),
                Ok(RAM_BASE + 0x40_0000 + piece * 0x1000),
                "{strategy:?} piece {piece}"
            );
        }
    }
}

/// A TLB hit honours the current privilege, SUM and MXR, not those of the fill.
#[test]
fn hits_recheck_permissions() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        vm.map(root, VA, OLD, URW, 0);
        let s_sum = TranslationContext { sum: true, ..ctx(root, 0, Supervisor) };
        let s = ctx(root, 0, Supervisor);
        let u = ctx(root, 0, User);
        assert_eq!(vm.translate(&s_sum, VA, Store), Ok(OLD));
        assert_eq!(vm.translate(&s_sum, VA, Load), Ok(OLD));
        let fault = vm.translate(&s, VA, Load).unwrap_err();
        assert_eq!((fault.kind, fault.access, fault.addr), (FaultKind::PageFault, Load, VA));
        assert_eq!(vm.translate(&u, VA, Load), Ok(OLD));
        assert!(vm.translate(&s_sum, VA, AccessType::Fetch).is_err(), "S never executes U pages");
        let stats = vm.mmu.stats();
        assert_eq!(stats.lookups, stats.hits + stats.walks, "{strategy:?}");
    }
}

/// A page-table change that *adds* permission is seen without a fence: a hit
/// that fails the check is a miss, and the walk decides.
#[test]
fn refused_hit_walks_again() {
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let pte = vm.map(root, VA, OLD, PTE_V | PTE_R | PTE_A, 0);
        let ctx = ctx(root, 0, Supervisor);
        vm.translate(&ctx, VA, Load).unwrap();
        vm.write_pte(pte, leaf(OLD, RW));
        assert_eq!(vm.translate(&ctx, VA, Store), Ok(OLD), "{strategy:?}");
    }
}

#[test]
fn statistics_add_up() {
    for strategy in STRATEGIES {
        let mut vm = Vm::new(UnifiedMmuConfig {
            strategy,
            enable_prefetch: false,
            multilevel_tlb_config: tunevm::mem::MultiLevelTlbConfig {
                l1_entries: 1,
                ..Default::default()
            },
            ..Default::default()
        });
        let root = vm.new_table();
        vm.map(root, VA, OLD, RW, 0);
        vm.map(root, VA + 0x1000, NEW, RW, 0);
        let ctx = ctx(root, 0, Supervisor);
        // Two pages alternating: with a one-entry L1 every access after the
        // first two misses L1 and hits L2.
        for i in 0..10 {
            vm.translate(&ctx, VA + (i % 2) * 0x1000, Load).unwrap();
        }
        assert!(vm.translate(&ctx, 0x7000_0000, Load).is_err());
        let s = vm.mmu.stats();
        assert_eq!((s.lookups, s.walks, s.hits), (11, 3, 8), "{strategy:?}");
        match strategy {
            MmuOptimizationStrategy::MultiLevel => {
                let (l1, l2) = (s.level("l1").unwrap(), s.level("l2").unwrap());
                assert_eq!((l1.lookups, l1.hits), (11, 0));
                assert_eq!((l2.lookups, l2.hits), (11, 8));
            }
            _ => {
                let shared = s.level("shared").unwrap();
                assert_eq!((shared.lookups, shared.hits), (11, 8));
                assert_eq!(s.levels.len(), 1);
            }
        }
        assert_eq!(s.hit_rate(), Some(8.0 / 11.0));
        vm.mmu.reset_stats();
        assert_eq!(vm.mmu.stats().lookups, 0);
        assert_eq!(vm.mmu.stats().hit_rate(), None);
    }
}

/// Prefetch walks never write A/D, never fault, and do not count as walks.
#[test]
fn prefetch_never_faults_or_writes() {
    for strategy in STRATEGIES {
        let mut vm = Vm::new(UnifiedMmuConfig {
            strategy,
            enable_prefetch: true,
            prefetch_distance: 8,
            ..Default::default()
        });
        let root = vm.new_table();
        let mut ptes = Vec::new();
        for i in 0..16u64 {
            // Pages 8..12 have A = 0; page 13 is unmapped.
            let flags = if (8..12).contains(&i) { PTE_V | PTE_R | PTE_W } else { RW };
            if i != 13 {
                ptes.push((i, vm.map(root, VA + i * 0x1000, OLD + i * 0x1000, flags, 0)));
            }
        }
        let ctx = ctx(root, 0, Supervisor);
        let a_bits = |vm: &Vm| -> Vec<bool> {
            ptes.iter().map(|&(_, pte)| vm.read_pte(pte) as u8 & PTE_A != 0).collect()
        };
        let before = a_bits(&vm);
        // Three misses make the stride; pages 3..=7 are prefetched, 8..=10
        // (A = 0) are skipped.
        for i in 0..3 {
            vm.translate(&ctx, VA + i * 0x1000, Load).unwrap();
        }
        let s = vm.mmu.stats();
        assert_eq!(s.walks, 3, "{strategy:?}: prefetch walks are not demand walks");
        assert_eq!(s.prefetch_issued, 5, "{strategy:?}");
        for i in 3..8 {
            vm.translate(&ctx, VA + i * 0x1000, Load).unwrap();
        }
        let s = vm.mmu.stats();
        assert_eq!((s.walks, s.prefetch_used), (3, 5), "{strategy:?}: pages 3..=7 hit");
        // Only the demanded pages 0..=2 gained A; prefetches wrote nothing.
        let after: Vec<bool> = a_bits(&vm);
        for (k, &(i, _)) in ptes.iter().enumerate() {
            assert_eq!(after[k], before[k] || i < 3, "{strategy:?}: page {i} A bit");
        }
        // Pages 8..=11 had A = 0, so they were never prefetched: they walk.
        for i in 8..12 {
            vm.translate(&ctx, VA + i * 0x1000, Load).unwrap();
        }
        assert_eq!(vm.mmu.stats().walks, 7, "{strategy:?}");
        // The unmapped page 13 faults only when the guest touches it.
        assert!(vm.translate(&ctx, VA + 13 * 0x1000, Load).is_err());
    }
}

/// Random fetches, loads and stores over more pages than the TLBs hold, with
/// pages remapped (and fenced) now and then: every translation must agree
/// with a side-effect-free walk of the current page tables.
#[test]
fn random_mixed_accesses_agree_with_the_page_tables() {
    for (strategy, l1_entries) in [(STRATEGIES[0], 1), (STRATEGIES[0], 4), (STRATEGIES[1], 1)] {
        let mut vm = Vm::new(UnifiedMmuConfig {
            strategy,
            multilevel_tlb_config: tunevm::mem::MultiLevelTlbConfig {
                l1_entries,
                l2_entries: 16,
                l2_ways: 4,
            },
            concurrent_tlb_config: tunevm::mem::ConcurrentTlbConfig { entries: 16, shards: 4 },
            ..Default::default()
        });
        let root = vm.new_table();
        let ptes: Vec<u64> =
            (0..40).map(|p| vm.map(root, VA + p * 0x1000, OLD + p * 0x1000, RWX, 0)).collect();
        let ctx = ctx(root, 5, Supervisor);
        let kinds = [AccessType::Fetch, Load, Store];
        let check = |vm: &mut Vm, va: u64, access: AccessType, step: usize| {
            let expect = vm.mmu.translate_debug(&vm.ram, va, access, &ctx);
            assert_eq!(vm.translate(&ctx, va, access), expect, "{strategy:?} step {step}");
        };
        let mut x = 1u64;
        for step in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Half the accesses go to 6 hot pages, the rest anywhere.
            let page = if x >> 63 == 0 { (x >> 33) % 6 } else { (x >> 33) % 40 };
            let va = VA + page * 0x1000 + (x >> 40) % 0x1000;
            check(&mut vm, va, kinds[(x >> 20) as usize % 3], step);
            if step % 97 == 0 {
                let target = (x >> 45) % 40;
                vm.write_pte(ptes[page as usize], leaf(NEW + target * 0x1000, RWX));
                vm.mmu.sfence_vma(Some(va), None);
                for access in kinds {
                    check(&mut vm, va, access, step);
                }
            }
        }
        let s = vm.mmu.stats();
        assert!(s.hits > s.walks, "{strategy:?}: {s:?}");
    }
}

/// Two harts, one RAM: each hart's MMU keeps its own TLBs over the RAM it is
/// given, so a mapping changed by one hart (after its fence) reaches the
/// other through RAM when that hart fences, and the A/D bits one MMU's walk
/// sets are in the RAM the other walks.
#[test]
fn two_mmus_translate_over_one_ram() {
    use tunevm::mem::UnifiedMmu;
    for strategy in STRATEGIES {
        let mut vm = Vm::with_strategy(strategy);
        let root = vm.new_table();
        let pte = vm.map(root, VA, OLD, PTE_V | PTE_R | PTE_W, 0);
        let ctx = ctx(root, 0, Supervisor);
        let config = UnifiedMmuConfig { strategy, enable_prefetch: false, ..Default::default() };
        let mut other = UnifiedMmu::new(vm.ram.len(), false, config);
        assert_eq!(vm.translate(&ctx, VA, Load), Ok(OLD));
        assert_ne!(vm.read_pte(pte) & PTE_A as u64, 0, "the first hart's walk set A in RAM");
        assert_eq!(other.translate(&vm.ram, VA, Load, &ctx), Ok(OLD), "{strategy:?}");
        vm.write_pte(pte, leaf(NEW, RW));
        assert_eq!(vm.translate(&ctx, VA, Load), Ok(OLD), "its own TLB still holds the old one");
        other.sfence_vma(None, None);
        assert_eq!(other.translate(&vm.ram, VA, Load, &ctx), Ok(NEW), "{strategy:?}");
    }
}
