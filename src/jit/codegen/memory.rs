//! Loads, stores and AMOs: the address checks that keep generated code
//! inside guest RAM, untranslated (physical) or through the inline TLB.
//!
//! Invariants: every access computes `off = addr - RAM_BASE` (or `va +
//! addend` from a matching inline-TLB entry) and side-exits to the
//! interpreter unless `off + size <= ram_len`; stores (and AMOs) also exit
//! unless aligned and the page's flag byte is 0 (no translated code on it);
//! loads exit when misaligned under `strict_align` (or, translated, when
//! they cross a page). An access group ([`AccessGroup`]: untranslated
//! accesses off one unchanged base register in one block) makes these
//! checks once, at its first access, for the whole byte range of the group
//! (and the flags of both pages it may touch), so its later accesses need
//! none. Whatever guest registers or TLB entries hold, generated code reads
//! and writes only RAM and the state block. The TLB entry's fields are
//! addressed by `state::TLB_*` offsets only.
use wasm_encoder::InstructionSink;

use super::locals::LocalOps;
use super::Emitter;
use crate::isa::{Inst, Kind};
use crate::jit::layout::state;
use crate::mem::RAM_BASE;

/// Widest byte range one group of accesses may cover (less than a page, so
/// its bytes lie on at most two pages).
const MAX_GROUP_SPAN: i64 = 2048;

/// An access's role in a group of loads and stores off one base register
/// in one block, with no write to that register between them (the
/// register's value, so the address of each, is the same as at the first).
/// The first access checks the whole group once: the byte range from the
/// lowest offset to the end of the highest lies inside RAM, and, if the
/// group stores, neither page the range touches holds translated code.
/// Then every access of the group reads or writes without a check of its
/// own. If the check fails, the side exit is the first access's, before
/// any of the group ran: the interpreter then runs each access itself.
/// Untranslated data, `strict_align` off (a misaligned access inside the
/// range is fine: the flag check covers every page of the range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AccessGroup {
    /// Not in a group: the access checks itself.
    Alone,
    /// The group's first access: `lowest` is the lowest immediate of the
    /// group, `span` the bytes from there to the end of the highest
    /// access, `stores` whether any access of the group stores.
    First { lowest: i32, span: u32, stores: bool },
    /// A later access of the group starting at `lowest`.
    Later { lowest: i32 },
}

/// (base, immediate, size, store) of a plain load or store.
pub(super) fn plain_access(inst: &Inst) -> Option<(u8, i32, u64, bool)> {
    use Inst::*;
    Some(match *inst {
        Lb { rs1, imm, .. } | Lbu { rs1, imm, .. } => (rs1, imm, 1, false),
        Lh { rs1, imm, .. } | Lhu { rs1, imm, .. } => (rs1, imm, 2, false),
        Lw { rs1, imm, .. } | Lwu { rs1, imm, .. } => (rs1, imm, 4, false),
        Ld { rs1, imm, .. } => (rs1, imm, 8, false),
        Sb { rs1, imm, .. } => (rs1, imm, 1, true),
        Sh { rs1, imm, .. } => (rs1, imm, 2, true),
        Sw { rs1, imm, .. } => (rs1, imm, 4, true),
        Sd { rs1, imm, .. } => (rs1, imm, 8, true),
        _ => return None,
    })
}

/// The [`AccessGroup`] of each of a block's instructions: from each access
/// not yet grouped, the later accesses off the same base register up to
/// the first instruction that writes it (a load into its own base is the
/// group's last) or that is neither ALU code nor a plain load or store,
/// while the range stays within [`MAX_GROUP_SPAN`]. Groups of one are left
/// alone.
pub(super) fn access_groups(insts: &[(u64, Inst, u8)]) -> Vec<AccessGroup> {
    let mut roles = vec![AccessGroup::Alone; insts.len()];
    let mut k = 0;
    while k < insts.len() {
        let Some((base, imm, size, store)) = plain_access(&insts[k].1) else {
            k += 1;
            continue;
        };
        let (mut lo, mut hi, mut stores) = (imm as i64, imm as i64 + size as i64, store);
        let mut members = vec![k];
        let mut j = k + 1;
        if base != 0 && insts[k].1.dest() != base {
            while j < insts.len() {
                let inst = &insts[j].1;
                if let Some((b, i, n, st)) = plain_access(inst) {
                    if b == base {
                        let (l, h) = (lo.min(i as i64), hi.max(i as i64 + n as i64));
                        if h - l > MAX_GROUP_SPAN {
                            break;
                        }
                        (lo, hi, stores) = (l, h, stores || st);
                        members.push(j);
                    }
                } else if inst.kind() != Kind::Alu {
                    break;
                }
                j += 1;
                if inst.dest() == base {
                    break;
                }
            }
        }
        if members.len() > 1 {
            roles[k] = AccessGroup::First { lowest: lo as i32, span: (hi - lo) as u32, stores };
            for &m in &members[1..] {
                roles[m] = AccessGroup::Later { lowest: lo as i32 };
            }
            k = *members.last().expect("two or more") + 1;
        } else {
            k += 1;
        }
    }
    roles
}

