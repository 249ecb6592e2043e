//! The ELF loader on images built here, byte by byte: a valid program loads
//! where it should, each kind of bad file gets its own one-line reason, and no
//! mangled file makes the loader panic.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use proptest::prelude::*;
use tunevm::loader::{check_size, load_elf, LoadError, LoadedProgram, MAX_ELF_BYTES};
use tunevm::mem::{Ram, RAM_BASE};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const RAM_BYTES: usize = 1 << 20;

/// One program header and the bytes it points at.
#[derive(Clone, Debug)]
struct Seg {
    p_type: u32,
    flags: u32,
    vaddr: u64,
    paddr: u64,
    data: Vec<u8>,
    memsz: u64,
    /// Lie about the file size (the data written stays `data`).
    filesz: Option<u64>,
}

/// A little ELF64 writer: header, program headers, segment data and, when
/// there are symbols, `.symtab`/`.strtab`/`.shstrtab` with section headers.
#[derive(Clone, Debug)]
struct Elf {
    class: u8,
    data: u8,
    osabi: u8,
    e_type: u16,
    machine: u16,
    flags: u32,
    entry: u64,
    phentsize: u16,
    segs: Vec<Seg>,
    symbols: Vec<(&'static str, u64)>,
}

fn seg(p_type: u32, flags: u32, addr: u64, data: &[u8], memsz: u64) -> Seg {
    Seg { p_type, flags, vaddr: addr, paddr: addr, data: data.to_vec(), memsz, filesz: None }
}

const CODE: &[u8] = &[0x13, 0x05, 0xa0, 0x02, 0x6f, 0x00, 0x00, 0x00]; // li a0, 42; j .
const DATA: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

/// A valid bare-metal program: code at RAM_BASE, data + bss a page above,
/// tohost/fromhost symbols in the data.
fn program() -> Elf {
    Elf {
        class: 2,
        data: 1,
        osabi: 0,
        e_type: 2,
        machine: 243,
        flags: 0x5, // RVC, double-float ABI
        entry: RAM_BASE,
        phentsize: 56,
        segs: vec![
            seg(PT_LOAD, PF_R | PF_X, RAM_BASE, CODE, CODE.len() as u64),
            seg(PT_LOAD, PF_R | PF_W, RAM_BASE + 0x1000, DATA, 0x40),
        ],
        symbols: vec![
            ("_start", RAM_BASE),
            ("tohost", RAM_BASE + 0x1000),
            ("fromhost", RAM_BASE + 0x1008),
        ],
    }
}

impl Elf {
    fn with(mut self, change: impl FnOnce(&mut Elf)) -> Elf {
        change(&mut self);
        self
    }

    fn push(self, s: Seg) -> Elf {
        self.with(|e| e.segs.push(s))
    }

