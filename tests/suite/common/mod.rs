//! Shared harness of the per-instruction CPU tests (tests/cpu_*.rs).
//!
//! - [`asm`]: encoders for every instruction the tests need.
//! - [`Program`]: a list of 32- and 16-bit instructions with labels.
//! - [`run`]: the one way a test runs guest code. It appends an exit sequence
//!   (a store of 0x5555 to the finisher), points mtvec and stvec at a trap stub
//!   that exits with code 1, runs with a cycle limit and asserts that the
//!   program got to the exit it was expected to reach, so no test can pass by
//!   not running or by trapping when it should not.
//!
//! Harness registers: the exit sequence, the trap stub and [`Program::enter`]
//! use t5 and t6 (x30, x31); tests keep their values elsewhere.
#![allow(dead_code)]

pub mod asm;

use std::collections::HashMap;

use asm::*;
use tunevm::config::VmConfig;
use tunevm::cpu::StopReason;
use tunevm::mem::devices::ExitRequest;
use tunevm::mem::Privilege;
use tunevm::runtime::Machine;

/// Where the image (and the hart) starts.
pub const RAM_BASE: u64 = 0x8000_0000;
/// A data area for tests, well away from the code.
pub const DATA: u64 = 0x8010_0000;
/// The harness trap handler: any trap that reaches it ends the run with exit
/// code 1. 4-byte aligned as mtvec requires.
pub const TRAP_STUB: u64 = 0x8000_8000;
/// SiFive test finisher.
pub const FINISHER: u64 = 0x0010_0000;
/// CLINT registers of hart 0.
pub const CLINT_MSIP: u64 = 0x0200_0000;
pub const CLINT_MTIMECMP: u64 = 0x0200_4000;
pub const CLINT_MTIME: u64 = 0x0200_bff8;

/// Registers the harness clobbers (exit sequence, trap stub, `enter`).
pub const HARNESS_REGS: [Reg; 2] = [T5, T6];

/// Label of the exit sequence appended by [`Program::image`].
pub const EXIT: &str = "exit";

/// Exit code the trap stub reports.
const TRAP_EXIT_CODE: u32 = 1;

/// The exit sequence: `finisher <- value`, then spin (never reached: the
/// machine stops after the store).
fn finisher_store(value: u32) -> Vec<u32> {
    let hi = (value + 0x800) >> 12;
    let lo = (value as i32) - ((hi as i32) << 12);
    vec![
        lui(T6, (FINISHER >> 12) as u32),
        lui(T5, hi),
        addi(T5, T5, lo),
        sw(T5, 0, T6),
        jal(ZERO, 0),
    ]
}

fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

// ---------------------------------------------------------------------------
// Programs

enum Fix {
    /// A 32-bit instruction built from the pc-relative offset to the label.
    Word(Box<dyn Fn(i32) -> u32>),
    /// A 16-bit instruction built from the pc-relative offset to the label.
    Half(Box<dyn Fn(i32) -> u16>),
    /// `auipc rd, hi; addi rd, rd, lo` loading the label's address.
    La(Reg),
}

struct Fixup {
    at: usize,
    label: String,
    fix: Fix,
}

/// Guest code starting at [`RAM_BASE`]: 32- and 16-bit instructions, raw
/// data, labels and pc-relative references to labels (resolved by
/// [`Program::image`]).
#[derive(Default)]
pub struct Program {
    code: Vec<u8>,
    labels: HashMap<String, u64>,
    fixups: Vec<Fixup>,
    next_local: u32,
}

impl Program {
    pub fn new() -> Program {
        Program::default()
    }

    /// A program of 32-bit instructions.
    pub fn of(words: &[u32]) -> Program {
        let mut p = Program::new();
        for &w in words {
            p.i(w);
        }
        p
    }

    /// A program of one 16-bit instruction.
    pub fn of16(half: u16) -> Program {
        let mut p = Program::new();
        p.c(half);
        p
    }

    /// Address of the next instruction.
    pub fn here(&self) -> u64 {
        RAM_BASE + self.code.len() as u64
    }

    /// Append a 32-bit instruction.
    pub fn i(&mut self, inst: u32) -> &mut Self {
        assert_eq!(inst & 3, 3, "{inst:#010x} is not a 32-bit encoding");
        self.word(inst)
    }

    /// Append a 16-bit (compressed) instruction.
    pub fn c(&mut self, inst: u16) -> &mut Self {
        assert_ne!(inst & 3, 3, "{inst:#06x} is not a 16-bit encoding");
        self.half(inst)
    }

    /// Append 32 raw bits (data, or an illegal encoding on purpose).
    pub fn word(&mut self, w: u32) -> &mut Self {
        self.code.extend_from_slice(&w.to_le_bytes());
        self
    }

