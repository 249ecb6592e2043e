//! Bounds a hostile guest must not break: run limits across resets and
//! through slices full of compiles, host memory that stays bounded (and is
//! reported) however many entry points and pages a guest touches, and code
//! that keeps changing put aside instead of compiled again and again.
#![cfg(not(target_arch = "wasm32"))]
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::asm::*;
use crate::common::{elf_of, Program};
use tunevm::config::VmConfig;
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{run_captured, Host, Machine, RunLimits, RunOutcome};

/// QEMU virt's test finisher.
const FINISHER: u32 = 0x0010_0000;
/// The 16550 UART's transmit register.
const UART: u32 = 0x1000_0000;
/// Settings that send every unit through the JIT before its first execution.
const JIT_FORCED: [&str; 4] = [
    "jit.min_threshold=0",
    "jit.max_threshold=0",
    "jit.enable_compile_time_budget=false",
    "jit.background_compile=false",
];

/// `li rd, value` for a value below 2^32 (zero-extended).
fn li32(p: &mut Program, rd: Reg, value: u32) {
    let hi = value.wrapping_add(0x800) >> 12;
    let lo = value.wrapping_sub(hi << 12) as i32;
    p.i(lui(rd, hi & 0xf_ffff)).i(addiw(rd, rd, lo)).i(slli(rd, rd, 32)).i(srli(rd, rd, 32));
}

/// A guest that writes the finisher's reset value in a loop: each write
/// starts the machine again from its ELF.
fn reset_loop() -> Vec<u8> {
    let mut p = Program::new();
    li32(&mut p, T0, FINISHER);
    li32(&mut p, T1, 0x7777);
    p.i(sw(T1, 0, T0)).i(jal(ZERO, 0));
    elf_of(&p.image())
}

/// `fence.i` in a tight loop: every iteration drops all decoded and
/// compiled code.
fn fence_i_loop() -> Vec<u8> {
    let mut p = Program::new();
    p.label("loop").i(addi(A0, A0, 1)).i(fence_i()).j("loop");
    elf_of(&p.image())
}

/// Self-modifying code: each iteration stores the next instruction's own
/// bits over it (same value, but a store into a code page all the same).
fn smc_loop() -> Vec<u8> {
    let mut p = Program::new();
    p.la(T2, "target");
    p.i(lw(T1, 0, T2));
    p.label("loop").i(sw(T1, 0, T2));
    p.label("target").i(addi(A0, A0, 1)).j("loop");
    elf_of(&p.image())
}

/// A guest that plants `c.jr ra` (a return) on every 2 bytes of `dense`
/// bytes from an eighth into RAM and at one offset of every other page of
/// RAM (`ram` bytes), calls each of them once, prints "D" and spins:
/// millions of distinct entry points and one instruction run on every page.
fn entry_point_storm(ram: u32, dense: u32) -> Vec<u8> {
    let dense_at = 0x8000_0000 + ram / 8;
    let ret = c_jr(RA) as u64;
    let pattern = ret | ret << 16 | ret << 32 | ret << 48;
    let mut p = Program::new();
    // t2 = four returns.
    li32(&mut p, T2, pattern as u32);
    p.i(slli(T3, T2, 32)).i(or(T2, T2, T3));
    // Dense: every halfword of [dense_at, dense_at + dense).
    li32(&mut p, T0, dense_at);
    li32(&mut p, T1, dense_at + dense);
    p.label("fill").i(sd(T2, 0, T0)).i(addi(T0, T0, 8)).i_to("fill", |o| bltu(T0, T1, o));
    // Sparse: offset 0x800 of every page from the second one to RAM's end.
    li32(&mut p, T0, 0x8000_1800);
    li32(&mut p, T1, 0x8000_0000 + ram);
    li32(&mut p, T3, 4096);
    p.label("plant").i(sd(T2, 0, T0)).i(add(T0, T0, T3)).i_to("plant", |o| bltu(T0, T1, o));
    p.i(fence_i());
    // Call every planted return.
    li32(&mut p, S0, 0x8000_1800);
    p.label("sparse").i(jalr(RA, 0, S0)).i(add(S0, S0, T3)).i_to("sparse", |o| bltu(S0, T1, o));
    li32(&mut p, S0, dense_at);
    li32(&mut p, S1, dense_at + dense);
    p.label("dense").i(jalr(RA, 0, S0)).i(addi(S0, S0, 2)).i_to("dense", |o| bltu(S0, S1, o));
    li32(&mut p, T0, UART);
    p.i(addi(T1, ZERO, b'D' as i32)).i(sb(T1, 0, T0));
    p.label("spin").j("spin");
    elf_of(&p.image())
}

