//! The JIT (the tuning guide's `vm_engine_jit`): hotness counting and the
//! adaptive compile threshold, and the code cache that holds compiled
//! translation units. Code generation and the backend come later.
pub mod code_cache;
pub mod threshold;
