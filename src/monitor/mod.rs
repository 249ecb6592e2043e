//! `PerformanceMonitor` (the tuning guide's `vm_monitor`): counters,
//! histograms and time series, and the JSON report.
//!
//! Architecture invariant: `monitor` exports plain data; it never reaches into
//! the machine. The machine pushes samples in.
