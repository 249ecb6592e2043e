//! tunevm: a RISC-V (RV64IMAC) virtual machine built to make VM tuning visible.
//! See ARCHITECTURE.md for the map of modules and how data flows between them.

pub mod config;
pub mod cpu;
pub mod isa;
pub mod loader;
pub mod mem;
pub mod monitor;
pub mod runtime;
pub mod workload;
