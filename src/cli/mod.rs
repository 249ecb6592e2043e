//! Command-line parsing and the subcommands.
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use clap::{Parser, Subcommand};

mod bench;
mod knobs;
mod serve;
mod sweep;

use tunevm::config::{one_line, VmConfig, MAX_LINE_CHARS};
use tunevm::loader::{self, MAX_ELF_BYTES};
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{Host, Machine, PlannedRetune, RunLimits, RunOutcome};
use tunevm::workload::PagingParams;

pub const EXIT_USAGE: i32 = 2;
pub const EXIT_ASLEEP: i32 = 3;
pub const EXIT_RUNAWAY: i32 = 124;

#[derive(Parser)]
#[command(
    name = "tunevm",
    version,
    about = "A RISC-V (RV64IMAC) VM for learning how VMs are tuned"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `tunevm run --help`'s last part: the exit statuses and the stop line
/// (README "Using the CLI" says the same).
const RUN_AFTER_HELP: &str = "\
Exit status:
  the guest's exit code (finisher or HTIF) as code & 0xff; a code that
  truncates to 0 becomes 1
  124  runaway guest, stopped by --max-insns or --timeout
  3    the guest can make no progress (asleep with no interrupt that could
       wake it, or every instruction traps because its trap handler does too)
  2    bad input, config or usage, with a one-line reason on stderr

Any status can also be a guest's own exit code. To tell them apart: a run
that ends in any way other than a guest exit prints, as its last stderr line,
  tunevm: stopped (<stop_reason>): <why>
where <stop_reason> is the report's stop_reason (max_insns, timeout, asleep,
trap_loop or stopped). A guest exit prints no such line.";

