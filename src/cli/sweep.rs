//! `tunevm sweep`: run one program once per value of one knob and print the
//! figures side by side, e.g.
//! `tunevm sweep --knob mmu.multilevel_tlb_config.l2_entries=128,512,2048 workloads/bin/paging-random.elf`.
//! A key `paging.NAME` sweeps a parameter of the paging workload instead of a
//! config knob. `--knob` given twice runs the grid of both; sweeps of
//! `runtime.*` print a scaling table (wall time, speed-up over the first
//! row, worker utilisation, vCPU task switches), e.g.
//! `tunevm sweep --knob runtime.vcpus=1,2,4 --knob runtime.pool_size=1,2 workloads/bin/smp-sum.elf`.
use std::path::PathBuf;

use tunevm::runtime::{run_captured, RunLimits, RunOutcome};

use super::{build_config, read_elf, UsageError};

#[derive(clap::Args)]
pub struct SweepArgs {
    /// The knob and its values: `KEY=V1,V2,...` (a config key, or
    /// `paging.pages`, `paging.stride`, `paging.random`, `paging.passes`,
    /// `paging.bare`).
    /// Give it twice to run every pair of values (a grid), e.g.
    /// `--knob runtime.vcpus=1,2,4 --knob runtime.pool_size=1,2`.
    #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
    knob: Vec<String>,
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

/// Every combination of the knobs' values, first knob slowest.
fn grid(knobs: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    knobs.iter().fold(vec![Vec::new()], |rows, (key, values)| {
        rows.into_iter()
            .flat_map(|row| {
                values.iter().map(move |v| {
                    let mut row = row.clone();
                    row.push((key.clone(), v.clone()));
                    row
                })
            })
            .collect()
    })
}

pub fn sweep(args: SweepArgs) -> Result<i32, UsageError> {
    let mut knobs = Vec::new();
    for knob in &args.knob {
        let (key, values) = knob.split_once('=').ok_or_else(|| {
            UsageError(format!("invalid --knob {knob:?}: expected KEY=V1,V2,..."))
        })?;
        let values: Vec<String> =
            values.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
        if values.is_empty() {
            return Err(UsageError(format!("--knob {key}: no values given")));
        }
        knobs.push((key.trim().to_string(), values));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(UsageError(format!(
            "invalid --timeout {}: expected seconds > 0",
            args.timeout
        )));
    }
    // Check every value before running anything, so a typo costs no time.
    let mut runs = Vec::new();
    for row in grid(&knobs) {
        let (mut sets, mut paging) = (args.set.clone(), args.paging.clone());
        for (key, value) in &row {
            match key.strip_prefix("paging.") {
                Some(name) => paging.push(format!("{name}={value}")),
                None => sets.push(format!("{key}={value}")),
            }
        }
        let config = build_config(args.config.as_ref(), None, &sets)?;
        let elf = read_elf(&args.elf, &paging)?;
        runs.push((row, config, elf));
    }
    let keys: Vec<&str> = knobs.iter().map(|(k, _)| k.as_str()).collect();
    // Sweeps of the runtime (vCPUs, workers, quantum) get a scaling table.
    let scaling = keys.iter().any(|k| k.starts_with("runtime."));
    println!("sweep of {} on {}\n", keys.join(" x "), args.elf.display());
    let head: String = keys.iter().map(|k| format!("| {k} ")).collect();
    if scaling {
        println!("{head}| outcome | instructions | wall ms | MIPS | speed-up | worker busy | vCPU switches | parks |");
        println!("{}|---|---|---|---|---|---|---|---|", "|---".repeat(keys.len()));
    } else {
        println!("{head}| outcome | instructions | MIPS | TLB hit rate | l1 / shared | l2 | walks | prefetch used/issued |");
        println!("{}|---|---|---|---|---|---|---|---|", "|---".repeat(keys.len()));
    }
    let mut reports = Vec::new();
    let mut first_wall = None;
    for (row, config, elf) in runs {
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
        let values: String = row.iter().map(|(_, v)| format!("| {v} ")).collect();
        if scaling {
            let wall = r.wall_ns as f64 / 1e6;
            let first = *first_wall.get_or_insert(wall);
            let (busy, switches, parks) = match &r.smp {
                Some(smp) => (
                    smp.workers.iter().map(|w| pct(w.utilisation)).collect::<Vec<_>>().join(" / "),
                    smp.vcpus.iter().map(|v| v.task_switches).sum::<u64>().to_string(),
                    smp.vcpus.iter().map(|v| v.parks).sum::<u64>().to_string(),
                ),
                None => ("- (one hart)".into(), "-".into(), "-".into()),
            };
            println!(
                "{values}| {ended} | {} | {wall:.1} | {:.1} | {:.2}x | {busy} | {switches} | {parks} |",
                r.instructions,
                r.mips.unwrap_or(0.0),
                first / wall.max(1e-9),
            );
        } else {
            println!(
                "{values}| {ended} | {} | {:.1} | {} | {} | {} | {} | {}/{} |",
                r.instructions,
                r.mips.unwrap_or(0.0),
                pct(r.tlb.hit_rate),
                level(0),
                level(1),
                r.tlb.walks,
                r.tlb.prefetch.used,
                r.tlb.prefetch.issued,
            );
        }
        let value = if row.len() == 1 {
            serde_json::json!(row[0].1)
        } else {
            serde_json::json!(row
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::BTreeMap<_, _>>())
        };
        reports.push(serde_json::json!({ "value": value, "report": r }));
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&reports).expect("serializes"))
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(0)
}