fn config(sets: &[&str]) -> VmConfig {
    let mut c = VmConfig::default();
    c.jit.background_compile = false;
    c.apply_assignments(sets).expect("valid settings");
    c
}

fn temp_elf(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path: PathBuf = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Run the CLI; kill it (and fail) if it is not done within `deadline`.
fn tunevm_within(args: &[&str], deadline: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tunevm starts");
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tunevm {args:?} still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    (child.wait_with_output().unwrap(), elapsed)
}

fn report_of(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_guest_that_resets_itself_is_stopped_by_max_insns_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let elf = temp_elf(&dir, "reset.elf", &reset_loop());
    for jit in ["jit.enabled=true", "jit.enabled=false"] {
        let (out, _) = tunevm_within(
            &["run", "--set", jit, "--max-insns", "20000", &elf],
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(124), "{jit}: {}", String::from_utf8_lossy(&out.stderr));
        let (out, took) = tunevm_within(
            &["run", "--set", jit, "--timeout", "0.5", &elf],
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(124), "{jit}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(took < Duration::from_secs(5), "{jit}: --timeout 0.5 took {took:?}");
    }
}

/// A host that asks the loop to yield after every slice, as the page's
/// worker does between `run_for` calls.
struct YieldingHost;

impl Host for YieldingHost {
    fn now_ns(&mut self) -> u64 {
        0
    }
    fn console_out(&mut self, _: &[u8]) {}
    fn should_yield(&mut self) -> bool {
        true
    }
}

#[test]
fn a_resetting_guest_still_yields_to_the_embedder() {
    // The page's Stop reaches the machine between `continue_run` calls: a
    // guest that resets itself must not keep the loop from returning.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut m = Machine::new(VmConfig::default(), &reset_loop()).unwrap();
        let mut monitor = PerformanceMonitor::default();
        let mut host = YieldingHost;
        let mut session = m.begin_run(&mut host);
        for _ in 0..5 {
            let r = m.continue_run(&mut session, RunLimits::default(), &mut monitor, &mut host);
            assert_eq!(r, None, "the run goes on");
        }
        tx.send(m.resets()).unwrap();
    });
    let resets = rx.recv_timeout(Duration::from_secs(30)).expect("continue_run returned");
    assert!(resets >= 4, "each call ran a reset: {resets}");
}

#[test]
fn timeout_holds_while_every_few_instructions_cost_a_compile() {
    // fence.i in a loop with every unit compiled before it runs and the
    // quarantine off: every iteration compiles. Slices end after 20 ms of
    // compiling, so the timeout is seen on time.
    let dir = tempfile::tempdir().unwrap();
    let elf = temp_elf(&dir, "fencei.elf", &fence_i_loop());
    let report = dir.path().join("r.json");
    let mut args = vec!["run", "--timeout", "0.3", "--report", report.to_str().unwrap()];
    for s in JIT_FORCED.iter().chain(&["jit.invalidation_limit=0"]) {
        args.extend(["--set", s]);
    }
    args.push(&elf);
    let (out, _) = tunevm_within(&args, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(124), "{}", String::from_utf8_lossy(&out.stderr));
    let r = report_of(&report);
    let wall_ms = r["wall_ns"].as_u64().unwrap() / 1_000_000;
    assert!(r["jit"]["units_compiled"].as_u64().unwrap() > 5, "{}", r["jit"]);
    // 100 ms is the goal (BENCHMARKS.md); the margin is for a loaded CI machine.
    assert!(wall_ms < 300 + 300, "--timeout 0.3 ended after {wall_ms} ms");
}

#[test]
fn code_that_keeps_changing_is_put_aside_instead_of_recompiled() {
    for (name, elf) in [("fence.i", fence_i_loop()), ("smc", smc_loop())] {
        let compiles = |limit: &str| {
            let mut sets = JIT_FORCED.to_vec();
            sets.push(limit);
            let limits = RunLimits { max_insns: Some(6_000), timeout_ns: None };
            let run = run_captured(config(&sets), &elf, limits).unwrap();
            assert_eq!(run.outcome, RunOutcome::MaxInsns);
            (run.report.jit.units_compiled, run.report.jit.quarantines)
        };
        let (put_aside, quarantines) = compiles("jit.invalidation_limit=4");
        let (always, none) = compiles("jit.invalidation_limit=0");
        assert!(put_aside <= 8 && quarantines >= 1, "{name}: {put_aside} compiles, {quarantines}");
        assert!(always >= 1000 && none == 0, "{name}: limit 0 compiled {always} units");
    }
}