    fn build(&self) -> Vec<u8> {
        let phoff = 64u64;
        let mut out = vec![0u8; 64 + 56 * self.segs.len()];
        let mut offsets = Vec::new();
        for s in &self.segs {
            align(&mut out, 8);
            offsets.push(out.len() as u64);
            out.extend_from_slice(&s.data);
        }
        let (mut shoff, mut shnum, mut shstrndx) = (0u64, 0u16, 0u16);
        if !self.symbols.is_empty() {
            let mut strtab = vec![0u8];
            let mut symtab = vec![0u8; 24]; // symbol 0 is null
            for (name, value) in &self.symbols {
                let st_name = strtab.len() as u32;
                strtab.extend_from_slice(name.as_bytes());
                strtab.push(0);
                symtab.extend_from_slice(&st_name.to_le_bytes());
                symtab.extend_from_slice(&[0x10, 0]); // STB_GLOBAL, STT_NOTYPE
                symtab.extend_from_slice(&0xfff1u16.to_le_bytes()); // SHN_ABS
                symtab.extend_from_slice(&value.to_le_bytes());
                symtab.extend_from_slice(&0u64.to_le_bytes());
            }
            let shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0";
            let mut place = |bytes: &[u8]| {
                align(&mut out, 8);
                let at = out.len() as u64;
                out.extend_from_slice(bytes);
                (at, bytes.len() as u64)
            };
            let sym = place(&symtab);
            let str_ = place(&strtab);
            let shstr = place(shstrtab);
            align(&mut out, 8);
            shoff = out.len() as u64;
            out.extend_from_slice(&[0u8; 64]); // section 0
                                               // (name, type, (offset, size), link, info, entsize)
            for (name, ty, (off, size), link, info, entsize) in [
                (1u32, 2u32, sym, 2u32, 1u32, 24u64),
                (9, 3, str_, 0, 0, 0),
                (17, 3, shstr, 0, 0, 0),
            ] {
                let mut sh = Vec::new();
                sh.extend_from_slice(&name.to_le_bytes());
                sh.extend_from_slice(&ty.to_le_bytes());
                sh.extend_from_slice(&[0u8; 16]); // flags, addr
                sh.extend_from_slice(&off.to_le_bytes());
                sh.extend_from_slice(&size.to_le_bytes());
                sh.extend_from_slice(&link.to_le_bytes());
                sh.extend_from_slice(&info.to_le_bytes());
                sh.extend_from_slice(&8u64.to_le_bytes());
                sh.extend_from_slice(&entsize.to_le_bytes());
                out.extend_from_slice(&sh);
            }
            (shnum, shstrndx) = (4, 3);
        }
        let mut h = Vec::new();
        h.extend_from_slice(&[0x7f, b'E', b'L', b'F', self.class, self.data, 1, self.osabi]);
        h.extend_from_slice(&[0u8; 8]);
        h.extend_from_slice(&self.e_type.to_le_bytes());
        h.extend_from_slice(&self.machine.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&self.entry.to_le_bytes());
        h.extend_from_slice(&phoff.to_le_bytes());
        h.extend_from_slice(&shoff.to_le_bytes());
        h.extend_from_slice(&self.flags.to_le_bytes());
        for half in [64u16, self.phentsize, self.segs.len() as u16, 64, shnum, shstrndx] {
            h.extend_from_slice(&half.to_le_bytes());
        }
        out[..64].copy_from_slice(&h);
        for (i, (s, off)) in self.segs.iter().zip(offsets).enumerate() {
            let mut p = Vec::new();
            p.extend_from_slice(&s.p_type.to_le_bytes());
            p.extend_from_slice(&s.flags.to_le_bytes());
            for word in [off, s.vaddr, s.paddr, s.filesz.unwrap_or(s.data.len() as u64), s.memsz, 8]
            {
                p.extend_from_slice(&word.to_le_bytes());
            }
            out[64 + 56 * i..64 + 56 * (i + 1)].copy_from_slice(&p);
        }
        out
    }
}

fn align(out: &mut Vec<u8>, to: usize) {
    out.resize(out.len().div_ceil(to) * to, 0);
}

/// RAM filled with 0xaa, so that zeroed bss shows.
fn dirty_ram() -> Ram {
    let ram = Ram::new(RAM_BYTES);
    ram.write_bytes(0, &vec![0xaa; RAM_BYTES]);
    ram
}

fn load(bytes: &[u8]) -> Result<(LoadedProgram, Ram), LoadError> {
    let mut ram = dirty_ram();
    load_elf(bytes, &mut ram).map(|p| (p, ram))
}

/// Loading must fail, with a one-line message that mentions every part.
fn check_err(bytes: &[u8], parts: &[&str]) -> LoadError {
    let mut ram = dirty_ram();
    let err = load_elf(bytes, &mut ram).expect_err("should be refused");
    let text = err.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    for p in parts {
        assert!(text.contains(p), "{text:?} does not mention {p:?}");
    }
    assert!(ram.as_bytes().iter().all(|&b| b == 0xaa), "a refused file wrote to RAM");
    err
}

#[test]
fn a_valid_program_loads_with_bss_zeroed_and_htif_symbols() {
    let (p, ram) = load(&program().build()).unwrap();
    assert_eq!(p.entry, RAM_BASE);
    assert_eq!(p.tohost, Some(RAM_BASE + 0x1000));
    assert_eq!(p.fromhost, Some(RAM_BASE + 0x1008));
    assert_eq!(p.segments, vec![(RAM_BASE, 8), (RAM_BASE + 0x1000, 0x40)]);
    let mem = ram.as_bytes();
    assert_eq!(&mem[..8], CODE);
    assert_eq!(mem[8], 0xaa, "bytes past a segment are left alone");
    assert_eq!(&mem[0x1000..0x1010], DATA);
    assert!(mem[0x1010..0x1040].iter().all(|&b| b == 0), "bss is zeroed");
    assert_eq!(mem[0x1040], 0xaa);
}

#[test]
fn symbols_are_optional_and_every_float_abi_is_accepted() {
    let (p, _) = load(&program().with(|e| e.symbols.clear()).build()).unwrap();
    assert_eq!((p.tohost, p.fromhost), (None, None));
    // e_flags: RVC (1) and float ABI soft (0), single (2), double (4), quad (6); TSO (0x10).
    for flags in [0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x10, 0x15] {
        load(&program().with(|e| e.flags = flags).build()).unwrap();
    }
}

#[test]
fn segments_load_at_their_physical_address() {
    // LMA differs from VMA: the bytes go to p_paddr.
    let lma = program().with(|e| e.segs[1].paddr = RAM_BASE + 0x2000).build();
    let (p, ram) = load(&lma).unwrap();
    assert_eq!(p.segments[1], (RAM_BASE + 0x2000, 0x40));
    assert_eq!(&ram.as_bytes()[0x2000..0x2010], DATA);
    // p_paddr left 0 by the linker: use p_vaddr.
    let zero = program().with(|e| e.segs[1].paddr = 0).build();
    let (p, ram) = load(&zero).unwrap();
    assert_eq!(p.segments[1], (RAM_BASE + 0x1000, 0x40));
    assert_eq!(&ram.as_bytes()[0x1000..0x1010], DATA);
    // Empty PT_LOADs and other segment types are skipped.
    let extra =
        program().push(seg(PT_LOAD, PF_R, 0, &[], 0)).push(seg(PT_NOTE, PF_R, 0, b"note", 4));
    assert_eq!(load(&extra.build()).unwrap().0.segments.len(), 2);
}

#[test]
fn not_elf_wrong_class_endianness_version_machine() {
    check_err(b"\0asm\x01\0\0\0", &["not an ELF file", "00 61 73 6d"]);
    check_err(b"", &["not an ELF file", "empty file"]);
    check_err(b"#!/bin/sh\n", &["not an ELF file", "23 21 2f 62"]);
    check_err(&program().build()[..20], &["truncated ELF header", "20 bytes", "needs 64"]);
    check_err(&program().build()[..5], &["truncated ELF header", "5 bytes"]);
    check_err(&program().with(|e| e.class = 1).build(), &["ELF32", "RV64 (ELF64)"]);
    check_err(&program().with(|e| e.class = 7).build(), &["unknown ELF class 7"]);
    check_err(&program().with(|e| e.data = 2).build(), &["big-endian", "little-endian"]);
    check_err(&program().with(|e| e.data = 0).build(), &["data encoding 0"]);
    let mut v0 = program().build();
    v0[6] = 0;
    check_err(&v0, &["ELF version 0"]);
    check_err(&program().with(|e| e.machine = 62).build(), &["x86-64", "e_machine 62", "RISC-V"]);
    check_err(&program().with(|e| e.machine = 183).build(), &["AArch64", "e_machine 183"]);
    check_err(&program().with(|e| e.machine = 9999).build(), &["e_machine 9999"]);
}

#[test]
fn only_linked_executables_are_loaded() {
    check_err(
        &program().with(|e| e.e_type = 1).build(),
        &["not an executable", "ET_REL", "ET_EXEC"],
    );
    check_err(&program().with(|e| e.e_type = 3).build(), &["not an executable", "ET_DYN"]);
    check_err(&program().with(|e| e.e_type = 4).build(), &["ET_CORE"]);
}

#[test]
fn linux_programs_are_refused_saying_what_tunevm_runs() {
    let what = "tunevm runs bare-metal RV64 programs that start in M-mode at 0x80000000 \
                and talk to the UART/finisher/HTIF, not Linux system calls";
    let interp = program().push(seg(PT_INTERP, PF_R, 0, b"/lib/ld-linux-riscv64-lp64d.so.1\0", 33));
    let err = check_err(&interp.with(|e| e.e_type = 3).build(), &[what]);
    assert_eq!(
        err.to_string(),
        format!(
            "this looks like a Linux program (it has an interpreter \
             /lib/ld-linux-riscv64-lp64d.so.1); {what}"
        )
    );
    check_err(
        &program().push(seg(PT_DYNAMIC, PF_R, 0, &[0; 16], 16)).build(),
        &["PT_DYNAMIC", what],
    );
    check_err(&program().with(|e| e.osabi = 3).build(), &["GNU/Linux", what]);
    let low = program().with(|e| {
        e.segs[0].vaddr = 0x10000;
        e.segs[0].paddr = 0x10000;
        e.entry = 0x10000;
    });
    check_err(&low.build(), &["linked at 0x10000", "below RAM at 0x80000000", what]);
}

#[test]
fn truncated_program_headers_and_segments() {
    let bytes = program().build();
    check_err(
        &bytes[..100],
        &["truncated program headers", "2 headers", "offset 0x40", "100-byte file"],
    );
    check_err(&program().with(|e| e.phentsize = 32).build(), &["program header size 32", "56"]);
    let past =
        program().with(|e| e.symbols.clear()).with(|e| e.segs[1].filesz = Some(0x30)).build();
    check_err(&past, &["truncated segment 1", "run past the end of the"]);
    let huge =
        program().with(|e| e.segs[1].filesz = Some(u64::MAX)).with(|e| e.segs[1].memsz = u64::MAX);
    check_err(&huge.build(), &["truncated segment 1"]);
    let cut = program().with(|e| e.symbols.clear()).build();
    check_err(
        &cut[..cut.len() - 4],
        &["truncated segment 1", &format!("{}-byte file", cut.len() - 4)],
    );
}

#[test]
fn segment_sizes_and_places_are_checked() {
    let big_file = program().with(|e| e.segs[1].memsz = 8);
    check_err(&big_file.build(), &["segment 1", "file size 0x10", "memory size 0x8"]);
    let out = program().push(seg(PT_LOAD, PF_R, 0x9000_0000, &[1; 16], 16));
    check_err(
        &out.build(),
        &["segment 2 at 0x90000000..0x90000010", "outside RAM 0x80000000..0x80100000"],
    );
    let across = program().push(seg(PT_LOAD, PF_R, RAM_BASE + 0xff000, &[], 0x2000));
    check_err(&across.build(), &["0x800ff000..0x80101000", "memory.ram_bytes"]);
    let below = program().push(seg(PT_LOAD, PF_R, 0x2000_0000, &[1; 4], 4));
    check_err(&below.build(), &["segment 2 at 0x20000000..0x20000004", "outside RAM"]);
    let wrap = program().push(seg(PT_LOAD, PF_R, u64::MAX - 3, &[1; 4], 16));
    check_err(&wrap.build(), &["outside RAM"]);
    let overlap = program().push(seg(PT_LOAD, PF_R, RAM_BASE + 0x1020, &[7; 4], 0x40));
    check_err(
        &overlap.build(),
        &["segments 1 (0x80001000..0x80001040) and 2 (0x80001020..0x80001060) overlap"],
    );
    let only_notes = program().with(|e| e.segs.iter_mut().for_each(|s| s.p_type = PT_NOTE));
    check_err(&only_notes.build(), &["no PT_LOAD segments"]);
}

#[test]
fn the_entry_point_must_be_in_loaded_code() {
    let in_data = program().with(|e| e.entry = RAM_BASE + 0x1000);
    check_err(&in_data.build(), &["entry point 0x80001000", "executable: 0x80000000..0x80000008"]);
    check_err(&program().with(|e| e.entry = 0).build(), &["entry point 0x0"]);
    let no_code = program().with(|e| e.segs[0].flags = PF_R);
    check_err(&no_code.build(), &["entry point 0x80000000", "there are none"]);
}

#[test]
fn the_entry_point_must_be_2_byte_aligned() {
    for odd in [RAM_BASE + 1, RAM_BASE + 3, RAM_BASE + 7] {
        let at = format!("entry point {odd:#x} is odd");
        let err = check_err(&program().with(|e| e.entry = odd).build(), &[&at, "2-byte aligned"]);
        assert_eq!(err, LoadError::MisalignedEntry { entry: odd });
    }
    // 2-byte aligned is enough (the C extension), inside the code.
    assert_eq!(
        load(&program().with(|e| e.entry = RAM_BASE + 2).build()).unwrap().0.entry,
        RAM_BASE + 2
    );
}

#[test]
fn files_over_the_size_cap_are_refused() {
    let text = format!("file too large: more than 256 MiB ({MAX_ELF_BYTES} bytes)");
    assert_eq!(check_size(MAX_ELF_BYTES as u64), Ok(()));
    assert_eq!(check_size(MAX_ELF_BYTES as u64 + 1), Err(LoadError::TooLarge));
    // A valid program followed by zeros up to one byte over the cap (the
    // zeros are calloc'd pages nobody touches).
    let elf = program().build();
    let mut big = vec![0u8; MAX_ELF_BYTES + 1];
    big[..elf.len()].copy_from_slice(&elf);
    assert_eq!(check_err(&big, &[&text]), LoadError::TooLarge);
    load(&big[..MAX_ELF_BYTES]).expect("at the cap exactly is fine");
}

#[test]
fn text_from_the_file_is_shown_as_one_printable_line() {
    let what = "tunevm runs bare-metal RV64 programs";
    let mut path = b"/lib/ld\n\x1b[31mred\r\x07\xff".to_vec();
    path.extend_from_slice(&[b'a'; 5000]);
    path.push(0);
    let interp = program().push(seg(PT_INTERP, PF_R, 0, &path, path.len() as u64));
    let err = check_err(&interp.build(), &["/lib/ld\\n\\x1b[31mred\\r\\x07\\xffaaa", what]);
    let text = err.to_string();
    assert!(!text.chars().any(char::is_control), "control characters: {text:?}");
    assert!(text.len() < 1000, "a long string is cut: {} bytes", text.len());
    assert!(text.contains("more)"), "says it was cut: {text}");
}

#[test]
fn errors_keep_their_type() {
    let bytes = program().with(|e| e.class = 1).build();
    assert_eq!(check_err(&bytes, &[]), LoadError::Elf32);
    let bytes = program().with(|e| e.machine = 62).build();
    assert!(matches!(check_err(&bytes, &[]), LoadError::WrongMachine { machine: 62, .. }));
}

/// Interesting values to drop into header fields.
fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(u64::MAX),
        Just(RAM_BASE),
        Just(RAM_BASE + RAM_BYTES as u64 - 1),
        Just(0x10000),
        0u64..0x400,
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(crate::proptest_config(3000))]

    /// Any mangling of a valid image (bytes changed, 8-byte fields replaced,
    /// file cut short) gives Ok or a LoadError, never a panic.
    #[test]
    fn mangled_files_never_panic(
        bytes in prop::collection::vec((0usize..1024, any::<u8>()), 0..6),
        words in prop::collection::vec((0usize..128, word()), 0..4),
        cut in prop::option::of(0usize..1024),
    ) {
        let mut elf = program().build();
        for (at, b) in bytes {
            let n = elf.len();
            elf[at % n] = b;
        }
        for (at, w) in words {
            // Header and program-header words mostly: where the offsets live.
            let at = (at * 8).min(elf.len() - 8);
            elf[at..at + 8].copy_from_slice(&w.to_le_bytes());
        }
        if let Some(cut) = cut {
            elf.truncate(cut);
        }
        let mut ram = Ram::new(RAM_BYTES);
        let _ = load_elf(&elf, &mut ram);
    }
}
