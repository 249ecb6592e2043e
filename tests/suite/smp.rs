//! Several harts (`runtime.vcpus`), hand-assembled: every hart counts with
//! AMOs or an LR/SC loop into one word while others do the same, IPIs wake
//! harts parked in wfi, and the pool's shapes (one worker, several
//! threads, more vCPUs than workers) all give exact counts. The workloads'
//! SMP programs (`smp_workloads`) cover the same ground in C.
#![cfg(not(target_arch = "wasm32"))]

use crate::common::asm::*;
use crate::common::Program;
use tunevm::config::VmConfig;
use tunevm::runtime::{run_captured, Machine, RunLimits, RunOutcome};

const FINISHER: i64 = 0x10_0000;
const CLINT: i64 = 0x200_0000;
const MHARTID: u16 = 0xf14;
const MIE: u16 = 0x304;

fn config(vcpus: u64, pool: u64, jit: bool) -> VmConfig {
    let mut c = VmConfig::default();
    c.memory.ram_bytes = 4 << 20;
    c.runtime.vcpus = vcpus;
    c.runtime.pool_size = pool;
    c.runtime.quantum_insns = 1000;
    c.jit.enabled = jit;
    if jit {
        c.jit.min_threshold = 2;
        c.jit.max_threshold = 2;
    }
    c
}

/// Hart 0 waits until the word at `counter` holds `want`, then exits 0.
fn wait_and_exit(p: &mut Program, counter: Reg, want: i64) {
    p.li(T3, want);
    p.label("wait");
    p.i(ld(T4, 0, counter));
    p.i_to("wait", move |off| bne(T4, T3, off));
    p.li(T5, FINISHER).li(T6, 0x5555).i(sw(T6, 0, T5));
    p.label("spin").j("spin");
}

/// Every hart adds 1 to one word `iters` times with `inc`; hart 0 waits
/// for the total and exits; the others park in wfi.
fn counting_program(harts: i64, iters: i64, inc: &dyn Fn(&mut Program)) -> Vec<u8> {
    let mut p = Program::new();
    p.i(csrr(A0, MHARTID));
    p.la(T0, "counter");
    p.li(T1, iters);
    p.label("loop");
    inc(&mut p);
    p.i(addi(T1, T1, -1));
    p.i_to("loop", |off| bne(T1, ZERO, off));
    p.i_to("hart0", |off| beq(A0, ZERO, off));
    p.label("park");
    p.i(wfi());
    p.j("park");
    p.label("hart0");
    wait_and_exit(&mut p, T0, harts * iters);
    p.align(4096);
    p.label("counter");
    p.word(0).word(0);
    p.image()
}

fn amoadd(p: &mut Program) {
    p.li(T2, 1).i(amoadd_d(ZERO, T2, T0));
}

fn lr_sc(p: &mut Program) {
    let retry = p.local();
    p.label(&retry);
    p.i(lr_d(T2, T0));
    p.i(addi(T2, T2, 1));
    p.i(sc_d(T3, T2, T0));
    p.i_to(&retry, |off| bne(T3, ZERO, off));
}

fn run(image: &[u8], config: VmConfig) -> (Machine, RunOutcome) {
    let mut m = Machine::from_image(config, image);
    let mut monitor = tunevm::monitor::PerformanceMonitor::default();
    let mut host = tunevm::runtime::CaptureHost::default();
    let limits = RunLimits { max_insns: Some(50_000_000), timeout_ns: Some(60_000_000_000) };
    let outcome = m.run(limits, &mut monitor, &mut host);
    (m, outcome)
}

/// The counter word: the first of the page after the code.
fn counter(m: &Machine) -> u64 {
    m.bus.ram().read(4096, 8)
}

#[test]
fn amoadd_counts_exactly_on_every_pool_shape() {
    let (harts, iters) = (4, 20_000);
    let image = counting_program(harts, iters, &amoadd);
    for (pool, jit) in [(1, false), (1, true), (2, false), (4, true), (2, true)] {
        let (m, outcome) = run(&image, config(harts as u64, pool, jit));
        assert_eq!(outcome, RunOutcome::Exited(0), "pool {pool} jit {jit}");
        assert_eq!(counter(&m), (harts * iters) as u64, "pool {pool} jit {jit}");
    }
}

#[test]
fn lr_sc_loop_counts_exactly_with_harts_on_threads() {
    let (harts, iters) = (4, 20_000);
    let image = counting_program(harts, iters, &lr_sc);
    for (pool, jit) in [(1, false), (4, false), (4, true)] {
        let (m, outcome) = run(&image, config(harts as u64, pool, jit));
        assert_eq!(outcome, RunOutcome::Exited(0), "pool {pool} jit {jit}");
        assert_eq!(counter(&m), (harts * iters) as u64, "pool {pool} jit {jit}");
    }
}

