//! The `tunevm run` command line: exit statuses, one-line errors for bad
//! input, runaway and sleeping guests, and the report file.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workload(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/bin").join(format!("{name}.elf"))
}

fn tunevm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("tunevm runs")
}

fn status(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A one-segment RV64 ELF whose code is `words`, loaded at 0x8000_0000.
fn tiny_elf(words: &[u32]) -> Vec<u8> {
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    crate::common::elf_of(&code)
}

/// Code that stores `value` to the finisher: lui t0,0x100; li t1,value; sw t1,0(t0); j .
fn finisher_program(value: u32) -> Vec<u32> {
    let hi = value.wrapping_add(0x800) & 0xffff_f000;
    let lo = value.wrapping_sub(hi) & 0xfff;
    vec![
        0x0010_02b7,                              // lui t0, 0x100
        hi | (6 << 7) | 0x37,                     // lui t1, hi
        (lo << 20) | (6 << 15) | (6 << 7) | 0x1b, // addiw t1, t1, lo
        0x0062_a023,                              // sw t1, 0(t0)
        0x0000_006f,                              // j .
    ]
}

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn guest_exit_codes_become_the_status() {
    let dir = tempfile::tempdir().unwrap();
    for (value, want) in [(0x5555, 0), ((7 << 16) | 0x3333, 7), ((256 << 16) | 0x3333, 1)] {
        let elf = write_temp(&dir, "exit.elf", &tiny_elf(&finisher_program(value)));
        let out = tunevm(&["run", &elf]);
        assert_eq!(status(&out), want, "finisher value {value:#x}: {}", stderr(&out));
    }
    assert_eq!(status(&tunevm(&["run", workload("htif-fail").to_str().unwrap()])), 5);
}

#[test]
fn console_output_goes_to_stdout() {
    let out = tunevm(&["run", workload("hello").to_str().unwrap()]);
    assert_eq!(status(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Hello from tunevm!"));
    assert!(out.stderr.is_empty(), "nothing on stderr: {}", stderr(&out));
}

#[test]
fn bad_input_gets_status_2_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let hello = workload("hello");
    let hello = hello.to_str().unwrap();
    let mut truncated = std::fs::read(hello).unwrap();
    truncated.truncate(100);
    let truncated = write_temp(&dir, "truncated.elf", &truncated);
    let text = write_temp(&dir, "notes.txt", b"hello, not an ELF");
    let bad_toml = write_temp(&dir, "bad.toml", b"[mmu]\nstrategy = 3\n");
    let cases: &[(&[&str], &str)] = &[
        (&["run", &truncated], "truncated"),
        (&["run", &text], "ELF"),
        (&["run", "/nonexistent/x.elf"], "cannot read"),
        (&["run", "/bin/sh"], "x86-64"),
        (&["run", "--set", "mmu.strategy=banana", hello], "multi_level, concurrent, hybrid"),
        (&["run", "--set", "mmu.nope=1", hello], "unknown config key"),
        (
            &["run", "--set", "jit.min_threshold=600", hello],
            "jit.min_threshold = 600 must be at most jit.max_threshold (500)",
        ),
        (&["run", "--set", "code_cache.eviction_policy=fifo", hello], "lru, lfu, lru_lfu"),
        (&["run", "--set", "jit.sample_window=0", hello], "jit.sample_window"),
        (&["run", "--set", "novalue", hello], "novalue"),
        (&["run", "--config", &bad_toml, hello], "bad.toml"),
        (&["run", "--timeout=-1", hello], "--timeout"),
        (&["run", "--max-insns", "lots", hello], "--max-insns"),
        (&["run", "--bogus-flag", hello], "--bogus-flag"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let out = tunevm(args);
        let err = stderr(&out);
        assert_eq!(status(&out), 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} should mention {needle:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err:?}");
        assert!(err.starts_with("tunevm: "), "{err:?}");
    }
}

#[test]
fn runaway_guests_are_stopped_with_124() {
    let spin = workload("spin");
    let spin = spin.to_str().unwrap();
    let out = tunevm(&["run", "--max-insns", "100000", spin]);
    assert_eq!(status(&out), 124);
    assert_stop_line(&out, "max_insns", "--max-insns");
    let out = tunevm(&["run", "--timeout", "0.3", spin]);
    assert_eq!(status(&out), 124);
    assert_stop_line(&out, "timeout", "--timeout");
}

/// The last stderr line is `tunevm: stopped (<reason>): ...` and mentions `needle`.
fn assert_stop_line(out: &Output, reason: &str, needle: &str) {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default();
    let prefix = format!("tunevm: stopped ({reason}): ");
    assert!(last.starts_with(&prefix), "last line should start with {prefix:?}: {err}");
    assert!(last.contains(needle), "{last:?} should mention {needle:?}");
}

#[test]
fn a_guest_exit_3_is_told_from_a_guest_that_makes_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    let exit3 = write_temp(&dir, "exit3.elf", &tiny_elf(&finisher_program((3 << 16) | 0x3333)));
    let out = tunevm(&["run", &exit3]);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("stopped ("),
        "a guest exit prints no stop line: {}",
        stderr(&out)
    );
    let storm = write_temp(&dir, "storm.elf", &tiny_elf(&[0xffff_ffff]));
    let out = tunevm(&["run", &storm]);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert_stop_line(&out, "trap_loop", "every instruction traps");
    // Any guest exit code, 124 too, has no such line.
    let exit124 =
        write_temp(&dir, "exit124.elf", &tiny_elf(&finisher_program((124 << 16) | 0x3333)));
    let out = tunevm(&["run", "--max-insns", "1000000", &exit124]);
    assert_eq!(status(&out), 124, "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn run_help_explains_the_statuses_and_the_stop_line() {
    let out = tunevm(&["run", "--help"]);
    assert_eq!(status(&out), 0);
    let help = String::from_utf8_lossy(&out.stdout);
    for part in ["Exit status", "124", "tunevm: stopped (<stop_reason>): <why>", "trap_loop"] {
        assert!(help.contains(part), "--help should mention {part:?}: {help}");
    }
}

/// `tunevm ARGS` under a 1.5 GB address-space limit, so that a tunevm that
/// reads without a cap fails the test instead of the machine it runs on.
fn tunevm_limited(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1500000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tunevm"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("sh runs")
}

#[test]
fn dev_zero_and_huge_files_are_refused_at_once() {
    let start = std::time::Instant::now();
    let out = tunevm_limited(&["run", "/dev/zero"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "tunevm: /dev/zero: file too large: more than 256 MiB (268435456 bytes), \
         the most tunevm loads as an ELF program\n"
    );
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    // A regular file over the cap is refused by its size, before reading.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.elf");
    std::fs::File::create(&path).unwrap().set_len(4 << 30).unwrap();
    let out = tunevm_limited(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("file too large"), "{}", stderr(&out));
}

#[test]
fn errors_are_one_printable_line_whatever_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write_temp(&dir, "evil\x1b[2J\nname\x07.elf", b"not an ELF");
    let out = tunevm(&["run", &elf]);
    let err = stderr(&out);
    assert_eq!(status(&out), 2, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(!err.trim_end().chars().any(char::is_control), "control characters: {err:?}");
    assert!(err.contains("evil\\x1b[2J\\nname\\x07.elf: not an ELF file"), "{err:?}");
    // Arguments too, and clap's errors.
    let out = tunevm(&["run", "--set", "mmu.\x1b[31m=1", "x.elf"]);
    assert!(stderr(&out).contains("mmu.\\x1b[31m"), "{}", stderr(&out));
    let out = tunevm(&["run", "--bogus\x1b[31m\u{202e}"]);
    let err = stderr(&out);
    assert_eq!(status(&out), 2);
    assert!(err.contains("--bogus") && !err.trim_end().chars().any(char::is_control), "{err:?}");
    assert!(!err.contains('\u{202e}') && err.lines().count() == 1, "{err:?}");
}

#[test]
fn a_guest_that_can_never_wake_is_stopped() {
    let out = tunevm(&["run", "--timeout", "20", workload("wfi-forever").to_str().unwrap()]);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert_stop_line(&out, "asleep", "guest is stuck");
    let err = stderr(&out);
    assert!(err.contains("no interrupt enabled that could wake it: wfi at pc 0x8"), "{err}");
}

#[test]
fn a_guest_stuck_in_a_trap_loop_is_stopped_with_the_trap_that_began_it() {
    // Two instructions that retire, then an illegal one with
    // mtvec still 0: the handler's fetch at address 0 faults, and so on.
    let dir = tempfile::tempdir().unwrap();
    let elf = write_temp(&dir, "illegal.elf", &tiny_elf(&[0x0000_0013, 0x0000_0013, 0xffff_ffff]));
    let out = tunevm(&["run", "--timeout", "20", &elf]);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert_stop_line(&out, "trap_loop", "guest is stuck");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("began with illegal_instruction (cause 0x2) at pc 0x80000008, tval 0xffffffff, handler 0x0"),
        "{err}"
    );
    assert!(err.contains("now mcause 0x1 at mepc 0x0"), "{err}");
}

#[test]
fn report_has_the_stable_fields() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = tunevm(&[
        "run",
        "--set",
        "mmu.prefetch_distance=2",
        "--report",
        report.to_str().unwrap(),
        workload("traps").to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["engine"], "native-wasmtime");
    assert_eq!(r["config"]["mmu"]["prefetch_distance"], 2, "the effective config");
    let insns = r["instructions"].as_u64().unwrap();
    assert!(insns > 1000);
    let tier = |t: &str| r["tiers"][t]["instructions"].as_u64().unwrap();
    assert_eq!(tier("interpreter") + tier("baseline") + tier("optimizing"), insns);
    for key in ["units_compiled", "compile_ns", "codegen_ns", "engine_ns", "threshold_series"] {
        assert!(r["jit"].get(key).is_some(), "jit.{key}");
    }
    for key in ["hit_rate", "entries", "bytes", "evictions", "live_instances"] {
        assert!(r["code_cache"].get(key).is_some(), "code_cache.{key}");
    }
    assert!(r["mips"].as_f64().unwrap() > 0.0);
    assert!(r["wall_ns"].as_u64().unwrap() > 0);
    assert_eq!(r["traps"]["machine_timer_interrupt"], 10, "{}", r["traps"]);
    assert!(r["traps"]["ecall_from_u"].as_u64().unwrap() >= 1);
    for key in [
        "hit_rate",
        "strategy_chosen",
        "strategy_reason",
        "lock_acquisitions",
        "lock_contended",
        "lock_contention",
        "levels",
        "walks",
        "prefetch",
    ] {
        assert!(r["tlb"].get(key).is_some(), "tlb.{key}");
    }
    assert!(r["memory"]["guest_ram_bytes"].as_u64().unwrap() >= 1 << 20);

    // jit.enabled=false: the interpreter alone.
    let out = tunevm(&[
        "run",
        "--set",
        "jit.enabled=false",
        "--report",
        report.to_str().unwrap(),
        workload("traps").to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["engine"], "interpreter");
    assert_eq!(r["tiers"]["interpreter"]["instructions"], r["instructions"]);
    assert_eq!(r["jit"]["units_compiled"], 0);

    // A longer run fills the series and the host-speed histogram.
    let out = tunevm(&[
        "run",
        "--report",
        report.to_str().unwrap(),
        workload("paging").to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let host = &r["host_ns_per_million_insns"];
    assert!(host["p50"].as_u64().unwrap() > 0 && host["max"].as_u64() >= host["p50"].as_u64());
    for series in ["mips", "tlb_hit_rate"] {
        assert!(r["series"][series].as_array().unwrap().len() > 5, "{series}: {}", r["series"]);
    }
    assert!(r["tlb"]["hit_rate"].as_f64().unwrap() > 0.9);
}

#[test]
fn trace_goes_to_stderr() {
    let out = tunevm(&["run", "--trace", workload("hello").to_str().unwrap()]);
    assert_eq!(status(&out), 0);
    let err = stderr(&out);
    assert!(err.lines().count() > 100);
    assert!(err.lines().next().unwrap().starts_with("0000000080000000 [M] "), "{err:.200}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Hello"));
}

#[test]
fn stdin_feeds_the_uart() {
    // Echo every received byte plus one until '\n' + 1 comes back out, then
    // exit through the finisher.
    let echo = [
        0x100002b7, // lui t0,0x10000      UART
        0x00100e37, // lui t3,0x100        finisher
        0x0052c303, // lbu t1,5(t0)        LSR
        0x00137313, // andi t1,t1,1        data ready?
        0xfe030ce3, // beqz t1,-8
        0x0002c503, // lbu a0,0(t0)        RBR
        0x00150513, // addi a0,a0,1
        0x00a28023, // sb a0,0(t0)         THR
        0x00b00393, // li t2,11
        0xfe7512e3, // bne a0,t2,-28
        0x00005337, // lui t1,0x5
        0x55530313, // addi t1,t1,0x555
        0x006e2023, // sw t1,0(t3)
        0x0000006f, // j .
    ];
    let dir = tempfile::tempdir().unwrap();
    let elf = write_temp(&dir, "echo.elf", &tiny_elf(&echo));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(["run", "--timeout", "20", &elf])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"HAL\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(status(&out), 0);
    assert_eq!(out.stdout, b"IBM\x0b");
}

#[test]
fn paging_parameters_change_the_working_set() {
    let paging = workload("paging");
    let paging = paging.to_str().unwrap();
    let out = tunevm(&["run", "--paging", "pages=300", "--paging", "passes=1", paging]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(console.contains("pages=300 stride=1 random=0 passes=1"), "{console}");
    for (arg, needle) in [
        ("pages=0", "pages = 0 must be 1..=32768"),
        ("color=red", "unknown --paging parameter"),
        ("random=2", "expected 0 or 1"),
    ] {
        let out = tunevm(&["run", "--paging", arg, paging]);
        assert_eq!(status(&out), 2);
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
    let out = tunevm(&["run", "--paging", "pages=8", workload("hello").to_str().unwrap()]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("not a paging workload"));
}

#[test]
fn sweep_runs_once_per_value_and_shows_the_effect() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    let out = tunevm(&[
        "sweep",
        "--knob",
        "mmu.multilevel_tlb_config.l2_entries=128,2048",
        "--paging",
        "random=1",
        "--paging",
        "pages=1024",
        "--paging",
        "passes=16",
        "--json",
        json.to_str().unwrap(),
        workload("paging").to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        table.lines().filter(|l| l.starts_with("| 128 ") || l.starts_with("| 2048 ")).count(),
        2,
        "{table}"
    );
    let runs: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rate = |i: usize| runs[i]["report"]["tlb"]["hit_rate"].as_f64().unwrap();
    assert!(rate(0) + 0.2 < rate(1), "bigger L2, higher hit rate: {} {}", rate(0), rate(1));
    let out =
        tunevm(&["sweep", "--knob", "mmu.strategy=fast", workload("paging").to_str().unwrap()]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("multi_level, concurrent, hybrid"), "{}", stderr(&out));
}

#[test]
fn a_storm_of_traps_is_stopped_by_max_insns() {
    // An illegal instruction at the entry, and mtvec = 0 (its reset value):
    // every trap goes to address 0, which is not memory, and traps again.
    let dir = tempfile::tempdir().unwrap();
    let elf = write_temp(&dir, "storm.elf", &tiny_elf(&[0xffff_ffff]));
    let out = tunevm(&["run", "--max-insns", "5000", &elf]);
    assert_eq!(status(&out), 124, "{}", stderr(&out));
    assert!(stderr(&out).contains("0 retired"), "{}", stderr(&out));
}

#[test]
fn a_guest_whose_trap_handler_traps_is_stopped_without_limits() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write_temp(&dir, "storm.elf", &tiny_elf(&[0xffff_ffff]));
    let out = tunevm(&["run", &elf]);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("every instruction traps") && err.contains("mtvec 0x0"), "{err}");
}

#[test]
fn ram_size_is_a_real_limit() {
    // The paging kernel with 16384 pages (64 MiB of working set) fits in the
    // default 256 MiB; in 2 MiB its first store past the end of RAM is an
    // access fault (mcause 7), which the guest reports before exiting 3.
    let paging = workload("paging");
    let args = |ram: &'static str| {
        vec!["run", "--set", ram, "--paging", "pages=16384", "--paging", "passes=1"]
    };
    let mut small = args("memory.ram_bytes=2MiB");
    small.push(paging.to_str().unwrap());
    let out = tunevm(&small);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(console.contains("mcause=0x7") && console.contains("mtval=0x80200000"), "{console}");
    let mut default = args("memory.ram_bytes=256MiB");
    default.push(paging.to_str().unwrap());
    let out = tunevm(&default);
    assert_eq!(status(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out =
        tunevm(&["run", "--set", "memory.ram_bytes=4096", workload("hello").to_str().unwrap()]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("memory.ram_bytes"), "{}", stderr(&out));
}

#[test]
fn jit_knobs_pick_the_engine() {
    let hello = workload("hello");
    let hello = hello.to_str().unwrap();
    let interpreter = ["run", "--set", "jit.enabled=false", hello];
    let everything_compiled = [
        "run",
        "--set",
        "jit.min_threshold=0",
        "--set",
        "jit.max_threshold=0",
        "--set",
        "jit.background_compile=false",
        "--set",
        "jit.enable_compile_time_budget=false",
        "--set",
        "jit.tier_up_threshold=0",
        hello,
    ];
    for args in [&interpreter[..], &everything_compiled[..]] {
        let out = tunevm(args);
        assert_eq!(status(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("Hello from tunevm!"), "{args:?}");
    }
}

/// `run --retune N:KEY=VALUE` changes a live knob mid-run and the report
/// marks it; a knob that is not live, or a malformed argument, is a
/// one-line usage error before anything runs.
#[test]
fn run_retune_changes_a_live_knob_mid_run() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let elf = workload("cpubench");
    let elf = elf.to_str().unwrap();
    let out = tunevm(&[
        "run",
        elf,
        "--max-insns",
        "3000000",
        "--retune",
        "1_000_000:code_cache.max_entries=8",
        "--retune",
        "1000000:mmu.multilevel_tlb_config.l1_entries=4",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 124, "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let marks = r["retunes"].as_array().unwrap();
    assert_eq!(marks.len(), 1, "changes at one count are one mark: {marks:?}");
    assert_eq!(marks[0]["changes"]["code_cache.max_entries"], "8");
    assert_eq!(marks[0]["changes"]["mmu.multilevel_tlb_config.l1_entries"], "4");
    assert!(marks[0]["instructions"].as_u64().unwrap() >= 1_000_000);
    assert!(r["code_cache"]["entries"].as_u64().unwrap() <= 8);

    for (arg, says) in [
        ("5:memory.ram_bytes=8MiB", "memory.ram_bytes cannot change while the guest runs"),
        ("code_cache.max_entries=8", "invalid --retune"),
        ("5:code_cache.max_entries=0", "invalid value"),
    ] {
        let out = tunevm(&["run", elf, "--retune", arg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status(&out), 2, "{arg}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{arg}: {err}");
    }
    let listing = String::from_utf8_lossy(&tunevm(&["knobs"]).stdout).into_owned();
    assert!(listing.contains("live: can change while the guest runs"));
}

#[test]
fn knobs_lists_every_knob_in_both_languages() {
    let en = tunevm(&["knobs"]);
    assert_eq!(status(&en), 0);
    let en = String::from_utf8_lossy(&en.stdout).into_owned();
    for knob in tunevm::config::schema() {
        assert!(en.contains(&format!("  {} = ", knob.key)), "{} missing", knob.key);
    }
    assert!(en.contains("[jit] JIT compiler") && en.contains("[code_cache] Code cache"));
    let zh = String::from_utf8_lossy(&tunevm(&["knobs", "--lang", "zh"]).stdout).into_owned();
    assert!(zh.contains("取值") && zh.contains("预取"), "{zh:.300}");
    assert!(zh.contains("[jit] JIT 编译器") && zh.contains("[code_cache] 代码缓存"));
    for knob in tunevm::config::schema() {
        assert!(zh.contains(&format!("  {} = ", knob.key)), "{} missing in zh", knob.key);
    }
    let json = tunevm(&["knobs", "--json"]);
    let schema: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(schema, tunevm::config::schema_json());
}

/// cpubench's hottest units are loops: the code view marks their heads.
#[test]
fn show_code_marks_loop_heads() {
    let out = tunevm(&["run", "--show-code", "3", workload("cpubench").to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(": loop head (back from block "), "{err}");
}

#[test]
fn show_code_prints_guest_disassembly_and_wasm_text() {
    let hello = workload("hello");
    let out = tunevm(&[
        "run",
        "--set",
        "jit.min_threshold=0",
        "--set",
        "jit.max_threshold=0",
        "--set",
        "jit.background_compile=false",
        "--set",
        "jit.enable_compile_time_budget=false",
        "--show-code",
        "1",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("=== unit at 0x8"), "{err}");
    // The listing starts at the unit's entry, marked, and says where each
    // block goes.
    let mut lines = err.lines().skip_while(|l| !l.starts_with("=== unit at "));
    let header = lines.next().unwrap();
    let vpc = header.split_whitespace().nth(3).unwrap();
    let first = lines.next().unwrap().trim();
    assert!(first.starts_with(&format!("; block 0 at {vpc}: entry")), "{header}\n{first}");
    assert!(err.contains(";   -> "), "{err}");
    assert!(err.contains("(module"), "wasm text: {err}");
    assert!(err.contains("(import \"env\" \"memory\""), "{err}");
}
