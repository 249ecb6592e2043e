//! Regression tests for conformance bugs found by running the official
//! riscv-tests (rv64ui/um/ua/uc/mi/si, -p and -v environments) on tunevm.
//! Each test runs a few hand-encoded instructions on a bare machine (RAM at
//! 0x8000_0000 starts with the program, the hart starts there in M-mode) and
//! checks the architectural state the specs require.
use tunevm::config::VmConfig;
use tunevm::cpu::StopReason;
use tunevm::mem::devices::{ExitRequest, Htif};
use tunevm::runtime::Machine;

use crate::common;

use common::asm::*;

const RAM_BASE: u64 = 0x8000_0000;

/// Store 0x5555 to the SiFive test finisher: the guest passes and stops.
fn finish() -> Vec<u32> {
    vec![lui(T0, 0x100), lui(T1, 0x5), addi(T1, T1, 0x555), sw(T1, 0, T0)]
}

/// Run `program` (M-mode, at RAM_BASE) for at most 100 000 cycles; `setup`
/// may adjust the machine first. Returns the machine and why it stopped.
fn run_with(program: &[u32], setup: impl FnOnce(&mut Machine)) -> (Machine, StopReason) {
    let image: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut m = Machine::from_image(VmConfig::default(), &image);
    setup(&mut m);
    let stop = m.run_slice(100_000);
    (m, stop)
}

fn run(program: &[u32]) -> (Machine, StopReason) {
    run_with(program, |_| {})
}

/// rv64si-p-wfi: WFI with an interrupt pending but not enabled in mie, and no
/// enabled source that could ever fire. Priv spec 3.3.3 lets WFI resume for any
/// reason; a pending interrupt is one, so the hart goes on (as on Spike)
/// instead of the run being stopped as asleep.
#[test]
fn wfi_resumes_when_an_interrupt_is_pending_even_if_masked() {
    let mut p = vec![
        csrrwi(0, MIE, 0),
        csrrwi(0, MIP, 2), // SSIP pending, SSIE clear
        wfi(),
        addi(T2, 0, 42),
    ];
    p.extend(finish());
    let (m, stop) = run(&p);
    assert_eq!(stop, StopReason::ExitRequested);
    assert_eq!(m.vcpus[0].hart.x[T2 as usize], 42);
}

/// ... while with nothing pending and nothing enabled the hart can never wake,
/// and the run still stops as asleep.
#[test]
fn wfi_with_nothing_pending_and_nothing_enabled_is_asleep() {
    let mut p = vec![csrrwi(0, MIE, 0), wfi(), addi(T2, 0, 42)];
    p.extend(finish());
    let (m, stop) = run(&p);
    assert_eq!(stop, StopReason::Asleep);
    assert_eq!(m.vcpus[0].hart.x[T2 as usize], 0);
}

/// HTIF exit codes are `payload >> 1`, up to 47 bits. A failing code that is
/// a multiple of 2^32 must not turn into 0 (= pass) on its way out.
#[test]
fn htif_exit_code_keeps_all_its_bits() {
    let tohost = RAM_BASE + 0x1000;
    let p = vec![
        auipc(T1, 1), // t1 = RAM_BASE + 0x1000 (this is the first instruction)
        addi(T0, 0, 1),
        slli(T0, T0, 33),
        addi(T0, T0, 1), // tohost = (1 << 33) | 1: exit with code 1 << 32
        sd(T0, 0, T1),
        wfi(),
    ];
    let (m, stop) = run_with(&p, |m| m.bus.attach_htif(Htif::new(tohost, None)));
    assert_eq!(stop, StopReason::ExitRequested);
    assert_eq!(m.bus.devices().exit_request(), Some(ExitRequest::Exit(1 << 32)));
}

/// Priv spec 3.1.16: when a misaligned load or store faults, mtval holds the
/// virtual address of the portion of the access that faulted — here the first
/// byte past the end of RAM, not the start of the access.
fn misaligned_access_past_ram_end(access: u32) -> Machine {
    let mut p = vec![
        auipc(T0, 0),
        addi(T0, T0, 7 * 4), // handler: the finisher sequence below
        csrrw(0, MTVEC, T0),
        addi(T0, 0, 9),
        slli(T0, T0, 28), // t0 = 0x9000_0000 = end of the default 256 MiB of RAM
        access,           // bytes 0x8fff_fffc..0x9000_0003: the upper half is not RAM
        addi(T2, 0, 1),   // not reached
    ];
    p.extend(finish());
    assert_eq!(
        RAM_BASE + VmConfig::default().memory.ram_bytes,
        0x9000_0000,
        "the program assumes 256 MiB of RAM"
    );
    let (m, stop) = run(&p);
    assert_eq!(stop, StopReason::ExitRequested);
    assert_eq!(m.vcpus[0].hart.x[T2 as usize], 0);
    m
}

#[test]
fn misaligned_load_access_fault_reports_the_faulting_portion() {
    let m = misaligned_access_past_ram_end(ld(T1, -4, T0));
    assert_eq!(m.vcpus[0].hart.csr.mcause, 5, "load access fault");
    assert_eq!(m.vcpus[0].hart.csr.mtval, 0x9000_0000);
}

#[test]
fn misaligned_store_access_fault_reports_the_faulting_portion() {
    let m = misaligned_access_past_ram_end(sd(T1, -4, T0));
    assert_eq!(m.vcpus[0].hart.csr.mcause, 7, "store access fault");
    assert_eq!(m.vcpus[0].hart.csr.mtval, 0x9000_0000);
}
