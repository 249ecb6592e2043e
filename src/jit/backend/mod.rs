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
pub use web::{CompiledFn, ModuleId, WebBackend as Backend};