    /// Append 16 raw bits.
    pub fn half(&mut self, h: u16) -> &mut Self {
        self.code.extend_from_slice(&h.to_le_bytes());
        self
    }

    /// Pad with c.nop to a multiple of `align` bytes.
    pub fn align(&mut self, align: u64) -> &mut Self {
        while !self.here().is_multiple_of(align) {
            self.c(c_nop());
        }
        self
    }

    /// Define `name` at the current address.
    pub fn label(&mut self, name: &str) -> &mut Self {
        let prev = self.labels.insert(name.to_string(), self.here());
        assert!(prev.is_none() && name != EXIT, "label {name} defined twice");
        self
    }

    /// The address of a label defined so far.
    pub fn addr(&self, name: &str) -> u64 {
        *self.labels.get(name).unwrap_or_else(|| panic!("no label {name}"))
    }

    /// A fresh label name (for helpers that need a local label).
    pub fn local(&mut self) -> String {
        self.next_local += 1;
        format!(".L{}", self.next_local)
    }

    /// A 32-bit instruction that refers to `label` by pc-relative offset,
    /// e.g. `p.i_to("done", |o| beq(A0, A1, o))`.
    pub fn i_to(&mut self, label: &str, f: impl Fn(i32) -> u32 + 'static) -> &mut Self {
        self.fixups.push(Fixup {
            at: self.code.len(),
            label: label.to_string(),
            fix: Fix::Word(Box::new(f)),
        });
        self.word(0)
    }

    /// A 16-bit instruction that refers to `label`, e.g.
    /// `p.c_to("done", |o| c_beqz(S0, o))`.
    pub fn c_to(&mut self, label: &str, f: impl Fn(i32) -> u16 + 'static) -> &mut Self {
        self.fixups.push(Fixup {
            at: self.code.len(),
            label: label.to_string(),
            fix: Fix::Half(Box::new(f)),
        });
        self.half(0x0001)
    }

    /// `j label`.
    pub fn j(&mut self, label: &str) -> &mut Self {
        self.i_to(label, |o| jal(ZERO, o))
    }

    /// `j exit`: leave through the exit sequence from anywhere.
    pub fn j_exit(&mut self) -> &mut Self {
        self.j(EXIT)
    }

    /// `la rd, label` (auipc + addi).
    pub fn la(&mut self, rd: Reg, label: &str) -> &mut Self {
        self.fixups.push(Fixup { at: self.code.len(), label: label.to_string(), fix: Fix::La(rd) });
        self.word(0).word(0)
    }

    /// `li rd, value` for values that fit in 32 signed bits (lui + addi, or
    /// one addi).
    pub fn li(&mut self, rd: Reg, value: i64) -> &mut Self {
        assert!(i32::try_from(value).is_ok(), "li {value:#x}: only 32-bit values");
        if (-2048..2048).contains(&value) {
            return self.i(addi(rd, ZERO, value as i32));
        }
        let hi = ((value + 0x800) >> 12) as i32;
        let lo = (value - ((hi as i64) << 12)) as i32;
        self.i(lui(rd, (hi as u32) & 0xf_ffff));
        if lo != 0 {
            self.i(addiw(rd, rd, lo));
        }
        self
    }

    /// Switch from M-mode to `mode` with mret (clobbers t6, mepc and
    /// mstatus.MPP/MPIE/MIE as mret does); execution continues after it.
    pub fn enter(&mut self, mode: Privilege) -> &mut Self {
        let next = self.local();
        self.li(T6, 3 << 11).i(csrc(MSTATUS, T6));
        if mode != Privilege::User {
            self.li(T6, (mode as i64) << 11).i(csrs(MSTATUS, T6));
        }
        self.la(T6, &next).i(csrw(MEPC, T6)).i(mret()).label(&next)
    }

    /// The bytes to load at [`RAM_BASE`]: the code, then the exit sequence,
    /// with every label reference resolved.
    pub fn image(&self) -> Vec<u8> {
        let mut code = self.code.clone();
        let exit = RAM_BASE + code.len() as u64;
        code.extend(words_to_bytes(&finisher_store(0x5555)));
        for f in &self.fixups {
            let target = if f.label == EXIT {
                exit
            } else {
                *self.labels.get(&f.label).unwrap_or_else(|| panic!("undefined label {}", f.label))
            };
            let pc = RAM_BASE + f.at as u64;
            let off = target.wrapping_sub(pc) as i64;
            let off32 = i32::try_from(off).expect("label out of range");
            match &f.fix {
                Fix::Word(build) => {
                    code[f.at..f.at + 4].copy_from_slice(&build(off32).to_le_bytes())
                }
                Fix::Half(build) => {
                    code[f.at..f.at + 2].copy_from_slice(&build(off32).to_le_bytes())
                }
                Fix::La(rd) => {
                    let hi = (off32 + 0x800) >> 12;
                    let lo = off32 - (hi << 12);
                    let pair = [auipc(*rd, (hi as u32) & 0xf_ffff), addi(*rd, *rd, lo)];
                    code[f.at..f.at + 8].copy_from_slice(&words_to_bytes(&pair));
                }
            }
        }
        code
    }

