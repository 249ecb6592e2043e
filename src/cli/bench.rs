//! `tunevm bench`: the figures BENCHMARKS.md quotes, measured side by side in
//! one run: interpreter MIPS on the CPU workload, and TLB hit rates on the
//! paging workloads per strategy, with and without prefetch.
use std::path::{Path, PathBuf};
use std::time::Instant;

use tunevm::config::VmConfig;
use tunevm::monitor::{PerformanceMonitor, Report};
use tunevm::runtime::{Host, Machine, RunLimits, RunOutcome};

use super::UsageError;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Folder holding the workload ELFs.
    #[arg(long, default_value = "workloads/bin")]
    workloads: PathBuf,
    /// Runs of the CPU workload; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Write all measured reports here as one JSON document.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// A host that keeps the console and reads the wall clock.
struct QuietHost {
    start: Instant,
    output: Vec<u8>,
}

impl Host for QuietHost {
    fn now_ns(&mut self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

/// Run `elf` to completion under `config` and return its report.
pub fn measure(elf: &Path, config: VmConfig) -> Result<Report, UsageError> {
    let bytes = std::fs::read(elf).map_err(|e| UsageError(format!("{}: {e}", elf.display())))?;
    let mut machine =
        Machine::new(config, &bytes).map_err(|e| UsageError(format!("{}: {e}", elf.display())))?;
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let mut host = QuietHost { start: Instant::now(), output: Vec::new() };
    let limits = RunLimits { max_insns: Some(20_000_000_000), timeout_ns: Some(600_000_000_000) };
    let outcome = machine.run(limits, &mut monitor, &mut host);
    if outcome != RunOutcome::Exited(0) {
        return Err(UsageError(format!("{} ended with {outcome:?}", elf.display())));
    }
    Ok(machine.report(&monitor, outcome))
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.2} %", r * 100.0))
}

pub fn bench(args: BenchArgs) -> Result<i32, UsageError> {
    let mut all = serde_json::Map::new();
    let cpubench = args.workloads.join("cpubench.elf");
    let mut mips = Vec::new();
    println!("## Interpreter speed (cpubench.elf, {} runs)\n", args.repeat);
    println!("| run | instructions | wall ms | MIPS |\n|---|---|---|---|");
    for i in 0..args.repeat.max(1) {
        let r = measure(&cpubench, VmConfig::default())?;
        let m = r.mips.unwrap_or(0.0);
        println!("| {} | {} | {:.0} | {:.1} |", i + 1, r.instructions, r.wall_ns as f64 / 1e6, m);
        mips.push(m);
    }
    mips.sort_by(f64::total_cmp);
    let median = mips[mips.len() / 2];
    println!("\nmedian interpreter MIPS: {median:.1}\n");
    all.insert("interpreter_mips_median".into(), median.into());

    println!("## TLB hit rate on the paging workloads\n");
    println!("| workload | strategy | prefetch | hit rate | l1 | l2/shared | walks | prefetch issued/used |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for workload in ["paging", "paging-stride", "paging-random"] {
        for strategy in ["hybrid", "multi_level", "concurrent"] {
            for prefetch in [true, false] {
                let mut config = VmConfig::default();
                config.set("mmu.strategy", strategy).map_err(UsageError::from)?;
                config.mmu.enable_prefetch = prefetch;
                let r = measure(&args.workloads.join(format!("{workload}.elf")), config)?;
                let level = |i: usize| r.tlb.levels.get(i).map_or("-".into(), |l| pct(l.hit_rate));
                println!(
                    "| {workload} | {strategy} ({}) | {} | {} | {} | {} | {} | {}/{} |",
                    r.tlb.strategy_chosen,
                    if prefetch { "on" } else { "off" },
                    pct(r.tlb.hit_rate),
                    level(0),
                    level(1),
                    r.tlb.walks,
                    r.tlb.prefetch.issued,
                    r.tlb.prefetch.used,
                );
                rows.push(serde_json::json!({
                    "workload": workload, "strategy": strategy, "prefetch": prefetch,
                    "hit_rate": r.tlb.hit_rate, "walks": r.tlb.walks,
                    "levels": r.tlb.levels, "prefetch_issued": r.tlb.prefetch.issued,
                    "prefetch_used": r.tlb.prefetch.used,
                }));
            }
        }
    }
    all.insert("tlb".into(), rows.into());
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&all).expect("serializes"))
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(0)
}
