//! The JIT (the tuning guide's `vm_engine_jit`): decides which guest code to
//! compile, when and at which tier, and keeps what it compiled.
//!
//! Status: groundwork. The adaptive compile threshold with the tier decision
//! (`threshold`) and the code cache (`code_cache`) are complete and tested as
//! components, but nothing drives them yet: code generation, the backends and
//! the `jit.*` / `code_cache.*` config keys arrive together with the JIT
//! itself, so no knob is exposed before it acts.
pub mod code_cache;
pub mod threshold;
