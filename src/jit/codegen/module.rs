//! The module around a unit's function: two types, the imports, the `run`
//! export, the code section, and the `mulhu` helper.
//!
//! Invariants: type 0 and function 0 are `run: (i64, i32) -> i64` (the
//! unit: budget and state-block address in, result out), function
//! [`MULHU`] is `mulhu: (i64, i64) -> i64`; the module imports, in this
//! order, `env.memory` (declared as `layout` says), `env.table` (a table
//! holding other units' `run`, for chaining: of `(ref null 0)` if
//! `layout.typed_table`, else of `funcref`) and `env.chain_tag` (an
//! immutable i32 global: the tag of that table, see `layout::ChainSlot`),
//! and nothing else, so both backends instantiate every module alike.
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    HeapType, ImportSection, MemoryType, Module, RefType, TableType, TypeSection, ValType,
};

use super::locals::{Allocator, LocalOps};
use crate::jit::layout::MemoryLayout;

/// Index of the `mulhu` helper function.
pub(super) const MULHU: u32 = 1;

/// The module bytes with `run` as function 0, and `mulhu` as function
/// [`MULHU`] if `with_mulhu`.
pub(super) fn assemble(layout: &MemoryLayout, run: &Function, with_mulhu: bool) -> Vec<u8> {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I64, ValType::I32], [ValType::I64]);
    types.ty().function([ValType::I64, ValType::I64], [ValType::I64]);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: layout.min_pages,
            maximum: layout.max_pages,
            memory64: false,
            shared: layout.shared,
            page_size_log2: None,
        }),
    );
    imports.import(
        "env",
        "table",
        EntityType::Table(TableType {
            element_type: if layout.typed_table {
                RefType { nullable: true, heap_type: HeapType::Concrete(0) }
            } else {
                RefType::FUNCREF
            },
            table64: false,
            minimum: 0,
            maximum: None,
            shared: false,
        }),
    );
    imports.import(
        "env",
        "chain_tag",
        EntityType::Global(GlobalType { val_type: ValType::I32, mutable: false, shared: false }),
    );
    module.section(&imports);
    let mut funcs = FunctionSection::new();
    funcs.function(0); // run: type 0
    if with_mulhu {
        funcs.function(1); // mulhu: type 1
    }
    module.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    code.function(run);
    if with_mulhu {
        code.function(&mulhu_function());
    }
    module.section(&code);
    module.finish()
}

/// `mulhu(a, b)`: the high 64 bits of the unsigned 128-bit product, from
/// 32-bit halves.
fn mulhu_function() -> Function {
    let (mut l, [a, b]) = Allocator::with_params([ValType::I64, ValType::I64]);
    let [a_lo, a_hi, b_lo, b_hi, t, u] = std::array::from_fn(|_| l.local(ValType::I64));
    let mut f = Function::new(l.finish());
    let mut s = f.instructions();
    let m = 0xffff_ffffi64;
    s.get_local(a).i64_const(m).i64_and().set_local(a_lo);
    s.get_local(a).i64_const(32).i64_shr_u().set_local(a_hi);
    s.get_local(b).i64_const(m).i64_and().set_local(b_lo);
    s.get_local(b).i64_const(32).i64_shr_u().set_local(b_hi);
    // t = a_lo * b_lo; u = a_hi * b_lo + (t >> 32)
    s.get_local(a_lo).get_local(b_lo).i64_mul().set_local(t);
    s.get_local(a_hi).get_local(b_lo).i64_mul().get_local(t).i64_const(32).i64_shr_u().i64_add();
    s.set_local(u);
    // w = a_lo * b_hi + (u & m)   (kept in t)
    s.get_local(a_lo).get_local(b_hi).i64_mul().get_local(u).i64_const(m).i64_and().i64_add();
    s.set_local(t);
    // a_hi * b_hi + (u >> 32) + (w >> 32)
    s.get_local(a_hi).get_local(b_hi).i64_mul();
    s.get_local(u).i64_const(32).i64_shr_u().i64_add();
    s.get_local(t).i64_const(32).i64_shr_u().i64_add();
    s.end();
    f
}
