//! tunevm: a RISC-V (RV64IMAC) virtual machine built to make VM tuning visible.
//! See ARCHITECTURE.md for the map of modules and how data flows between them.
//!
//! The tuning guide's snippets have working equivalents here, with the same
//! type, field and variant names (module paths differ: the guide's `vm_mem` is
//! [`mem`], its `vm_monitor` is [`monitor`]).
//!
//! MMU configuration (guide: "MMU配置"):
//!
//! ```
//! use tunevm::mem::{MmuOptimizationStrategy, UnifiedMmu, UnifiedMmuConfig};
//!
//! let mmu_config = UnifiedMmuConfig {
//!     strategy: MmuOptimizationStrategy::Hybrid,
//!     multilevel_tlb_config: Default::default(),
//!     concurrent_tlb_config: Default::default(),
//!     enable_prefetch: true,
//!     prefetch_history_window: 100,
//!     prefetch_distance: 4,
//!     strict_align: false,
//!     ..Default::default()
//! };
//!
//! // The `false` says the MMU is not shared by several harts, so Hybrid
//! // picks the MultiLevel organisation.
//! let mmu = UnifiedMmu::new(256 * 1024 * 1024, false, mmu_config);
//! assert_eq!(mmu.strategy_chosen(), MmuOptimizationStrategy::MultiLevel);
//! ```
//!
//! Performance monitoring (guide: "启用性能监控"); the monitor is fed by the
//! machine it watches (`runtime::Machine::run`):
//!
//! ```
//! use tunevm::monitor::PerformanceMonitor;
//!
//! let mut monitor = PerformanceMonitor::new(Default::default());
//! monitor.start_collection();
//!
//! let report = monitor.generate_report();
//! assert_eq!(report.instructions, 0);
//! ```
//!
//! Running a program and reading the figures:
//!
//! ```
//! use tunevm::config::VmConfig;
//! use tunevm::monitor::PerformanceMonitor;
//! use tunevm::runtime::{CaptureHost, Machine, RunLimits, RunOutcome};
//!
//! let elf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/bin/hello.elf")).unwrap();
//! let mut config = VmConfig::default();
//! config.set("mmu.strategy", "multi_level").unwrap();
//! config.validate().unwrap();
//! let mut machine = Machine::new(config, &elf).unwrap();
//! let mut monitor = PerformanceMonitor::default();
//! monitor.start_collection();
//! let mut host = CaptureHost::default();
//! let outcome = machine.run(RunLimits::default(), &mut monitor, &mut host);
//! assert_eq!(outcome, RunOutcome::Exited(0));
//! assert!(String::from_utf8_lossy(&host.output).starts_with("Hello from tunevm!"));
//! let report = machine.report(&monitor, outcome);
//! assert!(report.instructions > 0);
//! ```

pub mod advisor;
pub mod config;
pub mod cpu;
pub mod gc;
pub mod isa;
pub mod jit;
pub mod loader;
pub mod mem;
pub mod monitor;
pub mod runtime;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod workload;
