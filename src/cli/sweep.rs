//! `tunevm sweep`: run one program once per value of one knob and print the
//! figures side by side, e.g.
//! `tunevm sweep --knob mmu.multilevel_tlb_config.l2_entries=128,512,2048 workloads/bin/paging-random.elf`.
//! A key `paging.NAME` sweeps a parameter of the paging workload instead of a
//! config knob.
use std::path::PathBuf;

use tunevm::runtime::{run_captured, RunLimits, RunOutcome};

use super::{build_config, read_elf, UsageError};

#[derive(clap::Args)]
pub struct SweepArgs {
    /// The knob and its values: `KEY=V1,V2,...` (a config key, or
    /// `paging.pages`, `paging.stride`, `paging.random`, `paging.passes`).
    #[arg(long, value_name = "KEY=V1,V2,...")]
    knob: String,
    /// Configuration file (.toml or .json) every run starts from.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Fixed config overrides for every run. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Fixed paging-workload parameters for every run. Repeatable.
    #[arg(long = "paging", value_name = "NAME=VALUE")]
    paging: Vec<String>,
    /// Stop each run after this many instructions.
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// Stop each run after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
    /// Write every run's report here as a JSON array.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The program to run.
    elf: PathBuf,
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.2} %", r * 100.0))
}

pub fn sweep(args: SweepArgs) -> Result<i32, UsageError> {
    let (key, values) = args.knob.split_once('=').ok_or_else(|| {
        UsageError(format!("invalid --knob {:?}: expected KEY=V1,V2,...", args.knob))
    })?;
    let values: Vec<&str> = values.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Err(UsageError(format!("--knob {key}: no values given")));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(UsageError(format!(
            "invalid --timeout {}: expected seconds > 0",
            args.timeout
        )));
    }
    // Check every value before running anything, so a typo costs no time.
    let mut runs = Vec::new();
    for value in &values {
        let (mut sets, mut paging) = (args.set.clone(), args.paging.clone());
        match key.strip_prefix("paging.") {
            Some(name) => paging.push(format!("{name}={value}")),
            None => sets.push(format!("{key}={value}")),
        }
        let config = build_config(args.config.as_ref(), None, &sets)?;
        let elf = read_elf(&args.elf, &paging)?;
        runs.push((value, config, elf));
    }
    println!("sweep of {key} on {}\n", args.elf.display());
    println!("| {key} | outcome | instructions | MIPS | TLB hit rate | l1 / shared | l2 | walks | prefetch used/issued |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut reports = Vec::new();
    for (value, config, elf) in runs {
        let limits =
            RunLimits { max_insns: args.max_insns, timeout_ns: Some((args.timeout * 1e9) as u64) };
        let run = run_captured(config, &elf, limits)
            .map_err(|e| UsageError(format!("{}: {e}", args.elf.display())))?;
        let (outcome, r) = (run.outcome, run.report);
        let level = |i: usize| r.tlb.levels.get(i).map_or("-".into(), |l| pct(l.hit_rate));
        let ended = match outcome {
            RunOutcome::Exited(code) => format!("exit {code}"),
            other => other.name().to_string(),
        };
        println!(
            "| {value} | {ended} | {} | {:.1} | {} | {} | {} | {} | {}/{} |",
            r.instructions,
            r.mips.unwrap_or(0.0),
            pct(r.tlb.hit_rate),
            level(0),
            level(1),
            r.tlb.walks,
            r.tlb.prefetch.used,
            r.tlb.prefetch.issued,
        );
        reports.push(serde_json::json!({ "value": value, "report": r }));
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&reports).expect("serializes"))
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(0)
}
