//! Devices on the physical bus, outside RAM (the `virt` layout):
//!
//! | device | range |
//! |---|---|
//! | SiFive test finisher | `0x0010_0000..0x0010_1000` |
//! | CLINT | `0x0200_0000..0x0201_0000` |
//! | 16550 UART | `0x1000_0000..0x1000_0100` |
//! | HTIF `tohost`/`fromhost` | inside RAM, wherever the ELF put the symbols |
//!
//! A device access is a plain value in and out; a refused access is `Err(BusError)`,
//! which the cpu raises as an access fault.

pub mod clint;
pub mod finisher;
pub mod htif;
pub mod uart;

pub use clint::{Clint, MAX_HARTS};
pub use finisher::Finisher;
pub use htif::Htif;
pub use uart::Uart;

/// A device refused the access (no register there, or a width it does not
/// support). The cpu turns it into an access fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusError;

/// Why the guest asked the machine to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitRequest {
    /// Exit with this code (0 = success). HTIF codes have up to 47 bits.
    Exit(u64),
    /// The guest asked for a reset (finisher 0x7777).
    Reset,
}

/// The devices of one machine that keep state behind the bus's lock (the
/// CLINT is lock-free and lives on the bus itself).
pub struct Devices {
    pub uart: Uart,
    pub finisher: Finisher,
    /// Present when the loaded ELF defines `tohost`.
    pub htif: Option<Htif>,
}

impl Default for Devices {
    fn default() -> Self {
        Self::new()
    }
}

impl Devices {
    pub fn new() -> Self {
        Devices { uart: Uart::new(), finisher: Finisher::default(), htif: None }
    }

    /// Load from a device register (not the CLINT's).
    pub fn load(&mut self, paddr: u64) -> Result<u64, BusError> {
        if finisher::RANGE.contains(&paddr) {
            Ok(0)
        } else if uart::RANGE.contains(&paddr) {
            Ok(self.uart.load(paddr - uart::RANGE.start))
        } else {
            Err(BusError)
        }
    }

    /// Store to a device register (not the CLINT's).
    pub fn store(&mut self, paddr: u64, size: u64, val: u64) -> Result<(), BusError> {
        if finisher::RANGE.contains(&paddr) {
            self.finisher.store(paddr - finisher::RANGE.start, size, val)
        } else if uart::RANGE.contains(&paddr) {
            self.uart.store(paddr - uart::RANGE.start, val as u8);
            Ok(())
        } else {
            Err(BusError)
        }
    }

    /// The first pending exit request from the finisher or HTIF, if any.
    pub fn exit_request(&self) -> Option<ExitRequest> {
        self.finisher.request.or(self.htif.as_ref().and_then(|h| h.request))
    }
}
