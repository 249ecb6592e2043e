//! The physical bus: guest RAM and the devices, and the routing between
//! them. A hart (through its MMU) hands the bus physical addresses; the bus
//! decides whether they are RAM or a device, and runs the HTIF mailbox,
//! whose `tohost` word lives inside RAM.
//!
//! The bus owns RAM but not translation: each hart's `UnifiedMmu` (TLBs,
//! prefetcher) is separate and is given the RAM to walk page tables in, so
//! several harts can translate over one RAM.
//!
//! Invariant: every RAM access goes through `Ram`'s bounds checks; a
//! physical address outside RAM and outside every device is a `BusError`.

use super::devices::{BusError, Devices, Htif};
use super::Ram;

/// What a store did besides writing memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    /// It wrote into a page with cached code: decoded and compiled code from
    /// that page is stale.
    pub code_written: bool,
    /// It changed device state (a device register, the HTIF mailbox): an
    /// interrupt may have been raised or cleared, or an exit requested.
    pub devices_changed: bool,
}

/// Guest RAM and the devices of one machine.
pub struct Bus {
    ram: Ram,
    pub devices: Devices,
}

impl Bus {
    pub fn new(ram: Ram, devices: Devices) -> Bus {
        Bus { ram, devices }
    }

    pub fn ram(&self) -> &Ram {
        &self.ram
    }

    pub fn ram_mut(&mut self) -> &mut Ram {
        &mut self.ram
    }

    /// Connect an HTIF mailbox: stores to its `tohost` page always leave the
    /// JIT's inline path, so the bus sees them.
    pub fn attach_htif(&mut self, htif: Htif) {
        if let Some(off) = self.ram.offset_of(htif.tohost, 8) {
            self.ram.mark_device_page(off);
        }
        self.devices.htif = Some(htif);
    }

    /// Load `size` bytes (zero-extended) at physical `paddr`. `now` is mtime.
    #[inline(always)]
    pub fn load(&mut self, paddr: u64, size: u64, now: u64) -> Result<u64, BusError> {
        match self.ram.offset_of(paddr, size) {
            Some(off) => Ok(self.ram.read(off, size)),
            None => self.devices.load(paddr, size, now),
        }
    }

    /// Store the low `size` bytes of `val` at physical `paddr`.
    #[inline(always)]
    pub fn store(&mut self, paddr: u64, size: u64, val: u64, now: u64) -> Result<Stored, BusError> {
        match self.ram.offset_of(paddr, size) {
            Some(off) => {
                let code_written = self.ram.write(off, size, val);
                let stored = Stored { code_written, devices_changed: false };
                Ok(self.after_ram_store(paddr, size, stored))
            }
            None => {
                self.devices.store(paddr, size, val, now)?;
                Ok(Stored { code_written: false, devices_changed: true })
            }
        }
    }

    /// Store `val`'s bytes at RAM offsets `offs` (one per byte, already
    /// translated and checked: a misaligned store carried out byte by byte).
    pub fn store_bytes(&mut self, offs: &[usize], val: u64) -> Stored {
        let mut stored = Stored::default();
        for (i, &off) in offs.iter().enumerate() {
            stored.code_written |= self.ram.write(off, 1, val >> (8 * i));
        }
        let paddr = super::RAM_BASE + offs[0] as u64;
        self.after_ram_store(paddr, offs.len() as u64, stored)
    }

    /// Run the HTIF mailbox if the store touched `tohost`.
    #[inline(always)]
    fn after_ram_store(&mut self, paddr: u64, size: u64, stored: Stored) -> Stored {
        match &self.devices.htif {
            Some(htif) if htif.covers(paddr, size) => self.htif_store(paddr, size, stored),
            _ => stored,
        }
    }

    #[cold]
    fn htif_store(&mut self, paddr: u64, size: u64, mut stored: Stored) -> Stored {
        let Some(htif) = self.devices.htif.as_mut() else { return stored };
        let Some(off) = self.ram.offset_of(htif.tohost, 8) else { return stored };
        let value = self.ram.read(off, 8);
        if let Some(effect) = htif.after_store(paddr, size, value) {
            stored.code_written |= self.ram.write(off, 8, 0);
            if let Some(byte) = effect.output {
                self.devices.uart.output.push(byte);
            }
            if let (Some(v), Some(fh)) = (effect.fromhost, htif.fromhost) {
                if let Some(off) = self.ram.offset_of(fh, 8) {
                    stored.code_written |= self.ram.write(off, 8, v);
                }
            }
            stored.devices_changed = true;
        }
        stored
    }
}
