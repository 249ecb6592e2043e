//! Regression tests for conformance bugs found by running the official
//! riscv-tests (rv64ui/um/ua/uc/mi/si, -p and -v environments) on tunevm.
//! Each test runs a few hand-encoded instructions on a bare machine (RAM at
//! 0x8000_0000 starts with the program, the hart starts there in M-mode) and
//! checks the architectural state the specs require.
use tunevm::config::VmConfig;
use tunevm::cpu::StopReason;
use tunevm::mem::devices::{ExitRequest, Htif};
use tunevm::runtime::Machine;

const RAM_BASE: u64 = 0x8000_0000;

// x registers used below.
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;

// CSR numbers.
const MTVEC: u32 = 0x305;
const MIE: u32 = 0x304;
const MIP: u32 = 0x344;

fn i_type(opcode: u32, funct3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

fn s_type(opcode: u32, funct3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32 & 0xfff;
    ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode
}

fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i_type(0x13, 0, rd, rs1, imm)
}

fn slli(rd: u32, rs1: u32, shamt: i32) -> u32 {
    i_type(0x13, 1, rd, rs1, shamt)
}

fn lui(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x37
}

fn auipc(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x17
}

fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i_type(0x03, 3, rd, rs1, imm)
}

fn sd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s_type(0x23, 3, rs1, rs2, imm)
}

fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s_type(0x23, 2, rs1, rs2, imm)
}

fn csrrw(rd: u32, csr: u32, rs1: u32) -> u32 {
    i_type(0x73, 1, rd, rs1, csr as i32)
}

fn csrrwi(rd: u32, csr: u32, uimm: u32) -> u32 {
    i_type(0x73, 5, rd, uimm, csr as i32)
}

const WFI: u32 = 0x1050_0073;

/// Store 0x5555 to the SiFive test finisher: the guest passes and stops.
fn finish() -> Vec<u32> {
    vec![lui(T0, 0x100), lui(T1, 0x5), addi(T1, T1, 0x555), sw(T1, T0, 0)]
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
        WFI,
        addi(T2, 0, 42),
    ];
    p.extend(finish());
    let (m, stop) = run(&p);
    assert_eq!(stop, StopReason::ExitRequested);
    assert_eq!(m.hart.x[T2 as usize], 42);
}

/// ... while with nothing pending and nothing enabled the hart can never wake,
/// and the run still stops as asleep.
#[test]
fn wfi_with_nothing_pending_and_nothing_enabled_is_asleep() {
    let mut p = vec![csrrwi(0, MIE, 0), WFI, addi(T2, 0, 42)];
    p.extend(finish());
    let (m, stop) = run(&p);
    assert_eq!(stop, StopReason::Asleep);
    assert_eq!(m.hart.x[T2 as usize], 0);
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
        sd(T0, T1, 0),
        WFI,
    ];
    let (m, stop) = run_with(&p, |m| m.devices.htif = Some(Htif::new(tohost, None)));
    assert_eq!(stop, StopReason::ExitRequested);
    assert_eq!(m.devices.exit_request(), Some(ExitRequest::Exit(1 << 32)));
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
    assert_eq!(m.hart.x[T2 as usize], 0);
    m
}

#[test]
fn misaligned_load_access_fault_reports_the_faulting_portion() {
    let m = misaligned_access_past_ram_end(ld(T1, T0, -4));
    assert_eq!(m.hart.csr.mcause, 5, "load access fault");
    assert_eq!(m.hart.csr.mtval, 0x9000_0000);
}

#[test]
fn misaligned_store_access_fault_reports_the_faulting_portion() {
    let m = misaligned_access_past_ram_end(sd(T1, T0, -4));
    assert_eq!(m.hart.csr.mcause, 7, "store access fault");
    assert_eq!(m.hart.csr.mtval, 0x9000_0000);
}
