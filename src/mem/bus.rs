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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::devices::{clint, BusError, Clint, Devices, ExitRequest, Htif};
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

/// Guest RAM and the devices of one machine, shared by its harts (which may
/// run on several host threads: every method takes `&self`).
///
/// RAM and the CLINT are lock-free (atomics); the other devices (UART,
/// finisher, HTIF) sit behind one lock, taken only by device accesses and
/// HTIF mailbox stores. An exit request also sets a flag harts read without
/// the lock at every poll.
pub struct Bus {
    /// The GC heap the guest reaches through the `gc.*` instructions.
    /// Declared before `ram`: fields drop in order, and the collector's
    /// marker thread reads RAM until the collector is dropped.
    gc: Option<crate::gc::UnifiedGC>,
    ram: Ram,
    pub clint: Clint,
    devices: Mutex<Devices>,
    exit_pending: AtomicBool,
    /// Physical range of the HTIF `tohost` word, when there is one (read
    /// without the lock on every RAM store's slow path).
    tohost: Option<u64>,
}

impl Bus {
    /// A bus for `harts` harts (the CLINT has a `msip` and `mtimecmp` each,
    /// RAM keeps code-invalidation lists for each).
    pub fn new(mut ram: Ram, devices: Devices, harts: usize) -> Bus {
        ram.set_harts(harts);
        Bus {
            gc: None,
            ram,
            clint: Clint::new(harts),
            devices: Mutex::new(devices),
            exit_pending: AtomicBool::new(false),
            tohost: None,
        }
    }

    /// Give the machine its GC heap (`Machine` does, once).
    pub fn attach_gc(&mut self, gc: crate::gc::UnifiedGC) {
        self.gc = Some(gc);
    }

    pub fn gc(&self) -> Option<&crate::gc::UnifiedGC> {
        self.gc.as_ref()
    }

    pub fn ram(&self) -> &Ram {
        &self.ram
    }

    pub fn ram_mut(&mut self) -> &mut Ram {
        &mut self.ram
    }

    /// The devices behind the lock (UART, finisher, HTIF).
    pub fn devices(&self) -> MutexGuard<'_, Devices> {
        // Device state stays consistent across a panic (plain fields).
        self.devices.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Harts this bus serves.
    pub fn harts(&self) -> usize {
        self.clint.harts()
    }

    /// The guest asked for an exit or a reset (finisher, HTIF); lock-free.
    #[inline(always)]
    pub fn exit_pending(&self) -> bool {
        self.exit_pending.load(Ordering::Acquire)
    }

    /// The first pending exit request from the finisher or HTIF, if any.
    pub fn exit_request(&self) -> Option<ExitRequest> {
        if !self.exit_pending() {
            return None;
        }
        self.devices().exit_request()
    }

    /// Connect an HTIF mailbox: stores to its `tohost` page always leave the
    /// JIT's inline path, so the bus sees them.
    pub fn attach_htif(&mut self, htif: Htif) {
        if let Some(off) = self.ram.offset_of(htif.tohost, 8) {
            self.ram.mark_device_page(off);
        }
        self.tohost = Some(htif.tohost);
        self.devices().htif = Some(htif);
    }

    /// Load `size` bytes (zero-extended) at physical `paddr`. `now` gives
    /// the loading hart's guest time (mtime before its offset); it is called
    /// only for a device access, so a RAM access never reads a clock (with
    /// `runtime.host_time` that is a host clock read).
    #[inline(always)]
    pub fn load(&self, paddr: u64, size: u64, now: impl FnOnce() -> u64) -> Result<u64, BusError> {
        match self.ram.offset_of(paddr, size) {
            Some(off) => Ok(self.ram.read(off, size)),
            None => self.device_load(paddr, size, now()),
        }
    }

    #[cold]
    fn device_load(&self, paddr: u64, size: u64, now: u64) -> Result<u64, BusError> {
        if clint::RANGE.contains(&paddr) {
            self.clint.load(paddr - clint::RANGE.start, size, now)
        } else {
            self.devices().load(paddr)
        }
    }

    /// Store the low `size` bytes of `val` at physical `paddr` (`now` as for
    /// [`Bus::load`]).
    #[inline(always)]
    pub fn store(
        &self,
        paddr: u64,
        size: u64,
        val: u64,
        now: impl FnOnce() -> u64,
    ) -> Result<Stored, BusError> {
        match self.ram.offset_of(paddr, size) {
            Some(off) => {
                let code_written = self.ram.write(off, size, val);
                let stored = Stored { code_written, devices_changed: false };
                Ok(self.after_ram_store(paddr, size, stored))
            }
            None => self.device_store(paddr, size, val, now()),
        }
    }

    #[cold]
    fn device_store(&self, paddr: u64, size: u64, val: u64, now: u64) -> Result<Stored, BusError> {
        if clint::RANGE.contains(&paddr) {
            self.clint.store(paddr - clint::RANGE.start, size, val, now)?;
        } else {
            let mut devices = self.devices();
            devices.store(paddr, size, val)?;
            if devices.exit_request().is_some() {
                self.exit_pending.store(true, Ordering::Release);
            }
        }
        Ok(Stored { code_written: false, devices_changed: true })
    }

    /// Store `val`'s bytes at RAM offsets `offs` (one per byte, already
    /// translated and checked: a misaligned store carried out byte by byte).
    pub fn store_bytes(&self, offs: &[usize], val: u64) -> Stored {
        let mut stored = Stored::default();
        for (i, &off) in offs.iter().enumerate() {
            stored.code_written |= self.ram.write(off, 1, val >> (8 * i));
        }
        let paddr = super::RAM_BASE + offs[0] as u64;
        self.after_ram_store(paddr, offs.len() as u64, stored)
    }

    /// Run the HTIF mailbox if the store touched `tohost`.
    #[inline(always)]
    pub fn after_ram_store(&self, paddr: u64, size: u64, stored: Stored) -> Stored {
        match self.tohost {
            Some(tohost) if paddr < tohost + 8 && tohost < paddr + size => {
                self.htif_store(paddr, size, stored)
            }
            _ => stored,
        }
    }

    #[cold]
    fn htif_store(&self, paddr: u64, size: u64, mut stored: Stored) -> Stored {
        let mut devices = self.devices();
        let devices = &mut *devices;
        let Some(htif) = devices.htif.as_mut() else { return stored };
        let Some(off) = self.ram.offset_of(htif.tohost, 8) else { return stored };
        let value = self.ram.read(off, 8);
        if let Some(effect) = htif.after_store(paddr, size, value) {
            stored.code_written |= self.ram.write(off, 8, 0);
            if let Some(byte) = effect.output {
                devices.uart.output.push(byte);
            }
            if let (Some(v), Some(fh)) = (effect.fromhost, htif.fromhost) {
                if let Some(off) = self.ram.offset_of(fh, 8) {
                    stored.code_written |= self.ram.write(off, 8, v);
                }
            }
            if devices.exit_request().is_some() {
                self.exit_pending.store(true, Ordering::Release);
            }
            stored.devices_changed = true;
        }
        stored
    }
}
