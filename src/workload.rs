//! Parameters of the built-in paging workload (`workloads/src/paging.c`),
//! patched into its ELF image before it is loaded, so one ELF serves every
//! working-set size, stride and access order.
//!
//! The block is the symbol `paging_params`: seven little-endian u64s (pages,
//! stride, random, passes, seed, the magic "TVPAGING", and bare).

/// The magic value that marks the parameter block.
pub const PAGING_MAGIC: u64 = u64::from_le_bytes(*b"TVPAGING");

/// What the paging kernel walks: `passes` passes over a working set of
/// `pages` 4 KiB pages, `stride` pages apart, or in random order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagingParams {
    /// Working-set size in 4 KiB pages, 1..=32768.
    pub pages: u64,
    /// Pages between consecutive accesses, 1..=pages (ignored when random).
    pub stride: u64,
    /// Random order instead of a strided one.
    pub random: bool,
    /// Passes over the working set, >= 1.
    pub passes: u64,
    /// Seed of the random order and the initial contents, != 0.
    pub seed: u64,
    /// The same walk without translation: S-mode with satp = 0, on the
    /// frames' physical addresses (what Sv39 costs is the difference).
    pub bare: bool,
}

impl PagingParams {
    /// Check the ranges the kernel itself checks.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=32768).contains(&self.pages) {
            return Err(format!("pages = {} must be 1..=32768", self.pages));
        }
        if !(1..=self.pages).contains(&self.stride) {
            return Err(format!("stride = {} must be 1..=pages ({})", self.stride, self.pages));
        }
        if self.passes == 0 || self.seed == 0 {
            return Err("passes and seed must be at least 1".to_string());
        }
        Ok(())
    }

    /// File offset of the parameter block in `elf`: the symbol
    /// `paging_params`, mapped through the segment that holds it, and checked
    /// by its magic.
    fn block_offset(elf: &[u8]) -> Option<usize> {
        use object::read::elf::{ElfFile64, ProgramHeader};
        use object::{Object, ObjectSymbol};
        let file = ElfFile64::<object::Endianness>::parse(elf).ok()?;
        let e = file.endian();
        let addr = file.symbols().find(|s| s.name() == Ok("paging_params"))?.address();
        let at = file.elf_program_headers().iter().find_map(|ph| {
            let start = ph.p_vaddr(e);
            (ph.p_type(e) == object::elf::PT_LOAD
                && (start..start + ph.p_filesz(e)).contains(&addr))
            .then(|| (ph.p_offset(e) + (addr - start)) as usize)
        })?;
        let magic = elf.get(at + 40..at + 48)?;
        elf.get(at + 48..at + 56)?; // the `bare` word
        (magic == PAGING_MAGIC.to_le_bytes()).then_some(at)
    }

    /// Read the parameters stored in a paging workload ELF.
    pub fn read(elf: &[u8]) -> Option<PagingParams> {
        let at = Self::block_offset(elf)?;
        let word =
            |i: usize| u64::from_le_bytes(elf[at + 8 * i..at + 8 * i + 8].try_into().unwrap());
        Some(PagingParams {
            pages: word(0),
            stride: word(1),
            random: word(2) != 0,
            passes: word(3),
            seed: word(4),
            bare: word(6) != 0,
        })
    }

    /// Write these parameters into a paging workload ELF.
    pub fn patch(&self, elf: &mut [u8]) -> Result<(), String> {
        self.validate()?;
        let at = Self::block_offset(elf).ok_or("not a paging workload: no parameter block")?;
        let words = [self.pages, self.stride, self.random as u64, self.passes, self.seed];
        for (i, w) in words.iter().enumerate() {
            elf[at + 8 * i..at + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        elf[at + 48..at + 56].copy_from_slice(&(self.bare as u64).to_le_bytes());
        Ok(())
    }
}
