//! ELF loader for RV64 bare-metal executables: the program's PT_LOAD segments
//! are copied into guest RAM at their physical addresses, and the addresses
//! of the HTIF symbols `tohost`/`fromhost` are read from the symbol table.
//!
//! tunevm runs programs that start in M-mode at their entry point with no
//! operating system underneath (riscv-tests, Spike-style or QEMU-virt-style
//! bare-metal code). Everything else is refused with a one-line reason: the
//! checks run before the first byte is written, so a refused file leaves RAM
//! untouched.
//!
//! Architecture invariant: no input makes the loader panic; every offset and
//! size from the file is checked (with overflow-checked arithmetic) before
//! use. A fuzz test (`tests/suite/loader_elf.rs`) holds it to that. Every
//! message is one printable line: text taken from the file goes through
//! [`one_line_bytes`](crate::config::one_line_bytes).
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, Sym};
use object::LittleEndian;
use thiserror::Error;

use crate::config::one_line_bytes;
use crate::mem::{Ram, RAM_BASE};

type Header = elf::FileHeader64<LittleEndian>;
const LE: LittleEndian = LittleEndian;
const EHDR_SIZE: usize = std::mem::size_of::<Header>();
const PHDR_SIZE: usize = std::mem::size_of::<elf::ProgramHeader64<LittleEndian>>();

/// Lowest PT_LOAD addresses that mark a program linked as a Linux (or proxy
/// kernel) user program: their linkers start text at 0x10000. Bare-metal
/// programs for tunevm are linked into RAM at 0x8000_0000.
const LINUX_USER_TEXT: std::ops::Range<u64> = 0x1_0000..0x100_0000;

/// Largest ELF file tunevm loads: 256 MiB, a quarter of the largest guest
/// RAM (`memory.ram_bytes` at most 1 GiB) and far above any program built
/// for it (the workloads are a few KiB; bss and heap take RAM, not file
/// bytes). The cap exists so that a wrong file (`/dev/zero`, a disk image)
/// is refused at once instead of being read until host memory runs out:
/// readers take at most `MAX_ELF_BYTES + 1` bytes, and [`check_size`] refuses
/// more, in the CLI and in the page alike.
pub const MAX_ELF_BYTES: usize = 256 * 1024 * 1024;

/// Most characters of a string from the file (the PT_INTERP path) shown in
/// a message.
const MAX_SHOWN_CHARS: usize = 200;

/// Refuse a file of `len` bytes if it is larger than [`MAX_ELF_BYTES`].
pub fn check_size(len: u64) -> Result<(), LoadError> {
    if len > MAX_ELF_BYTES as u64 {
        return Err(LoadError::TooLarge);
    }
    Ok(())
}

/// A program loaded into RAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedProgram {
    /// Where execution starts (M-mode, no translation: a physical address).
    pub entry: u64,
    /// Address of the `tohost` symbol, if the program has one (HTIF).
    pub tohost: Option<u64>,
    /// Address of the `fromhost` symbol, if the program has one (HTIF).
    pub fromhost: Option<u64>,
    /// The loaded segments as (physical start, memory size), by address.
    pub segments: Vec<(u64, u64)>,
}

