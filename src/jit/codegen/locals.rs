//! The wasm locals of generated functions, handed out by one allocator.
//!
//! Invariant: a function's declaration list (what `Function::new` takes) is
//! produced by the same [`Allocator`] that numbered its locals, so a local's
//! index and its declared type cannot disagree. Parameters come first (wasm
//! numbers them before the declared locals).
use wasm_encoder::{InstructionSink, ValType};

/// One local of a generated function: its index and wasm type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Local {
    pub index: u32,
    pub ty: ValType,
}

/// `local.get` / `local.set` / `local.tee` of a [`Local`].
pub(super) trait LocalOps {
    fn get_local(&mut self, l: Local) -> &mut Self;
    fn set_local(&mut self, l: Local) -> &mut Self;
    fn tee_local(&mut self, l: Local) -> &mut Self;
}

impl LocalOps for InstructionSink<'_> {
    fn get_local(&mut self, l: Local) -> &mut Self {
        self.local_get(l.index)
    }
    fn set_local(&mut self, l: Local) -> &mut Self {
        self.local_set(l.index)
    }
    fn tee_local(&mut self, l: Local) -> &mut Self {
        self.local_tee(l.index)
    }
}

/// Hands out locals in index order and records their declarations
/// (consecutive locals of one type share a declaration entry).
pub(super) struct Allocator {
    next: u32,
    declared: Vec<(u32, ValType)>,
}

impl Allocator {
    /// An allocator for a function with these parameters, and their locals.
    pub fn with_params<const N: usize>(params: [ValType; N]) -> (Allocator, [Local; N]) {
        let locals = std::array::from_fn(|i| Local { index: i as u32, ty: params[i] });
        (Allocator { next: N as u32, declared: Vec::new() }, locals)
    }

    /// A fresh local of type `ty`.
    pub fn local(&mut self, ty: ValType) -> Local {
        let l = Local { index: self.next, ty };
        self.next += 1;
        match self.declared.last_mut() {
            Some((n, t)) if *t == ty => *n += 1,
            _ => self.declared.push((1, ty)),
        }
        l
    }

    /// The declaration list for `Function::new`.
    pub fn finish(self) -> Vec<(u32, ValType)> {
        self.declared
    }
}

/// The locals of a unit's `run(budget: i64, state: i32) -> i64`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Locals {
    /// The first parameter: instructions the unit may still retire.
    pub budget: Local,
    /// The second parameter: the address of the calling hart's state block
    /// (never written; every state-block access adds it to a field offset).
    pub state: Local,
    /// x1..x31 in the optimizing tier, for the registers the unit uses
    /// (`None`: no local; asking for it is a bug).
    regs: [Option<Local>; 31],
    /// Temporaries (i64).
    pub t0: Local,
    pub t1: Local,
    pub t2: Local,
    /// The pc and the tag (`refund << 1 | interpret`) of the exit being taken.
    pub exit_pc: Local,
    pub exit_tag: Local,
    /// Inline-TLB hits so far in this call (added to `state::TLB_HITS` at exit).
    pub tlb_hits: Local,
    /// Address of the inline-TLB entry being used (i32); AMOs reuse it for
    /// the RAM offset once the address is computed.
    pub tlb_entry: Local,
    /// The RAM offset (i32) of the lowest byte a group of accesses off one
    /// base register reaches ([`super::memory::AccessGroup`]), set by the
    /// group's first access after one check for the whole group.
    pub group_base: Local,
    /// A counted loop's unchecked iterations, then the induction
    /// variable's value after them (`counted.rs`).
    pub loop_count: Local,
}

impl Locals {
    /// The locals and the matching declaration list for `Function::new`,
    /// with a local for each register `x[r]` whose bit `r` is set in
    /// `regs`. Every declared local costs at each call where the engine
    /// zero-fills its locals (V8's baseline compiler, Liftoff, does), so a
    /// unit declares only the registers it uses.
    pub fn new(regs: u32) -> (Locals, Vec<(u32, ValType)>) {
        use ValType::{I32, I64};
        let (mut a, [budget, state]) = Allocator::with_params([I64, I32]);
        let regs = std::array::from_fn(|i| (regs & (2 << i) != 0).then(|| a.local(I64)));
        let locals = Locals {
            budget,
            state,
            regs,
            t0: a.local(I64),
            t1: a.local(I64),
            t2: a.local(I64),
            exit_pc: a.local(I64),
            exit_tag: a.local(I64),
            tlb_hits: a.local(I64),
            tlb_entry: a.local(I32),
            group_base: a.local(I32),
            loop_count: a.local(I64),
        };
        (locals, a.finish())
    }

    /// The local holding `x[r]` (r in 1..32).
    pub fn reg(&self, r: u8) -> Local {
        assert!(r != 0, "x0 has no local");
        self.regs[r as usize - 1].unwrap_or_else(|| panic!("x{r} has no local in this unit"))
    }

    /// Every named local (for checks).
    #[cfg(test)]
    fn all(&self) -> Vec<Local> {
        let mut v = vec![self.budget, self.state];
        v.extend(self.regs.iter().flatten());
        v.extend([
            self.t0,
            self.t1,
            self.t2,
            self.exit_pc,
            self.exit_tag,
            self.tlb_hits,
            self.tlb_entry,
            self.group_base,
            self.loop_count,
        ]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The declared types, by index, match the allocated locals, and every
    /// local has its own index, whichever registers get one.
    #[test]
    fn declarations_match_locals() {
        for regs in [u32::MAX << 1, 1 << 5 | 1 << 10, 0] {
            let (l, declared) = Locals::new(regs);
            let mut types = vec![ValType::I64, ValType::I32]; // the parameters
            for (n, ty) in declared {
                types.extend(std::iter::repeat_n(ty, n as usize));
            }
            let all = l.all();
            assert_eq!(all.len(), types.len(), "every declared local is named");
            assert_eq!(all.len(), 2 + regs.count_ones() as usize + 9);
            for (i, local) in all.iter().enumerate() {
                assert_eq!(local.index, i as u32);
                assert_eq!(types[local.index as usize], local.ty, "{local:?}");
            }
            assert_eq!(l.tlb_entry.ty, ValType::I32);
            assert_eq!((l.budget.index, l.state.index), (0, 1));
        }
        let (all, _) = Locals::new(u32::MAX << 1);
        assert_eq!((all.reg(1).index, all.reg(31).index), (2, 32));
        let (some, _) = Locals::new(1 << 5 | 1 << 10);
        assert_eq!((some.reg(5).index, some.reg(10).index, some.t0.index), (2, 3, 4));
    }

    #[test]
    #[should_panic(expected = "x6 has no local")]
    fn a_register_without_a_local_is_a_bug() {
        let (some, _) = Locals::new(1 << 5);
        some.reg(6);
    }

    #[test]
    fn runs_of_one_type_share_a_declaration() {
        let (mut a, [p]) = Allocator::with_params([ValType::I32]);
        assert_eq!(p, Local { index: 0, ty: ValType::I32 });
        let x = a.local(ValType::I64);
        a.local(ValType::I64);
        let y = a.local(ValType::I32);
        assert_eq!((x.index, y.index), (1, 3));
        assert_eq!(a.finish(), vec![(2, ValType::I64), (1, ValType::I32)]);
    }
}
