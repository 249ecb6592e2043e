//! ELF loader for RV64 bare-metal executables. (Temporary minimal version;
//! replaced by the full loader.)
use crate::mem::Ram;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProgram {
    pub entry: u64,
    pub tohost: Option<u64>,
    pub fromhost: Option<u64>,
    pub segments: Vec<(u64, u64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not an ELF file")]
    NotElf,
}

pub fn load_elf(bytes: &[u8], ram: &mut Ram) -> Result<LoadedProgram, LoadError> {
    use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
    use object::{Object, ObjectSymbol};
    let file = ElfFile64::<object::Endianness>::parse(bytes).map_err(|_| LoadError::NotElf)?;
    let e = file.endian();
    let mut segments = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(e) != object::elf::PT_LOAD {
            continue;
        }
        let data = ph.data(e, bytes).map_err(|_| LoadError::NotElf)?;
        let addr = ph.p_paddr(e);
        let off = ram.offset_of(addr, ph.p_memsz(e)).ok_or(LoadError::NotElf)?;
        ram.write_bytes(off, data);
        segments.push((addr, ph.p_memsz(e)));
    }
    let sym = |name: &str| file.symbols().find(|s| s.name() == Ok(name)).map(|s| s.address());
    let _ = file.elf_header().e_entry(e);
    Ok(LoadedProgram {
        entry: file.entry(),
        tohost: sym("tohost"),
        fromhost: sym("fromhost"),
        segments,
    })
}