    /// Address of the exit sequence (right after the code).
    pub fn exit_addr(&self) -> u64 {
        self.here()
    }
}

// ---------------------------------------------------------------------------
// Running

/// How a run is expected to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Through the exit sequence after the program (exit code 0).
    Exit,
    /// Through the harness trap stub (exit code 1): the test expects a trap
    /// that the program does not handle itself.
    Trap,
}

/// Initial state and expectations of one run.
#[derive(Clone)]
pub struct Setup {
    pub config: VmConfig,
    pub regs: Vec<(Reg, u64)>,
    /// Bytes to write at physical addresses before the run.
    pub mem: Vec<(u64, Vec<u8>)>,
    /// Cycle limit (a cycle per instruction; WFI may skip cycles).
    pub cycles: u64,
    /// Run in slices of this many cycles (`Machine::run_slice` called
    /// repeatedly) instead of one slice.
    pub slice: Option<u64>,
    pub end: End,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            config: VmConfig::default(),
            regs: Vec::new(),
            mem: Vec::new(),
            cycles: 100_000,
            slice: None,
            end: End::Exit,
        }
    }
}

impl Setup {
    pub fn new() -> Setup {
        Setup::default()
    }

    pub fn reg(mut self, r: Reg, v: u64) -> Setup {
        self.regs.push((r, v));
        self
    }

    pub fn regs(mut self, regs: &[(Reg, u64)]) -> Setup {
        self.regs.extend_from_slice(regs);
        self
    }

    pub fn mem(mut self, addr: u64, bytes: &[u8]) -> Setup {
        self.mem.push((addr, bytes.to_vec()));
        self
    }

    /// Eight little-endian bytes at `addr`.
    pub fn mem64(self, addr: u64, v: u64) -> Setup {
        self.mem(addr, &v.to_le_bytes())
    }

    /// Misaligned loads and stores trap instead of being carried out.
    pub fn strict_align(mut self) -> Setup {
        self.config.mmu.strict_align = true;
        self
    }

    /// The run must end in the harness trap stub.
    pub fn expect_trap(mut self) -> Setup {
        self.end = End::Trap;
        self
    }

    pub fn cycles(mut self, n: u64) -> Setup {
        self.cycles = n;
        self
    }

    pub fn slice(mut self, n: u64) -> Setup {
        self.slice = Some(n);
        self
    }
}

impl From<&[(Reg, u64)]> for Setup {
    fn from(regs: &[(Reg, u64)]) -> Setup {
        Setup::new().regs(regs)
    }
}

impl<const N: usize> From<[(Reg, u64); N]> for Setup {
    fn from(regs: [(Reg, u64); N]) -> Setup {
        Setup::new().regs(&regs)
    }
}

impl<const N: usize> From<&[(Reg, u64); N]> for Setup {
    fn from(regs: &[(Reg, u64); N]) -> Setup {
        Setup::new().regs(regs)
    }
}

/// State worth printing when a run goes wrong.
pub fn describe(m: &Machine) -> String {
    let h = &m.vcpus[0].hart;
    let c = &h.csr;
    format!(
        "pc={:#x} privilege={:?} retired={} mcause={:#x} mepc={:#x} mtval={:#x} \
         scause={:#x} sepc={:#x} stval={:#x} mstatus={:#x}",
        h.pc,
        h.privilege,
        h.retired(),
        c.mcause,
        c.mepc,
        c.mtval,
        c.scause,
        c.sepc,
        c.stval,
        c.mstatus
    )
}

