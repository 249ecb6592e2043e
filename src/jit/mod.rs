//! The JIT: decides which guest code to compile, when and at which tier,
//! and keeps what it compiled. Code generation comes later; for now this is
//! the adaptive compile threshold with the tier decision, and the code cache.
pub mod code_cache;
pub mod threshold;