/// Why an ELF file cannot be run. Each message is one line that names the
/// problem and the numbers involved.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LoadError {
    #[error(
        "file too large: more than {} MiB ({MAX_ELF_BYTES} bytes), the most tunevm loads \
         as an ELF program",
        MAX_ELF_BYTES >> 20
    )]
    TooLarge,

    #[error("not an ELF file: it starts with {found} instead of 7f 45 4c 46 (\"\\x7fELF\")")]
    NotElf { found: String },

    #[error("truncated ELF header: the file has {len} bytes, an ELF64 header needs {EHDR_SIZE}")]
    TruncatedHeader { len: usize },

    #[error("ELF32 (32-bit) file: tunevm runs RV64 (ELF64) programs")]
    Elf32,

    #[error("unknown ELF class {0} (ELF64 is 2)")]
    BadClass(u8),

    #[error("big-endian ELF file: tunevm runs little-endian RISC-V (RV64) programs")]
    BigEndian,

    #[error("unknown ELF data encoding {0} (little-endian is 1)")]
    BadEncoding(u8),

    #[error("unsupported ELF version {0} (the only one is 1)")]
    BadVersion(u8),

    #[error(
        "wrong machine: this ELF is for {name} (e_machine {machine}); \
         tunevm runs RISC-V (e_machine 243) programs"
    )]
    WrongMachine { machine: u16, name: &'static str },

    #[error(
        "this looks like a Linux program ({reason}); tunevm runs bare-metal RV64 programs \
         that start in M-mode at 0x80000000 and talk to the UART/finisher/HTIF, \
         not Linux system calls"
    )]
    LinuxProgram { reason: String },

    #[error(
        "not an executable: the ELF type is {found}; tunevm loads linked executables (ET_EXEC)"
    )]
    NotExecutable { found: String },

    #[error("bad program header size {0} bytes (ELF64 program headers are {PHDR_SIZE} bytes)")]
    BadProgramHeaderSize(u16),

    #[error(
        "truncated program headers: {count} headers of {PHDR_SIZE} bytes at offset {offset:#x} \
         run past the end of the {len}-byte file"
    )]
    TruncatedProgramHeaders { offset: u64, count: u32, len: usize },

    #[error("no PT_LOAD segments with bytes to load")]
    NoLoadSegments,

    #[error("segment {index}: file size {filesz:#x} is larger than its memory size {memsz:#x}")]
    FileSizeOverMemSize { index: usize, filesz: u64, memsz: u64 },

    #[error(
        "truncated segment {index}: its file bytes {start:#x}..{end:#x} run past the end \
         of the {len}-byte file"
    )]
    TruncatedSegment { index: usize, start: u64, end: u64, len: usize },

    #[error(
        "segment {index} at {start:#x}..{end:#x} lies outside RAM {ram_start:#x}..{ram_end:#x} \
         (link the program into RAM, or raise memory.ram_bytes)"
    )]
    OutsideRam { index: usize, start: u64, end: u64, ram_start: u64, ram_end: u64 },

    #[error(
        "segments {first} ({first_start:#x}..{first_end:#x}) and {second} \
         ({second_start:#x}..{second_end:#x}) overlap in memory"
    )]
    Overlap {
        first: usize,
        first_start: u64,
        first_end: u64,
        second: usize,
        second_start: u64,
        second_end: u64,
    },

    #[error("entry point {entry:#x} is not inside an executable segment ({executable})")]
    EntryOutsideCode { entry: u64, executable: String },

    #[error(
        "entry point {entry:#x} is odd: RISC-V instructions start at even addresses \
         (2-byte aligned with the C extension)"
    )]
    MisalignedEntry { entry: u64 },

    #[error("malformed ELF {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
}

/// One PT_LOAD segment that passed the checks.
struct Segment<'a> {
    /// Index of its program header (as `readelf -l` counts).
    index: usize,
    start: u64,
    memsz: u64,
    bytes: &'a [u8],
    executable: bool,
}

impl Segment<'_> {
    fn end(&self) -> u64 {
        self.start + self.memsz
    }
}

/// Check `bytes` as a bare-metal RV64 executable and copy its segments into
/// `ram`: `filesz` bytes from the file, zeros up to `memsz`. Nothing is
/// written unless every check passes.
pub fn load_elf(bytes: &[u8], ram: &mut Ram) -> Result<LoadedProgram, LoadError> {
    check_size(bytes.len() as u64)?;
    let header = check_ident(bytes)?;
    let machine = header.e_machine(LE).0;
    if machine != elf::EM_RISCV.0 {
        return Err(LoadError::WrongMachine { machine, name: machine_name(machine) });
    }
    let headers = program_headers(header, bytes)?;
    if let Some(reason) = linux_hint(header, headers, bytes) {
        return Err(LoadError::LinuxProgram { reason });
    }
    let e_type = header.e_type(LE);
    if e_type != elf::ET_EXEC {
        return Err(LoadError::NotExecutable { found: type_name(e_type.0) });
    }
    let mut segments = load_segments(headers, bytes, ram)?;
    segments.sort_by_key(|s| s.start);
    for pair in segments.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.start < a.end() {
            return Err(LoadError::Overlap {
                first: a.index,
                first_start: a.start,
                first_end: a.end(),
                second: b.index,
                second_start: b.start,
                second_end: b.end(),
            });
        }
    }
    let entry = header.e_entry(LE);
    // The C extension makes 2 bytes the instruction alignment (RISC-V
    // unprivileged spec, 1.5 "Base Instruction-Length Encoding"): a hart
    // cannot start at an odd pc.
    if entry % 2 != 0 {
        return Err(LoadError::MisalignedEntry { entry });
    }
    let code: Vec<&Segment> = segments.iter().filter(|s| s.executable).collect();
    if !code.iter().any(|s| (s.start..s.end()).contains(&entry)) {
        let executable = if code.is_empty() {
            "there are none".to_string()
        } else {
            let ranges: Vec<String> =
                code.iter().map(|s| format!("{:#x}..{:#x}", s.start, s.end())).collect();
            format!("executable: {}", ranges.join(", "))
        };
        return Err(LoadError::EntryOutsideCode { entry, executable });
    }
    let (tohost, fromhost) = htif_symbols(header, bytes)?;

    for s in &segments {
        let off = ram.offset_of(s.start, s.memsz).expect("checked by load_segments");
        ram.write_bytes(off, s.bytes);
        let zeros = [0u8; 4096];
        let mut at = s.bytes.len();
        while at < s.memsz as usize {
            let n = (s.memsz as usize - at).min(zeros.len());
            ram.write_bytes(off + at, &zeros[..n]);
            at += n;
        }
    }
    Ok(LoadedProgram {
        entry,
        tohost,
        fromhost,
        segments: segments.iter().map(|s| (s.start, s.memsz)).collect(),
    })
}