/// Build a machine with the program's image, apply `setup`, run it and check
/// that it ended the way `setup.end` says. Returns the machine for the test's
/// own checks.
pub fn run(program: &Program, setup: impl Into<Setup>) -> Machine {
    let setup = setup.into();
    let image = program.image();
    assert!(RAM_BASE + image.len() as u64 <= TRAP_STUB, "program overlaps the trap stub");
    let mut m = Machine::from_image(setup.config.clone(), &image);
    let stub = words_to_bytes(&finisher_store(TRAP_EXIT_CODE << 16 | 0x3333));
    let off = m.bus.ram().offset_of(TRAP_STUB, stub.len() as u64).unwrap();
    m.bus.ram_mut().write_bytes(off, &stub);
    m.vcpus[0].hart.csr.mtvec = TRAP_STUB;
    m.vcpus[0].hart.csr.stvec = TRAP_STUB;
    for &(r, v) in &setup.regs {
        assert!(r != 0 && !HARNESS_REGS.contains(&r), "setup may not set x{r}");
        m.vcpus[0].hart.x[r as usize] = v;
    }
    for (addr, bytes) in &setup.mem {
        let off = m.bus.ram().offset_of(*addr, bytes.len() as u64).expect("setup mem outside RAM");
        m.bus.ram_mut().write_bytes(off, bytes);
    }
    let stop = match setup.slice {
        None => m.run_slice(setup.cycles),
        Some(n) => loop {
            let stop = m.run_slice(n);
            if stop != StopReason::Limit || m.vcpus[0].hart.clock() >= setup.cycles {
                break stop;
            }
        },
    };
    assert_eq!(
        stop,
        StopReason::ExitRequested,
        "program did not reach an exit within {} cycles: {}",
        setup.cycles,
        describe(&m)
    );
    let got = match m.bus.devices().exit_request() {
        Some(ExitRequest::Exit(0)) => End::Exit,
        Some(ExitRequest::Exit(c)) if c == u64::from(TRAP_EXIT_CODE) => End::Trap,
        other => panic!("unexpected exit request {other:?}: {}", describe(&m)),
    };
    match (setup.end, got) {
        (End::Exit, End::Trap) => panic!("program trapped unexpectedly: {}", describe(&m)),
        (End::Trap, End::Exit) => {
            panic!("expected a trap, program ran to its end: {}", describe(&m))
        }
        _ => {}
    }
    m
}

/// Read `size` bytes of guest RAM at physical `addr`.
pub fn peek(m: &Machine, addr: u64, size: u64) -> u64 {
    let ram = m.bus.ram();
    ram.read(ram.offset_of(addr, size).expect("peek outside RAM"), size)
}

/// Disassembly of a single encoding, for failure messages.
pub fn dis(raw: u32) -> String {
    let (inst, _) = tunevm::isa::decode(raw);
    tunevm::isa::disassemble(&inst, RAM_BASE)
}

/// Fail with every collected message at once, so one run shows all the
/// cases of a table that went wrong.
pub fn report(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}

/// A value no instruction under test produces by accident: destination
/// registers start with it so that "not written" is caught.
pub const POISON: u64 = 0xdead_beef_cafe_f00d;

/// A register-register instruction encoder (`add`, `mulh`, ...).
pub type RrOp = fn(Reg, Reg, Reg) -> u32;

/// Each case runs `op a0, a1, a2` with a1 = a, a2 = b (a0 poisoned) and
/// checks a0.
pub fn check_rr(cases: &[(RrOp, u64, u64, u64)]) {
    let mut fails = Vec::new();
    for &(op, a, b, want) in cases {
        let inst = op(A0, A1, A2);
        let m = run(&Program::of(&[inst]), [(A0, POISON), (A1, a), (A2, b)]);
        let got = m.vcpus[0].hart.x[A0 as usize];
        if got != want {
            fails.push(format!(
                "{} with a1={a:#x} a2={b:#x}: got {got:#x}, want {want:#x}",
                dis(inst)
            ));
        }
    }
    report(fails);
}

/// A vectored trap table at label `table` (4-byte aligned, for
/// `mtvec = table | 1`): entry k jumps to a handler that sets a0 = k (100 for
/// entry 0, where exceptions go) and exits.
pub fn vector_table(p: &mut Program) {
    p.align(4).label("table");
    for k in 0..16 {
        p.j(&format!("vector{k}"));
    }
    for k in 0..16 {
        p.label(&format!("vector{k}")).li(A0, if k == 0 { 100 } else { k }).j_exit();
    }
}

/// An RV64 ELF (one read-write-execute segment at [`RAM_BASE`], entry
/// there) holding `image`: for tests that run guests through the CLI.
pub fn elf_of(image: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&RAM_BASE.to_le_bytes()); // entry
    f.extend_from_slice(&64u64.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // flags
    f.extend_from_slice(&64u16.to_le_bytes()); // ehsize
    f.extend_from_slice(&56u16.to_le_bytes()); // phentsize
    f.extend_from_slice(&1u16.to_le_bytes()); // phnum
    f.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f.extend_from_slice(&7u32.to_le_bytes()); // R+W+X
    f.extend_from_slice(&120u64.to_le_bytes()); // offset
    f.extend_from_slice(&RAM_BASE.to_le_bytes()); // vaddr
    f.extend_from_slice(&RAM_BASE.to_le_bytes()); // paddr
    f.extend_from_slice(&(image.len() as u64).to_le_bytes());
    f.extend_from_slice(&(image.len() as u64).to_le_bytes());
    f.extend_from_slice(&4096u64.to_le_bytes());
    f.extend_from_slice(image);
    f
}
