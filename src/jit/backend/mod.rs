//! Backends install generated modules and call them. Both run the same
//! bytes; they differ in where the memory comes from.
#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{
    time_wasm_export, CompiledFn, ModuleId, NativeBackend as Backend, MODULES_PER_STORE,
};
#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::{
    async_compile_waiting, set_async_compiles, CompiledFn, ModuleId, WebBackend as Backend,
};

use crate::jit::codegen::{generate, CodegenOptions};
use crate::jit::layout::MemoryLayout;
use crate::jit::region::{Block, End, Region};
use crate::jit::Tier;
use crate::mem::RAM_BASE;

/// What the repository holds for a unit's entry pc and options
/// (`Backend::probe_shared`; natively the repository of `native.rs`, in
/// the browser always `Nothing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// Nothing: compile it.
    Nothing,
    /// Modules for this entry and options: ask `Backend::install_shared`
    /// for one whose guest code is still in RAM.
    Ready,
    /// Another hart is compiling a unit with this entry and options: run
    /// interpreted meanwhile and ask again later.
    Compiling,
}

/// A module another hart compiled, instantiated for this one
/// (`Backend::install_shared`): its id and function here, its wasm bytes,
/// and the unit it translates.
pub struct SharedModule {
    pub module: ModuleId,
    pub func: CompiledFn,
    pub wasm: std::sync::Arc<[u8]>,
    pub region: std::sync::Arc<Region>,
}

/// The trivial module each backend compiles and instantiates once when it
/// starts (one block that at once leaves for the interpreter): the engine's
/// one-time set-up is then not counted as the first unit's compile time, and
/// a memory import that does not link is found there.
pub fn warm_up_module(layout: &MemoryLayout) -> Vec<u8> {
    let region = Region {
        entry: RAM_BASE,
        blocks: vec![Block {
            pc: RAM_BASE,
            insts: Vec::new(),
            end: End::Interpret(RAM_BASE),
            guards: Vec::new(),
            call: None,
        }],
        extra_pages: Vec::new(),
    };
    let opts = CodegenOptions {
        tier: Tier::Optimizing,
        strict_align: false,
        data_bare: true,
        atomic: false,
        chain: true,
        inline_tlb_entries: 256,
        access_groups: true,
        counted_loops: true,
        record_misses: false,
        nested_calls: false,
    };
    generate(&region, layout, opts).wasm
}