/// The identification bytes, in the order a reader would check them, then
/// the header itself.
fn check_ident(bytes: &[u8]) -> Result<&Header, LoadError> {
    if bytes.len() < 4 || bytes[..4] != elf::ELFMAG {
        let shown: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let found = if shown.is_empty() { "nothing (empty file)".into() } else { shown.join(" ") };
        return Err(LoadError::NotElf { found });
    }
    // e_ident: magic, class, data encoding, version (ELF spec, "ELF Identification").
    const CLASS32: u8 = elf::ELFCLASS32.0;
    const CLASS64: u8 = elf::ELFCLASS64.0;
    const LSB: u8 = elf::ELFDATA2LSB.0;
    const MSB: u8 = elf::ELFDATA2MSB.0;
    const CURRENT: u8 = elf::EV_CURRENT.0;
    let truncated = || LoadError::TruncatedHeader { len: bytes.len() };
    match bytes.get(4).copied().ok_or_else(truncated)? {
        CLASS64 => {}
        CLASS32 => return Err(LoadError::Elf32),
        other => return Err(LoadError::BadClass(other)),
    }
    match bytes.get(5).copied().ok_or_else(truncated)? {
        LSB => {}
        MSB => return Err(LoadError::BigEndian),
        other => return Err(LoadError::BadEncoding(other)),
    }
    match bytes.get(6).copied().ok_or_else(truncated)? {
        CURRENT => {}
        other => return Err(LoadError::BadVersion(other)),
    }
    if bytes.len() < EHDR_SIZE {
        return Err(LoadError::TruncatedHeader { len: bytes.len() });
    }
    Header::parse(bytes).map_err(|e| malformed("header", e))
}

fn program_headers<'a>(
    header: &Header,
    bytes: &'a [u8],
) -> Result<&'a [elf::ProgramHeader64<LittleEndian>], LoadError> {
    let offset = header.e_phoff(LE);
    let count = header.phnum(LE, bytes).map_err(|e| malformed("program header count", e))?;
    if offset == 0 || count == 0 {
        return Ok(&[]);
    }
    let size = header.e_phentsize(LE);
    if usize::from(size) != PHDR_SIZE {
        return Err(LoadError::BadProgramHeaderSize(size));
    }
    let end = (count as u64).checked_mul(PHDR_SIZE as u64).and_then(|n| n.checked_add(offset));
    if end.is_none_or(|end| end > bytes.len() as u64) {
        return Err(LoadError::TruncatedProgramHeaders { offset, count, len: bytes.len() });
    }
    header.program_headers(LE, bytes).map_err(|e| malformed("program headers", e))
}

/// Why the file looks like a Linux user program, if it does.
fn linux_hint(
    header: &Header,
    headers: &[elf::ProgramHeader64<LittleEndian>],
    bytes: &[u8],
) -> Option<String> {
    for ph in headers {
        if let Ok(Some(path)) = ph.interpreter(LE, bytes) {
            let shown = one_line_bytes(path, MAX_SHOWN_CHARS);
            return Some(format!("it has an interpreter {shown}"));
        }
        match ph.p_type(LE) {
            elf::PT_INTERP => return Some("it has an interpreter (PT_INTERP)".into()),
            elf::PT_DYNAMIC => return Some("it is dynamically linked (PT_DYNAMIC)".into()),
            _ => {}
        }
    }
    if header.e_ident().os_abi == elf::ELFOSABI_LINUX {
        return Some("its OS ABI is GNU/Linux".into());
    }
    let lowest = headers
        .iter()
        .filter(|ph| ph.p_type(LE) == elf::PT_LOAD && ph.p_memsz(LE) > 0)
        .map(load_address)
        .min()?;
    LINUX_USER_TEXT.contains(&lowest).then(|| {
        format!(
            "it is linked at {lowest:#x}, where Linux puts user programs, \
             below RAM at {RAM_BASE:#x}"
        )
    })
}