impl Emitter<'_> {
    /// Leave the address operand (RAM offset, i32) of a `size`-byte access
    /// at `x[rs1]` + imm on the stack, after side exits for anything the
    /// inline path must not do; returns what the access adds to it (its
    /// memarg offset past RAM's start: non-zero in a group).
    #[allow(clippy::too_many_arguments)]
    fn address(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        imm: i32,
        size: u64,
        store: bool,
        pc: u64,
        refund: u64,
    ) -> u32 {
        if !self.data_bare {
            self.paged_address(s, rs1, imm, size, store, pc, refund);
            return 0;
        }
        if self.unchecked {
            // A counted loop's copy: its entry checked this access's range.
            self.get(s, rs1);
            s.i64_const((imm as i64).wrapping_sub(RAM_BASE as i64)).i64_add().i32_wrap_i64();
            return 0;
        }
        let limit = self.layout.ram_len as u64 - size;
        let t0 = self.l.t0; // the RAM offset
        if let Some(base) = self.known_value(rs1) {
            let off = base.wrapping_add(imm as i64 as u64).wrapping_sub(RAM_BASE);
            if off <= limit && (off % size == 0 || (!store && !self.strict_align)) {
                if store {
                    s.i32_const((off >> 12) as i32);
                    s.i32_load8_u(self.page_flags());
                    self.exit_if(s, pc, refund);
                }
                s.i32_const(off as i32);
                return 0;
            }
        } else {
            match self.groups.get(self.cur).copied().unwrap_or(AccessGroup::Alone) {
                AccessGroup::Alone => {}
                AccessGroup::First { lowest, span, stores } => {
                    self.group_check(s, rs1, lowest, span, stores, pc, refund);
                    s.get_local(self.l.group_base);
                    return (imm - lowest) as u32;
                }
                AccessGroup::Later { lowest } => {
                    s.get_local(self.l.group_base);
                    return (imm - lowest) as u32;
                }
            }
        }
        self.get(s, rs1);
        s.i64_const((imm as i64).wrapping_sub(RAM_BASE as i64)).i64_add().tee_local(t0);
        s.i64_const(limit as i64).i64_gt_u();
        // Bounds and alignment share one side exit: the conditions are
        // or'ed, each non-zero when it fails.
        if size > 1 && (store || self.strict_align) {
            s.get_local(t0).i32_wrap_i64().i32_const(size as i32 - 1).i32_and().i32_or();
        }
        self.exit_if(s, pc, refund);
        if store {
            self.exit_if_code_page(s, pc, refund);
        }
        s.get_local(t0).i32_wrap_i64();
        0
    }

    /// The one check of an [`AccessGroup`] (at its first access): side
    /// exit unless `span` bytes from `x[rs1]` + `lowest` lie inside RAM
    /// and, when the group stores, neither page they touch holds
    /// translated code; then `group_base` holds their RAM offset.
    #[allow(clippy::too_many_arguments)]
    fn group_check(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        lowest: i32,
        span: u32,
        stores: bool,
        pc: u64,
        refund: u64,
    ) {
        let t0 = self.l.t0;
        self.get(s, rs1);
        s.i64_const((lowest as i64).wrapping_sub(RAM_BASE as i64)).i64_add().tee_local(t0);
        s.i64_const(self.layout.ram_len as i64 - span as i64).i64_gt_u();
        self.exit_if(s, pc, refund);
        if stores {
            s.get_local(t0).i64_const(12).i64_shr_u().i32_wrap_i64();
            s.i32_load8_u(self.page_flags());
            s.get_local(t0).i64_const(span as i64 - 1).i64_add();
            s.i64_const(12).i64_shr_u().i32_wrap_i64();
            s.i32_load8_u(self.page_flags()).i32_or();
            self.exit_if(s, pc, refund);
        }
        s.get_local(t0).i32_wrap_i64().set_local(self.l.group_base);
    }

    /// Side-exit if the page of RAM offset `t0` (already checked to lie
    /// inside RAM) holds translated code. A second exit rather than one
    /// or'ed condition with the bounds check: then the flag read needs no
    /// clamp for offsets outside RAM, and Cranelift's code for the pair of
    /// branches measured 1.35x faster on a store-heavy loop (BENCHMARKS.md
    /// "Stores: two side exits").
    fn exit_if_code_page(&mut self, s: &mut InstructionSink, pc: u64, refund: u64) {
        s.get_local(self.l.t0).i64_const(12).i64_shr_u().i32_wrap_i64();
        s.i32_load8_u(self.page_flags());
        self.exit_if(s, pc, refund);
    }

    /// [`Emitter::address`] for translated accesses: the inline TLB's fast
    /// path. Side exits unless the access stays in its page (or is aligned,
    /// where it must be), the entry's read or write tag equals the page
    /// number, and `va + addend` passes the same RAM bounds (and, for
    /// stores, page-flag) checks as untranslated accesses: whatever the
    /// entries hold, generated code stays inside RAM.
    #[allow(clippy::too_many_arguments)]
    fn paged_address(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        imm: i32,
        size: u64,
        store: bool,
        pc: u64,
        refund: u64,
    ) {
        let limit = self.layout.ram_len as u64 - size;
        // t0: the address, then its RAM offset; vpn: its page number.
        let (t0, vpn, entry, hits) = (self.l.t0, self.l.t1, self.l.tlb_entry, self.l.tlb_hits);
        self.get(s, rs1);
        s.i64_const(imm as i64).i64_add().set_local(t0);
        if size > 1 {
            s.get_local(t0).i32_wrap_i64();
            if store || self.strict_align {
                s.i32_const(size as i32 - 1).i32_and();
            } else {
                s.i32_const(0xfff).i32_and().i32_const(4096 - size as i32).i32_gt_u();
            }
        }
        s.get_local(t0).i64_const(12).i64_shr_u().tee_local(vpn).i32_wrap_i64();
        s.i32_const(self.tlb_mask).i32_and();
        s.i32_const(state::TLB_ENTRY_BYTES.trailing_zeros() as i32).i32_shl();
        s.get_local(self.l.state).i32_add().tee_local(entry);
        s.i64_load(
            self.mem(
                state::TLB + if store { state::TLB_WRITE_TAG } else { state::TLB_READ_TAG },
                3,
            ),
        );
        s.get_local(vpn).i64_ne();
        if size > 1 {
            s.i32_or();
        }
        // The alignment, tag, bounds and flag checks share one side exit
        // (the addend is read whether or not the tag matched: it is in the
        // state block, and a mismatch exits anyway).
        s.get_local(t0).get_local(entry).i64_load(self.mem(state::TLB + state::TLB_ADDEND, 3));
        s.i64_add().tee_local(t0);
        s.i64_const(limit as i64).i64_gt_u().i32_or();
        self.exit_if(s, pc, refund);
        if store {
            self.exit_if_code_page(s, pc, refund);
        }
        s.get_local(hits).i64_const(1).i64_add().set_local(hits);
        s.get_local(t0).i32_wrap_i64();
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn load(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        rs1: u8,
        imm: i32,
        size: u64,
        signed: bool,
        pc: u64,
        refund: u64,
    ) {
        let extra = self.address(s, rs1, imm, size, false, pc, refund);
        let m = self.ram_at(extra, 0);
        match (size, signed) {
            (1, true) => s.i64_load8_s(m),
            (1, false) => s.i64_load8_u(m),
            (2, true) => s.i64_load16_s(m),
            (2, false) => s.i64_load16_u(m),
            (4, true) => s.i64_load32_s(m),
            (4, false) => s.i64_load32_u(m),
            _ => s.i64_load(m),
        };
        self.set(s, rd);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn store(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        rs2: u8,
        imm: i32,
        size: u64,
        pc: u64,
        refund: u64,
    ) {
        let extra = self.address(s, rs1, imm, size, true, pc, refund);
        self.get(s, rs2);
        let m = self.ram_at(extra, 0);
        match size {
            1 => s.i64_store8(m),
            2 => s.i64_store16(m),
            4 => s.i64_store32(m),
            _ => s.i64_store(m),
        };
    }

    /// AMO*.W / AMO*.D: the checks of an aligned store (an AMO needs write
    /// permission and alignment; anything else leaves for the interpreter,
    /// which raises the exception), then load, combine, store; rd gets the
    /// old value (sign-extended for .W). One hart per guest memory for now,
    /// so a plain load and store are atomic enough with one hart; with
    /// several (`CodegenOptions::atomic`) see [`Translator::amo_atomic`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn amo(
        &mut self,
        s: &mut InstructionSink,
        op: crate::isa::AmoOp,
        rd: u8,
        rs1: u8,
        rs2: u8,
        double: bool,
        pc: u64,
        refund: u64,
    ) {
        use crate::isa::AmoOp::*;
        let size = if double { 8 } else { 4 };
        let (t1, t2, entry) = (self.l.t1, self.l.t2, self.l.tlb_entry);
        // `address` leaves the RAM offset; `tlb_entry` is free again after it.
        let extra = self.address(s, rs1, 0, size, true, pc, refund);
        debug_assert_eq!(extra, 0, "AMOs are not grouped");
        s.set_local(entry);
        if self.atomic {
            return self.amo_atomic(s, op, rd, rs2, double);
        }
        let m = self.ram(0);
        s.get_local(entry);
        if double {
            s.i64_load(m);
        } else {
            s.i64_load32_s(m);
        }
        s.set_local(t1);
        self.get(s, rs2);
        if !double {
            s.i64_extend32_s();
        }
        s.set_local(t2);
        s.get_local(entry);
        let pick = |s: &mut InstructionSink, cmp: fn(&mut InstructionSink)| {
            // select(old, src, cmp(old, src))
            s.get_local(t1).get_local(t2).get_local(t1).get_local(t2);
            cmp(s);
            s.select();
        };
        match op {
            Swap => {
                s.get_local(t2);
            }
            Add => {
                s.get_local(t1).get_local(t2).i64_add();
            }
            Xor => {
                s.get_local(t1).get_local(t2).i64_xor();
            }
            And => {
                s.get_local(t1).get_local(t2).i64_and();
            }
            Or => {
                s.get_local(t1).get_local(t2).i64_or();
            }
            Min => pick(s, |s| {
                s.i64_lt_s();
            }),
            Max => pick(s, |s| {
                s.i64_gt_s();
            }),
            // Sign-extended 32-bit values compare as unsigned 64-bit values
            // the way their low halves compare as u32.
            Minu => pick(s, |s| {
                s.i64_lt_u();
            }),
            Maxu => pick(s, |s| {
                s.i64_gt_u();
            }),
        }
        if double {
            s.i64_store(m);
        } else {
            s.i64_store32(m);
        }
        if rd != 0 {
            s.get_local(t1);
            self.set(s, rd);
        }
    }

    /// The AMO itself with several harts: one wasm atomic read-modify-write
    /// on the shared memory (sequentially consistent, so `.aq`/`.rl` hold
    /// too). Swap, add, and, or, xor map to `atomic.rmw` instructions; min
    /// and max, which wasm lacks, to a compare-exchange loop. The RAM offset
    /// is in `tlb_entry` (aligned: `address` checked it).
    fn amo_atomic(
        &mut self,
        s: &mut InstructionSink,
        op: crate::isa::AmoOp,
        rd: u8,
        rs2: u8,
        double: bool,
    ) {
        use crate::isa::AmoOp::*;
        let (t0, t1, t2, entry) = (self.l.t0, self.l.t1, self.l.t2, self.l.tlb_entry);
        let m = self.ram(if double { 3 } else { 2 });
        match op {
            Swap | Add | Xor | And | Or => {
                s.get_local(entry);
                self.get(s, rs2);
                match (op, double) {
                    (Swap, true) => s.i64_atomic_rmw_xchg(m),
                    (Swap, false) => s.i64_atomic_rmw32_xchg_u(m),
                    (Add, true) => s.i64_atomic_rmw_add(m),
                    (Add, false) => s.i64_atomic_rmw32_add_u(m),
                    (Xor, true) => s.i64_atomic_rmw_xor(m),
                    (Xor, false) => s.i64_atomic_rmw32_xor_u(m),
                    (And, true) => s.i64_atomic_rmw_and(m),
                    (And, false) => s.i64_atomic_rmw32_and_u(m),
                    (Or, true) => s.i64_atomic_rmw_or(m),
                    (Or, false) => s.i64_atomic_rmw32_or_u(m),
                    _ => unreachable!(),
                };
                if !double {
                    s.i64_extend32_s();
                }
                s.set_local(t1);
            }
            Min | Max | Minu | Maxu => {
                // t2 = src (sign-extended for .W); t1 = the value in memory
                // as a sign-extended old value; t0 = what the exchange found.
                self.get(s, rs2);
                if !double {
                    s.i64_extend32_s();
                }
                s.set_local(t2);
                s.get_local(entry);
                if double {
                    s.i64_atomic_load(m);
                } else {
                    s.i64_atomic_load32_u(m).i64_extend32_s();
                }
                s.set_local(t1);
                s.loop_(wasm_encoder::BlockType::Empty);
                s.get_local(entry);
                // expected: the old value as memory holds it
                s.get_local(t1);
                if !double {
                    s.i64_const(0xffff_ffff).i64_and();
                }
                // replacement: select(old, src, cmp(old, src))
                s.get_local(t1).get_local(t2).get_local(t1).get_local(t2);
                match op {
                    Min => s.i64_lt_s(),
                    Max => s.i64_gt_s(),
                    // Sign-extended 32-bit values compare as unsigned 64-bit
                    // values the way their low halves compare as u32.
                    Minu => s.i64_lt_u(),
                    _ => s.i64_gt_u(),
                };
                s.select();
                if double {
                    s.i64_atomic_rmw_cmpxchg(m);
                } else {
                    s.i64_atomic_rmw32_cmpxchg_u(m).i64_extend32_s();
                }
                s.tee_local(t0);
                // Another hart changed the word: retry with what it wrote.
                s.get_local(t1).i64_ne();
                s.if_(wasm_encoder::BlockType::Empty);
                s.get_local(t0).set_local(t1).br(1);
                s.end();
                s.end();
            }
        }
        if rd != 0 {
            s.get_local(t1);
            self.set(s, rd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{access_groups, AccessGroup::*};
    use crate::isa::Inst::{self, *};

    fn roles(insts: &[Inst]) -> Vec<super::AccessGroup> {
        let block: Vec<(u64, Inst, u8)> = insts.iter().map(|&i| (0, i, 4)).collect();
        access_groups(&block)
    }

    #[test]
    fn groups_end_where_the_base_changes() {
        // A prologue: stores off sp with ALU code between, then a load
        // into its own base ends the next group.
        let g = roles(&[
            Sd { rs1: 2, rs2: 1, imm: 40 },
            Addi { rd: 8, rs1: 2, imm: 48 },
            Sd { rs1: 2, rs2: 8, imm: 32 },
            Ld { rd: 10, rs1: 11, imm: -8 },
            Ld { rd: 11, rs1: 11, imm: 0 },
            Ld { rd: 12, rs1: 11, imm: 8 },
        ]);
        assert_eq!(g[0], First { lowest: 32, span: 16, stores: true });
        assert_eq!((g[1], g[2]), (Alone, Later { lowest: 32 }));
        assert_eq!(
            (g[3], g[4]),
            (First { lowest: -8, span: 16, stores: false }, Later { lowest: -8 })
        );
        assert_eq!(g[5], Alone, "after a load into the base");
        // A write to the base, a CSR access (not ALU code) and a span past
        // the limit each end a group; groups of one stay alone.
        let g = roles(&[
            Lw { rd: 5, rs1: 10, imm: 0 },
            Addi { rd: 10, rs1: 10, imm: 4 },
            Lw { rd: 6, rs1: 10, imm: 0 },
            Csrrs { rd: 7, rs1: 0, csr: 0x300 },
            Lw { rd: 7, rs1: 10, imm: -8 },
            Sw { rs1: 10, rs2: 7, imm: 2047 },
        ]);
        assert!(g.iter().all(|&r| r == Alone), "{g:?}");
    }
}