#[test]
fn the_unit_table_and_the_decode_cache_stay_within_their_bounds() {
    // 64 KiB of returns: 32 768 entry points on 16 pages, plus one on each
    // of RAM's 1 MiB of pages.
    let elf = entry_point_storm(1 << 20, 64 << 10);
    let run = |sets: &[&str]| {
        let mut all = vec!["memory.ram_bytes=1048576"];
        all.extend_from_slice(sets);
        let limits = RunLimits { max_insns: Some(2_000_000), timeout_ns: None };
        let run = run_captured(config(&all), &elf, limits).unwrap();
        assert_eq!(run.console, b"D", "the guest got through");
        run.report
    };
    let small = run(&["jit.max_tracked_units=1024", "memory.decode_cache_pages=16"]);
    let big = run(&["jit.max_tracked_units=65536", "memory.decode_cache_pages=1024"]);
    assert!(small.jit.tracked_units <= 1024, "{}", small.jit.tracked_units);
    assert!(small.jit.units_forgotten > 30_000, "{}", small.jit.units_forgotten);
    assert!(big.jit.tracked_units > 30_000 && big.jit.units_forgotten == 0);
    assert!(small.memory.jit_tables_bytes * 8 < big.memory.jit_tables_bytes, "{small:?}");
    assert!(small.memory.decode_cache_evictions > 200, "{:?}", small.memory);
    assert_eq!(big.memory.decode_cache_evictions, 0);
    assert!(small.memory.decode_cache_bytes <= (17 * 24) << 10, "{:?}", small.memory);
    assert!(big.memory.decode_cache_bytes > (200 * 24) << 10, "{:?}", big.memory);
    for r in [&small, &big] {
        let m = &r.memory;
        let parts = m.guest_ram_bytes + m.code_bytes + m.decode_cache_bytes + m.jit_tables_bytes;
        assert_eq!(m.total_bytes, parts + m.other_bytes + m.heap_bytes);
    }
}

/// Peak resident memory (VmHWM) of a running process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The CLI's peak RSS running the entry-point storm at the default bounds
/// (plus `sets`), read once the guest printed "D".
fn storm_rss(elf: &str, sets: &[&str]) -> u64 {
    let mut args = vec!["run", "--timeout", "120", "--set", "memory.ram_bytes=67108864"];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.push(elf);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    let got = std::io::Read::read(&mut BufReader::new(child.stdout.take().unwrap()), &mut first);
    let rss = peak_rss(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((got.ok(), first[0]), (Some(1), b'D'), "the guest got through");
    rss
}

#[test]
fn host_memory_stays_bounded_under_millions_of_entry_points() {
    // 4 M entry points in 8 MiB and one instruction on each of 16 384 pages
    // (64 MiB of RAM). Unbounded, the unit table and the decode cache took
    // over 1 GB here (BENCHMARKS.md); bounded, RAM plus ~60 MB.
    let dir = tempfile::tempdir().unwrap();
    let elf = temp_elf(&dir, "storm.elf", &entry_point_storm(64 << 20, 8 << 20));
    let rss = storm_rss(&elf, &[]);
    eprintln!("peak RSS {} MiB", rss >> 20);
    assert!(rss < 320 << 20, "peak RSS {} MiB", rss >> 20);
}

/// Not part of the suite: the same storm with bounds too large to matter,
/// to see what they save (`cargo test --release --test suite
/// bounds::unbounded_storm -- --ignored --nocapture`).
#[test]
#[ignore]
fn unbounded_storm_rss() {
    let dir = tempfile::tempdir().unwrap();
    let elf = temp_elf(&dir, "storm.elf", &entry_point_storm(64 << 20, 8 << 20));
    let bounded = storm_rss(&elf, &[]);
    let unbounded =
        storm_rss(&elf, &["jit.max_tracked_units=16777216", "memory.decode_cache_pages=262144"]);
    eprintln!("peak RSS: bounded {} MiB, unbounded {} MiB", bounded >> 20, unbounded >> 20);
}