#[derive(Subcommand)]
enum Command {
    /// Run a bare-metal RV64 ELF program.
    #[command(after_help = RUN_AFTER_HELP)]
    Run(RunArgs),
    /// Measure interpreter speed and TLB hit rates on the built-in workloads.
    Bench(bench::BenchArgs),
    /// Run one program once per value of one knob and compare the figures.
    Sweep(sweep::SweepArgs),
    /// List every config knob with its default, range and help.
    Knobs(knobs::KnobsArgs),
    /// Serve the playground page (built by scripts/build-web.sh into dist/)
    /// on 127.0.0.1, cross-origin isolated (COOP/COEP headers).
    Serve(serve::ServeArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Configuration file (.toml or .json).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one config key, e.g. `--set mmu.strategy=multi_level`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Apply a preset's settings (after --config, before --set), e.g.
    /// `tlb-problem`; `tunevm knobs --presets` lists them.
    #[arg(long, value_name = "ID")]
    preset: Option<String>,
    /// Stop the guest after this many instructions executed, retired or
    /// trapped (exit status 124).
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// Stop the guest after this many seconds of host time (exit status 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Print every executed instruction to stderr.
    #[arg(long)]
    trace: bool,
    /// Print the JSON report to stdout after the guest's output.
    #[arg(long)]
    print_report: bool,
    /// After the run, print the N hottest compiled units to stderr: guest
    /// disassembly beside the generated wasm as text.
    #[arg(long, value_name = "N")]
    show_code: Option<usize>,
    /// After the run, print the tuning advisor's diagnoses to stderr (the
    /// guide's common problems found in the report, the evidence, and fixes
    /// as --set changes), or "advisor: nothing to fix". The exit status is
    /// the same as without it.
    #[arg(long)]
    advise: bool,
    /// Change a live knob while the guest runs, once N guest instructions
    /// have executed, e.g. `--retune 50000000:code_cache.max_entries=8`
    /// (`tunevm knobs` marks the live ones). Repeatable; the report's
    /// `retunes` lists when each applied.
    #[arg(long = "retune", value_name = "N:KEY=VALUE")]
    retune: Vec<String>,

    /// Set a parameter of the paging workload before it runs, e.g.
    /// `--paging pages=2048 --paging random=1` (pages, stride, random,
    /// passes, seed). Repeatable.
    #[arg(long = "paging", value_name = "NAME=VALUE")]
    paging: Vec<String>,
    /// The program to run.
    elf: PathBuf,
}

/// A one-line error for the user; exit status 2.
struct UsageError(String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(e: E) -> Self {
        UsageError(e.to_string())
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            // One line: clap's first line without its "error: " prefix.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid usage");
            let reason = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("tunevm: {} (see tunevm --help)", one_line(reason, MAX_LINE_CHARS));
            return EXIT_USAGE;
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Bench(args) => bench::bench(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Knobs(args) => knobs::knobs(args),
        Command::Serve(args) => serve::serve(args),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            // Once for every error: file names and values from files and
            // arguments can hold line breaks and terminal escapes.
            eprintln!("tunevm: {}", one_line(&msg, MAX_LINE_CHARS));
            EXIT_USAGE
        }
    }
}

/// Read a guest ELF, applying `--paging` parameters if any were given. At
/// most `MAX_ELF_BYTES + 1` bytes are read, so `/dev/zero` or a disk image
/// is refused at once.
fn read_elf(path: &std::path::Path, paging: &[String]) -> Result<Vec<u8>, UsageError> {
    let cannot_read =
        |e: std::io::Error| UsageError(format!("cannot read {}: {e}", path.display()));
    let too_large = |e: loader::LoadError| UsageError(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() {
            loader::check_size(meta.len()).map_err(too_large)?;
        }
    }
    let mut elf = Vec::new();
    file.take(MAX_ELF_BYTES as u64 + 1).read_to_end(&mut elf).map_err(cannot_read)?;
    loader::check_size(elf.len() as u64).map_err(too_large)?;
    if paging.is_empty() {
        return Ok(elf);
    }
    let mut params = PagingParams::read(&elf).ok_or_else(|| {
        UsageError(format!("--paging: {} is not a paging workload", path.display()))
    })?;
    for assignment in paging {
        let (name, value) = assignment.split_once('=').ok_or_else(|| {
            UsageError(format!("invalid --paging {assignment:?}: expected NAME=VALUE"))
        })?;
        const NAMES: [&str; 6] = ["pages", "stride", "random", "passes", "seed", "bare"];
        if !NAMES.contains(&name.trim()) {
            return Err(UsageError(format!(
                "unknown --paging parameter {name:?}: expected pages, stride, random, passes, seed \
                 or bare"
            )));
        }
        let number: u64 = value.trim().parse().map_err(|_| {
            UsageError(format!("invalid value {value:?} for --paging {name}: expected an integer"))
        })?;
        match name.trim() {
            "pages" => params.pages = number,
            "stride" => params.stride = number,
            "random" if number <= 1 => params.random = number == 1,
            "random" | "bare" if number > 1 => {
                return Err(UsageError(format!("--paging {name}={number}: expected 0 or 1")))
            }
            "bare" => params.bare = number == 1,
            "passes" => params.passes = number,
            _ => params.seed = number,
        }
    }
    params.patch(&mut elf).map_err(|e| UsageError(format!("--paging: {e}")))?;
    Ok(elf)
}

/// The effective config: file, then the preset, then each `--set` in order,
/// then validation.
/// The `--retune N:KEY=VALUE` arguments as a plan: sorted by N (stable),
/// each step the config before it with its changes (one step per N).
fn retune_plan(base: &VmConfig, args: &[String]) -> Result<Vec<PlannedRetune>, UsageError> {
    let mut steps = Vec::with_capacity(args.len());
    for arg in args {
        let bad = || {
            UsageError(format!(
                "invalid --retune {arg:?}: expected N:KEY=VALUE, e.g. 50000000:code_cache.max_entries=8"
            ))
        };
        let (at, assignment) = arg.split_once(':').ok_or_else(bad)?;
        let at: u64 = at.trim().replace('_', "").parse().map_err(|_| bad())?;
        let (key, value) = tunevm::config::parse_assignment(assignment)?;
        steps.push((at, key, value));
    }
    steps.sort_by_key(|&(at, _, _)| at);
    let mut config = base.clone();
    let mut plan = Vec::with_capacity(steps.len());
    for (at, key, value) in steps {
        config.set(key, value)?;
        match plan.last_mut() {
            // Changes at the same count apply together, as one mark.
            Some(PlannedRetune { at_instructions, config: last }) if *at_instructions == at => {
                *last = config.clone();
            }
            _ => plan.push(PlannedRetune { at_instructions: at, config: config.clone() }),
        }
    }
    Ok(plan)
}

fn build_config(
    file: Option<&PathBuf>,
    preset: Option<&str>,
    sets: &[String],
) -> Result<VmConfig, UsageError> {
    let mut config = match file {
        Some(path) => VmConfig::load_file(path)?,
        None => VmConfig::default(),
    };
    if let Some(id) = preset {
        let preset = tunevm::config::find_preset(id).ok_or_else(|| {
            let ids: Vec<&str> = tunevm::config::presets().iter().map(|p| p.id).collect();
            UsageError(format!("unknown preset {id:?}: expected one of {}", ids.join(", ")))
        })?;
        for (key, value) in preset.settings {
            config.set(key, value)?;
        }
    }
    for assignment in sets {
        let (key, value) = tunevm::config::parse_assignment(assignment)?;
        config.set(key, value)?;
    }
    config.validate()?;
    Ok(config)
}

struct CliHost {
    start: Instant,
    input: mpsc::Receiver<Vec<u8>>,
    stdout: std::io::Stdout,
}

impl Host for CliHost {
    fn now_ns(&mut self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn console_out(&mut self, bytes: &[u8]) {
        let mut out = self.stdout.lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }
    fn console_in(&mut self) -> Vec<u8> {
        self.input.try_iter().flatten().collect()
    }
}

/// Read stdin on a thread so the guest never waits for the host.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

fn run(args: RunArgs) -> Result<i32, UsageError> {
    let config = build_config(args.config.as_ref(), args.preset.as_deref(), &args.set)?;
    let elf = read_elf(&args.elf, &args.paging)?;
    let mut machine = Machine::new(config, &elf)
        .map_err(|e| UsageError(format!("{}: {e}", args.elf.display())))?;
    machine.vcpus[0].hart.trace = args.trace;
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(UsageError(format!("invalid --timeout {t}: expected seconds > 0")));
        }
    }
    let limits =
        RunLimits { max_insns: args.max_insns, timeout_ns: args.timeout.map(|s| (s * 1e9) as u64) };
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let mut host =
        CliHost { start: Instant::now(), input: spawn_stdin_reader(), stdout: std::io::stdout() };
    let plan = retune_plan(machine.config(), &args.retune)?;
    let outcome = machine.run_with_retunes(limits, &mut monitor, &mut host, plan)?;
    let report = machine.report(&monitor, outcome);
    if let Some(path) = &args.report {
        std::fs::write(path, report.to_json())
            .map_err(|e| UsageError(format!("cannot write report {}: {e}", path.display())))?;
    }
    if args.print_report {
        println!("{}", report.to_json());
    }
    if let (Some(n), Some(jit)) = (args.show_code, machine.vcpus[0].jit.as_ref()) {
        for (key, count) in jit.hottest_units(n) {
            if let Some(view) = jit.code_view(key, machine.bus.ram()) {
                eprintln!(
                    "=== unit at {:#x} (physical {:#x}), {} tier, {count} executions ===",
                    key.vpc,
                    key.ppc,
                    view.tier.name()
                );
                // Each instruction's wasm lines (the numbers of the text
                // below), when the unit could be linked.
                let mut ranges = vec![String::new(); view.guest.len()];
                for link in &view.links {
                    ranges[link.guest_line] = match link.wat_lines {
                        Some((first, last)) => format!("[wat {}-{}]", first + 1, last + 1),
                        None => "[wat -]".to_string(),
                    };
                }
                let width = ranges.iter().map(String::len).max().unwrap_or(0);
                for (line, range) in view.guest.iter().zip(&ranges) {
                    eprintln!("  {range:width$} {line}");
                }
                eprintln!("--- generated wasm ---");
                let lines = view.wat.lines().count();
                let width = lines.to_string().len();
                for (i, line) in view.wat.lines().enumerate() {
                    eprintln!("{:>width$}  {line}", i + 1);
                }
            }
        }
    }
    if args.advise {
        eprint!("{}", tunevm::advisor::render_text(&tunevm::advisor::advise(&report)));
    }
    let retired = machine.retired_total();
    let executed = machine.executed_total();
    // Every variant by name (no `_`): a new way to stop must choose its
    // status and its line here.
    let (status, why) = match outcome {
        RunOutcome::Exited(code) => {
            let status = (code & 0xff) as i32;
            return Ok(if status == 0 && code != 0 { 1 } else { status });
        }
        RunOutcome::MaxInsns => (
            EXIT_RUNAWAY,
            format!(
                "guest still running after {executed} instructions ({retired} retired, \
                 the rest trapped) (--max-insns)"
            ),
        ),
        RunOutcome::Timeout => (
            EXIT_RUNAWAY,
            format!(
                "guest still running after {} s (--timeout, {retired} instructions)",
                args.timeout.unwrap_or_default()
            ),
        ),
        RunOutcome::TrapLoop | RunOutcome::Asleep => {
            let why = if outcome == RunOutcome::TrapLoop {
                "every instruction traps (its trap handler traps too)"
            } else {
                "it waits with no interrupt enabled that could wake it"
            };
            let detail = machine.stuck_detail(outcome).unwrap_or_default();
            (
                EXIT_ASLEEP,
                format!(
                    "guest is stuck: {why}: {detail}; after {executed} instructions \
                     ({retired} retired)"
                ),
            )
        }
        RunOutcome::Stopped => {
            (EXIT_RUNAWAY, format!("the host stopped the run after {executed} instructions"))
        }
    };
    // The last line on stderr, machine-readable: `stopped (<stop_reason>):`
    // tells a stop from a guest's own exit with the same status.
    eprintln!("tunevm: stopped ({}): {}", outcome.name(), one_line(&why, MAX_LINE_CHARS));
    Ok(status)
}