#[test]
fn a_plain_load_add_store_loses_counts_on_threads() {
    // The test above would pass with non-atomic increments if harts never
    // really overlapped: show that they do, with the same shape of loop.
    let (harts, iters) = (4, 200_000);
    let plain = |p: &mut Program| {
        p.i(ld(T2, 0, T0)).i(addi(T2, T2, 1)).i(sd(T2, 0, T0));
    };
    // Hart 0 waits for a total that never comes: the instruction limit
    // ends the run.
    let image = counting_program(harts, iters, &plain);
    let mut c = config(harts as u64, 4, false);
    c.runtime.quantum_insns = 100_000;
    let mut m = Machine::from_image(c, &image);
    let mut monitor = tunevm::monitor::PerformanceMonitor::default();
    let mut host = tunevm::runtime::CaptureHost::default();
    let limits = RunLimits { max_insns: Some(20_000_000), timeout_ns: Some(30_000_000_000) };
    let _ = m.run(limits, &mut monitor, &mut host);
    assert!(
        counter(&m) < (harts * iters) as u64,
        "no increment was lost: the harts never overlapped"
    );
}

/// Hart 0 wakes hart 1 (parked in wfi with only MSIE enabled) by IPI;
/// hart 1 answers by writing a word; hart 0 waits for it and exits.
#[test]
fn an_ipi_wakes_a_parked_hart() {
    let mut p = Program::new();
    p.i(csrr(A0, MHARTID));
    p.la(T0, "flag");
    p.i_to("hart0", |off| beq(A0, ZERO, off));
    // Harts other than 0: MSIE only, wfi until msip, clear it, answer.
    p.li(T1, 8).i(csrrs(ZERO, MIE, T1));
    p.label("sleep");
    p.i(wfi());
    p.li(T2, CLINT + 4).i(lw(T3, 0, T2));
    p.i_to("sleep", |off| beq(T3, ZERO, off));
    p.i(sw(ZERO, 0, T2));
    p.li(T4, 1).i(amoadd_d(ZERO, T4, T0));
    p.label("park");
    p.i(wfi());
    p.j("park");
    p.label("hart0");
    // Let hart 1 park first (a few thousand instructions), then send.
    p.li(T1, 5000);
    p.label("delay");
    p.i(addi(T1, T1, -1));
    p.i_to("delay", |off| bne(T1, ZERO, off));
    p.li(T2, CLINT + 4).li(T3, 1).i(sw(T3, 0, T2));
    wait_and_exit(&mut p, T0, 1);
    p.align(4096);
    p.label("flag");
    p.word(0).word(0);
    let image = p.image();
    for pool in [1, 2] {
        let (m, outcome) = run(&image, config(2, pool, false));
        assert_eq!(outcome, RunOutcome::Exited(0), "pool {pool}");
        let smp = m.sample(1).smp.expect("an SMP sample");
        assert!(smp.vcpus[1].parks >= 1, "hart 1 parked: {:?}", smp.vcpus[1]);
        assert_eq!(smp.vcpus[0].ipis_sent, 1);
        assert_eq!(smp.vcpus[1].ipis_received, 1);
    }
}

/// With every hart parked and no timer, the run ends asleep (it does not
/// hang), naming each hart's wfi.
#[test]
fn all_harts_parked_without_a_timer_end_the_run() {
    let mut p = Program::new();
    p.label("park");
    p.i(wfi());
    p.j("park");
    let image = p.image();
    for pool in [1, 3] {
        let mut m = Machine::from_image(config(3, pool, false), &image);
        let mut monitor = tunevm::monitor::PerformanceMonitor::default();
        let mut host = tunevm::runtime::CaptureHost::default();
        let limits = RunLimits { max_insns: None, timeout_ns: Some(20_000_000_000) };
        let outcome = m.run(limits, &mut monitor, &mut host);
        assert_eq!(outcome, RunOutcome::Asleep, "pool {pool}");
        let detail = m.stuck_detail(outcome).unwrap();
        assert!(detail.contains("hart 2 wfi"), "{detail}");
    }
}

/// One worker is reproducible: two runs give the same instruction counts
/// per hart, and the report's smp section has a line per vCPU.
#[test]
fn one_worker_is_reproducible() {
    let image = counting_program(3, 5_000, &lr_sc);
    let elf = crate::common::elf_of(&image);
    let counts = || {
        let r = run_captured(config(3, 1, false), &elf, RunLimits::default()).unwrap();
        assert_eq!(r.outcome, RunOutcome::Exited(0));
        let smp = r.report.smp.expect("an smp section");
        assert_eq!(smp.vcpus.len(), 3);
        assert_eq!(smp.pool_size, 1);
        smp.vcpus.iter().map(|v| v.instructions).collect::<Vec<_>>()
    };
    assert_eq!(counts(), counts());
}

/// `runtime.quantum_insns` changes how often vCPUs switch.
#[test]
fn the_quantum_sets_how_often_vcpus_switch() {
    let image = counting_program(2, 20_000, &amoadd);
    let switches = |quantum| {
        let mut c = config(2, 1, false);
        c.runtime.quantum_insns = quantum;
        let (m, outcome) = run(&image, c);
        assert_eq!(outcome, RunOutcome::Exited(0));
        m.sample(1).smp.unwrap().vcpus[1].switches
    };
    let (short, long) = (switches(500), switches(50_000));
    assert!(short > 10 * long.max(1), "quantum 500: {short} switches, 50000: {long}");
}
