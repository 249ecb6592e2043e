//! `tunevm bench`: the figures BENCHMARKS.md quotes, measured side by side in
//! one run: interpreter MIPS on the CPU workload, and TLB hit rates on the
//! paging workloads per strategy, with and without prefetch.
use std::path::{Path, PathBuf};

use tunevm::config::VmConfig;
use tunevm::monitor::Report;
use tunevm::runtime::{run_captured, RunLimits, RunOutcome};
use tunevm::workload::PagingParams;

use super::{read_elf, UsageError};

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
    /// Measure only this section (repeatable; default: all of them).
    #[arg(long, value_enum)]
    only: Vec<Section>,
}

/// The parts of `tunevm bench`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// Interpreter MIPS on cpubench (and QEMU's, if installed).
    Interpreter,
    /// Interpreter, baseline only, full tiering and clang's direct wasm.
    Jit,
    /// Code-cache eviction policies on the phase-changing workload.
    Phases,
    /// TLB hit rates on the paging workloads.
    Tlb,
    /// Several harts: smp-sum's speed-up by vCPUs and workers.
    Smp,
    /// The GC: pauses and throughput of stop-the-world, incremental and
    /// concurrent marking on the large GC workloads, 64 and 256 MiB heaps.
    Gc,
}

/// Run an ELF image to completion under `config` and return its report.
pub fn measure(name: &str, elf: &[u8], config: VmConfig) -> Result<Report, UsageError> {
    let limits = RunLimits { max_insns: Some(20_000_000_000), timeout_ns: Some(600_000_000_000) };
    let run = run_captured(config, elf, limits).map_err(|e| UsageError(format!("{name}: {e}")))?;
    if run.outcome != RunOutcome::Exited(0) {
        return Err(UsageError(format!("{name} ended with {:?}", run.outcome)));
    }
    Ok(run.report)
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.2} %", r * 100.0))
}

/// A workload ELF from `dir`, read as `run` reads one: at most
/// `MAX_ELF_BYTES + 1` bytes, so a huge file or a device is refused at once.
fn read(dir: &Path, name: &str) -> Result<Vec<u8>, UsageError> {
    read_elf(&dir.join(format!("{name}.elf")), &[])
}

/// Wall time of QEMU running `elf` on its `virt` machine (best of 3), if
/// QEMU is installed and the run exits 0.
fn qemu_wall_ms(elf: &Path) -> Option<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let status = std::process::Command::new("qemu-system-riscv64")
            .args(["-machine", "virt", "-bios", "none", "-nographic", "-m", "256M"])
            .args(["-monitor", "none", "-serial", "null", "-kernel"])
            .arg(elf)
            .stdin(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    Some(best)
}

/// The paging workload with its parameters patched.
fn paging(dir: &Path, params: PagingParams) -> Result<Vec<u8>, UsageError> {
    let mut elf = read(dir, "paging")?;
    params.patch(&mut elf).map_err(UsageError)?;
    Ok(elf)
}

fn config_with(sets: &[(&str, &str)]) -> Result<VmConfig, UsageError> {
    let mut config = VmConfig::default();
    for (k, v) in sets {
        config.set(k, v)?;
    }
    config.validate()?;
    Ok(config)
}

const TLB_HEADER: &str = "| workload | config | hit rate | l1 / shared | l2 | walks | prefetch issued/used |\n|---|---|---|---|---|---|---|";