/// Where a segment goes in physical memory: `p_paddr`, except that linkers
/// that leave `p_paddr` 0 mean "same as `p_vaddr`".
fn load_address(ph: &elf::ProgramHeader64<LittleEndian>) -> u64 {
    let (paddr, vaddr) = (ph.p_paddr(LE), ph.p_vaddr(LE));
    if paddr == 0 && vaddr >= RAM_BASE {
        vaddr
    } else {
        paddr
    }
}

/// Check every PT_LOAD segment with bytes in memory: sizes, file range, place
/// in RAM.
fn load_segments<'a>(
    headers: &[elf::ProgramHeader64<LittleEndian>],
    bytes: &'a [u8],
    ram: &Ram,
) -> Result<Vec<Segment<'a>>, LoadError> {
    let mut segments = Vec::new();
    for (index, ph) in headers.iter().enumerate() {
        if ph.p_type(LE) != elf::PT_LOAD {
            continue;
        }
        let (filesz, memsz, offset) = (ph.p_filesz(LE), ph.p_memsz(LE), ph.p_offset(LE));
        if filesz > memsz {
            return Err(LoadError::FileSizeOverMemSize { index, filesz, memsz });
        }
        if memsz == 0 {
            continue;
        }
        let file_end = offset.saturating_add(filesz);
        let data = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(filesz).ok())
            .and_then(|(o, n)| bytes.get(o..o.checked_add(n)?));
        let Some(data) = data else {
            return Err(LoadError::TruncatedSegment {
                index,
                start: offset,
                end: file_end,
                len: bytes.len(),
            });
        };
        let start = load_address(ph);
        if ram.offset_of(start, memsz).is_none() {
            return Err(LoadError::OutsideRam {
                index,
                start,
                end: start.saturating_add(memsz),
                ram_start: RAM_BASE,
                ram_end: RAM_BASE + ram.len() as u64,
            });
        }
        let executable = ph.p_flags(LE).0 & elf::PF_X.0 != 0;
        segments.push(Segment { index, start, memsz, bytes: data, executable });
    }
    if segments.is_empty() {
        return Err(LoadError::NoLoadSegments);
    }
    Ok(segments)
}

/// Addresses of `tohost` and `fromhost` from the symbol table (none if the
/// file has no symbol table).
fn htif_symbols(header: &Header, bytes: &[u8]) -> Result<(Option<u64>, Option<u64>), LoadError> {
    let sections = header.sections(LE, bytes).map_err(|e| malformed("section headers", e))?;
    let symbols =
        sections.symbols(LE, bytes, elf::SHT_SYMTAB).map_err(|e| malformed("symbol table", e))?;
    let (mut tohost, mut fromhost) = (None, None);
    for sym in symbols.iter() {
        if sym.st_shndx(LE) == elf::SHN_UNDEF {
            continue;
        }
        match sym.name(LE, symbols.strings()) {
            Ok(b"tohost") => tohost = Some(sym.st_value(LE)),
            Ok(b"fromhost") => fromhost = Some(sym.st_value(LE)),
            _ => {}
        }
    }
    Ok((tohost, fromhost))
}

fn malformed(what: &'static str, error: object::read::Error) -> LoadError {
    LoadError::Malformed { what, detail: error.to_string() }
}

fn type_name(e_type: u16) -> String {
    match e_type {
        0 => "ET_NONE (no file type)".into(),
        1 => "ET_REL (a relocatable object file: link it first)".into(),
        3 => "ET_DYN (a shared library or position-independent executable)".into(),
        4 => "ET_CORE (a core dump)".into(),
        t => format!("{t:#x} (unknown)"),
    }
}

/// Names of the machines a wrong file is most likely built for.
fn machine_name(machine: u16) -> &'static str {
    match machine {
        0 => "no machine",
        2 => "SPARC",
        3 => "x86 (i386)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "S/390",
        40 => "ARM",
        43 => "SPARC V9",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        247 => "eBPF",
        258 => "LoongArch",
        _ => "another machine",
    }
}
