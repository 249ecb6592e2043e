//! The report and its live form (`Machine::live_report`, what the page's
//! live view sends every 40-150 ms while a run goes): the same figures,
//! with only the series it keeps and no `jit.threshold_series`.
#![cfg(not(target_arch = "wasm32"))]
use serde_json::Value;
use tunevm::config::VmConfig;
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{CaptureHost, Machine, RunLimits, RunOutcome};

#[test]
fn a_live_report_is_the_report_without_the_series_it_leaves_out() {
    let path = format!("{}/workloads/bin/gc-binary-trees.elf", env!("CARGO_MANIFEST_DIR"));
    let elf = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut config = VmConfig::default();
    // Synchronous compiles: the threshold controller has points early.
    config.set("jit.background_compile", "false").unwrap();
    let mut machine = Machine::new(config, &elf).unwrap();
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let limits = RunLimits { max_insns: Some(30_000_000), timeout_ns: None };
    let outcome = machine.run(limits, &mut monitor, &mut CaptureHost::default());
    assert_eq!(outcome, RunOutcome::MaxInsns);

    let json = |r| serde_json::to_value(r).unwrap();
    let full = json(machine.report(&monitor, outcome));
    let live = json(machine.live_report(&monitor, outcome, |name| name.starts_with("gc.")));
    let names = |r: &Value| r["series"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let (all, kept) = (names(&full), names(&live));
    assert!(kept.iter().all(|n| n.starts_with("gc.")), "live keeps only gc.*: {kept:?}");
    assert!(!kept.is_empty() && kept.len() < all.len(), "kept {kept:?} of {all:?}");
    for n in &kept {
        assert_eq!(live["series"][n], full["series"][n], "{n}");
    }
    assert!(!full["jit"]["threshold_series"].as_array().unwrap().is_empty());
    assert_eq!(live["jit"]["threshold_series"], Value::Array(vec![]));

    // Everything else is the same report.
    let rest = |mut r: Value| {
        r.as_object_mut().unwrap().remove("series");
        r["jit"].as_object_mut().unwrap().remove("threshold_series");
        r
    };
    assert_eq!(rest(live), rest(full));
}