/// Measure one (workload, config) pair and print it as a table row.
fn tlb_row(
    rows: &mut Vec<serde_json::Value>,
    workload: &str,
    elf: &[u8],
    sets: &[(&str, &str)],
) -> Result<Report, UsageError> {
    let r = measure(workload, elf, config_with(sets)?)?;
    let level = |i: usize| r.tlb.levels.get(i).map_or("-".into(), |l| pct(l.hit_rate));
    let label = if sets.is_empty() {
        "defaults".to_string()
    } else {
        sets.iter()
            .map(|(k, v)| format!("{}={v}", k.trim_start_matches("mmu.")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "| {workload} | {label} ({}) | {} | {} | {} | {} | {}/{} |",
        r.tlb.strategy_chosen,
        pct(r.tlb.hit_rate),
        level(0),
        level(1),
        r.tlb.walks,
        r.tlb.prefetch.issued,
        r.tlb.prefetch.used,
    );
    rows.push(serde_json::json!({
        "workload": workload, "config": label, "strategy_chosen": r.tlb.strategy_chosen,
        "hit_rate": r.tlb.hit_rate, "walks": r.tlb.walks, "levels": r.tlb.levels,
        "prefetch": r.tlb.prefetch, "mips": r.mips,
    }));
    Ok(r)
}

pub fn bench(args: BenchArgs) -> Result<i32, UsageError> {
    let dir = args.workloads.as_path();
    let mut all = serde_json::Map::new();
    let cpubench = read(dir, "cpubench")?;
    let wants = |s: Section| args.only.is_empty() || args.only.contains(&s);
    if wants(Section::Interpreter) {
        interpreter_section(dir, &cpubench, args.repeat.max(1), &mut all)?;
    }
    if wants(Section::Jit) {
        jit_section(dir, &cpubench, args.repeat.max(1), &mut all)?;
    }
    if wants(Section::Phases) {
        phases_section(dir, &mut all)?;
    }
    if wants(Section::Tlb) {
        tlb_sections(dir, &mut all)?;
    }
    if wants(Section::Smp) {
        smp_section(dir, args.repeat.max(1), &mut all)?;
    }
    if wants(Section::Gc) {
        gc_section(dir, args.repeat.max(1), &mut all)?;
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&all).expect("serializes"))
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(0)
}

/// Interpreter MIPS on cpubench, and QEMU's on the same ELF if installed.
fn interpreter_section(
    dir: &Path,
    cpubench: &[u8],
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    let mut mips = Vec::new();
    println!("## Interpreter speed (cpubench.elf, {repeat} runs)\n");
    println!("| run | instructions | wall ms | MIPS |\n|---|---|---|---|");
    for i in 0..repeat {
        let r = measure("cpubench", cpubench, config_with(&[("jit.enabled", "false")])?)?;
        let m = r.mips.unwrap_or(0.0);
        println!("| {} | {} | {:.0} | {:.1} |", i + 1, r.instructions, r.wall_ns as f64 / 1e6, m);
        mips.push(m);
    }
    mips.sort_by(f64::total_cmp);
    let median = mips[mips.len() / 2];
    println!("\nmedian interpreter MIPS: {median:.1}\n");
    all.insert("interpreter_mips_median".into(), median.into());
    if let Some(qemu_ms) = qemu_wall_ms(&dir.join("cpubench.elf")) {
        let qemu_mips = 497_758_853.0 / (qemu_ms * 1e3);
        println!(
            "QEMU (qemu-system-riscv64 -machine virt, its own JIT) on the same ELF, same run: \
             {qemu_ms:.0} ms wall including start-up, about {qemu_mips:.0} MIPS; \
             tunevm's interpreter runs at {:.1} % of it.\n",
            100.0 * median / qemu_mips
        );
        all.insert("qemu_cpubench_wall_ms".into(), qemu_ms.into());
    }
    Ok(())
}

/// TLB hit rates: the paging workloads, strategies and sizes, prefetch.
fn tlb_sections(
    dir: &Path,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    let mut rows = Vec::new();
    println!("## TLB: the built-in paging workloads, default config\n\n{TLB_HEADER}");
    for name in ["paging", "paging-stride", "paging-random"] {
        tlb_row(&mut rows, name, &read(dir, name)?, &[])?;
    }

    let random = paging(
        dir,
        PagingParams { pages: 1024, stride: 1, random: true, passes: 512, seed: 7, bare: false },
    )?;
    println!("\n## TLB strategy and size: 1024 pages in random order\n\n{TLB_HEADER}");
    for sets in [
        &[("mmu.strategy", "multi_level")][..],
        &[("mmu.strategy", "concurrent")],
        &[("mmu.strategy", "multi_level"), ("mmu.multilevel_tlb_config.l2_entries", "2048")],
        &[("mmu.strategy", "concurrent"), ("mmu.concurrent_tlb_config.entries", "2048")],
        &[("mmu.strategy", "multi_level"), ("mmu.multilevel_tlb_config.l2_entries", "128")],
    ] {
        tlb_row(&mut rows, "random 1024", &random, sets)?;
    }

    let scan = paging(
        dir,
        PagingParams { pages: 2048, stride: 1, random: false, passes: 128, seed: 7, bare: false },
    )?;
    println!("\n## Prefetch: a sequential scan of 2048 pages (larger than the L2)\n\n{TLB_HEADER}");
    for sets in [&[("mmu.enable_prefetch", "false")][..], &[("mmu.enable_prefetch", "true")]] {
        tlb_row(&mut rows, "scan 2048", &scan, sets)?;
    }

    let small = paging(
        dir,
        PagingParams { pages: 64, stride: 1, random: false, passes: 4096, seed: 7, bare: false },
    )?;
    println!("\n## L1 size: 64 pages in order\n\n{TLB_HEADER}");
    for l1 in ["4", "16", "64", "128"] {
        tlb_row(&mut rows, "scan 64", &small, &[("mmu.multilevel_tlb_config.l1_entries", l1)])?;
    }
    all.insert("tlb".into(), rows.into());
    sv39_section(dir, all)
}

/// What translation costs: each paging workload under Sv39 and the same
/// walk bare (`--paging bare=1`: S-mode, satp = 0, the frames' physical
/// addresses), at the defaults and interpreted, 3 rounds interleaved,
/// median MIPS. The target: Sv39 at >= 50 % of bare.
fn sv39_section(
    dir: &Path,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    println!(
        "\n## Sv39 against bare: the same walk with and without translation (3 rounds, medians)\n\n\
         | workload | engine | Sv39 MIPS | bare MIPS | Sv39 / bare |\n|---|---|---|---|---|"
    );
    let mut rows = Vec::new();
    for name in ["paging", "paging-stride", "paging-random"] {
        let sv39 = read(dir, name)?;
        let mut bare = sv39.clone();
        let mut params = PagingParams::read(&sv39)
            .ok_or_else(|| UsageError(format!("{name}: no paging parameter block")))?;
        params.bare = true;
        params.patch(&mut bare).map_err(UsageError)?;
        for (engine, sets) in [("defaults", &[][..]), ("interpreter", &[("jit.enabled", "false")])]
        {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..3 {
                a.push(measure(name, &sv39, config_with(sets)?)?.mips.unwrap_or(0.0));
                b.push(measure(name, &bare, config_with(sets)?)?.mips.unwrap_or(0.0));
            }
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let (a, b) = (median(&mut a), median(&mut b));
            println!("| {name} | {engine} | {a:.1} | {b:.1} | {:.0} % |", 100.0 * a / b.max(1e-9));
            rows.push(serde_json::json!({
                "workload": name, "engine": engine, "sv39_mips": a, "bare_mips": b,
            }));
        }
    }
    all.insert("sv39_vs_bare".into(), rows.into());
    Ok(())
}

/// The GC's modes side by side: for each large GC workload and heap size,
/// stop-the-world, incremental slices, and incremental with the marker
/// thread, `repeat` rounds interleaved (this machine is noisy). Medians over
/// the rounds; throughput is the stop-the-world run's wall time over the
/// mode's (1.00 = as fast, above = faster).
fn gc_section(
    dir: &Path,
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    const MODES: [(&str, &[(&str, &str)]); 3] = [
        ("stop-the-world", &[("gc.incremental", "false"), ("gc.concurrent_marking", "false")]),
        ("incremental", &[("gc.concurrent_marking", "false")]),
        ("incremental + concurrent", &[]),
    ];
    println!("## GC: pause times and throughput ({repeat} rounds interleaved, medians)\n");
    println!(
        "| workload | heap | mode | collections | pauses | p50 | p99 | max | GC pause total | \
         marker thread | wall ms | throughput vs STW |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let ms = |ns: f64| format!("{:.3} ms", ns / 1e6);
    let mut rows = Vec::new();
    for name in ["gc-binary-trees-large", "gc-graph-large"] {
        let elf = read(dir, name)?;
        for heap in ["67108864", "268435456"] {
            let mut runs: Vec<Vec<Report>> = vec![Vec::new(); MODES.len()];
            for _ in 0..repeat {
                for (i, (_, sets)) in MODES.iter().enumerate() {
                    let mut sets = sets.to_vec();
                    sets.push(("gc.heap_size_limit", heap));
                    runs[i].push(measure(name, &elf, config_with(&sets)?)?);
                }
            }
            let wall = |rs: &[Report]| median(rs.iter().map(|r| r.wall_ns as f64).collect());
            let stw_wall = wall(&runs[0]);
            for (i, (mode, _)) in MODES.iter().enumerate() {
                let rs = &runs[i];
                let q = |f: fn(&Report) -> Option<u64>| {
                    median(rs.iter().map(|r| f(r).unwrap_or(0) as f64).collect())
                };
                let g = &rs[0].gc;
                let row = serde_json::json!({
                    "workload": name, "heap_bytes": heap.parse::<u64>().unwrap(), "mode": mode,
                    "collections": g.collections, "pauses": g.pause_ns.count,
                    "pause_p50_ns": q(|r| r.gc.pause_ns.p50), "pause_p99_ns": q(|r| r.gc.pause_ns.p99),
                    "pause_max_ns": q(|r| r.gc.pause_ns.max),
                    "pause_total_ns": q(|r| Some(r.gc.pause_ns.total)),
                    "marker_ns": q(|r| Some(r.gc.marker_ns)), "wall_ns": wall(rs),
                    "throughput_vs_stw": stw_wall / wall(rs),
                });
                println!(
                    "| {name} | {} MiB | {mode} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.2} |",
                    heap.parse::<u64>().unwrap() >> 20,
                    g.collections,
                    g.pause_ns.count,
                    ms(q(|r| r.gc.pause_ns.p50)),
                    ms(q(|r| r.gc.pause_ns.p99)),
                    ms(q(|r| r.gc.pause_ns.max)),
                    ms(q(|r| Some(r.gc.pause_ns.total))),
                    ms(q(|r| Some(r.gc.marker_ns))),
                    wall(rs) / 1e6,
                    stw_wall / wall(rs),
                );
                rows.push(row);
            }
        }
    }
    println!();
    all.insert("gc".into(), rows.into());
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A CPU workload with a clang wasm32 build of the same C.
struct CpuWorkload {
    name: &'static str,
    /// Guest instructions of one whole run.
    insns: f64,
    /// The wasm build's export and its argument (the default repetitions).
    export: &'static str,
    reps: i32,
    /// What the guest prints last and the export returns.
    checksum: u64,
    /// Also measure the interpreter and the baseline tier alone.
    all_tiers: bool,
}

const CPU_WORKLOADS: [CpuWorkload; 2] = [
    CpuWorkload {
        name: "cpubench",
        insns: 497_758_853.0,
        export: "cpubench_run",
        reps: 600,
        checksum: 0x3b83_ab4b_1a61_130d,
        all_tiers: true,
    },
    CpuWorkload {
        name: "mixbench",
        insns: 592_705_552.0,
        export: "mixbench_run",
        reps: 450,
        checksum: 0x5d4b_6e56_986a_d4e4,
        all_tiers: false,
    },
];

/// cpubench and mixbench: the interpreter, the baseline tier only (cpubench),
/// full tiering with and without chaining and with synchronous compiles, and
/// the same C compiled straight
/// to wasm32 by clang, all in this one run (wasmtime). Besides MIPS: the
/// compile share of the run, calls into compiled code and chained entries
/// per million guest instructions, and time to the first compiled code.
fn jit_section(
    dir: &Path,
    _cpubench: &[u8],
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    for w in &CPU_WORKLOADS {
        jit_workload(dir, w, repeat, all)?;
    }
    Ok(())
}

fn jit_workload(
    dir: &Path,
    w: &CpuWorkload,
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    let elf = read(dir, w.name)?;
    let wasm_path = dir.join(format!("{}.wasm", w.name));
    let wasm = std::fs::read(&wasm_path)
        .map_err(|e| UsageError(format!("{}: {e}", wasm_path.display())))?;
    let mut configs: Vec<(&str, &[(&str, &str)])> = Vec::new();
    if w.all_tiers {
        configs.push(("interpreter", &[("jit.enabled", "false")]));
        configs.push(("baseline only", &[("jit.tier_up_threshold", "1000000000000")]));
    }
    configs.push(("full tiering, no chaining", &[("jit.chaining", "false")]));
    configs.push(("full tiering, synchronous compiles", &[("jit.background_compile", "false")]));
    configs.push(("full tiering, nested calls", &[("jit.nested_calls", "true")]));
    configs.push(("full tiering, no jump targets", &[("jit.jump_targets", "0")]));
    configs.push(("full tiering, no recompiles", &[("jit.miss_recompiles", "0")]));
    configs.push(("full tiering, no access groups", &[("jit.access_groups", "false")]));
    configs.push(("full tiering, no counted loops", &[("jit.counted_loops", "false")]));
    configs.push(("full tiering, units of 1 page", &[("jit.unit_pages", "1")]));
    configs.push(("full tiering (defaults)", &[]));
    println!("## JIT: {}.elf ({repeat} runs each, median; wasmtime natively)\n", w.name);
    println!(
        "| engine | MIPS | wall ms | compiled units | compile p50 / p99 / max (us) | \
         compile / waited, % of wall | calls / chained per M insns | first compiled code (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    for (name, sets) in configs {
        let mut runs = Vec::new();
        for _ in 0..repeat {
            runs.push(measure(w.name, &elf, config_with(sets)?)?);
        }
        runs.sort_by_key(|r| r.wall_ns);
        let r = runs.swap_remove(runs.len() / 2);
        let us = |v: Option<u64>| v.map_or("-".into(), |v| format!("{:.0}", v as f64 / 1e3));
        let per_m = |n: u64| n as f64 * 1e6 / r.instructions.max(1) as f64;
        let first = first_compiled_ms(&r).map_or("-".into(), |ms| format!("{ms:.1}"));
        println!(
            "| {name} | {:.1} | {:.0} | {} | {} / {} / {} | {:.0} / {:.0} % | {:.0} / {:.0} | {first} |",
            r.mips.unwrap_or(0.0),
            r.wall_ns as f64 / 1e6,
            r.jit.units_compiled,
            us(r.jit.compile_ns.p50),
            us(r.jit.compile_ns.p99),
            us(r.jit.compile_ns.max),
            100.0 * r.jit.compile_ns.total as f64 / r.wall_ns.max(1) as f64,
            100.0 * r.jit.compile_waited_ns as f64 / r.wall_ns.max(1) as f64,
            per_m(r.jit.calls),
            per_m(r.jit.chained),
        );
        all.insert(format!("{} {name}", w.name), serde_json::to_value(&r).expect("serializes"));
        results.push((name, r));
    }
    let mut native = Vec::new();
    for _ in 0..repeat {
        let (checksum, ns, _) =
            tunevm::jit::backend::time_wasm_export(&wasm, w.export, w.reps).map_err(UsageError)?;
        if checksum as u64 != w.checksum {
            return Err(UsageError(format!("{}.wasm checksum {checksum:#x}", w.name)));
        }
        native.push(ns as f64);
    }
    let native_ns = median(native);
    let native_mips = w.insns * 1e3 / native_ns;
    println!(
        "| clang -O2 to wasm32, same C (wasmtime) | {native_mips:.1} (guest-equivalent) | {:.0} | - | - | - | - | - |",
        native_ns / 1e6
    );
    let mips = |want: &str| {
        results.iter().find(|(n, _)| *n == want).and_then(|(_, r)| r.mips).unwrap_or(f64::NAN)
    };
    let full = mips("full tiering (defaults)");
    let mut ratios = format!(
        "\nratios, same run: full tiering / direct wasm {:.1} % (target >= 50 %, guide 70 %); \
         chaining on / off {:.2}x; background / synchronous compiles {:.2}x; \
         nested calls on / off {:.2}x; jump targets on / off {:.2}x; \
         recompiles on / off {:.2}x; access groups on / off {:.2}x; \
         counted loops on / off {:.2}x; units of 4 pages (defaults) / 1 page {:.2}x",
        100.0 * full / native_mips,
        full / mips("full tiering, no chaining"),
        full / mips("full tiering, synchronous compiles"),
        mips("full tiering, nested calls") / full,
        full / mips("full tiering, no jump targets"),
        full / mips("full tiering, no recompiles"),
        full / mips("full tiering, no access groups"),
        full / mips("full tiering, no counted loops"),
        full / mips("full tiering, units of 1 page"),
    );
    if w.all_tiers {
        let interp = mips("interpreter");
        ratios += &format!(
            "; baseline / interpreter {:.2}x; full tiering / interpreter {:.2}x (target >= 5x)",
            mips("baseline only") / interp,
            full / interp
        );
    }
    println!("{ratios}\n");
    all.insert(format!("native_wasm_{}_ns", w.name), native_ns.into());
    Ok(())
}

/// Host milliseconds from the JIT's start to its first compiled unit.
fn first_compiled_ms(r: &Report) -> Option<f64> {
    r.jit.first_code_ns.map(|ns| ns as f64 / 1e6)
}

/// smp-sum (a fixed amount of integer work split between the harts;
/// smp-sum-large, ten times the work, with the JIT):
/// wall time by vCPUs and workers, each shape the median of `repeat` runs,
/// shapes interleaved so load on the host hits them alike. Ratios: the
/// speed-up of 2 and 4 vCPUs on 2 workers over 1 vCPU; 8 vCPUs on 2
/// workers (tasks) against 8 on 8 (a thread each, the OS switching); and 1
/// vCPU on the SMP machinery against the plain single-hart path.
fn smp_section(
    dir: &Path,
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    // With the JIT, smp-sum runs in about 30 ms, mostly start-up and
    // compiling: its ten times longer variant shows how compiled code
    // scales.
    for (name, jit) in [("smp-sum", "false"), ("smp-sum-large", "true")] {
        let elf = read(dir, name)?;
        smp_table(name, &elf, jit, repeat, all)?;
    }
    Ok(())
}

/// One table of [`smp_section`], with `jit.enabled` = `jit`.
fn smp_table(
    name: &str,
    elf: &[u8],
    jit: &str,
    repeat: usize,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    let shapes: [(&str, &str); 6] =
        [("1", "1"), ("2", "1"), ("2", "2"), ("4", "2"), ("8", "2"), ("8", "8")];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    let mut reports: Vec<Option<Report>> = vec![None; shapes.len()];
    for _ in 0..repeat {
        for (i, (vcpus, pool)) in shapes.iter().enumerate() {
            let r = measure(
                name,
                elf,
                config_with(&[
                    ("runtime.vcpus", vcpus),
                    ("runtime.pool_size", pool),
                    ("jit.enabled", jit),
                ])?,
            )?;
            walls[i].push(r.wall_ns as f64 / 1e6);
            reports[i] = Some(r);
        }
    }
    println!(
        "## Several harts: {name}.elf, jit.enabled={jit} (median of {repeat} runs per shape, \
         shapes interleaved)\n"
    );
    println!("| vCPUs | workers | wall ms | MIPS | worker busy | vCPU switches | parks |");
    println!("|---|---|---|---|---|---|---|");
    let mut medians = Vec::new();
    let mut rows = Vec::new();
    for (i, (vcpus, pool)) in shapes.iter().enumerate() {
        let wall = median(walls[i].clone());
        medians.push(wall);
        let r = reports[i].as_ref().expect("measured");
        let (busy, switches, parks) = match &r.smp {
            Some(smp) => (
                smp.workers.iter().map(|w| pct(w.utilisation)).collect::<Vec<_>>().join(" / "),
                smp.vcpus.iter().map(|v| v.task_switches).sum::<u64>(),
                smp.vcpus.iter().map(|v| v.parks).sum::<u64>(),
            ),
            None => ("-".into(), 0, 0),
        };
        println!(
            "| {vcpus} | {pool} | {wall:.1} | {:.1} | {busy} | {switches} | {parks} |",
            r.mips.unwrap_or(0.0)
        );
        rows.push(serde_json::json!({
            "vcpus": vcpus, "workers": pool, "wall_ms": wall, "mips": r.mips,
            "task_switches": switches, "parks": parks,
        }));
    }
    println!(
        "\nratios, same run: 2 vCPUs / 1 on 2 workers {:.2}x (target > 1.7x on 2 cores); \
         4 vCPUs / 1 on 2 workers {:.2}x; 8 vCPUs on 2 workers / on 8 workers {:.2}x \
         (> 1: tasks beat threads); 2 vCPUs on 1 worker / 1 vCPU {:.2}x (the cost of \
         sharing one worker)\n",
        medians[0] / medians[2],
        medians[0] / medians[3],
        medians[5] / medians[4],
        medians[0] / medians[1],
    );
    all.insert(format!("smp_jit_{jit}"), rows.into());
    Ok(())
}

/// The phase-changing workload with a small code cache: hit rate and run
/// time per eviction policy.
fn phases_section(
    dir: &Path,
    all: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), UsageError> {
    let elf = read(dir, "phases")?;
    println!("## Code cache eviction: phases.elf (code working set changes phase)\n");
    println!("| max_entries | policy | hit rate | evictions | compiled units | wall ms | MIPS |");
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for entries in ["256", "1024"] {
        for policy in ["lru", "lfu", "lru_lfu"] {
            let r = measure(
                "phases",
                &elf,
                config_with(&[
                    ("code_cache.max_entries", entries),
                    ("code_cache.eviction_policy", policy),
                ])?,
            )?;
            println!(
                "| {entries} | {policy} | {} | {} | {} | {:.0} | {:.1} |",
                pct(r.code_cache.hit_rate),
                r.code_cache.evictions,
                r.jit.units_compiled,
                r.wall_ns as f64 / 1e6,
                r.mips.unwrap_or(0.0)
            );
            rows.push(serde_json::json!({
                "max_entries": entries, "policy": policy, "hit_rate": r.code_cache.hit_rate,
                "evictions": r.code_cache.evictions, "units_compiled": r.jit.units_compiled,
                "wall_ns": r.wall_ns, "mips": r.mips,
            }));
        }
    }
    println!();
    all.insert("phases".into(), rows.into());
    Ok(())
}
